-- A table, not a view: the 10-minute path recomputes only the keys that raw rows arrived for
-- (macro dms_current_state), so its cost follows the new data, not the history.
{{ config(materialized='incremental', unique_key='donation_pk') }}

with source as (
    {{ dms_current_state(source('intake', 'intake__donations'), ['id']) }}
),

renamed as (
    select
        id as donation_pk,
        donation_id,
        donor_id,
        warehouse_code,
        upper(source_program) as source_program,
        received_at,
        upper(status) as status,
        updated_at,
        {{ dms_lineage_columns() }}
    from source
)

select * from renamed
