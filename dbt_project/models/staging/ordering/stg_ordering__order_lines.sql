with source as (
    {{ dms_current_state(source('ordering', 'ordering__order_lines'), ['order_line_id']) }}
),

renamed as (
    select
        order_line_id,
        order_id,
        sku,
        cases_requested,
        cases_approved,
        updated_at,
        {{ dms_lineage_columns() }}
    from source
)

select * from renamed
