{#- A model's grain: no two rows share the same values of `columns` (NULLs compare equal, so a NULL
    part of a key cannot hide a duplicate). Fails with each repeated combination and its count. -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_with_this_key
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
