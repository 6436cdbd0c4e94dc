"""Peak memory of a dashboard process: run as `python -m bench.dashboard_probe '["511923", ...]'`
with WUCHUANG_WAREHOUSE_DIR pointing at a warehouse folder holding published/CURRENT.

Imports the dashboard's data module (Streamlit included) and calls every data function the
pages use for each given county, with the module's own bounded caches on, as a long-running
Streamlit server would. Prints one JSON line: RSS after imports and peak RSS (ru_maxrss).
"""

from __future__ import annotations

import json
import logging
import resource
import sys
import time


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    counties = json.loads(sys.argv[1])
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    import dashboards.data as data
    from bench.scale import CALLS, FIRST_YEAR, LAST_YEAR

    after_import = _rss_mb()
    t0 = time.perf_counter()
    indicators = list(data.indicators(counties[0])["indicator_code"])[:10]
    marts = [
        t.split(".", 1)[1]
        for t, cols in data.tables().items()
        if t.startswith("marts.") and "county_code" in cols
    ]
    calls = 0
    for county in counties:
        for year in (FIRST_YEAR, LAST_YEAR):
            for month in (3, 12):
                d = {"county": county, "period": f"{year}-{month:02d}", "campaign": None}
                for ind in indicators:
                    d["indicator"] = ind
                    for name, spec in CALLS.items():
                        fn = getattr(data, name, None)
                        if fn is None or ("indicator" not in spec and ind != indicators[0]):
                            continue
                        fn(*(d[a] for a in spec))
                        calls += 1
        for m in marts:
            data.mart(m, "WHERE county_code = ?", [county])
            calls += 1
    print(
        json.dumps(
            {
                "rss_after_import_mb": after_import,
                "peak_rss_mb": _rss_mb(),
                "calls": calls,
                "counties": len(counties),
                "seconds": time.perf_counter() - t0,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
