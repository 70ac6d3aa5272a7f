{#- The numeric columns of reconciliation.inventory_daily_balance, for models that compare or copy them. -#}
{% macro balance_measures() -%}
    {%- set out = [] -%}
    {%- for m in ['opening', 'receipts', 'transfers_in', 'transfers_out', 'adjustments', 'spoilage',
                  'distributions', 'closing'] -%}
        {%- do out.append(m ~ '_cases') -%}{%- do out.append(m ~ '_lbs') -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}
