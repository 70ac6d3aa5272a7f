-- No business event is lost: every current WMS posting becomes at least one book event (two for a
-- TRANSFER), plus a reversal when voided. A posting with no location to move stock at fails here.
-- On the 10-minute path, the postings that arrived (macro arrived_predicate); nightly, all of them.
with postings as (
    select source_record_id, status, txn_type
    from {{ ref('stg_wms__inventory_transactions') }}
    where not is_deleted and {{ arrived_predicate(ref('stg_wms__inventory_transactions')) }}
),

booked as (
    select
        source_record_id,
        sum(case when is_reversal then 0 else 1 end) as postings,
        sum(case when is_reversal then 1 else 0 end) as reversals
    from {{ ref('inventory_events') }}
    where source_system = 'wms' and source_record_id in (select source_record_id from postings)
    group by source_record_id
)

select postings.*, booked.postings, booked.reversals
from postings
left join booked on booked.source_record_id = postings.source_record_id
where booked.source_record_id is null
   or booked.postings <> case when postings.txn_type = 'TRANSFER' then 2 else 1 end
   or booked.reversals <> case when postings.status = 'VOID' then booked.postings else 0 end
