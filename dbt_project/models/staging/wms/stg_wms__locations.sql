with source as (
    {{ dms_current_state(source('wms', 'wms__locations'), ['location_id']) }}
),

renamed as (
    select
        location_id,
        warehouse_code,
        zone,
        is_active,
        updated_at,
        {{ dms_lineage_columns() }}
    from source
)

select * from renamed
