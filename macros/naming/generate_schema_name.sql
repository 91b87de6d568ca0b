{#-
  Schema naming for mesh domains. A domain opts in with dispatch in its dbt_project.yml:

      dispatch:
        - macro_namespace: dbt
          search_order: [<domain>, data_mesh, dbt]

  A model with a custom schema (`+schema: staging`) lands in exactly that schema, on every target, so the
  relations a domain publishes have the same names in dev and prod (`<database>.marts.dim_customers`);
  a model without one lands in the target's schema.
-#}
{% macro default__generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
