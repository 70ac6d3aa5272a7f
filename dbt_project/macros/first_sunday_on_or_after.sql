{#-
  Pacific time without a time-zone database, so DuckDB and Snowflake give the same answer.

  The food bank works in America/Los_Angeles: daylight time (UTC-7) from the second Sunday of March
  02:00 to the first Sunday of November 02:00, standard time (UTC-8) otherwise (US rule since 2007).
  Every business date is a Pacific date, and the legacy shipments feed writes Pacific wall times with
  no offset; these macros are the one place that knows the calendar.
-#}

{#- Midnight of the first Sunday on or after `day` (a timestamp at midnight). 1970-01-04 was a Sunday. -#}
{% macro first_sunday_on_or_after(day) -%}
    {%- set days_since_a_sunday = dbt.datediff("cast('1970-01-04' as timestamp)", day, 'day') %}
    {{ dbt.dateadd('day', "mod(7 - mod(" ~ days_since_a_sunday ~ ", 7), 7)", day) }}
{%- endmacro %}
