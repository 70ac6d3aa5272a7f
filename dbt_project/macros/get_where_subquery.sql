{#-
  dbt's `where` for data tests, with one placeholder: `__arrived__` stands for "the rows that arrived
  since FOODBANK_ARRIVED_SINCE" (a UTC timestamp the 10-minute path sets for its dbt build), on the
  tested relation's load time: `_source_loaded_at` where it has one (staging, canonical, marts), else
  `_loaded_at` (raw). Without the variable (the nightly full test run, a manual `dbt build`) or on a
  relation with neither column, the placeholder is `1 = 1` and the test reads everything.
  Read at run time only (`execute`), so a new value never makes dbt re-parse the project.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where and '__arrived__' in where -%}
        {%- set where = where | replace('__arrived__', arrived_predicate(relation)) -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
