{#- The business dates a close covers, as a condition on `day`: from var first_business_day (the
    go-live day; every day when unset) through publish_through. -#}
{% macro close_window(day) -%}
    {{ day }} <= {{ publish_through() }}
    {%- if var('first_business_day') %} and {{ day }} >= cast('{{ var("first_business_day") }}' as date){% endif %}
{%- endmacro %}
