-- Every file version the loader has seen, for lineage from a published number back to its files.
-- The DuckDB loader and the Snowflake COPY path keep the same facts under different column names
-- (foodbank_platform/ingest/ledger.py vs deploy/snowflake V1.6); this view gives them one shape.
{%- set names = {
    'source_table': ['source_table', 'raw_table'],
    'file_identity': ['file_identity', 'file_key'],
    'landing_key': ['landing_key', 'file_key'],
    'file_version': ['version', 'file_version'],
    'file_checksum': ['checksum', 'file_checksum'],
    'load_status': ['status'],
    'rows_loaded': ['rows_loaded'],
    'load_id': ['load_id'],
    'loaded_at': ['loaded_at'],
    'first_seen_at': ['first_seen_at', 'loaded_at'],
    'load_error': ['error', 'load_error'],
} %}
{%- set present = [] %}
{%- if execute %}
    {%- for column in adapter.get_columns_in_relation(source('audit', 'file_ledger')) %}
        {%- do present.append(column.name | lower) %}
    {%- endfor %}
{%- endif %}

with source as (
    select * from {{ source('audit', 'file_ledger') }}
),

renamed as (
    select
        {%- for name, candidates in names.items() %}
        {%- set found = candidates | select('in', present) | list %}
        {%- set fallback = "'loaded'" if name == 'load_status' else 'null' %}
        {{ found[0] if found else fallback }} as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from source
)

select * from renamed
