"""Where the benchmarks find their data sets.

``RNNKIT_DATA`` names the folder of data sets (``atis/``, ``sst2/``, ``eng-fra/``...); unset,
it is ``../shared/data`` next to the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SHARED_DATA = Path(os.environ.get("RNNKIT_DATA") or DEFAULT_DATA)
