-- Everything on a business day that finance must know before signing it, one row per finding, with
-- what the finding does to the day (the rules, one per check, are in docs/finance.md):
--   holds_day   none of the day's numbers can be trusted: the day is held as a whole
--   holds_lines the lines named here stay out of the finance marts until resolved; the day publishes
--   published   the numbers publish as they are and the finding is listed with its amount
-- Findings are recomputed from the current data on every close, so a resolved finding disappears.
{%- set tolerances = var('variance_tolerance_cases') or {} %}

with balance as (
    select * from {{ ref('inventory_daily_balance') }}
),

lots as (
    select lot_code, sku, source_program, bol_usd_per_lb from {{ ref('lots') }}
),

rates as (
    select * from {{ ref('program_rates') }}
),

valued_balance as (
    select balance.*, lots.bol_usd_per_lb, coalesce(lots.source_program, 'UNKNOWN') as source_program
    from balance
    left join lots on lots.lot_code = balance.lot_code and lots.sku = balance.sku
),

-- closing(D-1) = opening(D), and opening + movements = closing, per position
previous_closing as (
    select
        *,
        lag(business_date) over (partition by sku, lot_code, location_id order by business_date) as previous_date,
        lag(closing_lbs) over (partition by sku, lot_code, location_id order by business_date) as previous_closing_lbs,
        lag(closing_cases) over (partition by sku, lot_code, location_id order by business_date)
            as previous_closing_cases
    from balance
),

roll_forward_breaks as (
    select
        business_date,
        'roll_forward_break' as finance_rule,
        'holds_day' as effect,
        {{ position_key('previous_closing') }} as subject,
        case
            when opening_lbs + receipts_lbs + transfers_in_lbs - transfers_out_lbs + adjustments_lbs
                - spoilage_lbs - distributions_lbs <> closing_lbs
                or opening_cases + receipts_cases + transfers_in_cases - transfers_out_cases + adjustments_cases
                - spoilage_cases - distributions_cases <> closing_cases
                then 'opening + movements <> closing'
            else 'opening <> the previous day''s closing'
        end as detail,
        closing_cases - opening_cases as cases,
        closing_lbs - opening_lbs as lbs,
        cast(null as decimal(18, 2)) as value_usd
    from previous_closing
    where opening_lbs + receipts_lbs + transfers_in_lbs - transfers_out_lbs + adjustments_lbs
        - spoilage_lbs - distributions_lbs <> closing_lbs
        or opening_cases + receipts_cases + transfers_in_cases - transfers_out_cases + adjustments_cases
        - spoilage_cases - distributions_cases <> closing_cases
        or (previous_date = {{ dbt.dateadd('day', -1, 'business_date') }}
            and (previous_closing_lbs <> opening_lbs or previous_closing_cases <> opening_cases))
        or ((previous_date is null or previous_date < {{ dbt.dateadd('day', -1, 'business_date') }})
            and (opening_lbs <> 0 or opening_cases <> 0))
),

-- the warehouse's nightly on-hand snapshot of the day, which book_vs_onhand needs
book_days as (
    select distinct business_date from balance
),

snapshot_days as (
    select distinct snapshot_date from {{ ref('stg_legacy_warehouse__onhand') }}
),

missing_snapshots as (
    select
        book_days.business_date,
        'missing_onhand_snapshot' as finance_rule,
        'holds_day' as effect,
        'legacy_warehouse__onhand' as subject,
        'no on-hand snapshot for the day was loaded' as detail,
        cast(null as decimal(18, 2)) as cases,
        cast(null as decimal(18, 2)) as lbs,
        cast(null as decimal(18, 2)) as value_usd
    from book_days
    left join snapshot_days on snapshot_days.snapshot_date = book_days.business_date
    where snapshot_days.snapshot_date is null
),

-- a file of the day that could not be read, with no good version since
ledger as (
    select * from {{ ref('stg_audit__file_ledger') }}
),

failed_files as (
    select
        {{ file_business_date('failed.file_identity', 'failed.first_seen_at') }} as business_date,
        'failed_file' as finance_rule,
        'holds_day' as effect,
        failed.landing_key as subject,
        failed.source_table || ': ' || coalesce(failed.load_error, 'unreadable') as detail,
        cast(null as decimal(18, 2)) as cases,
        cast(null as decimal(18, 2)) as lbs,
        cast(null as decimal(18, 2)) as value_usd
    from ledger as failed
    where failed.load_status = 'failed'
        and not exists (
            select 1 from ledger as later
            where later.file_identity = failed.file_identity
                and later.load_status = 'loaded'
                and later.file_version > failed.file_version
        )
),

