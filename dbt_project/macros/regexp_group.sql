{#- The `group`th capture group of `pattern` in `string`, NULL when it does not match. -#}
{% macro regexp_group(string, pattern, group=1) -%}
    {{ return(adapter.dispatch('regexp_group', 'foodbank')(string, pattern, group)) }}
{%- endmacro %}
