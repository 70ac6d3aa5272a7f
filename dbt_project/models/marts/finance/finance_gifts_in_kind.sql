-- Contributed nonfinancial assets (ASU 2020-07): food received as a gift, by month and Feeding
-- America category, with the valuation technique. Gifts are donated and food-drive product and
-- USDA commodities (TEFAP, CSFP); purchased food is not a contribution. Receipts of a donation whose
-- receipt number is on two donations (a duplicate_donation_id exception) stay out until it is fixed.
with receipts as (
    select * from {{ ref('inventory_events') }}
    where event_type = 'RECEIPT'
        and {{ close_window('business_date') }}
        and business_date not in {{ held_days() }}
),

held_donations as (
    select distinct subject as donation_id from {{ ref('finance_exceptions') }} where effect = 'holds_lines'
),

lots as (
    select lot_code, sku, source_program, fa_category, bol_usd_per_lb from {{ ref('lots') }}
),

rates as (
    select * from {{ ref('program_rates') }}
),

gifts as (
    select
        cast({{ dbt.date_trunc('month', 'receipts.business_date') }} as date) as business_month,
        coalesce(lots.fa_category, 'Unclassified') as fa_category,
        lots.source_program,
        receipts.cases_delta as cases,
        receipts.lbs_delta as lbs,
        {{ lbs_value('receipts.lbs_delta', 'lots.bol_usd_per_lb', 'rates') }} as value_usd
    from receipts
    inner join lots on lots.lot_code = receipts.lot_code and lots.sku = receipts.sku
    left join rates on {{ program_rate_join('rates', 'lots.source_program', 'receipts.business_date') }}
    where lots.source_program in ('DONATED', 'FOOD_DRIVE', 'TEFAP', 'CSFP')
        and not (receipts.reference_type = 'DONATION'
            and receipts.reference_id in (select donation_id from held_donations))
)

select
    business_month,
    cast(fa_category as {{ dbt.type_string() }}) as fa_category,
    cast(source_program as {{ dbt.type_string() }}) as source_program,
    cast(case when source_program in ('TEFAP', 'CSFP') then 'USDA commodity value on the bill of lading'
         else 'Per-pound rate (program_rates), Feeding America product valuation' end
        as {{ dbt.type_string() }}) as valuation_technique,
    cast(sum(cases) as decimal(18, 2)) as cases,
    cast(sum(lbs) as decimal(18, 2)) as lbs,
    cast(sum(value_usd) as decimal(18, 2)) as value_usd
from gifts
group by business_month, fa_category, source_program
