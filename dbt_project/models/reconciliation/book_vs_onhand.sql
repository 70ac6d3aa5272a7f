-- The book's closing position vs what the warehouse system reports on hand at the end of the same
-- business date (nightly on-hand file), per SKU, lot and location, on every date a snapshot exists.
with onhand as (
    select
        snapshot_date as business_date, sku, lot_code, location_id,
        sum(on_hand_cases) as cases, sum(on_hand_lbs) as lbs
    from {{ ref('stg_legacy_warehouse__onhand') }}
    group by snapshot_date, sku, lot_code, location_id
),

book as (
    select balance.business_date, balance.sku, balance.lot_code, balance.location_id,
           balance.closing_cases as cases, balance.closing_lbs as lbs
    from {{ ref('inventory_daily_balance') }} as balance
    where (balance.closing_cases <> 0 or balance.closing_lbs <> 0)
      and balance.business_date in (select business_date from onhand)
),

compared as (
    {{ reconcile('book', 'onhand', ['business_date', 'sku', 'lot_code', 'location_id'], 'book', 'onhand') }}
)

select * from compared
