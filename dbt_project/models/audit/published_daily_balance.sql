{{ config(materialized='incremental', incremental_strategy='append', tmp_relation_type='transient',
          on_schema_change='append_new_columns') }}
-- Publications of the daily roll-forward, append-only. A business date is published once it is closed
-- (on or before publish_through: yesterday, Pacific, unless the var says otherwise) and not held
-- (marts.finance_exceptions), as version 1.
-- Published rows never change: when a later correction alters a published day, the whole day is
-- published again as the next version, and audit.restatements shows what moved. Reproducing a
-- published report = reading its version (or the latest version published before a time).
{%- set measures = balance_measures() %}

with current_balance as (
    select * from {{ ref('inventory_daily_balance') }}
    where {{ close_window('business_date') }}
        and business_date not in {{ held_days() }}
),

{% if is_incremental() %}
latest_published as (
    select * from {{ this }}
    {{ keep_latest(['business_date', 'sku', 'lot_code', 'location_id'], 'publication_version desc') }}
),

last_version as (
    select business_date, max(publication_version) as publication_version
    from {{ this }}
    group by business_date
),

changed_days as (
    select distinct coalesce(c.business_date, p.business_date) as business_date
    from current_balance as c
    full outer join (
        select latest_published.* from latest_published
        inner join last_version
            on last_version.business_date = latest_published.business_date
            and last_version.publication_version = latest_published.publication_version
    ) as p
        on p.business_date = c.business_date and {{ position_key('p') }} = {{ position_key('c') }}
    where c.business_date is null or p.business_date is null
    {%- for m in measures %}
       or c.{{ m }} <> p.{{ m }}
    {%- endfor %}
),

to_publish as (
    select changed_days.business_date, coalesce(last_version.publication_version, 0) + 1 as publication_version
    from changed_days
    left join last_version on last_version.business_date = changed_days.business_date
)
{% else %}
to_publish as (
    select distinct business_date, 1 as publication_version from current_balance
)
{% endif %}

select
    current_balance.business_date,
    current_balance.sku,
    current_balance.lot_code,
    current_balance.location_id,
    {%- for m in measures %}
    current_balance.{{ m }},
    {%- endfor %}
    to_publish.publication_version,
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }}) as published_at,
    cast({{ "'" ~ var('dagster_run_id') ~ "'" if var('dagster_run_id') else 'null' }} as {{ dbt.type_string() }})
        as published_by_run
from current_balance
inner join to_publish on to_publish.business_date = current_balance.business_date
