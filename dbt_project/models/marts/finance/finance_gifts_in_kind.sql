-- Contributed nonfinancial assets (ASU 2020-07): food received as a gift, by month and Feeding
-- America category, with the valuation technique. Gifts are donated and food-drive product and
-- USDA commodities (TEFAP, CSFP); purchased food is not a contribution.
select
    business_month,
    fa_category,
    source_program,
    case when source_program in ('TEFAP', 'CSFP') then 'USDA commodity value on the bill of lading'
         else 'Per-pound rate (program_rates), Feeding America product valuation' end as valuation_technique,
    cases,
    lbs,
    value_usd
from {{ ref('finance_flows_monthly') }}
where flow = 'RECEIVED' and source_program in ('DONATED', 'FOOD_DRIVE', 'TEFAP', 'CSFP')
