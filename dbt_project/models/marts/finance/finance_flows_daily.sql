-- Pounds, cases and dollars received and distributed per published business date, source program
-- and Feeding America category: the receipts and distributions of finance_rollforward_daily, so the
-- two agree to the cent and the pound. A lot keeps the program it was received under.
with rollforward as (
    select * from {{ ref('finance_rollforward_daily') }}
),

flows as (
    {%- for flow, measure in [('RECEIVED', 'receipts'), ('DISTRIBUTED', 'distributions')] %}
    select
        business_date, business_month, '{{ flow }}' as flow, source_program, fa_category,
        {{ measure }}_cases as cases, {{ measure }}_lbs as lbs, {{ measure }}_usd as value_usd
    from rollforward
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select
    business_date,
    business_month,
    cast(flow as {{ dbt.type_string() }}) as flow,
    source_program,
    fa_category,
    cast(sum(cases) as decimal(18, 2)) as cases,
    cast(sum(lbs) as decimal(18, 2)) as lbs,
    cast(sum(value_usd) as decimal(18, 2)) as value_usd
from flows
group by business_date, business_month, flow, source_program, fa_category
having sum(cases) <> 0 or sum(lbs) <> 0
