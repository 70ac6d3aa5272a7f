{#-
  Pacific time without a time-zone database, so DuckDB and Snowflake give the same answer.

  The food bank works in America/Los_Angeles: daylight time (UTC-7) from the second Sunday of March
  02:00 to the first Sunday of November 02:00, standard time (UTC-8) otherwise (US rule since 2007).
  Every business date is a Pacific date, and the legacy shipments feed writes Pacific wall times with
  no offset; these macros are the one place that knows the calendar.
-#}

{#- Midnight of the first Sunday on or after `day` (a timestamp at midnight). 1970-01-04 was a Sunday. -#}
{% macro _first_sunday_on_or_after(day) -%}
    {{ dbt.dateadd('day', "mod(7 - mod(" ~ dbt.datediff("cast('1970-01-04' as timestamp)", day, 'day') ~ ", 7), 7)", day) }}
{%- endmacro %}

{#- Wall-clock instant daylight time starts (second Sunday of March, 02:00) in the year of `ts`. -#}
{% macro dst_starts_wall(ts) -%}
    {{ dbt.dateadd('hour', 170, _first_sunday_on_or_after(dbt.dateadd('month', 2, dbt.date_trunc('year', ts)))) }}
{%- endmacro %}

{#- Wall-clock instant daylight time ends (first Sunday of November, 02:00 daylight) in the year of `ts`. -#}
{% macro dst_ends_wall(ts) -%}
    {{ dbt.dateadd('hour', 2, _first_sunday_on_or_after(dbt.dateadd('month', 10, dbt.date_trunc('year', ts)))) }}
{%- endmacro %}

{#- UTC timestamp -> Pacific wall time. Daylight time in UTC runs from 10:00 UTC on the March
    Sunday to 09:00 UTC on the November Sunday. -#}
{% macro utc_to_pacific(ts) -%}
    {{ dbt.dateadd('hour', "case when " ~ ts ~ " >= " ~ dbt.dateadd('hour', 8, dst_starts_wall(ts))
        ~ " and " ~ ts ~ " < " ~ dbt.dateadd('hour', 7, dst_ends_wall(ts)) ~ " then -7 else -8 end", ts) }}
{%- endmacro %}

{#- The business date of a UTC instant: its Pacific calendar date. -#}
{% macro pacific_date(ts) -%}
    cast({{ utc_to_pacific(ts) }} as date)
{%- endmacro %}

{#- UTC instant of Pacific midnight starting business date `d` (a date). -#}
{% macro pacific_midnight_utc(d) -%}
    {{ pacific_wall_to_utc("cast(" ~ d ~ " as timestamp)", "false") }}
{%- endmacro %}

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

{#- True when the wall time falls in the autumn hour that occurs twice. -#}
{% macro in_repeated_hour(wall) -%}
    ({{ wall }} >= {{ dbt.dateadd('hour', -1, dst_ends_wall(wall)) }} and {{ wall }} < {{ dst_ends_wall(wall) }})
{%- endmacro %}

{#- "Today" for the operations marts: var as_of_date, else the Pacific date at run start. -#}
{% macro as_of_date() -%}
    {%- if var('as_of_date') -%}cast('{{ var("as_of_date") }}' as date)
    {%- else -%}{{ pacific_date("cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S') ~ "' as timestamp)") }}
    {%- endif -%}
{%- endmacro %}

{#- The last closed (published) business date: var publish_through, else yesterday Pacific. -#}
{% macro publish_through() -%}
    {%- if var('publish_through') -%}cast('{{ var("publish_through") }}' as date)
    {%- else -%}cast({{ dbt.dateadd('day', -1, as_of_date()) }} as date)
    {%- endif -%}
{%- endmacro %}
