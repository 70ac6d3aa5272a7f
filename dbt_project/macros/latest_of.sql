{#- The latest of two load times; Snowflake's greatest() is NULL if either is NULL. -#}
{% macro latest_of(a, b) -%}
    case when {{ b }} is null or {{ a }} >= {{ b }} then {{ a }} else {{ b }} end
{%- endmacro %}
