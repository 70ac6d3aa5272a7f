{#-
  Pacific wall time -> UTC by the legacy feed's contract:
  - before the spring change and from 02:00 of the autumn Sunday on: standard time (+8 h);
  - the spring hour that does not exist (02:00-02:59) is read as one hour later, i.e. 03:xx daylight,
    which is again wall + 8 h;
  - the autumn hour that occurs twice (01:00-01:59) is daylight time (+7 h) unless `fell_back`
    (a boolean expression: an earlier row of the same file already had a later wall time in that hour);
  - otherwise daylight time (+7 h).
-#}
{% macro pacific_wall_to_utc(wall, fell_back) -%}
    {{ dbt.dateadd('hour', "case"
        ~ " when " ~ wall ~ " < " ~ dbt.dateadd('hour', 1, dst_starts_wall(wall)) ~ " then 8"
        ~ " when " ~ wall ~ " < " ~ dbt.dateadd('hour', -1, dst_ends_wall(wall)) ~ " then 7"
        ~ " when " ~ wall ~ " < " ~ dst_ends_wall(wall) ~ " then case when " ~ fell_back ~ " then 8 else 7 end"
        ~ " else 8 end", wall) }}
{%- endmacro %}
