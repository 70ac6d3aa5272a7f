{{ config(unique_key='shipment_line_id') }}

-- The latest version of each legacy shipment line (staging decides which one wins). A void is kept
-- as a line with is_void = true: it cancels the shipment, and the history stays in raw.
with shipments as (
    select * from {{ ref('stg_legacy_warehouse__shipments') }}
    where {{ loaded_since_last_run('_source_loaded_at') }}
)

select
    cast(shipment_line_id as {{ dbt.type_string() }}) as shipment_line_id,
    cast(order_id as bigint) as order_id,
    cast(order_line_id as bigint) as order_line_id,
    cast(agency_id as {{ dbt.type_string() }}) as agency_id,
    cast(agency_name as {{ dbt.type_string() }}) as agency_name,
    cast(sku as {{ dbt.type_string() }}) as sku,
    cast(lot_code as {{ dbt.type_string() }}) as lot_code,
    cast(from_location_id as {{ dbt.type_string() }}) as from_location_id,
    cast(cases_shipped as decimal(14, 2)) as cases_shipped,
    cast(lbs_shipped as decimal(14, 2)) as lbs_shipped,
    cast(shipped_at as {{ dbt.type_timestamp() }}) as shipped_at,
    cast(shipped_at_pacific as {{ dbt.type_timestamp() }}) as shipped_at_pacific,
    {{ pacific_date('shipped_at') }} as business_date,
    cast(route_id as {{ dbt.type_string() }}) as route_id,
    cast(is_void as boolean) as is_void,
    cast(times_sent as bigint) as times_sent,
    cast(source_file as {{ dbt.type_string() }}) as source_file,
    cast(source_row_number as bigint) as source_row_number,
    cast(_source_loaded_at as {{ dbt.type_timestamp() }}) as _source_loaded_at
from shipments
