{#- The business date a landed file belongs to, from its name: a DMS file's UTC write time
    (`…/20261029-121501754.csv`) taken to Pacific; a dated SFTP name (`onhand_20261029.csv`,
    `shipments_20261029_0715.csv`, `tefap_receipts_20261030.txt`) as written; else the Pacific date
    it was first seen (the adjustments spreadsheet's free names). -#}
{% macro file_business_date(identity, first_seen_at) -%}
    {%- set day = regexp_group(identity, '([0-9]{8})-[0-9]{9}[.]csv$') -%}
    {%- set time = regexp_group(identity, '[0-9]{8}-([0-9]{6})[0-9]{3}[.]csv$') -%}
    {%- set dated = regexp_group(identity, '_([0-9]{8})[^/]*$') -%}
    {%- set written = "cast(" ~ iso_date(day) ~ " || ' ' || substr(" ~ time ~ ", 1, 2) || ':' || substr(" ~ time
        ~ ", 3, 2) || ':' || substr(" ~ time ~ ", 5, 2) as " ~ dbt.type_timestamp() ~ ")" -%}
    case
        when {{ day }} is not null then {{ pacific_date(written) }}
        when {{ dated }} is not null then cast({{ iso_date(dated) }} as date)
        else {{ pacific_date(first_seen_at) }}
    end
{%- endmacro %}
