{#- Dollars for `lbs` of a lot on `day`: USDA commodities at their bill of lading's value per pound,
    everything else at finance's effective-dated rate for the lot's program (join `rates` as
    ref('program_rates') on program_rate_join). -#}
{% macro program_rate_join(rates, program, day) -%}
    {{ rates }}.source_program = {{ program }}
    and {{ day }} >= {{ rates }}.valid_from
    and {{ day }} <= coalesce({{ rates }}.valid_to, cast('9999-12-31' as date))
{%- endmacro %}
