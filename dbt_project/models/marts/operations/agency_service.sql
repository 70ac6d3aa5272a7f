-- Service to each partner agency per month of requested date: order fill rate (cases shipped /
-- cases approved) and on-time shipment (orders whose last non-void shipment went out by the
-- requested date, Pacific), over orders that are not cancelled.
with order_lines as (
    select * from {{ ref('agency_orders') }} where status <> 'CANCELLED'
),

shipped_by_line as (
    select order_line_id, sum(cases_shipped) as cases_shipped, max(business_date) as last_shipped_date
    from {{ ref('fulfillment_line_items') }}
    where not is_void
    group by order_line_id
),

orders as (
    select
        order_lines.order_id,
        max(order_lines.agency_id) as agency_id,
        max(order_lines.agency_name) as agency_name,
        max(order_lines.agency_type) as agency_type,
        max(order_lines.requested_date) as requested_date,
        sum(coalesce(order_lines.cases_approved, 0)) as cases_approved,
        sum(coalesce(shipped_by_line.cases_shipped, 0)) as cases_shipped,
        max(shipped_by_line.last_shipped_date) as last_shipped_date
    from order_lines
    left join shipped_by_line on shipped_by_line.order_line_id = order_lines.order_line_id
    group by order_lines.order_id
)

select
    agency_id,
    max(agency_name) as agency_name,
    max(agency_type) as agency_type,
    cast({{ dbt.date_trunc('month', 'requested_date') }} as date) as requested_month,
    count(*) as orders,
    sum(case when last_shipped_date is not null then 1 else 0 end) as orders_shipped,
    sum(case when last_shipped_date <= requested_date then 1 else 0 end) as orders_on_time,
    cast(sum(cases_approved) as decimal(18, 2)) as cases_approved,
    cast(sum(cases_shipped) as decimal(18, 2)) as cases_shipped,
    cast(case when sum(cases_approved) > 0 then sum(cases_shipped) / sum(cases_approved) end as decimal(9, 4))
        as fill_rate,
    cast(case when sum(case when last_shipped_date is not null then 1 else 0 end) > 0
              then 1.0 * sum(case when last_shipped_date <= requested_date then 1 else 0 end)
                   / sum(case when last_shipped_date is not null then 1 else 0 end) end as decimal(9, 4))
        as on_time_rate
from orders
group by agency_id, cast({{ dbt.date_trunc('month', 'requested_date') }} as date)
