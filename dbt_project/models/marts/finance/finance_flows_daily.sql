-- Pounds, cases and dollars received and distributed per Pacific business date, source program and
-- Feeding America category. A lot keeps the program it was received under; dollars come from the
-- BOL's USDA value for TEFAP/CSFP and from finance's effective-dated program_rates otherwise.
with events as (
    select * from {{ ref('inventory_events') }}
    where event_type in ('RECEIPT', 'DISTRIBUTION')
),

lots as (
    select * from {{ ref('lots') }}
),

rates as (
    select * from {{ ref('program_rates') }}
),

flows as (
    select
        events.business_date,
        case when events.event_type = 'RECEIPT' then 'RECEIVED' else 'DISTRIBUTED' end as flow,
        coalesce(lots.source_program, 'UNKNOWN') as source_program,
        coalesce(lots.fa_category, 'Unclassified') as fa_category,
        case when events.event_type = 'RECEIPT' then 1 else -1 end * events.cases_delta as cases,
        case when events.event_type = 'RECEIPT' then 1 else -1 end * events.lbs_delta as lbs,
        lots.bol_usd_per_lb
    from events
    left join lots on lots.lot_code = events.lot_code and lots.sku = events.sku
)

select
    flows.business_date,
    cast({{ dbt.date_trunc('month', 'flows.business_date') }} as date) as business_month,
    flows.flow,
    flows.source_program,
    flows.fa_category,
    cast(sum(flows.cases) as decimal(18, 2)) as cases,
    cast(sum(flows.lbs) as decimal(18, 2)) as lbs,
    cast(sum({{ lbs_value('flows.lbs', 'flows.bol_usd_per_lb', 'rates') }}) as decimal(18, 2)) as value_usd
from flows
left join rates on {{ program_rate_join('rates', 'flows.source_program', 'flows.business_date') }}
group by flows.business_date, flows.flow, flows.source_program, flows.fa_category
