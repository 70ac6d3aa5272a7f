-- The first table finance reads each morning: one row per business date of the close, with its
-- status, the findings behind it, the roll-forward totals, the sources' freshness and its
-- publication (and restatement) history. Nothing in a row depends on when or by which run it was
-- rebuilt, so re-running a close that nothing changed leaves the table as it was. The status
-- follows from the day's own findings only:
--   held                       a holds_day finding: none of the day's numbers are published
--   published_with_exceptions  findings that hold lines or are listed with their amounts
--   published                  no finding
{%- set measures = ['opening', 'receipts', 'transfers_in', 'transfers_out', 'adjustments', 'spoilage',
                    'distributions', 'closing'] %}
{%- set systems = ['wms', 'intake', 'ordering', 'legacy_warehouse', 'manual_adjustments', 'usda_tefap'] %}

with exceptions as (
    select * from {{ ref('finance_exceptions') }}
),

rollforward as (
    select * from {{ ref('finance_rollforward_daily') }}
),

publications as (
    select * from {{ ref('published_daily_balance') }}
),

close_days as (
    select business_date from {{ ref('inventory_daily_balance') }} where {{ close_window('business_date') }}
    union
    select business_date from exceptions
),

by_rule as (
    select
        business_date, finance_rule, effect,
        count(*) as findings,
        sum(abs(coalesce(lbs, 0))) as lbs_at_stake,
        sum(abs(coalesce(value_usd, 0))) as usd_at_stake
    from exceptions
    group by business_date, finance_rule, effect
),

findings as (
    select
        business_date,
        sum(case when effect = 'holds_day' then findings else 0 end) as day_holds,
        sum(case when effect = 'holds_lines' then findings else 0 end) as lines_held,
        sum(case when effect = 'published' then findings else 0 end) as listed_exceptions,
        sum(lbs_at_stake) as lbs_at_stake,
        sum(usd_at_stake) as usd_at_stake,
        {{ dbt.listagg(
            "finance_rule || ' ' || cast(findings as " ~ dbt.type_string() ~ ") || ' (' || effect || ', '
             || cast(cast(lbs_at_stake as decimal(18, 2)) as " ~ dbt.type_string() ~ ") || ' lb, $'
             || cast(cast(usd_at_stake as decimal(18, 2)) as " ~ dbt.type_string() ~ ") || ')'",
            "'; '", 'order by finance_rule') }} as findings_by_rule
    from by_rule
    group by business_date
),

totals as (
    select
        business_date,
        {%- for m in measures %}
        sum({{ m }}_lbs) as {{ m }}_lbs,
        sum({{ m }}_usd) as {{ m }}_usd{{ ',' if not loop.last }}
        {%- endfor %}
    from rollforward
    group by business_date
),

versions as (
    select
        business_date, publication_version,
        max(published_at) as published_at,
        max(published_by_run) as published_by_run,
        sum(receipts_lbs) as receipts_lbs,
        sum(distributions_lbs) as distributions_lbs,
        sum(closing_lbs) as closing_lbs
    from publications
    group by business_date, publication_version
),

publication_history as (
    select
        latest.business_date,
        latest.publication_version,
        first_.published_at,
        first_.published_by_run,
        case when latest.publication_version > 1 then latest.published_at end as restated_at,
        case when latest.publication_version > 1 then latest.published_by_run end as restated_by_run,
        previous_.receipts_lbs as previous_receipts_lbs,
        previous_.distributions_lbs as previous_distributions_lbs,
        previous_.closing_lbs as previous_closing_lbs
    from versions as latest
    inner join versions as first_
        on first_.business_date = latest.business_date and first_.publication_version = 1
    left join versions as previous_
        on previous_.business_date = latest.business_date
        and previous_.publication_version = latest.publication_version - 1
    where latest.publication_version = (
        select max(v.publication_version) from versions as v where v.business_date = latest.business_date
    )
),

ledger as (
    select
        {{ dbt.split_part('source_table', "'__'", 1) }} as source_system,
        {{ file_business_date('file_identity', 'first_seen_at') }} as business_date,
        loaded_at
    from {{ ref('stg_audit__file_ledger') }}
    where load_status = 'loaded'
),

freshness as (
    select
        business_date,
        {%- for system in systems %}
        max(case when source_system = '{{ system }}' then loaded_at end) as {{ system }}_loaded_at
        {{- ',' if not loop.last }}
        {%- endfor %}
    from ledger
    group by business_date
)

select
    close_days.business_date,
    cast(case
        when coalesce(findings.day_holds, 0) > 0 then 'held'
        when coalesce(findings.lines_held, 0) + coalesce(findings.listed_exceptions, 0) > 0
            then 'published_with_exceptions'
        else 'published'
    end as {{ dbt.type_string() }}) as status,
    cast(coalesce(findings.day_holds, 0) as bigint) as day_holds,
    cast(coalesce(findings.lines_held, 0) as bigint) as lines_held,
    cast(coalesce(findings.listed_exceptions, 0) as bigint) as listed_exceptions,
    cast(coalesce(findings.lbs_at_stake, 0) as decimal(18, 2)) as lbs_at_stake,
    cast(coalesce(findings.usd_at_stake, 0) as decimal(18, 2)) as usd_at_stake,
    cast(findings.findings_by_rule as {{ dbt.type_string() }}) as findings_by_rule,
    {%- for m in measures %}
    cast(totals.{{ m }}_lbs as decimal(18, 2)) as {{ m }}_lbs,
    cast(totals.{{ m }}_usd as decimal(18, 2)) as {{ m }}_usd,
    {%- endfor %}
    cast(coalesce(publication_history.publication_version, 0) as bigint) as publication_version,
    publication_history.published_at,
    publication_history.published_by_run,
    coalesce(publication_history.publication_version, 0) > 1 as is_restated,
    publication_history.restated_at,
    publication_history.restated_by_run,
    cast(publication_history.previous_receipts_lbs as decimal(18, 2)) as previous_receipts_lbs,
    cast(publication_history.previous_distributions_lbs as decimal(18, 2)) as previous_distributions_lbs,
    cast(publication_history.previous_closing_lbs as decimal(18, 2)) as previous_closing_lbs,
    {%- for system in systems %}
    freshness.{{ system }}_loaded_at{{ ',' if not loop.last }}
    {%- endfor %}
from close_days
left join findings on findings.business_date = close_days.business_date
left join totals on totals.business_date = close_days.business_date
left join publication_history on publication_history.business_date = close_days.business_date
left join freshness on freshness.business_date = close_days.business_date
