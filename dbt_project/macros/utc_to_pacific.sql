{#- UTC timestamp -> Pacific wall time. Daylight time in UTC runs from 10:00 UTC on the March
    Sunday to 09:00 UTC on the November Sunday. -#}
{% macro utc_to_pacific(ts) -%}
    {{ dbt.dateadd('hour', "case when " ~ ts ~ " >= " ~ dbt.dateadd('hour', 8, dst_starts_wall(ts))
        ~ " and " ~ ts ~ " < " ~ dbt.dateadd('hour', 7, dst_ends_wall(ts)) ~ " then -7 else -8 end", ts) }}
{%- endmacro %}
