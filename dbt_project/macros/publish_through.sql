{#- The last closed (published) business date: var publish_through, else yesterday Pacific. -#}
{% macro publish_through() -%}
    {%- if var('publish_through') -%}cast('{{ var("publish_through") }}' as date)
    {%- else -%}cast({{ dbt.dateadd('day', -1, as_of_date()) }} as date)
    {%- endif -%}
{%- endmacro %}
