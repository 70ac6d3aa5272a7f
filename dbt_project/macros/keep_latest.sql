{#- Keep one row per key: the first in `newest_first` order. Re-sent rows of file feeds collapse
    to the version that counts, and `_source_loaded_at` (the key's latest load) lets incremental
    models reprocess keys that anything new arrived for. -#}
{% macro keep_latest(key_columns, newest_first) -%}
    qualify row_number() over (partition by {{ key_columns | join(', ') }} order by {{ newest_first }}) = 1
{%- endmacro %}
