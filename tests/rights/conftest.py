"""Make this folder's helper modules (rights_helpers, policy_server) importable by the tests in
any pytest import mode (``--import-mode=importlib`` does not put test folders on sys.path)."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
