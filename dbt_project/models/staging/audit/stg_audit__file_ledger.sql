-- Every file version the loader has seen, for lineage from a published number back to its files.
with source as (
    select * from {{ source('audit', 'file_ledger') }}
),

renamed as (
    select
        source_table,
        file_identity,
        landing_key,
        version as file_version,
        checksum as file_checksum,
        status as load_status,
        rows_loaded,
        rows_quarantined,
        loaded_at
    from source
)

select * from renamed
