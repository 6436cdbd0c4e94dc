"""`wuchuang verdicts`: verdicts under the declared county class and each alternative (issue 13, item 7)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from pipelines import cli, verdicts_cli
from pipelines.warehouse import publish
from pipelines.warehouse.schema import create_all
from pipelines.warehouse.tables import core
from tests.validation.helpers import obs


def _forest_rows(catalog, profile, value=50.0):
    org = next(
        a.org_code
        for a in profile.assignments(catalog)
        if a.indicator == "forest_coverage" and a.role == "primary"
    )
    return [obs("forest_coverage", org, "2013", value, catalog=catalog)]


def test_render_shows_each_alternative_and_flags_the_unconfirmed_class(catalog, profile):
    lines = verdicts_cli.render(
        pd.DataFrame(_forest_rows(catalog, profile)), catalog, profile, "eco_county", 2013
    )
    text = "\n".join(lines)
    assert "地形 terrain = 山区 mountain（未核实 UNCONFIRMED" in text
    line = next(i for i, x in enumerate(lines) if x.startswith("eco_forest_coverage"))
    assert "未达标 fail" in lines[line] and "unconfirmed county class" in lines[line]
    assert "按 丘陵 hill：达标 pass" in lines[line + 1] and "with alpine: fail, hill: pass" in lines[line + 1]
    assert "按 30 项中的 1 项评价" in lines[1] or "judged on 1 of" in lines[1]


def test_render_with_a_chosen_class_lists_what_changes(catalog, profile):
    frame = pd.DataFrame(_forest_rows(catalog, profile))
    lines = verdicts_cli.render(frame, catalog, profile, "eco_county", 2013, {"terrain": "hill"})
    text = "\n".join(lines)
    assert "对比 / compared with: terrain=丘陵 hill" in text
    assert "→ 按所选类型 with the chosen class: 达标 pass（要求 threshold 45）" in text
    assert lines[-1].endswith(": 1")
    same = verdicts_cli.render(frame, catalog, profile, "eco_county", 2013, {"terrain": "alpine"})
    assert same[-1].endswith(": 1")  # 90 instead of 75: still fail, but the threshold changed
    none = verdicts_cli.render(frame, catalog, profile, "eco_county", 2013, {"terrain": "mountain"})
    assert none[-1].endswith(": 0")


def test_unknown_class_or_dimension_is_a_user_error(catalog):
    with pytest.raises(cli.CliError) as exc:
        verdicts_cli.parse_overrides(["terrain=hilly"], catalog)
    assert "hilly" in str(exc.value) and "hill" in str(exc.value)
    with pytest.raises(cli.CliError):
        verdicts_cli.parse_overrides(["slope=steep"], catalog)
    with pytest.raises(cli.CliError):
        verdicts_cli.parse_overrides(["terrain"], catalog)
    assert verdicts_cli.parse_overrides(["terrain=hill", "region=east"], catalog) == {
        "terrain": "hill",
        "region": "east",
    }


@pytest.fixture
def published_obs(tmp_settings, catalog, profile):
    conn = duckdb.connect(str(tmp_settings.warehouse_path))
    try:
        create_all(conn, [core.SOURCE_FILE, core.OBSERVATION])
        for r in _forest_rows(catalog, profile):
            names = core.OBSERVATION.column_names
            conn.execute(
                f"INSERT INTO core.observation ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                [r.get(n) for n in names],
            )
    finally:
        conn.close()
    publish.publish(tmp_settings.warehouse_path, tmp_settings.published_dir)
    return tmp_settings


def test_command_prints_verdicts_from_the_published_snapshot(published_obs, capsys):
    code = cli.main(["verdicts", "--campaign", "eco_county", "--year", "2013", "--variant", "terrain=hill"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "eco_forest_coverage" in out and "按 丘陵 hill：达标 pass" in out
    assert "requirements that change: 1" in out


def test_command_refuses_an_unknown_campaign(published_obs, capsys):
    assert cli.main(["verdicts", "--campaign", "nope", "--year", "2013"]) == cli.EXIT_USAGE
    assert "unknown campaign" in capsys.readouterr().err


def test_command_without_a_snapshot_fails_clearly(tmp_settings, capsys):
    assert cli.main(["verdicts", "--campaign", "eco_county", "--year", "2013"]) == cli.EXIT_FAILED
    assert "make run" in capsys.readouterr().err
