"""Put the shared test modules on the path (the test directories have no ``__init__.py``): this
directory, tests/ (token_cases), tests/server (server_fakes) and tests/e2e (e2e_support)."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
for _directory in (_HERE, _HERE.parent, _HERE.parent / "server", _HERE.parent / "e2e"):
    if str(_directory) not in sys.path:
        sys.path.insert(0, str(_directory))
