"""A reader hammering the published snapshot: `python -m tests.ops.reader_child PUBLISHED_DIR STOP_FILE`.

Opens the latest snapshot read-only, checks it, closes it, again and again until STOP_FILE
exists; prints a JSON summary (iterations, errors, regressions) on exit.
"""

import json
import sys
import time
from pathlib import Path


def hammer(published: Path, should_stop, max_seconds: float = 120.0, pause: float = 0.02) -> dict:
    from pipelines.warehouse import publish
    from tests.ops.conftest import consistency_problems

    iterations, errors, regressions, last_files = 0, [], 0, -1
    started = time.monotonic()
    while not should_stop() and time.monotonic() - started < max_seconds:
        try:
            conn = publish.connect_readonly(published)
            try:
                problems = consistency_problems(conn, published=True)
                files = conn.execute("SELECT count(*) FROM core.source_file").fetchone()[0]
            finally:
                conn.close()
            if problems:
                errors.append("; ".join(problems))
            if files < last_files:  # CURRENT only moves forward: a reader never goes back in time
                regressions += 1
            last_files = max(last_files, files)
        except Exception as exc:  # every failure counts; none is expected
            errors.append(f"{type(exc).__name__}: {exc}")
        iterations += 1
        time.sleep(pause)
    return {
        "iterations": iterations,
        "errors": errors[:5],
        "error_count": len(errors),
        "regressions": regressions,
    }


if __name__ == "__main__":
    stop = Path(sys.argv[2])
    sys.stdout.write(json.dumps(hammer(Path(sys.argv[1]), stop.exists)) + "\n")
