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
