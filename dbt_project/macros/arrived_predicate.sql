{#-
  The rows of `relation` that arrived since FOODBANK_ARRIVED_SINCE (the 10-minute path's dbt build sets
  it), as a predicate on the relation's load time (`_source_loaded_at`, else `_loaded_at`); `1 = 1` when
  the variable is unset or the relation has no load time.
-#}
{% macro arrived_predicate(relation) -%}
    {%- set since = env_var('FOODBANK_ARRIVED_SINCE', '') if execute else '' -%}
    {%- if not since -%}
        {{ return('1 = 1') }}
    {%- endif -%}
    {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {%- for column in ['_source_loaded_at', '_loaded_at'] if column in names -%}
        {{ return(column ~ " >= cast('" ~ since ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
    {%- endfor -%}
    {{ return('1 = 1') }}
{%- endmacro %}
