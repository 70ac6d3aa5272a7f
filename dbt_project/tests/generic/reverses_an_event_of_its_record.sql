{#- A reversal cancels an event that exists: `column_name` names a non-reversal event of the model.
    The reversal and the event it cancels come from one source record, rebuilt together with one load
    time, so with the 10-minute path's `where` (the rows that arrived) both sides are the arrived rows:
    the built-in relationships test read every event_id of the book for the other side (28 s at 365
    days). Fails with each reversal whose event is missing. -#}
{% test reverses_an_event_of_its_record(model, column_name) %}
-- No aliases: with a `where`, dbt renders the model as `(select …) dbt_subquery`.
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and {{ column_name }} not in (select event_id from {{ model }} where not is_reversal)
{% endtest %}
