{#- closing(D) = opening(D+1) for every position, and every open day is present: the row after a
    position's day D is D+1 with opening = closing(D), or the position was closed (closing(D) = 0).
    Also the day's own identity: opening + movements = closing. Fails with the offending rows. -#}
{% test rolls_forward(model, position_columns, date_column='business_date') %}
{%- set position = position_columns | join(', ') -%}
with ordered as (
    select
        *,
        lead({{ date_column }}) over (partition by {{ position }} order by {{ date_column }}) as next_date,
        lead(opening_cases) over (partition by {{ position }} order by {{ date_column }}) as next_opening_cases,
        lead(opening_lbs) over (partition by {{ position }} order by {{ date_column }}) as next_opening_lbs,
        max({{ date_column }}) over () as last_date
    from {{ model }}
)
select * from ordered
where opening_cases + receipts_cases + transfers_in_cases - transfers_out_cases + adjustments_cases
        - spoilage_cases - distributions_cases <> closing_cases
   or opening_lbs + receipts_lbs + transfers_in_lbs - transfers_out_lbs + adjustments_lbs
        - spoilage_lbs - distributions_lbs <> closing_lbs
   or (next_date = {{ dbt.dateadd('day', 1, date_column) }}
       and (next_opening_cases <> closing_cases or next_opening_lbs <> closing_lbs))
   or (coalesce(next_date, {{ dbt.dateadd('day', 1, 'last_date') }}) > {{ dbt.dateadd('day', 1, date_column) }}
       and (closing_cases <> 0 or closing_lbs <> 0))
{% endtest %}
