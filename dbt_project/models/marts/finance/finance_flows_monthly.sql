-- The month view of finance_flows_daily: pounds, cases and dollars per month, flow, program, category.
select
    business_month,
    flow,
    source_program,
    fa_category,
    cast(sum(cases) as decimal(18, 2)) as cases,
    cast(sum(lbs) as decimal(18, 2)) as lbs,
    cast(sum(value_usd) as decimal(18, 2)) as value_usd
from {{ ref('finance_flows_daily') }}
group by business_month, flow, source_program, fa_category
