-- Pounds and cases received and distributed per Pacific business date and warehouse, net of voided
-- postings; is_today marks the operations dashboard's "today".
with events as (
    select * from {{ ref('inventory_events') }}
    where event_type in ('RECEIPT', 'DISTRIBUTION')
)

select
    business_date,
    warehouse_code,
    cast(sum(case when event_type = 'RECEIPT' then cases_delta else 0 end) as decimal(18, 2)) as received_cases,
    cast(sum(case when event_type = 'RECEIPT' then lbs_delta else 0 end) as decimal(18, 2)) as received_lbs,
    cast(-1 * sum(case when event_type = 'DISTRIBUTION' then cases_delta else 0 end) as decimal(18, 2))
        as distributed_cases,
    cast(-1 * sum(case when event_type = 'DISTRIBUTION' then lbs_delta else 0 end) as decimal(18, 2))
        as distributed_lbs,
    count(distinct case when event_type = 'RECEIPT' then reference_id end) as receipt_references,
    count(distinct case when event_type = 'DISTRIBUTION' then reference_id end) as shipment_lines,
    business_date = {{ as_of_date() }} as is_today
from events
group by business_date, warehouse_code
