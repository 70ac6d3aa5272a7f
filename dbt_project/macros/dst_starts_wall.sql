{#- Wall-clock instant daylight time starts (second Sunday of March, 02:00) in the year of `ts`. -#}
{% macro dst_starts_wall(ts) -%}
    {{ dbt.dateadd('hour', 170, first_sunday_on_or_after(dbt.dateadd('month', 2, dbt.date_trunc('year', ts)))) }}
{%- endmacro %}
