{#-
  dbt's own macro (namespace `dbt`), overridden for Snowflake: a contracted CREATE TABLE carries its protection
  inline, so a rebuilt table never exists unprotected. Domains reach this through their dispatch config
  (`dispatch: [{macro_namespace: dbt, search_order: [<domain>, data_mesh, dbt]}]`); other engines keep dbt's.
-#}
{% macro snowflake__get_table_columns_and_constraints() %}
  {{- data_mesh.governed_columns_ddl(model, this, data_mesh.model_governance(model), data_mesh.recording()) -}}
{% endmacro %}
