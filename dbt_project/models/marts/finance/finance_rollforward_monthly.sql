-- finance_rollforward_daily per month: the opening of the month's first published day, the
-- movements of its published days, the closing of its last. `revaluation_usd` is what rate changes
-- (and rounding to the cent) moved between one day's closing and the next day's opening;
-- `unexplained_lbs` is non-zero only when a held day inside the month leaves its movements out.
{%- set movements = [('receipts', 1), ('transfers_in', 1), ('transfers_out', -1), ('adjustments', 1),
                      ('spoilage', -1), ('distributions', -1)] %}

with daily as (
    select * from {{ ref('finance_rollforward_daily') }}
),

month_days as (
    select
        business_month,
        min(business_date) as first_day,
        max(business_date) as last_day,
        count(distinct business_date) as published_days
    from daily
    group by business_month
),

summed as (
    select
        daily.business_month,
        daily.warehouse_code,
        daily.source_program,
        daily.fa_category,
        {%- for unit in ['cases', 'lbs', 'usd'] %}
        sum(case when daily.business_date = month_days.first_day then daily.opening_{{ unit }} else 0 end)
            as opening_{{ unit }},
        {%- for name, sign in movements %}
        sum(daily.{{ name }}_{{ unit }}) as {{ name }}_{{ unit }},
        {%- endfor %}
        sum(case when daily.business_date = month_days.last_day then daily.closing_{{ unit }} else 0 end)
            as closing_{{ unit }},
        {%- endfor %}
        max(month_days.published_days) as published_days
    from daily
    inner join month_days on month_days.business_month = daily.business_month
    group by daily.business_month, daily.warehouse_code, daily.source_program, daily.fa_category
)

select
    business_month,
    warehouse_code,
    source_program,
    fa_category,
    {%- for unit in ['cases', 'lbs', 'usd'] %}
    cast(opening_{{ unit }} as decimal(18, 2)) as opening_{{ unit }},
    {%- for name, sign in movements %}
    cast({{ name }}_{{ unit }} as decimal(18, 2)) as {{ name }}_{{ unit }},
    {%- endfor %}
    cast(closing_{{ unit }} as decimal(18, 2)) as closing_{{ unit }},
    {%- endfor %}
    {%- for column, unit in [('revaluation_usd', 'usd'), ('unexplained_lbs', 'lbs')] %}
    cast(
        closing_{{ unit }} - (
            opening_{{ unit }}
            {%- for name, sign in movements %}
            {{ '+' if sign > 0 else '-' }} {{ name }}_{{ unit }}
            {%- endfor %}
        ) as decimal(18, 2)
    ) as {{ column }},
    {%- endfor %}
    cast(published_days as bigint) as published_days
from summed
