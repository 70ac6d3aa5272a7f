{#-
  Post-hook for line-grain canonical models: an incremental run never sees a line again once the
  source deletes it (or its header), so remove such lines from the target explicitly.
-#}
{% macro delete_lines_deleted_at_source(key, lines, headers, header_key) -%}
    delete from {{ this }} where {{ key }} in (
        select {{ key }} from {{ ref(lines) }} where is_deleted
        union all
        select l.{{ key }} from {{ ref(lines) }} as l
        join {{ ref(headers) }} as h on h.{{ header_key }} = l.{{ header_key }}
        where h.is_deleted)
{%- endmacro %}
