-- The lot register: where every lot came from. A lot's origin is its first WMS receipt: the donation
-- line that carries the lot code (or the donation the receipt references), the USDA bill of lading,
-- or a purchase order. Finance values lots by this program; a recall starts here.
with receipts as (
    select
        lot_code, sku, supplier_lot, reference_type, reference_id, business_date, occurred_at, warehouse_code
    from {{ ref('inventory_events') }}
    where event_type = 'RECEIPT' and not is_reversal
),

first_receipt as (
    select * from receipts
    {{ keep_latest(['lot_code', 'sku'], 'occurred_at, reference_id') }}
),

lot_receipt_totals as (
    select
        lot_code, sku,
        max(supplier_lot) as supplier_lot,
        count(distinct reference_id) as receipt_references
    from receipts
    group by lot_code, sku
),

donation_by_lot as (
    select * from {{ ref('donations') }}
    where lot_code is not null
    {{ keep_latest(['lot_code'], 'received_at, donation_line_id') }}
),

donation_by_id as (
    select * from {{ ref('donations') }}
    {{ keep_latest(['donation_id'], 'received_at, donation_line_id') }}
),

bol_lines as (
    select
        bol_line_id, bol_number, program, unit_value_usd, cases, net_lbs,
        case when net_lbs > 0 then unit_value_usd * cases / net_lbs end as usd_per_lb
    from {{ ref('stg_usda_tefap__receipts') }}
),

items as (
    select * from {{ ref('stg_wms__items') }} where not is_deleted
),

registered as (
    select
        first_receipt.lot_code,
        first_receipt.sku,
        items.item_description,
        coalesce(items.fa_category, donation_by_lot.fa_category, donation_by_id.fa_category) as fa_category,
        items.storage_type,
        lot_receipt_totals.supplier_lot,
        first_receipt.business_date as first_received_date,
        first_receipt.warehouse_code,
        first_receipt.reference_type as receipt_reference_type,
        first_receipt.reference_id as receipt_reference_id,
        lot_receipt_totals.receipt_references,
        case
            when first_receipt.reference_type = 'TEFAP_BOL' then coalesce(bol_lines.program, 'TEFAP')
            when first_receipt.reference_type = 'PURCHASE_ORDER' then 'PURCHASED'
            else coalesce(donation_by_lot.source_program, donation_by_id.source_program, 'UNKNOWN')
        end as source_program,
        coalesce(donation_by_lot.donation_id, donation_by_id.donation_id) as donation_id,
        coalesce(donation_by_lot.donor_id, donation_by_id.donor_id) as donor_id,
        coalesce(donation_by_lot.donor_type, donation_by_id.donor_type) as donor_type,
        coalesce(donation_by_lot.best_by, donation_by_id.best_by) as best_by,
        bol_lines.bol_number,
        bol_lines.usd_per_lb as bol_usd_per_lb
    from first_receipt
    inner join lot_receipt_totals
        on lot_receipt_totals.lot_code = first_receipt.lot_code and lot_receipt_totals.sku = first_receipt.sku
    left join items on items.sku = first_receipt.sku
    left join donation_by_lot
        on donation_by_lot.lot_code = first_receipt.lot_code and first_receipt.reference_type = 'DONATION'
    left join donation_by_id
        on donation_by_id.donation_id = first_receipt.reference_id and first_receipt.reference_type = 'DONATION'
    left join bol_lines
        on bol_lines.bol_line_id = first_receipt.reference_id and first_receipt.reference_type = 'TEFAP_BOL'
)

select * from registered
