{#- Snowflake's REGEXP_SUBSTR with the `e` flag returns the group, NULL when nothing matches. -#}
{% macro default__regexp_group(string, pattern, group) -%}
    regexp_substr({{ string }}, '{{ pattern }}', 1, 1, 'e', {{ group }})
{%- endmacro %}
