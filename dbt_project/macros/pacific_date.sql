{#- The business date of a UTC instant: its Pacific calendar date. -#}
{% macro pacific_date(ts) -%}
    cast({{ utc_to_pacific(ts) }} as date)
{%- endmacro %}
