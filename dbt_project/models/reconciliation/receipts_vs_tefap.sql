-- WMS receipts posted against a USDA bill of lading (reference BOL-line) vs the state agency's BOL
-- lines (feed 6), per BOL line.
with wms as (
    {{ book_by_reference('RECEIPT', 'TEFAP_BOL', 'bol_line_id') }}
),

tefap as (
    select bol_line_id, received_date as business_date, cases, net_lbs as lbs
    from {{ ref('stg_usda_tefap__receipts') }}
),

compared as (
    {{ reconcile('wms', 'tefap', ['bol_line_id'], 'wms', 'tefap', carry=['business_date']) }}
)

select * from compared
