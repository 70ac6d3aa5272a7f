with source as (
    {{ dms_current_state(source('wms', 'wms__items'), ['sku']) }}
),

renamed as (
    select
        sku,
        description as item_description,
        fa_category,
        storage_type,
        case_weight_lbs,
        is_active,
        updated_at,
        {{ dms_lineage_columns() }}
    from source
)

select * from renamed
