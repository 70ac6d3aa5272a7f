{% macro lbs_value(lbs, bol_usd_per_lb, rates) -%}
    cast({{ lbs }} * coalesce({{ bol_usd_per_lb }}, {{ rates }}.usd_per_lb, 0) as decimal(18, 2))
{%- endmacro %}
