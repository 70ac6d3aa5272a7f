-- A table, not a view: the 10-minute path recomputes only the keys that raw rows arrived for
-- (macro dms_current_state), so its cost follows the new data, not the history.
{{ config(materialized='incremental', unique_key='donation_line_id') }}

with source as (
    {{ dms_current_state(source('intake', 'intake__donation_lines'), ['line_id']) }}
),

renamed as (
    select
        line_id as donation_line_id,
        donation_pk,
        sku,
        fa_category,
        lot_code,
        cases,
        gross_lbs as lbs,
        best_by,
        updated_at,
        {{ dms_lineage_columns() }}
    from source
)

select * from renamed
