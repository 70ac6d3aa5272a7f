-- What the book holds per SKU, lot and location as of the operations' "today" (the sums of every
-- inventory event up to that business date), non-zero positions only: what marts.on_hand dresses
-- with the lot's and the location's attributes.
-- Incremental: a run recomputes, each from all of its events, the positions that rows loaded since
-- the last run may have changed (macro book_rows_touched) and those an event dated after the
-- last run's "today" and up to this one's touches. The post-hooks remove positions that came to zero
-- (or lost their last event) and date every position to this run's "today". A "today" earlier than
-- the last run's rebuilds every position.
{{ config(
    materialized='incremental',
    unique_key='position_key',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    tmp_relation_type='transient',
    post_hook=[
        "delete from {{ this }} where on_hand_cases = 0 and on_hand_lbs = 0",
        "update {{ this }} set as_of_date = {{ as_of_date() }}",
    ]
) }}

-- depends_on: {{ ref('stg_wms__inventory_transactions') }}
{%- set since, last_as_of, rebuild_all = none, none, false %}
{%- if is_incremental() and execute %}
    {%- set last = run_query(
        "select cast(max(as_of_date) as " ~ dbt.type_string() ~ "), max(as_of_date) <= " ~ as_of_date()
        ~ " from " ~ this).rows[0] %}
    {%- set last_as_of = last[0] %}
    {%- if last_as_of is not none %}
        {%- set since = arrived_since(source('wms', 'wms__inventory_transactions')) if last[1] else none %}
        {%- set rebuild_all = since is none %}
        {%- set since = '1900-01-01 00:00:00' if rebuild_all else since %}
    {%- endif %}
{%- endif %}

with
{%- if since is not none %}
moved as (
    {{ book_rows_touched(since) }}
),

touched as (  -- noqa: ST03
    select sku, lot_code, from_location_id as location_id from moved where from_location_id is not null
    union
    select sku, lot_code, to_location_id from moved where to_location_id is not null
    union
    select sku, lot_code, location_id from {{ ref('inventory_events') }}
    where _source_loaded_at >= cast('{{ since }}' as {{ dbt.type_timestamp() }})
    union
    select sku, lot_code, location_id from {{ ref('inventory_events') }}
    where business_date > cast('{{ last_as_of }}' as date)
    {%- if rebuild_all %}
    union
    select sku, lot_code, location_id from {{ this }}
    {%- endif %}
),
{%- endif %}

events as (
    select events.* from {{ ref('inventory_events') }} as events
    {%- if since is not none %}
    inner join touched
        on touched.sku is not distinct from events.sku
       and touched.lot_code = events.lot_code
       and touched.location_id = events.location_id
    {%- endif %}
    where events.business_date <= {{ as_of_date() }}
),

positions as (
    select
        {{ position_key('events') }} as position_key,
        sku, lot_code, location_id,
        max(warehouse_code) as warehouse_code,
        cast(sum(cases_delta) as decimal(18, 2)) as on_hand_cases,
        cast(sum(lbs_delta) as decimal(18, 2)) as on_hand_lbs,
        max(occurred_at) as last_movement_at,
        max(_source_loaded_at) as _source_loaded_at
    from events
    group by {{ position_key('events') }}, sku, lot_code, location_id
)

{%- if since is not none %}

-- A touched position with no event left comes out at zero, replacing its row; the post-hook removes it.
select
    {{ position_key('touched') }} as position_key,
    touched.sku, touched.lot_code, touched.location_id,
    positions.warehouse_code,
    coalesce(positions.on_hand_cases, 0) as on_hand_cases,
    coalesce(positions.on_hand_lbs, 0) as on_hand_lbs,
    positions.last_movement_at,
    positions._source_loaded_at,
    {{ as_of_date() }} as as_of_date
from touched
left join positions on positions.position_key = {{ position_key('touched') }}
{%- else %}

select *, {{ as_of_date() }} as as_of_date from positions
where on_hand_cases <> 0 or on_hand_lbs <> 0
{%- endif %}
