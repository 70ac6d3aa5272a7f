{#- The business dates held as a whole (a subquery): a `holds_day` finding in marts.finance_exceptions. -#}
{% macro held_days() -%}
    (select business_date from {{ ref('finance_exceptions') }} where effect = 'holds_day' and business_date is not null)
{%- endmacro %}
