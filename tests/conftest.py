"""Shared pytest configuration.

The project root goes on sys.path so ``tests.support`` imports work under plain ``pytest`` too
(not only ``python -m pytest``).
"""
import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.support.ctgov_fixtures import ctgov_server, ctgov_studies, make_ctgov_server  # noqa: E402,F401
