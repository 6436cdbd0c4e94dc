"""Issue 13: freshness of the values a verdict uses, coverage of the standard in force, and
unconfirmed county classes (variants) that decide a verdict."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from pipelines import reporting_calendar as rc
from pipelines.catalog.loader import CatalogError
from pipelines.profile import VariantDeclaration, load_profile
from pipelines.validation import compliance
from pipelines.validation.compliance import YEAR, YTD
from pipelines.warehouse.tables.compliance import COVERAGE, VERDICT
from tests.validation.helpers import COUNTY, obs


def _verdicts(rows, catalog, profile, periods):
    frame = (
        pd.DataFrame(rows) if rows else pd.DataFrame(columns=["observation_id", "org_code", "indicator_code"])
    )
    return compliance.compute_verdicts(
        frame, catalog, [profile], periods=[(g, rc.parse_period(p)) for g, p in periods]
    )


def _one(found, requirement, period, subject=COUNTY):
    got = [
        v
        for v in found
        if v["requirement_code"] == requirement
        and v["period_code"] == period
        and v["subject_org_code"] == subject
    ]
    assert len(got) == 1
    return got[0]


def _primary(catalog, profile, indicator):
    return next(
        a.org_code for a in profile.assignments(catalog) if a.indicator == indicator and a.role == "primary"
    )


# ---------------------------------------------------------------------------------------------
# Freshness


@pytest.mark.parametrize(
    ("value_end", "assessed_end", "freq", "stale"),
    [
        (dt.date(2011, 12, 31), dt.date(2012, 12, 31), "annual", False),  # exactly 12 months: still fresh
        (dt.date(2011, 12, 31), dt.date(2013, 1, 31), "annual", True),  # 13 months
        (dt.date(2013, 3, 31), dt.date(2013, 6, 30), "quarterly", False),
        (dt.date(2013, 3, 31), dt.date(2013, 7, 31), "quarterly", True),
        (dt.date(2013, 5, 31), dt.date(2013, 6, 30), "monthly", False),
        (dt.date(2013, 4, 30), dt.date(2013, 6, 30), "monthly", True),
    ],
)
def test_stale_rule_by_frequency(value_end, assessed_end, freq, stale):
    code = {"annual": f"{value_end.year}", "quarterly": "2013-Q1", "monthly": f"{value_end:%Y-%m}"}[freq]
    o = compliance.Obs("x", rc.parse_period(code), 1.0, None)
    f = compliance.freshness((o,), assessed_end)
    assert f["is_stale"] is stale
    assert f["value_age_days"] == (assessed_end - value_end).days
    assert f["value_period_end"] == value_end and f["value_frequency"] == freq


def test_add_months_keeps_month_ends():
    assert compliance.add_months(dt.date(2011, 12, 31), 12) == dt.date(2012, 12, 31)
    assert compliance.add_months(dt.date(2013, 1, 31), 1) == dt.date(2013, 2, 28)
    assert compliance.add_months(dt.date(2012, 2, 29), 12) == dt.date(2013, 2, 28)
    assert compliance.add_months(dt.date(2013, 1, 15), 1) == dt.date(2013, 2, 15)


def test_a_missing_annual_return_makes_2013_months_stale_and_says_so(catalog, profile):
    org = _primary(catalog, profile, "builtup_green_coverage")
    rows = [obs("builtup_green_coverage", org, "2011", 30.0, catalog=catalog)]  # the 2012 return is missing
    found = _verdicts(rows, catalog, profile, [(YTD, "2012-12"), (YTD, "2013-01"), (YEAR, "2011")])
    dec = _one(found, "env_builtup_green_coverage", "2012-12")
    jan = _one(found, "env_builtup_green_coverage", "2013-01")
    year = _one(found, "env_builtup_green_coverage", "2011")
    assert (dec["is_stale"], dec["value_age_days"]) == (False, 366)
    assert "过期" not in dec["explanation_zh"]
    assert (jan["status"], jan["is_stale"], jan["value_age_days"]) == ("fail", True, 397)
    assert "数据过期" in jan["explanation_zh"] and "2011-12-31" in jan["explanation_zh"]
    assert "STALE" in jan["explanation_en"]
    assert (year["is_stale"], year["value_age_days"]) == (False, 0)


def test_fresh_annual_value_is_not_stale(catalog, profile):
    org = _primary(catalog, profile, "builtup_green_coverage")
    rows = [obs("builtup_green_coverage", org, y, 40.0, catalog=catalog) for y in ("2011", "2012")]
    jan = _one(_verdicts(rows, catalog, profile, [(YTD, "2013-01")]), "env_builtup_green_coverage", "2013-01")
    assert (jan["is_stale"], jan["value_period_end"]) == (False, dt.date(2012, 12, 31))


def test_no_data_has_no_freshness(catalog, profile):
    v = _one(_verdicts([], catalog, profile, [(YTD, "2013-01")]), "env_builtup_green_coverage", "2013-01")
    assert v["status"] == "no_data" and v["is_stale"] is None and v["value_age_days"] is None


def test_verdict_rows_fill_every_new_column(catalog, profile):
    org = _primary(catalog, profile, "builtup_green_coverage")
    found = _verdicts(
        [obs("builtup_green_coverage", org, "2011", 30.0, catalog=catalog)],
        catalog,
        profile,
        [(YTD, "2013-01")],
    )
    for name in (
        "value_period_end",
        "value_age_days",
        "is_stale",
        "is_proxy",
        "variant_dimension",
        "variant_decides",
    ):
        assert name in VERDICT.column_names and all(name in v for v in found)
    assert len(compliance.verdict_tuples(found)[0]) == len(VERDICT.column_names)


# ---------------------------------------------------------------------------------------------
# Variants


def _forest(catalog, profile, value, confirmed):
    decl = tuple(
        VariantDeclaration(d, v, confirmed if d == "terrain" else False, "test")
        for d, v in profile.variants.items()
    )
    p = dataclasses.replace(profile, variant_declarations=decl)
    org = _primary(catalog, p, "forest_coverage")
    rows = [obs("forest_coverage", org, "2013", value, catalog=catalog)]
    return _one(_verdicts(rows, catalog, p, [(YEAR, "2013")]), "eco_forest_coverage", "2013")


def test_unconfirmed_terrain_that_decides_a_fail_is_flagged(catalog, profile):
    v = _forest(catalog, profile, 50.0, confirmed=False)
    assert (v["status"], v["variant_dimension"], v["variant_value"]) == ("fail", "terrain", "mountain")
    assert v["variant_confirmed"] is False and v["variant_decides"] is True
    assert v["variant_alternatives"] == "alpine:fail;hill:pass;plain:pass"


def test_confirmed_terrain_is_not_flagged(catalog, profile):
    v = _forest(catalog, profile, 50.0, confirmed=True)
    assert v["status"] == "fail" and v["variant_confirmed"] is True and v["variant_decides"] is False


def test_unconfirmed_terrain_that_changes_nothing_is_not_flagged(catalog, profile):
    v = _forest(catalog, profile, 95.0, confirmed=False)  # passes under every class
    assert v["status"] == "pass" and v["variant_decides"] is False
    assert v["variant_alternatives"] == "alpine:pass;hill:pass;plain:pass"


def test_requirement_without_variant_has_no_variant_columns(catalog, profile):
    org = _primary(catalog, profile, "builtup_green_coverage")
    rows = [obs("builtup_green_coverage", org, "2013", 40.0, catalog=catalog)]
    v = _one(_verdicts(rows, catalog, profile, [(YEAR, "2013")]), "env_builtup_green_coverage", "2013")
    assert v["variant_dimension"] is None and v["variant_decides"] is None


def test_profile_reads_source_and_confirmed(catalog, profile):
    terrain = profile.variant_declaration("terrain")
    assert terrain.value == "mountain" and terrain.confirmed is False and terrain.source
    assert profile.variant_confirmed("terrain") is False
    assert all(d.source for d in profile.variant_declarations)
    assert profile.variants["terrain"] == "mountain"


def _profile_with(tmp_path: Path, variants_yaml: str) -> Path:
    src = (Path(__file__).resolve().parents[2] / "expectations" / "profiles" / "pingchang.yaml").read_text(
        encoding="utf-8"
    )
    start = src.index("  variants:\n")
    end = src.index("  population:")
    path = tmp_path / "x.yaml"
    path.write_text(src[:start] + variants_yaml + src[end:], encoding="utf-8")
    return path


def test_plain_variant_strings_still_load_as_unconfirmed(catalog, tmp_path):
    p = load_profile(_profile_with(tmp_path, "  variants:\n    terrain: hill\n"), catalog)
    assert p.variants == {"terrain": "hill"} and p.variant_confirmed("terrain") is False
    assert p.variant_confirmed("region") is None


def test_confirmed_variant_without_source_is_refused(catalog, tmp_path):
    bad = "  variants:\n    terrain: {value: hill, confirmed: true}\n"
    with pytest.raises(CatalogError) as exc:
        load_profile(_profile_with(tmp_path, bad), catalog)
    assert "source" in str(exc.value)


def test_confirmed_must_be_boolean(catalog, tmp_path):
    bad = "  variants:\n    terrain: {value: hill, confirmed: yes please, source: x}\n"
    with pytest.raises(CatalogError):
        load_profile(_profile_with(tmp_path, bad), catalog)


# ---------------------------------------------------------------------------------------------
# Coverage


def test_coverage_counts_assessed_of_the_edition_in_force(catalog, profile):
    org = _primary(catalog, profile, "builtup_green_coverage")
    rows = [obs("builtup_green_coverage", org, "2011", 30.0, catalog=catalog)]
    found = _verdicts(rows, catalog, profile, [(YTD, "2013-01")])
    cov = {r["campaign_code"]: r for r in compliance.coverage_rows(found)}
    n_env = sum(
        1
        for r in catalog.requirements.values()
        if r.edition == catalog.campaigns["env_model_city"].edition_in_force(dt.date(2013, 1, 31)).code
    )
    env = cov["env_model_city"]
    assert (env["n_requirements"], env["n_assessed"], env["n_fail"], env["n_stale"]) == (n_env, 1, 1, 1)
    assert env["n_stale_fail"] == 1 and env["coverage"] == pytest.approx(1 / n_env)
    assert env["label_zh"] == f"按 {n_env} 项中的 1 项评价（1 项使用过期数据）"
    assert env["label_en"] == f"judged on 1 of {n_env} (1 on stale data)"
    assert env["n_no_data"] == n_env - 1 and env["n_proxy"] == 0
    assert cov["civilized_city"]["n_assessed"] == 0 and cov["civilized_city"]["coverage"] == 0.0
    assert len(compliance.coverage_tuples(list(cov.values()))[0]) == len(COVERAGE.column_names)


def test_coverage_ignores_town_subjects_and_counts_proxies(catalog, profile):
    base = {
        "county_code": COUNTY,
        "campaign_code": "c",
        "period_code": "2013",
        "grain": YEAR,
        "edition_code": "e",
        "period_end": dt.date(2013, 12, 31),
        "is_veto": False,
    }
    rows = [
        {**base, "subject_org_code": COUNTY, "status": "pass", "is_proxy": True},
        {**base, "subject_org_code": COUNTY, "status": "near", "is_proxy": False},
        {**base, "subject_org_code": COUNTY, "status": "not_assessable", "is_proxy": True},
        {**base, "subject_org_code": COUNTY, "status": "no_data", "is_veto": True},
        {**base, "subject_org_code": f"{COUNTY}-town1", "status": "fail"},
    ]
    (c,) = compliance.coverage_rows(rows)
    assert (c["n_requirements"], c["n_assessed"], c["n_proxy"], c["n_proxy_assessed"]) == (4, 2, 2, 1)
    assert (c["n_veto"], c["n_veto_assessed"], c["n_fail"]) == (1, 0, 0)
    assert c["label_zh"] == "按 4 项中的 2 项评价（含代用标准 1 项）"
    assert c["label_en"] == "judged on 2 of 4 (1 on proxy requirements)"


def test_is_proxy_reads_requirement_or_edition_flag(catalog):
    req = next(iter(catalog.requirements.values()))
    assert compliance.is_proxy(req, catalog) is False

    @dataclasses.dataclass(frozen=True)
    class Flagged:
        proxy: bool = True

    assert compliance.is_proxy(Flagged()) is True
