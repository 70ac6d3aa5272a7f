-- Pounds and cases received and distributed per Pacific business date and warehouse, net of voided
-- postings; is_today marks the operations dashboard's "today".
-- Incremental: a run recomputes the business dates that rows loaded since the last run may have
-- changed (the dates of every version of the receipts and distributions that arrived, macro
-- book_rows_touched, a void's reversal dated when it was voided), each from all of its events. A
-- date left with no flow comes out without a warehouse and the post-hook removes it; the other
-- post-hook moves is_today to this run's "today".
{{ config(
    materialized='incremental',
    unique_key='business_date',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    tmp_relation_type='transient',
    post_hook=[
        "delete from {{ this }} where warehouse_code is null",
        "update {{ this }} set is_today = (business_date = {{ as_of_date() }})",
    ]
) }}

-- depends_on: {{ ref('stg_wms__inventory_transactions') }}
{%- set since = none %}
{%- if is_incremental() and execute and '_source_loaded_at' in (
    adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list) %}
    {%- set since = arrived_since(source('wms', 'wms__inventory_transactions')) %}
{%- endif %}

with
{%- if since is not none %}
moved as (
    {{ book_rows_touched(since) }}
),

touched as (  -- noqa: ST03
    select {{ pacific_date('occurred_at') }} as business_date from moved
    where event_type in ('RECEIPT', 'DISTRIBUTION')
    union
    select {{ pacific_date('updated_at') }} from moved
    where event_type in ('RECEIPT', 'DISTRIBUTION')
    union
    select business_date from {{ ref('inventory_events') }}
    where event_type in ('RECEIPT', 'DISTRIBUTION')
      and _source_loaded_at >= cast('{{ since }}' as {{ dbt.type_timestamp() }})
),
{%- endif %}

events as (
    select * from {{ ref('inventory_events') }}
    where event_type in ('RECEIPT', 'DISTRIBUTION')
    {%- if since is not none %}
      and business_date in (select business_date from touched)
    {%- endif %}
),

flows as (
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
        business_date = {{ as_of_date() }} as is_today,
        max(_source_loaded_at) as _source_loaded_at
    from events
    group by business_date, warehouse_code
)

{%- if since is not none %}

select
    touched.business_date, flows.warehouse_code, flows.received_cases, flows.received_lbs,
    flows.distributed_cases, flows.distributed_lbs, flows.receipt_references, flows.shipment_lines,
    flows.is_today, flows._source_loaded_at
from touched
left join flows on flows.business_date = touched.business_date
where touched.business_date is not null
{%- else %}

select * from flows
{%- endif %}
