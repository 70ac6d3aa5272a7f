{#-
  The current state of a DMS-replicated table: one row per primary key, from its append-only raw
  table of full-load and CDC rows.

  Order of truth, per key (later wins):
    1. the load generation: every reload rewrites the LOAD files under the same names, so a LOAD
       file's `_file_version` numbers its generation; a CDC row belongs to the latest generation that
       had started (first copy time) by its commit time. A reload is the truth as of its copy: rows of
       an older generation can never win against it, and a key absent from the newest full load and
       untouched since is gone (a tombstone).
    2. within a generation, full-load rows before CDC rows, then `dms_change_seq` (strictly
       increasing in commit order; fixed-width 35 digits, so text order is numeric order).
  Replayed changes (same seq, new file) tie and are identical; the newest file version and then the
  latest row break the tie deterministically. A late file carrying an older change sorts below the
  newer state already seen, so it never overwrites it. `D` rows are tombstones: `_is_deleted`.

  `_source_loaded_at` is the latest load time of any raw row of the key, so incremental models can
  reprocess exactly the keys that something new arrived for.
-#}
{% macro dms_current_state(source_relation, key_columns) -%}
{%- set key = key_columns | join(', ') -%}
select *,
    op = 'D' or (_current_generation is not null
                 and (_generation_started_at is null or _generation_started_at < _current_generation)) as _is_deleted
from (
    select *,
        max(_generation_started_at) over () as _current_generation,
        max(_loaded_at) over (partition by {{ key }}) as _source_loaded_at
    from (
        select change.*, generation.started_at as _generation_started_at
        from (
            select r.*, case when r.dms_change_seq is null then 0 else 1 end as _is_cdc
            from {{ source_relation }} as r
        ) as change
        left join (
            select _file_version as generation, min(dms_commit_ts) as started_at
            from {{ source_relation }}
            where dms_change_seq is null
            group by _file_version
        ) as generation
            on (change._is_cdc = 0 and generation.generation = change._file_version)
            or (change._is_cdc = 1 and generation.started_at <= change.dms_commit_ts)
        qualify row_number() over (
            partition by change._file, change._file_version, change._row_number
            order by generation.started_at desc) = 1
    ) as placed
    qualify row_number() over (
        partition by {{ key }}
        order by _generation_started_at desc nulls last, _is_cdc desc, dms_change_seq desc nulls last,
                 _file_version desc, _file desc, _row_number desc) = 1
) as latest
{%- endmacro %}
