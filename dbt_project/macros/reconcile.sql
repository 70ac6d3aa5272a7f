{#-
  Two sides of the same business fact side by side: one row per key present on either side, both
  sides' numbers, the difference and a status someone can act on:
    matched, variance, missing_in_<left side>, missing_in_<right side>.
  `left` and `right` are CTE names with the key columns (never NULL: sides coalesce them), the
  measures and the `carry` columns (descriptive, taken from whichever side has them). A measure that
  one side does not know (NULL there, e.g. pounds on an order line) is shown but not compared.
-#}
{% macro reconcile(left, right, keys, left_side, right_side, measures=['cases', 'lbs'], carry=[]) -%}
select
    {%- for k in keys %}
    coalesce(l.{{ k }}, r.{{ k }}) as {{ k }},
    {%- endfor %}
    {%- for c in carry %}
    coalesce(l.{{ c }}, r.{{ c }}) as {{ c }},
    {%- endfor %}
    {%- for m in measures %}
    l.{{ m }} as {{ left_side }}_{{ m }},
    r.{{ m }} as {{ right_side }}_{{ m }},
    coalesce(l.{{ m }}, 0) - coalesce(r.{{ m }}, 0) as {{ m }}_variance,
    {%- endfor %}
    case
        {#- a side that is absent and a side that says "nothing" agree: nothing to act on #}
        when {% for m in measures %}coalesce(l.{{ m }}, 0) = 0 and coalesce(r.{{ m }}, 0) = 0{{ ' and ' if not loop.last }}{% endfor %}
            then 'matched'
        when l.{{ keys[0] }} is null then 'missing_in_{{ left_side }}'
        when r.{{ keys[0] }} is null then 'missing_in_{{ right_side }}'
        {%- for m in measures %}
        when coalesce(l.{{ m }}, 0) <> coalesce(r.{{ m }}, 0) then 'variance'
        {%- endfor %}
        else 'matched'
    end as status
from {{ left }} as l
full outer join {{ right }} as r
    on {% for k in keys %}l.{{ k }} = r.{{ k }}{{ ' and ' if not loop.last }}{% endfor %}
{%- endmacro %}
