{{ config(
    unique_key='donation_line_id',
    post_hook="{{ delete_lines_deleted_at_source('donation_line_id', 'stg_intake__donation_lines', 'stg_intake__donations', 'donation_pk') }}"
) }}

with lines as (
    select * from {{ ref('stg_intake__donation_lines') }} where not is_deleted
),

headers as (
    select * from {{ ref('stg_intake__donations') }} where not is_deleted
),

donors as (
    select * from {{ ref('stg_intake__donors') }} where not is_deleted
),

rebuilt as (
    {{ lines_to_rebuild('lines', 'headers', ref('stg_intake__donations'), 'donation_pk', 'donors', 'donor_id',
                        siblings_by='donation_id') }}
),

-- Clerks re-key donations: the printed donation_id can sit on two header rows. Both stay (they are
-- two rows at the source); the flag lets the duplicate-donation check and the receipts
-- reconciliation point at them.
rekeyed as (
    select donation_id, count(*) as header_rows
    from headers
    where donation_id in (
        select h.donation_id from headers as h inner join rebuilt as r on r.donation_pk = h.donation_pk)
    group by donation_id
),

joined as (
    select
        rebuilt.donation_line_id,
        headers.donation_id,
        rebuilt.donation_pk,
        headers.donor_id,
        donors.donor_type,
        headers.source_program,
        headers.warehouse_code,
        headers.received_at,
        headers.status,
        rebuilt.sku,
        rebuilt.fa_category,
        rebuilt.lot_code,
        rebuilt.cases,
        rebuilt.lbs,
        rebuilt.best_by,
        coalesce(rekeyed.header_rows, 1) > 1 as is_rekeyed_donation_id,
        rebuilt.source_file,
        rebuilt.source_row_number,
        {{ latest_of(latest_of('rebuilt._source_loaded_at', 'headers._source_loaded_at'), 'donors._source_loaded_at') }}
            as _source_loaded_at
    from rebuilt
    inner join headers on headers.donation_pk = rebuilt.donation_pk
    left join donors on donors.donor_id = headers.donor_id
    left join rekeyed on rekeyed.donation_id = headers.donation_id
)

select
    cast(donation_line_id as bigint) as donation_line_id,
    cast(donation_id as {{ dbt.type_string() }}) as donation_id,
    cast(donation_pk as bigint) as donation_pk,
    cast(donor_id as {{ dbt.type_string() }}) as donor_id,
    cast(donor_type as {{ dbt.type_string() }}) as donor_type,
    cast(source_program as {{ dbt.type_string() }}) as source_program,
    cast(warehouse_code as {{ dbt.type_string() }}) as warehouse_code,
    cast(received_at as {{ dbt.type_timestamp() }}) as received_at,
    {{ pacific_date('received_at') }} as business_date,
    cast(status as {{ dbt.type_string() }}) as status,
    cast(sku as {{ dbt.type_string() }}) as sku,
    cast(fa_category as {{ dbt.type_string() }}) as fa_category,
    cast(lot_code as {{ dbt.type_string() }}) as lot_code,
    cast(cases as decimal(14, 2)) as cases,
    cast(lbs as decimal(14, 2)) as lbs,
    cast(best_by as date) as best_by,
    cast(is_rekeyed_donation_id as boolean) as is_rekeyed_donation_id,
    cast(source_file as {{ dbt.type_string() }}) as source_file,
    cast(source_row_number as bigint) as source_row_number,
    cast(_source_loaded_at as {{ dbt.type_timestamp() }}) as _source_loaded_at
from joined
