{#- "Today" for the operations marts: var as_of_date, else the Pacific date at run start. -#}
{% macro as_of_date() -%}
    {%- if var('as_of_date') -%}cast('{{ var("as_of_date") }}' as date)
    {%- else -%}{{ pacific_date("cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S') ~ "' as timestamp)") }}
    {%- endif -%}
{%- endmacro %}
