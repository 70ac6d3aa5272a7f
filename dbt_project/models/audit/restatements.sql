-- Changes to days that were already published: for every position whose numbers differ between one
-- publication of a business date and the next, the numbers before and after, the difference, and the
-- book events behind it (the source records loaded between the two publications).
{%- set measures = balance_measures() %}

with publications as (
    select * from {{ ref('published_daily_balance') }}
),

versions as (
    select distinct business_date, publication_version, published_at from publications
),

pairs as (
    select
        later.business_date, later.publication_version, later.published_at,
        earlier.publication_version as previous_version, earlier.published_at as previous_published_at
    from versions as later
    inner join versions as earlier
        on earlier.business_date = later.business_date
        and earlier.publication_version = later.publication_version - 1
),

published_rows as (
    -- each publication's rows, tagged with the pair they belong to as the earlier or the later side
    select pairs.publication_version as pair_version, 'before' as side, publications.*
    from pairs
    inner join publications
        on publications.business_date = pairs.business_date
        and publications.publication_version = pairs.previous_version
    union all
    select pairs.publication_version as pair_version, 'after' as side, publications.*
    from pairs
    inner join publications
        on publications.business_date = pairs.business_date
        and publications.publication_version = pairs.publication_version
),

compared as (
    select
        coalesce(after_.business_date, before_.business_date) as business_date,
        coalesce(after_.sku, before_.sku) as sku,
        coalesce(after_.lot_code, before_.lot_code) as lot_code,
        coalesce(after_.location_id, before_.location_id) as location_id,
        coalesce(after_.pair_version, before_.pair_version) as publication_version,
        {%- for m in measures %}
        coalesce(before_.{{ m }}, 0) as {{ m }}_before,
        coalesce(after_.{{ m }}, 0) as {{ m }}_after,
        {%- endfor %}
        1 as one
    from (select * from published_rows where side = 'before') as before_
    full outer join (select * from published_rows where side = 'after') as after_
        on after_.business_date = before_.business_date
        and after_.pair_version = before_.pair_version
        and {{ position_key('after_') }} = {{ position_key('before_') }}
),

compared_with_times as (
    select compared.*, pairs.previous_version, pairs.previous_published_at, pairs.published_at
    from compared
    inner join pairs
        on pairs.business_date = compared.business_date and pairs.publication_version = compared.publication_version
),

changed as (
    select * from compared_with_times
    where 1 = 0
    {%- for m in measures %}
       or {{ m }}_before <> {{ m }}_after
    {%- endfor %}
),

source_rows as (
    select
        changed.business_date, changed.sku, changed.lot_code, changed.location_id, changed.publication_version,
        {{ dbt.listagg('distinct events.source_key', "', '", 'order by events.source_key') }} as source_records,
        {{ dbt.listagg('distinct events.source_file', "', '", 'order by events.source_file') }} as source_files
    from changed
    inner join {{ ref('inventory_events') }} as events
        on events.business_date = changed.business_date
        and {{ position_key('events') }} = {{ position_key('changed') }}
        and events._source_loaded_at > changed.previous_published_at
    group by changed.business_date, changed.sku, changed.lot_code, changed.location_id, changed.publication_version
)

select
    changed.business_date,
    changed.sku,
    changed.lot_code,
    changed.location_id,
    changed.previous_version,
    changed.publication_version,
    changed.previous_published_at,
    changed.published_at,
    {%- for m in measures %}
    changed.{{ m }}_before,
    changed.{{ m }}_after,
    changed.{{ m }}_after - changed.{{ m }}_before as {{ m }}_change,
    {%- endfor %}
    source_rows.source_records,
    source_rows.source_files
from changed
left join source_rows
    on source_rows.business_date = changed.business_date
    and {{ position_key('source_rows') }} = {{ position_key('changed') }}
    and source_rows.publication_version = changed.publication_version
