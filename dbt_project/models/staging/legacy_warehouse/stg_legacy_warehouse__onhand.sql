-- The warehouse's own end-of-day on-hand. A corrected file (same name, new bytes) replaces its rows.
with source as (
    select * from {{ source('legacy_warehouse', 'legacy_warehouse__onhand') }}
),

renamed as (
    select
        snapshot_date,
        sku,
        lot_code,
        location_id,
        on_hand_cases,
        on_hand_lbs,
        _file as source_file,
        _file_version as source_file_version,
        _row_number as source_row_number,
        max(_file_version) over (partition by _file) as newest_file_version,
        {{ source_loaded_at(['snapshot_date', 'sku', 'lot_code', 'location_id']) }} as _source_loaded_at
    from source
)

select
    snapshot_date, sku, lot_code, location_id, on_hand_cases, on_hand_lbs,
    source_file, source_file_version, source_row_number, _source_loaded_at
from renamed
where source_file_version = newest_file_version
{{ keep_latest(['snapshot_date', 'sku', 'lot_code', 'location_id'], 'source_row_number desc') }}
