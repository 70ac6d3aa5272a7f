{#- Wall-clock instant daylight time ends (first Sunday of November, 02:00 daylight) in the year of `ts`. -#}
{% macro dst_ends_wall(ts) -%}
    {{ dbt.dateadd('hour', 2, first_sunday_on_or_after(dbt.dateadd('month', 10, dbt.date_trunc('year', ts)))) }}
{%- endmacro %}
