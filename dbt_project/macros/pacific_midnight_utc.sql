{#- UTC instant of Pacific midnight starting business date `d` (a date). -#}
{% macro pacific_midnight_utc(d) -%}
    {{ pacific_wall_to_utc("cast(" ~ d ~ " as timestamp)", "false") }}
{%- endmacro %}
