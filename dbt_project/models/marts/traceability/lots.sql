-- The lot register: where every lot came from. A lot's origin is its first WMS receipt: the donation
-- line that carries the lot code (or the donation the receipt references), the USDA bill of lading,
-- or a purchase order. Finance values lots by this program; a recall starts here.
-- Incremental: a run rebuilds the lots that something arrived for since the last (a receipt, a
-- receipt deleted at the source, a donation line or donation, a BOL line, an item), each from all of
-- its rows. A lot left with no receipt is written without a first receipt and removed by the post-hook.
-- A receipt deleted at the source or corrected to another lot counts for the lot it had.
{{ config(
    materialized='incremental',
    unique_key=['lot_code', 'sku'],
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    tmp_relation_type='transient',
    post_hook="delete from {{ this }} where first_received_date is null"
) }}

-- depends_on: {{ ref('stg_wms__inventory_transactions') }}, {{ ref('stg_intake__donation_lines') }}
-- depends_on: {{ ref('stg_intake__donations') }}
{#- A table built before lots had load times is rebuilt whole once. -#}
{%- set incremental = is_incremental() and execute and '_source_loaded_at' in (
    adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list) %}
{%- set since = arrived_since(source('wms', 'wms__inventory_transactions')) if incremental else none %}
{%- set incremental = since is not none %}

with
{%- if incremental %}
-- Donation lines that arrived, and those deleted at the source (or whose donation was): by lot code
-- and by the donation ID a receipt references.
donated as (
    select lot_code, donation_id from {{ ref('donations') }}
    where {{ loaded_since_last_run('_source_loaded_at') }}
    union
    -- The deleted lines are picked before the join (a filter on the lines alone); a join on
    -- `line.is_deleted or header.is_deleted` joined every line to its header first.
    select donation_line.lot_code, donation_header.donation_id
    from {{ ref('stg_intake__donation_lines') }} as donation_line
    inner join {{ ref('stg_intake__donations') }} as donation_header
        on donation_header.donation_pk = donation_line.donation_pk
    where donation_line.is_deleted
       or donation_line.donation_pk in (select donation_pk from {{ ref('stg_intake__donations') }} where is_deleted)
),

touched as (  -- noqa: ST03
    select lot_code, sku from {{ ref('inventory_events') }}
    where event_type = 'RECEIPT' and {{ loaded_since_last_run('_source_loaded_at') }}
    union
    select registered.lot_code, registered.sku from {{ this }} as registered
    inner join donated on donated.lot_code = registered.lot_code
    union
    select registered.lot_code, registered.sku from {{ this }} as registered
    inner join donated on donated.donation_id = registered.receipt_reference_id
    union
    select registered.lot_code, registered.sku from {{ this }} as registered
    inner join {{ ref('stg_usda_tefap__receipts') }} as bol on bol.bol_line_id = registered.receipt_reference_id
    where {{ loaded_since_last_run('bol._source_loaded_at') }}
    union
    select registered.lot_code, registered.sku from {{ this }} as registered
    inner join {{ ref('stg_wms__items') }} as items on items.sku = registered.sku
    where {{ loaded_since_last_run('items._source_loaded_at') }}
    union
    -- Receipts deleted at the source or moved to another lot: their old lot (macro book_rows_touched).
    select lot_code, sku from ({{ book_rows_touched(since) }}) as moved
    where event_type = 'RECEIPT'
),
{%- endif %}

receipts as (
    select
        lot_code, sku, supplier_lot, reference_type, reference_id, business_date, occurred_at, warehouse_code,
        _source_loaded_at
    from {{ ref('inventory_events') }}
    {%- if incremental %}
    inner join touched using (lot_code, sku)
    {%- endif %}
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
        count(distinct reference_id) as receipt_references,
        max(_source_loaded_at) as _source_loaded_at
    from receipts
    group by lot_code, sku
),

donation_by_lot as (
    select donations.* from {{ ref('donations') }} as donations
    {%- if incremental %}
    -- A join to the touched lots' codes, not `in (…)`, which DuckDB ran as a semi-join built from
    -- every donation line (20 s at 365 days).
    inner join (select distinct lot_code from touched) as touched_lot on touched_lot.lot_code = donations.lot_code
    {%- endif %}
    where donations.lot_code is not null
    {{ keep_latest(['donations.lot_code'], 'donations.received_at, donations.donation_line_id') }}
),

donation_by_id as (
    select * from {{ ref('donations') }}
    where donation_id in (select reference_id from first_receipt where reference_type = 'DONATION')
    {{ keep_latest(['donation_id'], 'received_at, donation_line_id') }}
),

bol_lines as (
    select
        bol_line_id, bol_number, program, unit_value_usd, cases, net_lbs,
        case when net_lbs > 0 then unit_value_usd * cases / net_lbs end as usd_per_lb,
        _source_loaded_at
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
        bol_lines.usd_per_lb as bol_usd_per_lb,
        {{ latest_of(latest_of('lot_receipt_totals._source_loaded_at', 'items._source_loaded_at'),
                     latest_of(latest_of('donation_by_lot._source_loaded_at', 'donation_by_id._source_loaded_at'),
                               'bol_lines._source_loaded_at')) }} as _source_loaded_at
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

{%- if incremental %}

-- A touched lot with no receipt left comes out without one (and so without a first received date):
-- delete+insert replaces the lot's old row with it and the post-hook removes it.
select
    touched.lot_code, touched.sku,
    {%- for column in ['item_description', 'fa_category', 'storage_type', 'supplier_lot', 'first_received_date',
                       'warehouse_code', 'receipt_reference_type', 'receipt_reference_id', 'receipt_references',
                       'source_program', 'donation_id', 'donor_id', 'donor_type', 'best_by', 'bol_number',
                       'bol_usd_per_lb', '_source_loaded_at'] %}
    registered.{{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
from (select distinct lot_code, sku from touched) as touched
left join registered on registered.lot_code = touched.lot_code and registered.sku = touched.sku
{%- else %}

select * from registered
{%- endif %}
