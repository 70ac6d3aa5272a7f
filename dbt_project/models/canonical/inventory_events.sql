{{ config(
    unique_key='source_key',
    post_hook="delete from {{ this }} where source_key in (
        select 'wms:' || source_record_id from {{ ref('stg_wms__inventory_transactions') }} where is_deleted
        union all
        select 'manual_adjustments:' || adjustment_id from {{ ref('stg_manual_adjustments__adjustments') }}
        where not is_approved)"
) }}

with transactions as (
    select * from {{ ref('stg_wms__inventory_transactions') }}
    where not is_deleted
      and {{ loaded_since_last_run('_source_loaded_at', "source_system = 'wms'") }}
),

adjustments as (
    select * from {{ ref('stg_manual_adjustments__adjustments') }}
    where is_approved
      and {{ loaded_since_last_run('_source_loaded_at', "source_system = 'manual_adjustments'") }}
),

locations as (
    select location_id, warehouse_code from {{ ref('stg_wms__locations') }} where not is_deleted
),

-- A WMS posting is one leg per location it touches: out of from_location, into to_location.
-- A TRANSFER touches both, so it becomes TRANSFER_OUT and TRANSFER_IN.
wms_legs as (
    select
        t.*, 'OUT' as leg, from_location_id as location_id, -1 as direction,
        case when txn_type = 'TRANSFER' then 'TRANSFER_OUT' else txn_type end as event_type
    from transactions as t
    where from_location_id is not null
    union all
    select
        t.*, 'IN' as leg, to_location_id as location_id, 1 as direction,
        case when txn_type = 'TRANSFER' then 'TRANSFER_IN' else txn_type end as event_type
    from transactions as t
    where to_location_id is not null
),

wms_postings as (
    select
        'wms' as source_system, source_record_id, leg, event_type, sku, lot_code, supplier_lot, location_id,
        direction * cases as cases_delta, direction * lbs as lbs_delta, occurred_at,
        reference_type, reference_id, reason_code, false as is_reversal,
        source_file, source_row_number, _source_loaded_at
    from wms_legs
),

-- A voided posting stays in the book and is cancelled by a reversing row at the time of the void
-- (the warehouse's update time), so days already closed keep the numbers they were published with.
wms_reversals as (
    select
        'wms' as source_system, source_record_id, leg, event_type, sku, lot_code, supplier_lot, location_id,
        -1 * direction * cases as cases_delta, -1 * direction * lbs as lbs_delta,
        coalesce(updated_at, occurred_at) as occurred_at,
        reference_type, reference_id, reason_code, true as is_reversal,
        source_file, source_row_number, _source_loaded_at
    from wms_legs
    where status = 'VOID'
),

-- Approved spreadsheet rows change the book in addition to the WMS; signed quantities, dated at the
-- start of their business date.
manual_adjustments as (
    select
        'manual_adjustments' as source_system, adjustment_id as source_record_id, 'SHEET' as leg,
        case when adjustment_type = 'SPOILAGE' then 'SPOILAGE' else 'ADJUSTMENT' end as event_type,
        sku, lot_code, cast(null as {{ dbt.type_string() }}) as supplier_lot, location_id,
        cases as cases_delta, lbs as lbs_delta,
        {{ pacific_midnight_utc('business_date') }} as occurred_at,
        'MANUAL_ADJUSTMENT' as reference_type, adjustment_id as reference_id, adjustment_type as reason_code,
        false as is_reversal, source_file, source_row_number, _source_loaded_at
    from adjustments
),

events as (
    select * from wms_postings
    union all
    select * from wms_reversals
    union all
    select * from manual_adjustments
),

identified as (
    select
        events.*,
        {{ event_id('source_system', 'source_record_id', 'leg', 'is_reversal') }} as event_id,
        case when is_reversal then {{ event_id('source_system', 'source_record_id', 'leg', 'false') }} end
            as reverses_event_id
    from events
)

select
    cast(event_id as {{ dbt.type_string() }}) as event_id,
    cast(source_system as {{ dbt.type_string() }}) as source_system,
    cast(source_record_id as {{ dbt.type_string() }}) as source_record_id,
    cast(source_system || ':' || source_record_id as {{ dbt.type_string() }}) as source_key,
    cast(event_type as {{ dbt.type_string() }}) as event_type,
    cast(sku as {{ dbt.type_string() }}) as sku,
    cast(lot_code as {{ dbt.type_string() }}) as lot_code,
    cast(supplier_lot as {{ dbt.type_string() }}) as supplier_lot,
    cast(identified.location_id as {{ dbt.type_string() }}) as location_id,
    cast(coalesce(locations.warehouse_code, {{ dbt.split_part('identified.location_id', "'-'", 1) }})
         as {{ dbt.type_string() }}) as warehouse_code,
    cast(cases_delta as decimal(14, 2)) as cases_delta,
    cast(lbs_delta as decimal(14, 2)) as lbs_delta,
    cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
    {{ pacific_date('occurred_at') }} as business_date,
    cast(reference_type as {{ dbt.type_string() }}) as reference_type,
    cast(reference_id as {{ dbt.type_string() }}) as reference_id,
    cast(reason_code as {{ dbt.type_string() }}) as reason_code,
    cast(is_reversal as boolean) as is_reversal,
    cast(reverses_event_id as {{ dbt.type_string() }}) as reverses_event_id,
    cast(source_file as {{ dbt.type_string() }}) as source_file,
    cast(source_row_number as bigint) as source_row_number,
    cast(_source_loaded_at as {{ dbt.type_timestamp() }}) as _source_loaded_at
from identified
left join locations on locations.location_id = identified.location_id
