{% macro source_loaded_at(key_columns) -%}
    max(_loaded_at) over (partition by {{ key_columns | join(', ') }})
{%- endmacro %}
