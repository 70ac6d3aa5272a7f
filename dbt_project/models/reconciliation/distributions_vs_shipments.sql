-- WMS distributions (posted when a legacy shipment line is confirmed, reference = shipment_line_id)
-- vs the legacy shipment lines, per shipment line. Voided postings count net of their reversal; a
-- shipment line whose latest version is void counts as not shipped.
with wms as (
    {{ book_by_reference('DISTRIBUTION', 'SHIPMENT', 'shipment_line_id', -1) }}
),

shipment as (
    select shipment_line_id, business_date, cases_shipped as cases, lbs_shipped as lbs
    from {{ ref('fulfillment_line_items') }}
    where not is_void
),

compared as (
    {{ reconcile('wms', 'shipment', ['shipment_line_id'], 'wms', 'shipment', carry=['business_date']) }}
)

select * from compared
