-- Legacy shipment lines vs the agency order lines they fulfil, per order line: cases shipped vs
-- cases approved. Order lines count once their order is SHIPPED or something was shipped for them;
-- a shipment for an order line that ordering does not know is an orphan (missing_in_order).
with shipment as (
    select
        order_line_id,
        min(business_date) as business_date,
        max(agency_id) as agency_id,
        sum(cases_shipped) as cases
    from {{ ref('fulfillment_line_items') }}
    where not is_void and order_line_id is not null
    group by order_line_id
),

orders as (
    select order_line_id, requested_date as business_date, agency_id, cases_approved as cases
    from {{ ref('agency_orders') }}
    where status = 'SHIPPED' or order_line_id in (select order_line_id from shipment)
),

compared as (
    {{ reconcile('shipment', 'orders', ['order_line_id'], 'shipment', 'order', measures=['cases'],
                 carry=['business_date', 'agency_id']) }}
)

select * from compared
