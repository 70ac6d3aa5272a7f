{#- True when the wall time falls in the autumn hour that occurs twice. -#}
{% macro in_repeated_hour(wall) -%}
    ({{ wall }} >= {{ dbt.dateadd('hour', -1, dst_ends_wall(wall)) }} and {{ wall }} < {{ dst_ends_wall(wall) }})
{%- endmacro %}
