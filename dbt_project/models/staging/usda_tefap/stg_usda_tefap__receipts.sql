-- USDA commodity bill-of-lading lines (TEFAP, CSFP), one row per BOL line; a re-sent line replaces.
with source as (
    select * from {{ source('usda_tefap', 'usda_tefap__receipts') }}
),

renamed as (
    select
        bol_number,
        line_number,
        bol_number || '-' || cast(line_number as {{ dbt.type_string() }}) as bol_line_id,
        usda_material_code,
        description as commodity_description,
        nullif(trim(sku), '') as sku,
        cases,
        net_lbs,
        received_date,
        warehouse_code,
        upper(program) as program,
        unit_value_usd,
        _file as source_file,
        _file_version as source_file_version,
        _row_number as source_row_number,
        _loaded_at,
        {{ source_loaded_at(['bol_number', 'line_number']) }} as _source_loaded_at
    from source
)

select
    bol_number, line_number, bol_line_id, usda_material_code, commodity_description, sku, cases, net_lbs,
    received_date, warehouse_code, program, unit_value_usd, source_file, source_file_version,
    source_row_number, _source_loaded_at
from renamed
{{ keep_latest(['bol_number', 'line_number'], '_loaded_at desc, source_file_version desc, source_row_number desc') }}