-- files the clock expected and never saw (the expected_files job's missing_files check; none
-- before that job's first run)
{%- set missing_files_findings = load_relation(source('audit', 'dq_missing_files')) %}
missing_files as (
    {%- if missing_files_findings %}
    select
        business_date,
        'missing_shipments_file' as finance_rule,
        'holds_day' as effect,
        feed as subject,
        'no ' || feed || ' file from ' || cast(expected_from as {{ dbt.type_string() }})
        || ' to ' || cast(checked_until as {{ dbt.type_string() }}) as detail,
        cast(null as decimal(18, 2)) as cases,
        cast(null as decimal(18, 2)) as lbs,
        cast(null as decimal(18, 2)) as value_usd
    from {{ missing_files_findings }}
    where feed = 'shipments'  -- a missing on-hand snapshot is missing_onhand_snapshot, from what was loaded
    {%- else %}
    select
        cast(null as date) as business_date, 'missing_shipments_file' as finance_rule, 'holds_day' as effect,
        cast(null as {{ dbt.type_string() }}) as subject, cast(null as {{ dbt.type_string() }}) as detail,
        cast(null as decimal(18, 2)) as cases, cast(null as decimal(18, 2)) as lbs,
        cast(null as decimal(18, 2)) as value_usd
    where 1 = 0
    {%- endif %}
),

-- a receipt number on two donations: its lines stay out of gifts-in-kind until the re-key is fixed
donation_headers as (
    select donation_id, donation_pk from {{ ref('donations') }} group by donation_id, donation_pk
),

repeated_donation_ids as (
    select donation_id from donation_headers group by donation_id having count(*) > 1
),

duplicate_donation_lines as (
    select
        donations.business_date,
        'duplicate_donation_id' as finance_rule,
        'holds_lines' as effect,
        donations.donation_id as subject,
        'donation ' || cast(donations.donation_pk as {{ dbt.type_string() }}) || ' line '
        || cast(donations.donation_line_id as {{ dbt.type_string() }}) as detail,
        donations.cases,
        donations.lbs,
        {{ lbs_value('donations.lbs', 'null', 'rates') }} as value_usd
    from {{ ref('donations') }} as donations
    inner join repeated_donation_ids on repeated_donation_ids.donation_id = donations.donation_id
    left join rates on {{ program_rate_join('rates', 'donations.source_program', 'donations.business_date') }}
    where donations.status <> 'VOID'
),

negative_balances as (
    select
        valued_balance.business_date,
        'negative_balance' as finance_rule,
        'published' as effect,
        {{ position_key('valued_balance') }} as subject,
        'closing below zero' as detail,
        valued_balance.closing_cases as cases,
        valued_balance.closing_lbs as lbs,
        {{ lbs_value('valued_balance.closing_lbs', 'valued_balance.bol_usd_per_lb', 'rates') }} as value_usd
    from valued_balance
    left join rates
        on {{ program_rate_join('rates', 'valued_balance.source_program', 'valued_balance.business_date') }}
    where valued_balance.closing_cases < 0 or valued_balance.closing_lbs < 0
),

{#- each reconciliation's differences, valued at the rate of the program they concern -#}
{%- set variances = [
    ('receipts_vs_intake', 'donation_id', "'DONATED'"),
    ('receipts_vs_tefap', 'bol_line_id', "'TEFAP'"),
    ('distributions_vs_shipments', 'shipment_line_id', "coalesce(shipped_lots.source_program, 'DONATED')"),
] %}

shipped_lots as (
    select fulfillment.shipment_line_id, lots.source_program
    from {{ ref('fulfillment_line_items') }} as fulfillment
    inner join lots on lots.lot_code = fulfillment.lot_code and lots.sku = fulfillment.sku
),
{%- for reconciliation, key, program in variances %}

variance_{{ reconciliation }} as (
    select
        variance.business_date,
        '{{ reconciliation }}_variance' as finance_rule,
        'published' as effect,
        variance.{{ key }} as subject,
        variance.status as detail,
        variance.cases_variance as cases,
        variance.lbs_variance as lbs,
        {{ lbs_value('variance.lbs_variance', 'null', 'rates') }} as value_usd
    from {{ ref(reconciliation) }} as variance
    {%- if reconciliation == 'distributions_vs_shipments' %}
    left join shipped_lots on shipped_lots.shipment_line_id = variance.shipment_line_id
    {%- endif %}
    left join rates on {{ program_rate_join('rates', program, 'variance.business_date') }}
    where variance.status <> 'matched'
        and (variance.status like 'missing%'
            or abs(coalesce(variance.cases_variance, 0)) > {{ tolerances.get(reconciliation, 0) }})
),
{%- endfor %}

findings as (
    {%- set parts = ['roll_forward_breaks', 'missing_snapshots', 'failed_files', 'missing_files',
                     'duplicate_donation_lines', 'negative_balances'] %}
    {%- for reconciliation, key, program in variances %}{% do parts.append('variance_' ~ reconciliation) %}{% endfor %}
    {%- for part in parts %}
    select * from {{ part }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select
    business_date,
    finance_rule,
    effect,
    cast(subject as {{ dbt.type_string() }}) as subject,
    cast(detail as {{ dbt.type_string() }}) as detail,
    cast(cases as decimal(18, 2)) as cases,
    cast(lbs as decimal(18, 2)) as lbs,
    cast(value_usd as decimal(18, 2)) as value_usd
from findings
where {{ close_window('business_date') }}
