"""Plausible value trajectories for the sample corpus.

Every (indicator, reporting key) pair draws its own parameters from a `random.Random` seeded with a
string derived from the corpus seed, so a value never depends on which other units or years are
generated. Stories: most indicators start below the standard and improve toward the campaign's
acceptance date, some always pass, some never make it; air quality is worse in winter; relative
indicators follow their reference series; public figures for 平昌 are passed through
(forest coverage 54.14% in 2019, see shared/reference/standards_notes.md §1).
"""

from __future__ import annotations

import datetime as dt
import random

from pipelines.catalog.model import Catalog, Requirement
from pipelines.profile import CountyProfile
from pipelines.reporting_calendar import Period

DECIMALS = {
    "%": 1,
    "‰": 2,
    "1/10万": 2,
    "元/人": 0,
    "吨标煤/万元": 3,
    "m³/万元": 1,
    "kg/万元": 2,
    "kg/万元GDP": 2,
    "kg/公顷": 1,
    "dB(A)": 1,
    "起": 0,
    "岁": 2,
    "张/千人": 2,
    "人/千人": 2,
    "人/万人": 2,
    "小时/天": 1,
    "天/年": 0,
    "m²/人": 2,
    "km/万人": 2,
    "次/年": 0,
    "册/百人": 1,
    "m²/万人": 0,
    "支/街道": 0,
    "人/万台车": 2,
    "分": 1,
    "条/车": 0,
    "条/站": 0,
    "处/场所": 0,
    "条/500m": 0,
    "系数": 3,
    "指数": 1,
}

# Implausible-but-possible values planted on purpose (within the unit's physical range):
# (indicator, key, period) -> (value, note). key "county" = the department's county figure.
OUTLIERS = {
    ("env_api_good_days_ratio", "county", "2013-01"): (
        41.9,
        "持续雾霾，优良天数比例骤降 / winter smog episode",
    ),
    ("hyg_notifiable_disease_incidence", "county", "2014-04"): (96.5, "手足口病暴发 / HFMD outbreak"),
    ("garbage_harmless", "county", "2012-08"): (62.0, "填埋场检修 / landfill under repair"),
}

START = dt.date(2011, 12, 31)


def _years_since_start(day: dt.date) -> float:
    return (day - START).days / 365.25


def _smooth(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)


