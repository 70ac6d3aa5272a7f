{#-
  For a line-grain incremental canonical model: the rows of the `lines` CTE to rebuild. A full build
  takes every line. An incremental run takes the lines that arrived, and every line of a header that
  arrived or whose `parent` (the header's donor, agency) arrived; with `siblings_by`, also every line
  of a header sharing that column's value with a header that arrived (a re-keyed donation ID flags
  the lines of both headers). Change detection reads `headers_staging`, deleted rows included, so a
  header's deletion rebuilds its siblings too. Each part filters on a load time first, so a run reads
  what arrived and the lines it touches, not the history.
-#}
{% macro lines_to_rebuild(lines, headers, headers_staging, header_key, parent, parent_key, siblings_by=none) -%}
{%- if is_incremental() -%}
    {#- One reference to `lines`, not a union of two: DuckDB materializes a CTE read twice, which
        wrote all of the staging's lines to disk on every run (15 s at 365 days). -#}
    select * from {{ lines }}
    where {{ loaded_since_last_run('_source_loaded_at') }}
       or {{ header_key }} in (
        select {{ header_key }} from {{ headers_staging }} where {{ loaded_since_last_run('_source_loaded_at') }}
        union
        select h.{{ header_key }} from {{ headers }} as h
        inner join {{ parent }} as p on p.{{ parent_key }} = h.{{ parent_key }}
        where {{ loaded_since_last_run('p._source_loaded_at') }}
        {%- if siblings_by %}
        union
        select h.{{ header_key }} from {{ headers }} as h
        where h.{{ siblings_by }} in (
            select {{ siblings_by }} from {{ headers_staging }} where {{ loaded_since_last_run('_source_loaded_at') }})
        {%- endif %}
    )
{%- else -%}
    select * from {{ lines }}
{%- endif -%}
{%- endmacro %}
