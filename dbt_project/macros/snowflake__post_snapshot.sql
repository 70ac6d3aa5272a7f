{% macro snowflake__post_snapshot(staging_relation) %}
    {% do drop_relation_if_exists(staging_relation) %}
{% endmacro %}
