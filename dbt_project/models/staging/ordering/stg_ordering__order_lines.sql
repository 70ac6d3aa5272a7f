-- A table, not a view: the 10-minute path recomputes only the keys that raw rows arrived for
-- (macro dms_current_state), so its cost follows the new data, not the history.
{{ config(materialized='incremental', unique_key='order_line_id') }}

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