class Trajectories:
    """`value(indicator, org_code, period)` for the county's units; deterministic from the seed."""

    def __init__(self, catalog: Catalog, profile: CountyProfile, seed: int):
        self.catalog = catalog
        self.profile = profile
        self.seed = seed
        self.towns = {t.code for t in profile.towns}
        self._params: dict[tuple[str, str], dict] = {}

    # -- helpers -------------------------------------------------------------------------------
    def key(self, indicator: str, org_code: str) -> str:
        return org_code if org_code in self.towns else "county"

    def rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(str(p) for p in (self.seed, *parts)))

    def _bounds(self, unit: str) -> tuple[float, float]:
        uom = self.catalog.units.get(unit)
        low = uom.min_value if uom and uom.min_value is not None else -1e12
        high = uom.max_value if uom and uom.max_value is not None else 1e12
        return low, high

    def _main_requirement(self, indicator: str) -> Requirement | None:
        reqs = self.catalog.requirements_for_indicator(indicator)
        window = dt.date(2014, 12, 31)

        def rank(r: Requirement) -> tuple:
            ed = self.catalog.editions[r.edition]
            return (not ed.in_force(window), r.threshold.kind != "absolute", r.code)

        return min(reqs, key=rank) if reqs else None

    def _acceptance(self, req: Requirement | None) -> dt.date:
        if req is None:
            return dt.date(2015, 12, 31)
        try:
            return self.profile.programme(req.campaign).acceptance
        except StopIteration:
            return dt.date(2015, 12, 31)

    # -- parameters ------------------------------------------------------------------------------
    def params(self, indicator: str, key: str) -> dict:
        cached = self._params.get((indicator, key))
        if cached is not None:
            return cached
        r = self.rng("traj", indicator, key)
        ind = self.catalog.indicators[indicator]
        req = self._main_requirement(indicator)
        acc = self._acceptance(req)
        p: dict = {"unit": ind.unit, "acc": acc, "noise": 0.0, "kind": "linear"}
        low, high = self._bounds(ind.unit)
        th = req.threshold if req else None
        roll = r.random()
        if th is not None and th.kind == "absolute" and req.comparison != "between":
            t = th.resolve(self.profile.variants)
            up = req.comparison in (">=", ">")
            span = max(abs(t) * r.uniform(0.08, 0.25), 1.0 if abs(t) >= 5 else abs(t) * 0.15 + 0.05)
            margin = max(abs(t) * r.uniform(0.01, 0.06), 0.05 if abs(t) < 5 else 0.5)
            if req.comparison == "==":
                p.update(start=t, end=t, story="always")
            elif roll < 0.55:
                p.update(
                    start=t - span if up else t + span, end=t + margin if up else t - margin, story="improve"
                )
            elif roll < 0.85:
                p.update(
                    start=t + margin if up else t - margin,
                    end=t + 2 * margin if up else t - 2 * margin,
                    story="always",
                )
            else:
                p.update(
                    start=t - 1.5 * span if up else t + 1.5 * span,
                    end=t - 0.4 * span if up else t + 0.4 * span,
                    story="never",
                )
            if ind.unit == "%" and t >= 99.5 and up:
                p.update(start=min(p["start"], r.uniform(90, 98)), end=100.0)
            p["noise"] = abs(t) * 0.006
        elif th is not None and th.kind == "relative":
            p.update(kind="relative", reference=th.reference, up=req.comparison in (">=", ">"))
            if th.reference in ("national_avg", "provincial_avg"):
                p.update(r0=r.uniform(1.05, 1.2), r1=r.uniform(0.82, 0.95), story="improve")
            elif th.reference == "regional_health_plan":
                p.update(r0=r.uniform(0.8, 0.92), r1=r.uniform(1.0, 1.1), story="improve")
            else:
                p.update(base=None)
        else:
            p.update(start=None, end=None, story="unrated")
        p["low"], p["high"] = low, high
        p.update(_OVERRIDES.get(indicator, {}))
        if key != "county":  # towns differ from each other
            p.update(_town_params(indicator, r))
        self._params[(indicator, key)] = p
        return p

    # -- values ------------------------------------------------------------------------------------
    def value(self, indicator: str, org_code: str, period: Period) -> float | str:
        key = self.key(indicator, org_code)
        outlier = OUTLIERS.get((indicator, key, period.code))
        if outlier:
            return outlier[0]
        ind = self.catalog.indicators[indicator]
        if ind.value_type == "text":
            return self._qualitative(indicator, key, period)
        p = self.params(indicator, key)
        r = self.rng("val", indicator, key, period.code)
        t = _years_since_start(period.end)
        special = _SPECIAL.get(indicator)
        if special is not None:
            v = special(self, period, r)
        elif p["kind"] == "relative":
            v = self._relative(indicator, p, period, r)
        elif p.get("start") is None:
            v = self._unrated(indicator, p, period, r)
        else:
            x = _smooth(t / max(_years_since_start(p["acc"]), 0.5))
            v = p["start"] + (p["end"] - p["start"]) * x + r.gauss(0, p["noise"])
            if p.get("growth"):
                v = p["start"] * (1 + p["growth"]) ** t * (1 + r.gauss(0, 0.01))
        return self._finish(v, p, ind.unit)

    def _finish(self, v: float, p: dict, unit: str) -> float:
        v = float(min(max(v, p["low"]), p["high"]))
        if unit == "%" and p.get("end") == 100.0 and v > 99.5:
            v = 100.0
        d = DECIMALS.get(unit, 2)
        v = round(v, d)
        return float(int(v)) if d == 0 else v

    def _relative(self, indicator: str, p: dict, period: Period, r: random.Random) -> float:
        y = period.start.year
        ref = p.get("reference")
        if ref in ("national_avg", "provincial_avg", "regional_health_plan", "state_control_target"):
            base = self.catalog.reference_value(ref, indicator, y) or self.catalog.reference_value(
                ref, indicator, min(max(y, 2011), 2016)
            )
            if base is None:
                base = {"forest_pest_disaster_rate": 3.0}.get(indicator, 1.0)
            ratio = p.get("r0", 1.0) + (p.get("r1", 1.0) - p.get("r0", 1.0)) * _smooth((y - 2011) / 4)
            return base * ratio * (1 + r.gauss(0, 0.01))
        if ref == "previous_year":
            start = {"hyg_student_myopia_trend": 38.0, "hyg_student_obesity_trend": 7.5}.get(indicator, 12.0)
            slope = {"hyg_student_obesity_trend": 0.15}.get(indicator, -0.6)
            bump = 0.9 if y == 2014 else 0.0
            return start + slope * (y - 2011) + bump + r.gauss(0, 0.1)
        if ref == "5yr_avg":
            return 20 + r.gauss(0, 1)
        return 10 * (1 + r.gauss(0, 0.02))

    def _unrated(self, indicator: str, p: dict, period: Period, r: random.Random) -> float:
        unit = p["unit"]
        t = _years_since_start(period.end)
        base = {"%": 70.0, "‰": 3.0, "1/10万": 20.0, "人/万台车": 4.5}.get(unit, 10.0)
        return base + t * {"%": 3.0}.get(unit, -0.1) + r.gauss(0, base * 0.01)

    def _qualitative(self, indicator: str, key: str, period: Period) -> str:
        r = self.rng("qual", indicator, key, period.code)
        y, m = period.end.year, period.end.month
        if indicator == "hyg_vector_density_grade":
            if period.end < dt.date(2012, 7, 1):
                return "D级"
            return "C级" if period.end < dt.date(2015, 1, 1) else "B级"
        if indicator == "civ_qualitative_assessment":
            return "不达标" if period.end < dt.date(2013, 1, 1) else "达标"
        if indicator == "eco_air_quality":
            ratio = self.value("env_api_good_days_ratio", self.profile.unit_code("sthjj"), period)
            return "不达标" if isinstance(ratio, float) and ratio < 72 else "达标"
        if indicator == "eco_water_quality":
            return "不达标" if y == 2012 and m in (7, 8) else "达标"
        if indicator == "env_city_assessment_rank":
            return "不达标" if y <= 2011 else "达标"
        return "达标" if r.random() < 0.95 else "不达标"


