"""Benchmarks of the mesh (`make bench`) and the synthetic mesh generator (`python -m bench.generate`)."""
