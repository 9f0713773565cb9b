"""The paper's evaluation protocol as a harness: masks, metrics, methods, reports.

- `masks`: which entries each repetition knows (the authors' exact draw, or a seeded one);
- `metrics`: the paper's Avg and per-bucket correlations, and strict unknown-only scores;
- `methods`: the compared predictors, one interface;
- `runner`: `run_benchmark` (every method on the same masks) and `matrix_graph`;
- `report`: Markdown table beside the paper's figures, CSV, JSON and a PNG plot.
"""

from .runner import BenchmarkResult, MethodResult, matrix_graph, run_benchmark

__all__ = ["BenchmarkResult", "MethodResult", "matrix_graph", "run_benchmark"]
