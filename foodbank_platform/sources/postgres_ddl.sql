-- The three PostgreSQL source systems as their owners run them (contract §A), for the local
-- stand-ins: `foodbank simulate --postgres DSN` writes activity here and `foodbank cdc` captures it.
-- Column order and types are the contract's; tests/cdc/test_cdc.py checks them against
-- sources/catalog.py. No foreign keys: the real systems let orphans through (a SKU keyed by hand
-- at the dock that is not in wms.items), and the platform has to see them.
-- Tables keep the default replica identity (the primary key), as in production: a DMS delete
-- carries only the key.

CREATE SCHEMA IF NOT EXISTS wms;
CREATE SCHEMA IF NOT EXISTS intake;
CREATE SCHEMA IF NOT EXISTS ordering;

CREATE TABLE IF NOT EXISTS wms.items (
    sku              text PRIMARY KEY,
    description      text,
    fa_category      text,
    storage_type     text,
    case_weight_lbs  numeric(8,2),
    is_active        boolean,
    updated_at       timestamptz
);

CREATE TABLE IF NOT EXISTS wms.locations (
    location_id      text PRIMARY KEY,
    warehouse_code   text,
    zone             text,
    is_active        boolean,
    updated_at       timestamptz
);

CREATE TABLE IF NOT EXISTS wms.inventory_transactions (
    txn_id           bigint PRIMARY KEY,
    txn_type         text NOT NULL,
    status           text NOT NULL,
    sku              text,
    lot_code         text NOT NULL,
    supplier_lot     text,
    from_location_id text,
    to_location_id   text,
    cases            numeric(12,2) CHECK (cases > 0),
    lbs              numeric(12,2) CHECK (lbs > 0),
    reference_type   text,
    reference_id     text,
    reason_code      text,
    occurred_at      timestamptz,
    created_by       text,
    updated_at       timestamptz
);

CREATE TABLE IF NOT EXISTS intake.donors (
    donor_id         text PRIMARY KEY,
    donor_name       text,
    donor_type       text,
    contact_email    text,
    phone            text,
    city             text,
    updated_at       timestamptz
);

CREATE TABLE IF NOT EXISTS intake.donations (
    id               bigint PRIMARY KEY,
    donation_id      text,  -- not unique: clerks re-key donations
    donor_id         text,
    warehouse_code   text,
    source_program   text,
    received_at      timestamptz,
    status           text,
    updated_at       timestamptz
);

CREATE TABLE IF NOT EXISTS intake.donation_lines (
    line_id          bigint PRIMARY KEY,
    donation_pk      bigint,
    sku              text,
    fa_category      text,
    lot_code         text,
    cases            numeric(12,2),
    gross_lbs        numeric(12,2),
    best_by          date,
    updated_at       timestamptz
);

CREATE TABLE IF NOT EXISTS ordering.agencies (
    agency_id        text PRIMARY KEY,
    agency_name      text,
    agency_type      text,
    county           text,
    status           text,
    updated_at       timestamptz
);

CREATE TABLE IF NOT EXISTS ordering.orders (
    order_id         bigint PRIMARY KEY,
    agency_id        text,
    order_type       text,
    ship_method      text,
    status           text,
    requested_date   date,
    submitted_at     timestamptz,
    updated_at       timestamptz
);

CREATE TABLE IF NOT EXISTS ordering.order_lines (
    order_line_id    bigint PRIMARY KEY,
    order_id         bigint,
    sku              text,
    cases_requested  numeric(12,2),
    cases_approved   numeric(12,2),
    updated_at       timestamptz
);
