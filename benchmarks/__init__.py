"""Benchmark scripts, run as files (``python benchmarks/allsides.py``), and the helpers they share
(:mod:`benchmarks.common`)."""
