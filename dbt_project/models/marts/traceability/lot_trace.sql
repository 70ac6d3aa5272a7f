-- A recall in one query: every movement of every lot (receipts, transfers, adjustments, spoilage,
-- distributions with the agency that received it) plus legacy shipment lines the WMS never posted,
-- each row carrying the lot's supplier lot and what is still on hand of the lot now.
--   select * from marts.lot_trace where lot_code = :lot or supplier_lot = :lot order by occurred_at
-- A view: a recall asks for one lot, and the filter on lot_code reaches the book's tables through the
-- per-lot window, so a question costs that lot's rows; a table would be rebuilt from the whole book
-- every 10 minutes for questions asked a few times a year. It always shows the book as of now.
{{ config(materialized='view') }}

with events as (
    select * from {{ ref('inventory_events') }}
),

shipments as (
    select * from {{ ref('fulfillment_line_items') }}
),

lots as (
    select * from {{ ref('lots') }}
),

book_movements as (
    select
        events.lot_code, events.sku, events.event_type as movement, events.business_date, events.occurred_at,
        events.location_id, events.warehouse_code, events.cases_delta, events.lbs_delta,
        events.reference_type, events.reference_id, events.is_reversal, events.event_id,
        shipments.agency_id, shipments.agency_name, shipments.order_id, shipments.route_id,
        events._source_loaded_at
    from events
    left join shipments
        on events.reference_type = 'SHIPMENT' and shipments.shipment_line_id = events.reference_id
),

unposted_shipments as (
    select
        shipments.lot_code, shipments.sku, 'SHIPMENT_NOT_IN_WMS' as movement, shipments.business_date,
        shipments.shipped_at as occurred_at, shipments.from_location_id as location_id,
        {{ dbt.split_part('shipments.from_location_id', "'-'", 1) }} as warehouse_code,
        -1 * shipments.cases_shipped as cases_delta, -1 * shipments.lbs_shipped as lbs_delta,
        'SHIPMENT' as reference_type, shipments.shipment_line_id as reference_id, false as is_reversal,
        cast(null as {{ dbt.type_string() }}) as event_id,
        shipments.agency_id, shipments.agency_name, shipments.order_id, shipments.route_id,
        shipments._source_loaded_at
    from shipments
    where not shipments.is_void
      and shipments.shipment_line_id not in (
          select reference_id from events where reference_type = 'SHIPMENT' and reference_id is not null)
),

movements as (
    select * from book_movements
    union all
    select * from unposted_shipments
)

select
    movements.lot_code,
    lots.supplier_lot,
    movements.sku,
    lots.item_description,
    lots.source_program,
    lots.donor_id,
    lots.donation_id,
    lots.bol_number,
    lots.best_by,
    movements.movement,
    movements.business_date,
    movements.occurred_at,
    movements.location_id,
    movements.warehouse_code,
    movements.cases_delta,
    movements.lbs_delta,
    movements.reference_type,
    movements.reference_id,
    movements.is_reversal,
    movements.event_id,
    movements.agency_id,
    movements.agency_name,
    movements.order_id,
    movements.route_id,
    sum(case when movements.movement <> 'SHIPMENT_NOT_IN_WMS' then movements.cases_delta else 0 end)
        over (partition by movements.lot_code) as lot_on_hand_cases,
    sum(case when movements.movement <> 'SHIPMENT_NOT_IN_WMS' then movements.lbs_delta else 0 end)
        over (partition by movements.lot_code) as lot_on_hand_lbs,
    movements._source_loaded_at
from movements
left join lots on lots.lot_code = movements.lot_code and lots.sku = movements.sku
