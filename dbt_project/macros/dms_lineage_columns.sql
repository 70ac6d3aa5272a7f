{#- The columns every DMS staging model carries after its own: tombstone flag and lineage. -#}
{% macro dms_lineage_columns() -%}
        _is_deleted as is_deleted,
        _source_loaded_at,
        _file as source_file,
        _row_number as source_row_number
{%- endmacro %}
