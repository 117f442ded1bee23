"""Make benchmark.py and generate_report.py (at the repository root)
importable from these tests. The tests start no redis-server or rustis."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