def _town_params(indicator: str, r: random.Random) -> dict:
    if indicator == "eco_township_sewage_treatment":
        return {"start": r.uniform(5, 30), "end": r.uniform(35, 70), "story": "town"}
    if indicator == "eco_rural_sanitary_toilet":
        return {"start": r.uniform(30, 55), "end": r.uniform(65, 96), "story": "town"}
    if indicator == "hyg_immunization_coverage":
        return {"start": r.uniform(84, 92), "end": r.uniform(91, 99), "story": "town"}
    return {}


def _forest_coverage(self: Trajectories, period: Period, r: random.Random) -> float:
    # Public figure: 54.14% in 2019; about +0.5 point a year of afforestation before that.
    return 54.14 - 0.5 * (2019 - period.start.year) + r.gauss(0, 0.05)


def _air_ratio(self: Trajectories, period: Period, r: random.Random) -> float:
    base = 76 + 14 * _smooth(_years_since_start(period.end) / 3.5)
    season = {12: -13, 1: -14, 2: -9, 11: -6, 3: -3, 6: 5, 7: 6, 8: 6, 9: 4}.get(period.start.month, 1)
    return min(base + season + r.gauss(0, 2.0), 100.0)


def _aqi_days(self: Trajectories, period: Period, r: random.Random) -> float:
    days = (period.end - period.start).days + 1
    ratio = _air_ratio(self, period, random.Random(f"{self.seed}:air:{period.code}"))
    return round(days * ratio / 100)


def _disease(self: Trajectories, period: Period, r: random.Random) -> float:
    season = {3: 5, 4: 7, 5: 6, 6: 3, 12: 2, 1: 2}.get(period.start.month, 0)
    return 22 - 0.6 * _years_since_start(period.end) + season + r.gauss(0, 1.2)


def _growth(start: float, rate: float):
    def f(self: Trajectories, period: Period, r: random.Random) -> float:
        return start * (1 + rate) ** (period.start.year - 2011) * (1 + r.gauss(0, 0.005))

    return f


def _linear(v2011: float, v2016: float, sd: float):
    def f(self: Trajectories, period: Period, r: random.Random) -> float:
        x = (_years_since_start(period.end)) / 5
        return v2011 + (v2016 - v2011) * x + r.gauss(0, sd)

    return f


_SPECIAL = {
    "forest_coverage": _forest_coverage,
    "env_api_good_days_ratio": _air_ratio,
    "hyg_aqi_good_days": _aqi_days,
    "hyg_notifiable_disease_incidence": _disease,
    "env_gdp_per_capita": _growth(11500, 0.11),
    "eco_farmer_net_income": _growth(5200, 0.12),
    "builtup_green_coverage": _linear(31.5, 39.2, 0.1),
    "energy_per_gdp": _linear(1.02, 0.78, 0.005),
    "eco_irrigation_efficiency": _linear(0.45, 0.52, 0.002),
    "hyg_life_expectancy": _linear(74.5, 76.2, 0.05),
    "hyg_street_cleaning_hours": _linear(10.5, 15.0, 0.2),
    "civ_traffic_death_rate": _linear(4.6, 3.2, 0.05),
    "env_no_major_incident": lambda self, period, r: 0.0,
    "regional_noise": _linear(58.6, 54.9, 0.3),
    "env_traffic_noise": _linear(71.8, 67.5, 0.3),
}
_OVERRIDES: dict[str, dict] = {}
