-- The roll-forward finance signs, per published business date, warehouse, source program and
-- Feeding America category: opening + receipts + transfers in - transfers out + adjustments
-- - spoilage - distributions = closing, in cases, pounds and dollars. Held days have no rows.
-- Dollars are valued per position and day (lbs_value: the BOL's USDA value for TEFAP and CSFP lots,
-- else the program's rate effective that day), so every sum of this table is exact to the cent; the
-- closing dollars are the opening plus the movements, and what a rate change moves between one day's
-- closing and the next day's opening shows as revaluation in finance_rollforward_monthly.
{%- set movements = [('receipts', 1), ('transfers_in', 1), ('transfers_out', -1), ('adjustments', 1),
                      ('spoilage', -1), ('distributions', -1)] %}

with balance as (
    select * from {{ ref('inventory_daily_balance') }}
    where {{ close_window('business_date') }}
        and business_date not in {{ held_days() }}
),

lots as (
    select lot_code, sku, source_program, fa_category, bol_usd_per_lb from {{ ref('lots') }}
),

rates as (
    select * from {{ ref('program_rates') }}
),

valued as (
    select
        balance.business_date,
        balance.warehouse_code,
        coalesce(lots.source_program, 'UNKNOWN') as source_program,
        coalesce(lots.fa_category, 'Unclassified') as fa_category,
        {%- for measure in ['opening'] + movements | map('first') | list + ['closing'] %}
        balance.{{ measure }}_cases,
        balance.{{ measure }}_lbs,
        {%- if measure != 'closing' %}
        {{ lbs_value('balance.' ~ measure ~ '_lbs', 'lots.bol_usd_per_lb', 'rates') }} as {{ measure }}_usd,
        {%- endif %}
        {%- endfor %}
        1 as positions
    from balance
    left join lots on lots.lot_code = balance.lot_code and lots.sku = balance.sku
    left join rates
        on {{ program_rate_join('rates', "coalesce(lots.source_program, 'UNKNOWN')", 'balance.business_date') }}
),

summed as (
    select
        business_date,
        warehouse_code,
        source_program,
        fa_category,
        {%- for measure in ['opening'] + movements | map('first') | list %}
        sum({{ measure }}_cases) as {{ measure }}_cases,
        sum({{ measure }}_lbs) as {{ measure }}_lbs,
        sum({{ measure }}_usd) as {{ measure }}_usd,
        {%- endfor %}
        sum(closing_cases) as closing_cases,
        sum(closing_lbs) as closing_lbs,
        sum(positions) as positions
    from valued
    group by business_date, warehouse_code, source_program, fa_category
)

select
    business_date,
    cast({{ dbt.date_trunc('month', 'business_date') }} as date) as business_month,
    cast(warehouse_code as {{ dbt.type_string() }}) as warehouse_code,
    cast(source_program as {{ dbt.type_string() }}) as source_program,
    cast(fa_category as {{ dbt.type_string() }}) as fa_category,
    {%- for measure in ['opening'] + movements | map('first') | list + ['closing'] %}
    {%- for unit in ['cases', 'lbs', 'usd'] %}
    {%- if measure == 'closing' and unit == 'usd' %}
    cast(
        opening_usd
        {%- for name, sign in movements %}
        {{ '+' if sign > 0 else '-' }} {{ name }}_usd
        {%- endfor %} as decimal(18, 2)
    ) as closing_usd,
    {%- else %}
    cast({{ measure }}_{{ unit }} as decimal(18, 2)) as {{ measure }}_{{ unit }},
    {%- endif %}
    {%- endfor %}
    {%- endfor %}
    cast(positions as bigint) as positions
from summed
