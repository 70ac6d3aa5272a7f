-- What is on hand now (as of today, Pacific) per SKU, lot and location: cases and pounds, how long
-- the lot has been here, and how many pounds reach their best-by date within 7, 14 and 30 days.
-- The positions come summed (marts.inventory_positions, incremental); a build of on_hand reads what
-- is on hand, not the history of the book.
with positions as (
    select sku, lot_code, location_id, warehouse_code, on_hand_cases, on_hand_lbs, last_movement_at
    from {{ ref('inventory_positions') }}
),

lots as (
    select * from {{ ref('lots') }}
),

locations as (
    select location_id, zone from {{ ref('stg_wms__locations') }} where not is_deleted
),

dated as (
    select
        positions.*,
        lots.item_description,
        lots.fa_category,
        lots.storage_type,
        lots.source_program,
        lots.supplier_lot,
        lots.first_received_date,
        lots.best_by,
        locations.zone,
        {{ dbt.datediff('lots.first_received_date', as_of_date(), 'day') }} as days_on_hand,
        {{ dbt.datediff(as_of_date(), 'lots.best_by', 'day') }} as days_to_best_by
    from positions
    left join lots on lots.lot_code = positions.lot_code and lots.sku = positions.sku
    left join locations on locations.location_id = positions.location_id
    where positions.on_hand_cases <> 0 or positions.on_hand_lbs <> 0
)

select
    sku, item_description, fa_category, storage_type, source_program, lot_code, supplier_lot,
    location_id, warehouse_code, zone,
    cast(on_hand_cases as decimal(18, 2)) as on_hand_cases,
    cast(on_hand_lbs as decimal(18, 2)) as on_hand_lbs,
    first_received_date, days_on_hand, best_by, days_to_best_by,
    {%- for days in [7, 14, 30] %}
    cast(case when days_to_best_by between 0 and {{ days }} then on_hand_lbs else 0 end as decimal(18, 2))
        as lbs_expiring_{{ days }}d,
    {%- endfor %}
    cast(case when days_to_best_by < 0 then on_hand_lbs else 0 end as decimal(18, 2)) as lbs_past_best_by,
    on_hand_cases < 0 or on_hand_lbs < 0 as is_negative,
    last_movement_at,
    {{ as_of_date() }} as as_of_date
from dated
