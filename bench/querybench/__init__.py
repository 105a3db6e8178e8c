"""`bench/query.py` in parts: the corpus generator, the corpus it builds and caches, the service
as a process, the fake model's responder, the HTTP clients, statistics and the report, and the
three measured parts. `bench/recall.py`, `faults.py` and `writers.py` use them too.

The benches run as scripts from `bench/`; importing this package puts the checkout on the path,
for `tests.support` (the fake OpenAI server, the demo database), plain modules usable outside
pytest.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
