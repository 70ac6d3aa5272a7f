-- The current version of every legacy shipment line, with its Pacific wall time made UTC.
-- A line re-sent in a later file (new quantities, or is_void = Y) replaces the earlier one: the file
-- whose NAME carries the later time wins, then the newer version of that file, then the later row.
-- Incremental: a run recomputes the lines that rows arrived for since the last (macro arrived_since),
-- reading every file that carries one of them, whole (the autumn rule reads a row's earlier rows).
{{ config(materialized='incremental', unique_key='shipment_line_id') }}
{%- set shipments = source('legacy_warehouse', 'legacy_warehouse__shipments') %}
{%- set since = arrived_since(shipments) %}

with
{%- if since is not none %}
arrived as (
    select distinct shipment_line_id from {{ shipments }}
    where _loaded_at >= cast('{{ since }}' as {{ dbt.type_timestamp() }})
),
{%- endif %}

source as (
    select * from {{ shipments }}
    {%- if since is not none %}
    where _file in (select _file from {{ shipments }} where shipment_line_id in (select shipment_line_id from arrived))
    {%- endif %}
),

renamed as (
    select
        shipment_line_id,
        order_id,
        order_line_id,
        agency_id,
        agency_name,
        sku,
        lot_code,
        from_location_id,
        cases_shipped,
        lbs_shipped,
        shipped_at as shipped_at_pacific,
        route_id,
        coalesce(is_void, false) as is_void,
        -- shipments_YYYYMMDD_HHMM.csv: fixed width, so text order is time order
        substring({{ dbt.right('_file', 17) }}, 1, 13) as file_stamp,
        _file as source_file,
        _file_version as source_file_version,
        _row_number as source_row_number,
        _loaded_at
    from source
),

-- The contract's autumn rule needs the rows before this one in the same file (shipping order).
earlier_in_file as (
    select
        *,
        max(case when {{ in_repeated_hour('shipped_at_pacific') }} then shipped_at_pacific end) over (
            partition by source_file, source_file_version order by source_row_number
            rows between unbounded preceding and 1 preceding) as latest_earlier_repeated_wall
    from renamed
),

fell_back as (
    select
        *,
        max(case when {{ in_repeated_hour('shipped_at_pacific') }}
                  and latest_earlier_repeated_wall > shipped_at_pacific then 1 else 0 end) over (
            partition by source_file, source_file_version order by source_row_number
            rows between unbounded preceding and current row) as clock_fell_back
    from earlier_in_file
),

converted as (
    select
        *,
        {{ pacific_wall_to_utc('shipped_at_pacific', 'clock_fell_back = 1') }} as shipped_at,
        count(*) over (partition by shipment_line_id) as times_sent,
        {{ source_loaded_at(['shipment_line_id']) }} as _source_loaded_at
    from fell_back
),

latest as (
    select * from converted
    {{ keep_latest(['shipment_line_id'], 'file_stamp desc, source_file_version desc, source_row_number desc') }}
)

select
    shipment_line_id, order_id, order_line_id, agency_id, agency_name, sku, lot_code, from_location_id,
    cases_shipped, lbs_shipped, shipped_at_pacific, shipped_at, route_id, is_void, times_sent,
    file_stamp, source_file, source_file_version, source_row_number, _source_loaded_at
from latest
{%- if since is not none %}
where shipment_line_id in (select shipment_line_id from arrived)
{%- endif %}
