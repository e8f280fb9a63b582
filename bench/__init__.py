"""The benchmarks of docs/performance.md, run from the repository root as modules
(``python -m bench.server s1``), so that they import ``tests.support`` by its full name."""
