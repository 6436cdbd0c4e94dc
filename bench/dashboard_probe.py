"""Peak memory of a dashboard process: run as `python -m bench.dashboard_probe '["511923", ...]'`
with WUCHUANG_WAREHOUSE_DIR pointing at a warehouse folder holding published/CURRENT.

Imports the dashboard's data module (Streamlit included) and calls every data function the
pages use for each given county, with the module's own bounded caches on, as a long-running
Streamlit server would. Prints one JSON line: RSS after imports, peak RSS (VmHWM) and RSS at the end.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import sys
import time
from pathlib import Path


def _status_mb(key: str) -> float:
    """VmHWM (peak) or VmRSS (current) of this process, in MiB. Not ru_maxrss: on Linux a child
    started by fork + exec inherits its parent's peak RSS in ru_maxrss."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    counties = json.loads(sys.argv[1])
    light = sys.argv[2:] == ["light"]
    os.environ.setdefault("STREAMLIT_LOGGER_LEVEL", "error")  # no "No runtime found" warnings
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    import dashboards.data as data
    from bench.scale import FIRST_YEAR, LAST_YEAR, discover

    after_import = _status_mb("VmRSS")
    from dashboards import auth

    with auth.acting_as(auth.EVERYTHING):  # the probe reads what the office sees
        t0 = time.perf_counter()
        indicators = list(data.indicators(counties[0])["indicator_code"])[: 2 if light else 10]
        calls_spec, _notes = discover(data)
        calls = 0
        for county in counties:
            for year in (LAST_YEAR,) if light else (FIRST_YEAR, LAST_YEAR):
                for month in (12,) if light else (3, 12):
                    d = {"county": county, "period": f"{year}-{month:02d}", "campaign": None}
                    for ind in indicators:
                        d["indicator"] = ind
                        for name, spec in calls_spec.items():
                            if "indicator" not in spec and ind != indicators[0]:
                                continue
                            getattr(data, name)(*(d[a] for a in spec))
                            calls += 1
    print(
        json.dumps(
            {
                "rss_after_import_mb": after_import,
                "peak_rss_mb": _status_mb("VmHWM"),
                "rss_end_mb": _status_mb("VmRSS"),
                "calls": calls,
                "counties": len(counties),
                "seconds": time.perf_counter() - t0,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
