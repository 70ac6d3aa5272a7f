{#-
  For an incremental model over the book (canonical.inventory_events): every version of the book's
  rows that rows loaded at or after `since` may have changed, old versions included, with what places
  them (event type, SKU, lot, locations, when it happened and when it was last updated, which dates a
  void's reversal). Raw keeps every version of a posting, so all versions of the postings and
  adjustments that arrived are read (a CDC delete carries only the key; a corrected row leaves its
  old position), by key after a load-time filter, so the scans skip older row groups. Postings a
  reload tombstoned keep their old load time: those count while the staging says they are deleted.
-#}
{% macro book_rows_touched(since) -%}
    {%- set postings = source('wms', 'wms__inventory_transactions') -%}
    {%- set adjustments = source('manual_adjustments', 'manual_adjustments__adjustments') -%}
    {%- set loaded = "_loaded_at >= cast('" ~ since ~ "' as " ~ dbt.type_timestamp() ~ ")" -%}
    select
        upper(txn_type) as event_type, sku, lot_code, from_location_id, to_location_id, occurred_at, updated_at
    from {{ postings }}
    where txn_id in (select txn_id from {{ postings }} where {{ loaded }})
    union all
    select txn_type, sku, lot_code, from_location_id, to_location_id, occurred_at, updated_at
    from {{ ref('stg_wms__inventory_transactions') }}
    where is_deleted
    union all
    select
        case when upper(adjustment_type) = 'SPOILAGE' then 'SPOILAGE' else 'ADJUSTMENT' end,
        sku, lot_code, location_id, cast(null as {{ dbt.type_string() }}),
        {{ pacific_midnight_utc('business_date') }}, cast(null as {{ dbt.type_timestamp() }})
    from {{ adjustments }}
    where adjustment_id in (select adjustment_id from {{ adjustments }} where {{ loaded }})
{%- endmacro %}
