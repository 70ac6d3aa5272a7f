-- The book's roll-forward: per business date and position (SKU, lot, location), opening + receipts
-- + transfers in - transfers out + adjustments - spoilage - distributions = closing, and the closing
-- of one day is the opening of the next. A position has a row on every day it is open: a non-zero
-- opening or any movement.
{%- set measures = [
    ('receipts', "event_type = 'RECEIPT'", 1),
    ('transfers_in', "event_type = 'TRANSFER_IN'", 1),
    ('transfers_out', "event_type = 'TRANSFER_OUT'", -1),
    ('adjustments', "event_type = 'ADJUSTMENT'", 1),
    ('spoilage', "event_type = 'SPOILAGE'", -1),
    ('distributions', "event_type = 'DISTRIBUTION'", -1),
] %}

with events as (
    select * from {{ ref('inventory_events') }}
),

-- Outflows are reported as positive amounts taken out; a reversal reduces the column it reverses.
daily_movements as (
    select
        business_date, sku, lot_code, location_id,
        {%- for name, condition, sign in measures %}
        {%- for unit in ['cases', 'lbs'] %}
        {{ sign }} * sum(case when {{ condition }} then {{ unit }}_delta else 0 end) as {{ name }}_{{ unit }},
        {%- endfor %}
        {%- endfor %}
        sum(cases_delta) as net_cases,
        sum(lbs_delta) as net_lbs,
        count(*) as movements
    from events
    group by business_date, sku, lot_code, location_id
),

bounds as (
    select min(business_date) as first_date, max(business_date) as last_date from daily_movements
),

calendar as (
    select cast({{ dbt.dateadd('day', 'series.generated_number - 1', 'bounds.first_date') }} as date) as business_date
    from ({{ dbt.generate_series(4096) }}) as series
    cross join bounds
    where {{ dbt.dateadd('day', 'series.generated_number - 1', 'bounds.first_date') }} <= bounds.last_date
),

positions as (
    select sku, lot_code, location_id, min(business_date) as first_movement_date
    from daily_movements
    group by sku, lot_code, location_id
),

position_days as (
    select positions.sku, positions.lot_code, positions.location_id, calendar.business_date
    from positions
    inner join calendar on calendar.business_date >= positions.first_movement_date
),

rolled as (
    select
        position_days.business_date,
        position_days.sku,
        position_days.lot_code,
        position_days.location_id,
        {%- for name, condition, sign in measures %}
        {%- for unit in ['cases', 'lbs'] %}
        coalesce(m.{{ name }}_{{ unit }}, 0) as {{ name }}_{{ unit }},
        {%- endfor %}
        {%- endfor %}
        coalesce(m.movements, 0) as movements,
        {%- for unit in ['cases', 'lbs'] %}
        sum(coalesce(m.net_{{ unit }}, 0)) over (
            partition by position_days.sku, position_days.lot_code, position_days.location_id
            order by position_days.business_date rows between unbounded preceding and current row
        ) as closing_{{ unit }},
        coalesce(m.net_{{ unit }}, 0) as net_{{ unit }}{{ ',' if not loop.last }}
        {%- endfor %}
    from position_days
    left join daily_movements as m
        on m.business_date = position_days.business_date
        and m.sku = position_days.sku
        and m.lot_code = position_days.lot_code
        and m.location_id = position_days.location_id
)

select
    business_date,
    sku,
    lot_code,
    location_id,
    cast({{ dbt.split_part('location_id', "'-'", 1) }} as {{ dbt.type_string() }}) as warehouse_code,
    cast(closing_cases - net_cases as decimal(18, 2)) as opening_cases,
    cast(closing_lbs - net_lbs as decimal(18, 2)) as opening_lbs,
    {%- for name, condition, sign in measures %}
    {%- for unit in ['cases', 'lbs'] %}
    cast({{ name }}_{{ unit }} as decimal(18, 2)) as {{ name }}_{{ unit }},
    {%- endfor %}
    {%- endfor %}
    cast(closing_cases as decimal(18, 2)) as closing_cases,
    cast(closing_lbs as decimal(18, 2)) as closing_lbs,
    movements,
    closing_cases < 0 or closing_lbs < 0 as is_negative
from rolled
where movements > 0 or closing_cases - net_cases <> 0 or closing_lbs - net_lbs <> 0
