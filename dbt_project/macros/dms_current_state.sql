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

  Incremental (a staging table, `unique_key` = the key): the order above is total, so a key's winner
  depends only on that key's raw rows. A run recomputes the keys that raw rows arrived for since the
  table's newest `_source_loaded_at` (less an hour, for loads that committed while the last build
  ran), reading only those keys' rows. A new full load changes every key's generation and tombstones,
  so a run that finds one recomputes every key, as a full refresh does.

  `_source_loaded_at` is the latest load time of any raw row of the key, so incremental models can
  reprocess exactly the keys that something new arrived for.
-#}
{% macro dms_current_state(source_relation, key_columns) -%}
{%- set key = key_columns | join(', ') -%}
{%- set since = arrived_since(source_relation, reload_filter='r.dms_change_seq is null') -%}
{%- set generations -%}
            select _file_version as generation, min(dms_commit_ts) as started_at
            from {{ source_relation }}
            where dms_change_seq is null
            group by _file_version
{%- endset -%}
select *,
    op = 'D' or (_current_generation is not null
                 and (_generation_started_at is null or _generation_started_at < _current_generation)) as _is_deleted
from (
    select *,
        (select max(started_at) from ({{ generations }}) as g) as _current_generation,
        max(_loaded_at) over (partition by {{ key }}) as _source_loaded_at
    from (
        {%- set change %}
        (
            select r.*, case when r.dms_change_seq is null then 0 else 1 end as _is_cdc
            from {{ source_relation }} as r
            {%- if since is not none %}
            inner join (
                select distinct {{ key }} from {{ source_relation }}
                where _loaded_at >= cast('{{ since }}' as {{ dbt.type_timestamp() }})
            ) as arrived using ({{ key }})
            {%- endif %}
        )
        {%- endset %}
        {{ dms_place_in_generation(change, generations) }}
    ) as placed
    qualify row_number() over (
        partition by {{ key }}
        order by _generation_started_at desc nulls last, _is_cdc desc, dms_change_seq desc nulls last,
                 _file_version desc, _file desc, _row_number desc) = 1
) as latest
{%- endmacro %}
