{#-
  Incremental canonical models reprocess every key that any raw row arrived for since the last run:
  staging exposes `_source_loaded_at` (latest load time of the key's raw rows) and this filter keeps
  keys loaded at or after the newest one already in the target, minus an overlap (var
  `reprocess_overlap_minutes`) so a load that committed while the previous build ran is never
  skipped. Reprocessing is idempotent: delete+insert replaces the key's rows.
-#}
{% macro loaded_since_last_run(loaded_at_column, source_filter='1 = 1') -%}
    {%- if is_incremental() -%}
    {{ loaded_at_column }} >= (
        select {{ dbt.dateadd('minute', -var('reprocess_overlap_minutes'),
                        "coalesce(max(_source_loaded_at), cast('1900-01-01' as timestamp))") }}
        from {{ this }} where {{ source_filter }})
    {%- else -%}
    1 = 1
    {%- endif -%}
{%- endmacro %}
