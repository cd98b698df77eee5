"""Puts tests/support on sys.path: the benchmarks start the same loopback processes and scratch
databases as the tests (`import support_path` before importing them)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "support"))
