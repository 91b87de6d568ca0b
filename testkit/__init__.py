"""What the test suite (tests/) and the benchmarks (bench/) both use, so neither imports the other: copies of a
mesh repository without build leftovers, and a state reader counting SHOW statements. Not shipped (the wheel
holds mesh_cli/ and dbt_data_mesh.py only); on the path of both from the repository's root."""
