-- The separate book the state agency audits: USDA commodity inventory per program (TEFAP, CSFP),
-- business date and SKU, rolled forward from the daily balance and valued at the BOL value, on published days only.
with balance as (
    select * from {{ ref('inventory_daily_balance') }}
    where {{ close_window('business_date') }}
        and business_date not in {{ held_days() }}
),

lots as (
    select * from {{ ref('lots') }} where source_program in ('TEFAP', 'CSFP')
)

select
    lots.source_program as usda_program,
    balance.business_date,
    balance.sku,
    max(lots.item_description) as item_description,
    {%- for measure in ['opening', 'receipts', 'transfers_in', 'transfers_out', 'adjustments', 'spoilage',
                        'distributions', 'closing'] %}
    cast(sum(balance.{{ measure }}_cases) as decimal(18, 2)) as {{ measure }}_cases,
    cast(sum(balance.{{ measure }}_lbs) as decimal(18, 2)) as {{ measure }}_lbs,
    {%- endfor %}
    cast(sum(balance.closing_lbs * coalesce(lots.bol_usd_per_lb, 0)) as decimal(18, 2)) as closing_value_usd
from balance
inner join lots on lots.lot_code = balance.lot_code and lots.sku = balance.sku
group by lots.source_program, balance.business_date, balance.sku
