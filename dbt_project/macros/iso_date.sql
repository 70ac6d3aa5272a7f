{#- 'YYYYMMDD' text -> 'YYYY-MM-DD' text, which both warehouses cast to a date or timestamp. -#}
{% macro iso_date(yyyymmdd) -%}
    substr({{ yyyymmdd }}, 1, 4) || '-' || substr({{ yyyymmdd }}, 5, 2) || '-' || substr({{ yyyymmdd }}, 7, 2)
{%- endmacro %}
