{#-
  The `default__` of a dispatched macro that has no generic implementation: a compiler error naming the macro,
  the target's adapter and the fix, instead of SQL another engine would misread.
-#}
{% macro unsupported_adapter(macro_name) %}
  {{ exceptions.raise_compiler_error("data_mesh." ~ macro_name ~ " has no implementation for the " ~ adapter.type() ~ " adapter (target '" ~ target.name ~ "'): add " ~ adapter.type() ~ "__" ~ macro_name ~ " beside default__" ~ macro_name ~ " in the data_mesh package, or build on a supported engine") }}
{% endmacro %}
