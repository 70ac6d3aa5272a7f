-- Inventory on hand now, valued, per source program, Feeding America category and warehouse.
with on_hand as (
    select * from {{ ref('on_hand') }}
),

lots as (
    select lot_code, sku, bol_usd_per_lb from {{ ref('lots') }}
),

rates as (
    select * from {{ ref('program_rates') }}
)

select
    coalesce(on_hand.source_program, 'UNKNOWN') as source_program,
    coalesce(on_hand.fa_category, 'Unclassified') as fa_category,
    on_hand.warehouse_code,
    max(on_hand.as_of_date) as as_of_date,
    cast(sum(on_hand.on_hand_cases) as decimal(18, 2)) as on_hand_cases,
    cast(sum(on_hand.on_hand_lbs) as decimal(18, 2)) as on_hand_lbs,
    cast(sum({{ lbs_value('on_hand.on_hand_lbs', 'lots.bol_usd_per_lb', 'rates') }}) as decimal(18, 2)) as value_usd
from on_hand
left join lots on lots.lot_code = on_hand.lot_code and lots.sku = on_hand.sku
left join rates on {{ program_rate_join('rates', "coalesce(on_hand.source_program, 'UNKNOWN')", 'on_hand.as_of_date') }}
group by
    coalesce(on_hand.source_program, 'UNKNOWN'),
    coalesce(on_hand.fa_category, 'Unclassified'),
    on_hand.warehouse_code
