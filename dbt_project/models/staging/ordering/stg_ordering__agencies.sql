with source as (
    {{ dms_current_state(source('ordering', 'ordering__agencies'), ['agency_id']) }}
),

renamed as (
    select
        agency_id,
        agency_name,
        agency_type,
        county,
        upper(status) as status,
        updated_at,
        {{ dms_lineage_columns() }}
    from source
)

select * from renamed
