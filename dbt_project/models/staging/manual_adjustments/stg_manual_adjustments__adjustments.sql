-- Manual adjustments, one row per adjustment_id: spreadsheets are exported again and again, so the
-- same row re-appears; the most recently loaded export says what the row is now (e.g. approved).
with source as (
    select * from {{ source('manual_adjustments', 'manual_adjustments__adjustments') }}
),

renamed as (
    select
        adjustment_id,
        business_date,
        sku,
        lot_code,
        location_id,
        upper(adjustment_type) as adjustment_type,
        cases,
        lbs,
        reason,
        entered_by,
        nullif(trim(approved_by), '') as approved_by,
        _file as source_file,
        _file_version as source_file_version,
        _row_number as source_row_number,
        _loaded_at,
        count(*) over (partition by adjustment_id) as times_exported,
        {{ source_loaded_at(['adjustment_id']) }} as _source_loaded_at
    from source
)

select
    adjustment_id, business_date, sku, lot_code, location_id, adjustment_type, cases, lbs, reason,
    entered_by, approved_by, approved_by is not null as is_approved, times_exported,
    source_file, source_file_version, source_row_number, _source_loaded_at
from renamed
{{ keep_latest(
    ['adjustment_id'], '_loaded_at desc, source_file_version desc, source_file desc, source_row_number desc'
) }}
