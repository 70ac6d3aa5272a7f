{{ config(
    unique_key='order_line_id',
    post_hook="{{ delete_lines_deleted_at_source('order_line_id', 'stg_ordering__order_lines', 'stg_ordering__orders', 'order_id') }}"
) }}

with lines as (
    select * from {{ ref('stg_ordering__order_lines') }} where not is_deleted
),

orders as (
    select * from {{ ref('stg_ordering__orders') }} where not is_deleted
),

agencies as (
    select * from {{ ref('stg_ordering__agencies') }} where not is_deleted
),

rebuilt as (
    {{ lines_to_rebuild('lines', 'orders', ref('stg_ordering__orders'), 'order_id', 'agencies', 'agency_id') }}
),

joined as (
    select
        rebuilt.order_line_id,
        orders.order_id,
        orders.agency_id,
        agencies.agency_name,
        agencies.agency_type,
        agencies.county,
        orders.order_type,
        orders.ship_method,
        orders.status,
        orders.requested_date,
        orders.submitted_at,
        rebuilt.sku,
        rebuilt.cases_requested,
        rebuilt.cases_approved,
        rebuilt.source_file,
        rebuilt.source_row_number,
        {{ latest_of(latest_of('rebuilt._source_loaded_at', 'orders._source_loaded_at'),
                     'agencies._source_loaded_at') }} as _source_loaded_at
    from rebuilt
    inner join orders on orders.order_id = rebuilt.order_id
    left join agencies on agencies.agency_id = orders.agency_id
)

select
    cast(order_line_id as bigint) as order_line_id,
    cast(order_id as bigint) as order_id,
    cast(agency_id as {{ dbt.type_string() }}) as agency_id,
    cast(agency_name as {{ dbt.type_string() }}) as agency_name,
    cast(agency_type as {{ dbt.type_string() }}) as agency_type,
    cast(county as {{ dbt.type_string() }}) as county,
    cast(order_type as {{ dbt.type_string() }}) as order_type,
    cast(ship_method as {{ dbt.type_string() }}) as ship_method,
    cast(status as {{ dbt.type_string() }}) as status,
    cast(requested_date as date) as requested_date,
    cast(submitted_at as {{ dbt.type_timestamp() }}) as submitted_at,
    {{ pacific_date('submitted_at') }} as business_date,
    cast(sku as {{ dbt.type_string() }}) as sku,
    cast(cases_requested as decimal(14, 2)) as cases_requested,
    cast(cases_approved as decimal(14, 2)) as cases_approved,
    cast(source_file as {{ dbt.type_string() }}) as source_file,
    cast(source_row_number as bigint) as source_row_number,
    cast(_source_loaded_at as {{ dbt.type_timestamp() }}) as _source_loaded_at
from joined
