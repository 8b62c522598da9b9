"""Speed benchmarks, reported as ratios against baselines measured in the same run.

Run with `python -m bench` (or `make bench`) from the repository root. Nothing here asserts a
time: each benchmark measures the project's code and a minimal equivalent built from the same
libraries, on the same machine at the same moment, and reports `value / baseline`.
"""
