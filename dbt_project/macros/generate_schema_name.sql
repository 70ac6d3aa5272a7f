{#- The custom schema is the schema: models land in `staging`, `canonical`, … exactly as docs/design.md
    names them, not in `<target schema>_canonical`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
