"""Points and checklists as data: the real files load; malformed ones are refused with every problem."""

from __future__ import annotations

import shutil

import pytest

from pipelines.plan_process import points as pts
from pipelines.settings import Settings


def test_real_points_and_checklists_load(points, checklists):
    assert {"market", "back_lane", "toilet", "school", "hospital", "construction_site", "river"} <= set(
        checklists
    )
    for cl in checklists.values():
        assert cl.max_total == 100, cl.type  # the office's sheets score each point out of 100
        assert all(
            i.assumed for i in cl.items
        )  # the standards give no points: marked as the office's weighting
    assert len(points) >= 15
    assert all(p.unit.startswith("511923-") and p.town.startswith("511923-") for p in points)
    assert any(p.lon is not None for p in points) and any(p.lon is None for p in points)


def _copy(tmp_path):
    s = Settings.from_env()
    shutil.copytree(s.expectations_dir / "points", tmp_path / "points")
    shutil.copytree(s.standards_dir / "checklists", tmp_path / "std" / "checklists")
    return tmp_path


def test_dirty_points_are_refused_with_every_problem(tmp_path, profile, checklists):
    base = _copy(tmp_path)
    (base / "points" / "pingchang.yaml").write_text(
        'county: "511923"\npoints:\n'
        "  - {code: a, type: kiosk, name_zh: 报亭, town: jiangkou, unit: cgj}\n"
        "  - {code: b, type: market, name_zh: 甲, town: atlantis, unit: cgj}\n"
        "  - {code: c, type: market, name_zh: 乙, town: jiangkou, unit: nobody}\n"
        "  - {code: c, type: market, name_zh: 丙, town: jiangkou, unit: cgj}\n"
        "  - {code: d, type: market, name_zh: 丁, town: jiangkou, unit: cgj, lon: 107.1}\n",
        encoding="utf-8",
    )
    with pytest.raises(pts.PointsError) as e:
        pts.load_points(base, profile, checklists)
    text = "\n".join(e.value.problems)
    assert len(e.value.problems) == 5
    for word in (
        "未知点位类型 kiosk",
        "未知乡镇 atlantis",
        "未知包保单位 nobody",
        "代码缺失或重复",
        "经纬度须同时给出",
    ):
        assert word in text


def test_dirty_checklist_is_refused(tmp_path, catalog):
    base = _copy(tmp_path)
    (base / "std" / "checklists" / "market.yaml").write_text(
        "type: market\ncampaigns: [nowhere]\nitems:\n  - {code: x, name_zh: 甲, max_score: 0}\n  - {code: x, name_zh: 乙, max_score: 5}\n",
        encoding="utf-8",
    )
    with pytest.raises(pts.PointsError) as e:
        pts.load_checklists(base / "std", set(catalog.campaigns))
    text = "\n".join(e.value.problems)
    assert "满分须为正数" in text and "未知创建项目 nowhere" in text
