-- WMS receipts posted against a donation vs the donation intake lines, per donation_id. Voided
-- WMS postings count net of their reversal; voided donations are not intake.
with wms as (
    {{ book_by_reference('RECEIPT', 'DONATION', 'donation_id') }}
),

intake as (
    select
        donation_id,
        min(business_date) as business_date,
        sum(cases) as cases,
        sum(lbs) as lbs
    from {{ ref('donations') }}
    where status <> 'VOID' and donation_id is not null
    group by donation_id
),

compared as (
    {{ reconcile('wms', 'intake', ['donation_id'], 'wms', 'intake', carry=['business_date']) }}
)

select * from compared
