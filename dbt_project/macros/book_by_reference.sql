{#- The book's side of a document reconciliation: WMS events of one type against one kind of
    reference, summed per reference (reversals of voided postings net out). `sign` -1 turns outflows
    into positive amounts. -#}
{% macro book_by_reference(event_type, reference_type, key_name, sign=1) -%}
    select
        reference_id as {{ key_name }},
        min(business_date) as business_date,
        {{ sign }} * sum(cases_delta) as cases,
        {{ sign }} * sum(lbs_delta) as lbs
    from {{ ref('inventory_events') }}
    where event_type = '{{ event_type }}' and reference_type = '{{ reference_type }}'
    group by reference_id
{%- endmacro %}
