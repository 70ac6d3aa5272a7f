{#- Null-safe position key (sku can be NULL on a hand-keyed posting). -#}
{% macro position_key(alias) -%}
    coalesce({{ alias }}.sku, '~') || '|' || {{ alias }}.lot_code || '|' || {{ alias }}.location_id
{%- endmacro %}
