with source as (
    {{ dms_current_state(source('intake', 'intake__donors'), ['donor_id']) }}
),

renamed as (
    select
        donor_id,
        donor_name,
        donor_type,
        city,
        updated_at,
        {{ dms_lineage_columns() }}
    from source
)

select * from renamed
