"""Issue 13, item 1, done-when: for every campaign at its acceptance year, coverage ≥ 80 % of the
requirements of the edition in force, proxies counted and shown as such — on the sample warehouse
built like `make run` (docs/standards.md)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from tests.marts.test_done_when import sample_warehouse  # noqa: F401  (module fixture: built like make run)

MIN_COVERAGE = 0.8


def _acceptances(profile) -> list[tuple[str, dt.date]]:
    out = []
    for p in profile.programmes:
        out.append((p.campaign, p.acceptance))
        if p.interim_acceptance:
            out.append((p.campaign, p.interim_acceptance))
    return out


def test_every_campaign_has_an_edition_with_requirements_at_its_acceptance(catalog, profile):
    for campaign, day in _acceptances(profile):
        year_end = dt.date(day.year, 12, 31)
        reqs = catalog.requirements_in_force(campaign, year_end)
        # A standard modelled with a handful of its requirements would pass any coverage test.
        assert len(reqs) >= 20, (campaign, day, len(reqs))


@pytest.mark.slow
def test_coverage_at_every_acceptance_year_is_at_least_80_percent_with_proxies_counted(
    sample_warehouse,  # noqa: F811
    catalog,
    profile,
):
    conn = duckdb.connect(str(sample_warehouse), read_only=True)
    try:
        rows = conn.execute(
            "SELECT campaign_code, period_code, edition_code, n_requirements, n_assessed, n_proxy,"
            " n_proxy_assessed, coverage, label_zh, label_en FROM compliance.coverage"
            " WHERE grain = 'year' AND county_code = ?",
            [profile.code],
        ).fetchall()
    finally:
        conn.close()
    by_key = {(r[0], r[1]): r for r in rows}
    for campaign, day in _acceptances(profile):
        year_end = dt.date(day.year, 12, 31)
        edition = catalog.campaigns[campaign].edition_in_force(year_end)
        reqs = catalog.requirements_in_force(campaign, year_end)
        proxies = [r for r in reqs if r.proxy or edition.proxy]
        row = by_key[(campaign, str(day.year))]
        _, _, ed, n, k, n_proxy, n_proxy_assessed, coverage, zh, en = row
        assert (ed, n, n_proxy) == (edition.code, len(reqs), len(proxies)), row
        assert coverage >= MIN_COVERAGE, f"{campaign} {day.year}: {en}"
        if n_proxy_assessed:
            assert f"含代用标准 {n_proxy_assessed} 项" in zh and f"{n_proxy_assessed} on proxy" in en
