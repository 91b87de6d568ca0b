"""The benchmarks, one module each; every module's `run(ctx)` returns its figures."""
