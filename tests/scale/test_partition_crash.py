"""kill -9 of a county partition run at random moments: the published union stays readable at
every moment, and the next run of the county gives the same county database as a run never killed."""

from __future__ import annotations

import random
import shutil
import signal
import time
from pathlib import Path

import pytest

from pipelines.warehouse import publish
from tests.ops.conftest import RUN_TIME_COLUMNS, table_contents
from tests.scale.conftest import COUNTIES, province_env
from tests.scale.test_partitions import finish, launch

# Columns naming where the county's own folders are (they differ between the two trees).
EXCLUDE = RUN_TIME_COLUMNS | {"feedback_path", "published_at"}


def readable(published: Path) -> dict[str, int]:
    conn = publish.connect_readonly(published)
    try:
        return dict(conn.execute("SELECT county_code, count(*) FROM core.observation GROUP BY 1").fetchall())
    finally:
        conn.close()


@pytest.mark.slow
def test_kill_9_during_county_runs_keeps_the_union_readable_and_the_rerun_equal(
    province: Path, tmp_path_factory
):
    clean = tmp_path_factory.mktemp("clean")
    shutil.copytree(province / "raw", clean / "raw")
    shutil.copytree(province / "profiles", clean / "profiles")
    code, other = COUNTIES[1], COUNTIES[0]
    env, clean_env = province_env(province), province_env(clean)
    for e in (env, clean_env):
        finish(launch(e, other))  # another county already published
    published = province / "warehouse" / "published"
    before = readable(published)
    rng = random.Random(18)
    kills = 0
    for _ in range(3):
        proc = launch(env, code)
        time.sleep(rng.uniform(3, 25))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.communicate()
        got = readable(published)  # whatever the moment: a complete union
        assert got[other] == before[other]
    assert kills >= 1
    finish(launch(env, code))
    finish(launch(clean_env, code))
    db = Path("warehouse") / "counties" / code / "warehouse.duckdb"
    got = table_contents(province / db, exclude=EXCLUDE)
    want = table_contents(clean / db, exclude=EXCLUDE)
    assert set(got) == set(want)
    assert [t for t in want if got[t] != want[t]] == [], "county tables differ after the kills"
    assert readable(published) == readable(clean / "warehouse" / "published")
