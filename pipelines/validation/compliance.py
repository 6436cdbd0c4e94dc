"""Compliance verdicts: every requirement × subject unit × assessment period against the standard.

Plain functions; the `compliance_verdicts` asset writes the rows to `compliance.verdict`.

Rules applied (documented here once; the verdict rows carry value, threshold, margin and the
observation ids so every verdict can be explained):

- **Edition**: the requirement is assessed for a period only if its edition is the campaign's
  edition in force on the period's last day (`Campaign.edition_in_force`).
- **Variant**: absolute thresholds are resolved with the county's declared classes
  (`Threshold.resolve(profile.variants)`).
- **Subjects**: the county figure (subject = county code) comes from the indicator's primary
  reporting unit (dim.assignment role 'primary'); for the profile's town indicators each town's own
  figure is assessed too (subject = town code). Secondary units are for triangulation only.
- **Grains**: 'year' (period 2013) assesses the year; 'ytd_month' (period 2013-06) assesses the year to
  date at that month's end. Values: an annual value of the year if reported, otherwise the
  sub-annual values of the year (at the indicator's frequency) rolled up as dim.indicator.rollup
  says; for year-to-date, sub-annual values up to the month's end; annual indicators use the latest
  annual value whose period has ended by then. Only current observations (is_current) are used.
- **Roll-ups**: mean, sum, last, min, max of the values; all_pass: every sub-period value must pass
  (value = the worst one); count_pass: value = number of passing sub-periods, status as all_pass.
  A 'sum' over a partial year is compared with the threshold pro-rated to the days covered.
- **Comparison**: `pipelines.catalog.compare.meets` / `margin` — the standard's wording decides at
  exactly the threshold (≥ passes, > does not).
- **Near** (warning band): the value MEETS the threshold but its margin is at most
  `NEAR_BAND_FRACTION` (5%) of |threshold| — "passes narrowly, at risk". A value that misses the
  threshold is 'fail' however narrowly: the standard is not met, and a leader must not read a
  failing value as nearly fine. `meets` is True for pass and near. Thresholds of 0 and '==' have
  no band.
- **Relative thresholds**: national_avg / provincial_avg / regional_health_plan /
  state_control_target from the reference series of the value's year; previous_year = the subject's
  figure for the year before; 5yr_avg = mean of the five previous years' figures (at least
  `MIN_YEARS_FOR_AVG` needed). Condition declining_3y (increasing_3y): the figures of the last three
  years strictly decrease (increase); the comparison AND the condition must hold.
- **or_trend** ("X 或持续降低"): a value missing the absolute threshold passes when the three-year
  trend holds in the stated direction.
- **Qualitative** items pass when the assessed text is one of the requirement's pass values
  (`meets_qualitative`); a sub-annual qualitative item rolled up with all_pass needs every period
  to pass.
- **no_data**: no current observation for the subject and period; **not_assessable**: threshold
  unknown (ref:unknown), reference value or history missing, or a qualitative item without text.
- **Freshness** (issue 13, item 3): `value_period_end` is the end of the newest period among the
  values used, `value_age_days` = assessed period end − value_period_end. A verdict is **stale**
  when the assessed period ends more than one period of the value's own frequency after the value's
  period: `period_end > value_period_end + MAX_AGE_MONTHS[frequency]` calendar months (annual 12,
  quarterly 3, monthly 1). E.g. the 2011 annual value serves every month of 2012 (up to
  2012-12-31) and is stale from 2013-01 on. The explanation says so ("数据过期").
- **Variants** (issue 13, item 7): a threshold chosen by a declared county class records the class
  (`variant_dimension`, `variant_value`, `variant_confirmed` from the profile), the status under
  every other class of that dimension (`variant_alternatives`, e.g. "hill:pass;plain:pass") and
  `variant_decides`: the declared class is unconfirmed and another class would turn the verdict
  between met (pass/near) and not met (fail).
- **Coverage** (issue 13, item 1): `coverage_rows` counts, per county × campaign × period, the
  requirements of the edition in force, how many were assessed (pass, near, fail), proxies
  (a requirement or edition the catalog marks `proxy`), stale and variant-decided verdicts, with a
  label "按 22 项中的 18 项评价 / judged on 18 of 22".
"""

from __future__ import annotations

import calendar
import contextlib
import dataclasses
import datetime as dt
import functools
import hashlib
import math
import os
import pickle
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipelines import reporting_calendar as rc
from pipelines.catalog.compare import margin as margin_of
from pipelines.catalog.compare import meets, meets_qualitative
from pipelines.catalog.model import SERIES_REFERENCES, Catalog, Requirement
from pipelines.profile import CountyProfile
from pipelines.warehouse.tables import compliance as tables

NEAR_BAND_FRACTION = 0.05
MIN_YEARS_FOR_AVG = 3
YEAR, YTD = "year", "ytd_month"
STATUSES = ("pass", "near", "fail", "no_data", "not_assessable")
_STATUS_ZH = {
    "pass": "达标",
    "near": "临界达标",
    "fail": "未达标",
    "no_data": "无数据",
    "not_assessable": "无法评估",
}
_STATUS_EN = {
    "pass": "pass",
    "near": "near (meets narrowly)",
    "fail": "fail",
    "no_data": "no data",
    "not_assessable": "not assessable",
}
_FREQ_ORDER = ("monthly", "quarterly")
# How long a value may serve later periods: one period of its own frequency (calendar months).
MAX_AGE_MONTHS = {"annual": 12, "quarterly": 3, "monthly": 1}
_FREQ_ZH = {"annual": "年度", "quarterly": "季度", "monthly": "月度"}
ASSESSED = ("pass", "near", "fail")


@functools.lru_cache(maxsize=8192)
def _parse_period(code: str) -> rc.Period:
    """`rc.parse_period`, remembered: the verdicts parse the same few hundred period codes ~10⁴ times
    (Period is frozen; an invalid code raises every time, nothing is remembered for it)."""
    return rc.parse_period(code)


@functools.lru_cache(maxsize=8192)
def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus calendar months; a month's last day maps to the target month's last day."""
    last = calendar.monthrange(day.year, day.month)[1]
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    target_last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, target_last if day.day == last else min(day.day, target_last))


def freshness(obs: tuple[Obs, ...] | list[Obs], period_end: dt.date) -> dict:
    """Age of the newest value used against the assessed period end, and whether it is stale."""
    if not obs:
        return {"value_period_end": None, "value_age_days": None, "value_frequency": None, "is_stale": None}
    newest = max(obs, key=lambda o: (o.period.end, o.period.start))
    freq = newest.period.frequency
    limit = add_months(newest.period.end, MAX_AGE_MONTHS.get(freq, 12))
    return {
        "value_period_end": newest.period.end,
        "value_age_days": max(0, (period_end - newest.period.end).days),
        "value_frequency": freq,
        "is_stale": period_end > limit,
    }


STALE_NOTICE_ENV = "WUCHUANG_NOTICE_STALE"
STALE_NOTICE_POLICIES = ("flag", "exclude")


def stale_notice_policy() -> str:
    """How the 通报 treats verdicts on stale values: 'flag' (default: counted, and the notice says the
    data are stale) or 'exclude' (not counted at all). Set with WUCHUANG_NOTICE_STALE."""
    value = (os.environ.get(STALE_NOTICE_ENV) or "flag").strip().lower()
    return value if value in STALE_NOTICE_POLICIES else "flag"


def is_proxy(req: Requirement, catalog: Catalog | None = None) -> bool:
    """True when the catalog marks the requirement (or its edition) as a proxy of a missing edition."""
    if getattr(req, "proxy", False) or getattr(req, "is_proxy", False):
        return True
    if catalog is not None:
        camp = catalog.campaigns.get(req.campaign)
        for ed in camp.editions if camp else ():
            if ed.code == req.edition and (getattr(ed, "proxy", False) or getattr(ed, "is_proxy", False)):
                return True
    return False


@dataclass(frozen=True)
class Obs:
    observation_id: str
    period: rc.Period
    value: float | None
    text: str | None


@dataclass(frozen=True)
class Assessed:
    """Values selected (and rolled up) for one subject, indicator and assessment period."""

    obs: tuple[Obs, ...]
    value: float | None
    text: str | None
    value_year: int | None
    coverage: float  # share of the year's days covered (for pro-rating sums); 1 for annual values
    rollup: str


def series_from_frame(frame: pd.DataFrame) -> dict[tuple[str, str], list[Obs]]:
    """Current observations grouped by (org_code, indicator_code), sorted by period end."""
    out: dict[tuple[str, str], list[Obs]] = defaultdict(list)
    if frame is None or frame.empty:
        return out
    cur = frame[frame["is_current"].fillna(False).astype(bool)] if "is_current" in frame else frame
    # Column lists zipped instead of itertuples over the (Arrow-backed) frame: same values, ~3x faster.
    texts = cur["value_text"].tolist() if "value_text" in cur else [None] * len(cur)
    for obs_id, org, ind, code, raw, text in zip(
        cur["observation_id"].tolist(),
        cur["org_code"].tolist(),
        cur["indicator_code"].tolist(),
        cur["period_code"].tolist(),
        cur["value"].tolist(),
        texts,
        strict=True,
    ):
        try:
            per = _parse_period(code)
        except (rc.CalendarError, ValueError):
            continue
        value = None if raw is None or (isinstance(raw, float) and math.isnan(raw)) else float(raw)
        text = None if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
        out[(org, ind)].append(Obs(str(obs_id), per, value, text))
    for k in out:
        out[k].sort(key=lambda o: (o.period.end, o.period.start))
    return out


def _select(series: list[Obs], indicator_freq: str, year: int, end: dt.date, grain: str) -> list[Obs]:
    """Observations that make up the subject's figure for the year (to `end` for ytd)."""
    if grain == YEAR:
        annual = [o for o in series if o.period.frequency == "annual" and o.period.year == year]
        if annual:
            return annual[-1:]
    if indicator_freq == "annual":
        if grain == YTD:
            ended = [o for o in series if o.period.frequency == "annual" and o.period.end <= end]
            return ended[-1:]
        return []
    sub = [
        o for o in series if o.period.frequency != "annual" and o.period.year == year and o.period.end <= end
    ]
    if not sub:
        return []
    freqs = {o.period.frequency for o in sub}
    chosen = indicator_freq if indicator_freq in freqs else next(f for f in _FREQ_ORDER if f in freqs)
    return [o for o in sub if o.period.frequency == chosen]


def assess(
    series: list[Obs], indicator_freq: str, rollup: str, year: int, end: dt.date, grain: str
) -> Assessed:
    obs = _select(series, indicator_freq, year, end, grain)
    if not obs:
        return Assessed((), None, None, None, 0.0, rollup)
    if len(obs) == 1 and obs[0].period.frequency == "annual":
        o = obs[0]
        return Assessed(
            tuple(obs), o.value, o.text, o.period.year, 1.0, "last" if rollup != "last" else rollup
        )
    nums = [o.value for o in obs if o.value is not None]
    year_days = (dt.date(year, 12, 31) - dt.date(year, 1, 1)).days + 1
    coverage = sum((o.period.end - o.period.start).days + 1 for o in obs) / year_days
    value: float | None = None
    if nums:
        if rollup == "mean":
            value = sum(nums) / len(nums)
        elif rollup == "sum":
            value = sum(nums)
        elif rollup == "min":
            value = min(nums)
        elif rollup == "max":
            value = max(nums)
        else:  # last, and the per-period roll-ups (all_pass / count_pass) judged later
            value = nums[-1]
    texts = [o.text for o in obs if o.text is not None]
    return Assessed(tuple(obs), value, texts[-1] if texts else None, year, min(coverage, 1.0), rollup)


def trend_holds(values: list[float | None], direction: str) -> bool | None:
    """Strictly decreasing ('declining') or increasing over the given consecutive years; None if incomplete."""
    if len(values) < 3 or any(v is None for v in values):
        return None
    pairs = list(zip(values, values[1:], strict=False))
    if direction == "declining":
        return all(b < a for a, b in pairs)
    return all(b > a for a, b in pairs)


def _band(threshold: float, comparison: str) -> float:
    if comparison == "==":
        return 0.0
    return NEAR_BAND_FRACTION * abs(threshold)


def _ceiling(ind) -> float | None:
    """The largest value an indicator can take: 100 for a percentage, else none known."""
    return 100.0 if getattr(ind, "unit", None) == "%" else None


def judge(
    value: float, comparison: str, threshold: float, high: float | None = None, ceiling: float | None = None
) -> tuple[str, float, float]:
    """(status pass|near|fail, margin, band) of a numeric value against a threshold.

    `ceiling`: the largest value the indicator can take (100 for a percentage). A lower bound at the
    ceiling (≥ 100 %) has no warning band: a value on it is fully met, not "near" forever."""
    ok = meets(value, comparison, threshold, high)
    m = margin_of(value, comparison, threshold, high)
    band = _band(threshold if high is None else (high - threshold) / 2, comparison)
    if ceiling is not None and high is None and comparison in (">=", ">") and threshold >= ceiling:
        band = 0.0
    if not ok:
        return "fail", m, band
    return ("near" if band > 0 and m <= band + 1e-9 else "pass"), m, band


@dataclass
class _Ctx:
    catalog: Catalog
    profile: CountyProfile
    series: dict[tuple[str, str], list[Obs]]

    def __post_init__(self) -> None:
        self._year_cache: dict = {}

    def year_value(self, org: str, indicator: str, year: int) -> float | None:
        key = (org, indicator, year)
        if key not in self._year_cache:
            ind = self.catalog.indicators[indicator]
            a = assess(
                self.series.get((org, indicator), []),
                ind.frequency,
                ind.rollup,
                year,
                dt.date(year, 12, 31),
                YEAR,
            )
            self._year_cache[key] = a.value
        return self._year_cache[key]


def _fmt(v) -> str:
    return "—" if v is None else f"{v:.4g}"


def verdict_for(
    req: Requirement,
    ctx: _Ctx,
    subject: str,
    reporting_org: str,
    grain: str,
    period: rc.Period,
) -> dict:
    """One verdict row (a dict keyed by compliance.verdict columns)."""
    catalog, profile = ctx.catalog, ctx.profile
    ind = catalog.indicators[req.indicator]
    t = req.threshold
    year = period.year
    a = assess(
        ctx.series.get((reporting_org, req.indicator), []), ind.frequency, ind.rollup, year, period.end, grain
    )
    row = {
        "county_code": profile.code,
        "requirement_code": req.code,
        "campaign_code": req.campaign,
        "edition_code": req.edition,
        "indicator_code": req.indicator,
        "subject_org_code": subject,
        "reporting_org_code": reporting_org if a.obs else None,
        "period_code": period.code,
        "grain": grain,
        "status": "no_data",
        "value": a.value,
        "value_text": a.text,
        "comparison": req.comparison,
        "threshold_value": None,
        "threshold_token": t.token,
        "margin": None,
        "rollup": a.rollup if a.obs else ind.rollup,
        "n_observations": len(a.obs),
        "observation_ids": [o.observation_id for o in a.obs],
        "is_veto": req.veto,
        "weight": req.weight,
        "is_confirmed": req.confirmed,
        "meets": None,
        "near_band": None,
        "period_end": period.end,
        "trend_holds": None,
        **freshness(a.obs, period.end),
        "is_proxy": is_proxy(req, catalog),
        "variant_dimension": None,
        "variant_value": None,
        "variant_confirmed": None,
        "variant_alternatives": None,
        "variant_decides": None,
    }
    if t.kind == "absolute" and t.variant_dimension:
        dim = t.variant_dimension
        row["variant_dimension"] = dim
        row["variant_value"] = profile.variants.get(dim)
        row["variant_confirmed"] = profile.variant_confirmed(dim)
    label = f"{period.label_zh}{'（年初至今）' if grain == YTD else ''}"
    name = ind.name_zh

    def done(status: str, zh: str, en: str) -> dict:
        row["status"] = status
        row["meets"] = True if status in ("pass", "near") else False if status == "fail" else None
        if row["is_stale"]:
            freq = row["value_frequency"]
            zh += (
                f"；数据过期：所用{_FREQ_ZH.get(freq, '')}数值截至{row['value_period_end']:%Y-%m-%d}，"
                f"距评价期末{row['value_age_days']}天"
            )
            en += (
                f"; STALE: the {freq} value used ends {row['value_period_end']:%Y-%m-%d}, "
                f"{row['value_age_days']} days before the period end"
            )
        row["explanation_zh"] = f"{label} {name}：{zh}（{_STATUS_ZH[status]}）"
        row["explanation_en"] = f"{period.code} {req.indicator}: {en} ({_STATUS_EN[status]})"
        return row

    if not a.obs:
        return done("no_data", "未收到数据", "no current value reported")
    if t.kind == "unknown":
        return done(
            "not_assessable",
            f"数值 {_fmt(a.value)}，标准阈值未确认",
            f"value {_fmt(a.value)}; threshold unknown",
        )

    if t.kind == "qualitative":
        texts = [o.text for o in a.obs if o.text is not None]
        if not texts:
            return done("not_assessable", "缺少定性评定结果", "no assessed text for a qualitative item")
        if ind.rollup in ("all_pass", "count_pass"):
            passing = [meets_qualitative(x, t.pass_values) for x in texts]
            failing = [x for x, p in zip(texts, passing, strict=True) if not p]
            row["value_text"] = failing[0] if failing else texts[-1]
            if ind.rollup == "count_pass":
                row["value"] = float(sum(passing))
            ok = all(passing)
        else:
            row["value_text"] = texts[-1]
            ok = meets_qualitative(texts[-1], t.pass_values)
        accepted = "/".join(t.pass_values)
        return done(
            "pass" if ok else "fail",
            f"评定为“{row['value_text']}”，要求 {accepted}",
            f"assessed '{row['value_text']}', accepted {accepted}",
        )

    nums = [o.value for o in a.obs if o.value is not None]
    if not nums or a.value is None:
        return done("not_assessable", "缺少数值", "no numeric value")

    # the threshold: absolute (variant resolved) or relative (reference value)
    high = t.high
    ref_year = a.value_year or year
    if t.kind == "absolute":
        threshold = t.resolve(profile.variants)
        if threshold is None:
            return done("not_assessable", "阈值缺失", "threshold missing")
        basis_zh, basis_en = "", ""
    else:  # relative
        ref = t.reference
        if ref in SERIES_REFERENCES:
            threshold = catalog.reference_value(ref, req.indicator, ref_year)
            basis_zh, basis_en = f"{ref} {ref_year}年参考值", f"{ref} {ref_year}"
        elif ref == "previous_year":
            threshold = ctx.year_value(reporting_org, req.indicator, ref_year - 1)
            basis_zh, basis_en = f"{ref_year - 1}年数值", f"{ref_year - 1} value"
        elif ref == "5yr_avg":
            hist = [ctx.year_value(reporting_org, req.indicator, y) for y in range(ref_year - 5, ref_year)]
            hist = [h for h in hist if h is not None]
            threshold = sum(hist) / len(hist) if len(hist) >= MIN_YEARS_FOR_AVG else None
            basis_zh, basis_en = (
                f"前五年均值（{len(hist)}年有数据）",
                f"mean of the previous five years ({len(hist)} with data)",
            )
        else:
            threshold = None
            basis_zh, basis_en = str(ref), str(ref)
        if threshold is None:
            return done(
                "not_assessable",
                f"数值 {_fmt(a.value)}，缺少参考值（{basis_zh}）",
                f"value {_fmt(a.value)}; reference missing ({basis_en})",
            )

    scale = 1.0
    if ind.rollup == "sum" and a.coverage < 0.999 and a.rollup == "sum":
        scale = a.coverage
        threshold = threshold * scale
        high = None if high is None else high * scale

    row["threshold_value"] = threshold
    if ind.rollup in ("all_pass", "count_pass") and len(nums) > 1:
        judged = [judge(v, req.comparison, threshold, high, _ceiling(ind)) for v in nums]
        worst = min(range(len(nums)), key=lambda i: judged[i][1])
        status, m, band = judged[worst]
        if any(j[0] == "fail" for j in judged):
            status = "fail"
        row["value"] = (
            float(sum(j[0] != "fail" for j in judged)) if ind.rollup == "count_pass" else nums[worst]
        )
    else:
        status, m, band = judge(a.value, req.comparison, threshold, high, _ceiling(ind))
    row["margin"], row["near_band"] = m, band

    # trend: the declining_3y / increasing_3y condition, or the or_trend escape clause
    direction = None
    if t.kind == "relative" and t.conditions:
        direction = "declining" if "declining_3y" in t.conditions else "increasing"
    elif t.or_trend:
        direction = t.or_trend
    trend = None
    if direction:
        values = [ctx.year_value(reporting_org, req.indicator, y) for y in (ref_year - 2, ref_year - 1)]
        trend = trend_holds([*values, a.value], direction)
        row["trend_holds"] = trend
    trend_zh = {"declining": "持续降低", "increasing": "逐年提高"}.get(direction or "", "")
    cmp_zh = f"{_fmt(row['value'])} {ind.unit}，要求 {req.comparison} {_fmt(threshold)}"
    cmp_en = f"{_fmt(row['value'])} {ind.unit}, required {req.comparison} {_fmt(threshold)}"
    if basis_zh:
        cmp_zh += f"（{basis_zh}）"
        cmp_en += f" ({basis_en})"
    if scale != 1.0:
        cmp_zh += f"，按已报 {scale:.0%} 年度折算"
        cmp_en += f", pro-rated to the {scale:.0%} of the year reported"
    cmp_zh += f"，差距 {m:+.4g}"
    cmp_en += f", margin {m:+.4g}"

    if t.kind == "relative" and t.conditions:
        if status == "fail":
            return done("fail", cmp_zh, cmp_en)
        if trend is None:
            return done(
                "not_assessable",
                f"{cmp_zh}；缺少三年数据无法判断是否{trend_zh}",
                f"{cmp_en}; 3-year trend cannot be checked",
            )
        if not trend:
            return done("fail", f"{cmp_zh}；但未{trend_zh}", f"{cmp_en}; but not {direction} over 3 years")
        return done(status, f"{cmp_zh}；且{trend_zh}", f"{cmp_en}; and {direction} over 3 years")
    if t.or_trend and status == "fail" and trend:
        return done(
            "pass",
            f"{cmp_zh}；未达阈值但{trend_zh}（或持续改善条款）",
            f"{cmp_en}; misses the threshold but is {direction} over 3 years (trend clause)",
        )
    return done(status, cmp_zh, cmp_en)


def assessment_periods(profile: CountyProfile) -> list[tuple[str, rc.Period]]:
    years = [(YEAR, p) for p in rc.periods_between(profile.first_period, profile.last_period, "annual")]
    months = [(YTD, p) for p in rc.periods_between(profile.first_period, profile.last_period, "monthly")]
    return years + months


# Verdict rows remembered per county and (reporting unit, indicator) series (issue 18). A verdict row
# (with its variant alternatives) is a function of the requirement, the catalog, the county profile,
# the subject, the assessment grain and period, and the current observations of exactly one series:
# those of the reporting unit for the requirement's indicator (`assess`, `_Ctx.year_value` and the
# trend read no other series). So a row is reused when the catalog and profile are the same objects
# (both are cached per file content by their loaders: a changed file gives new objects) and the
# series holds the same observations (ids, periods, values to the bit, texts). A new file changes a
# few series; the verdicts of every other series are reused. Kept for `_MEMO_COUNTIES` counties.
#
# A warm run worker forks a process per run, so what one run remembers in memory is gone for the
# next: `compute_verdicts(memo_file=..., memo_key=...)` also keeps the county's rows in a file (atomic
# rename; an unreadable or foreign file is ignored), valid only under the same `memo_key`: a digest
# of the catalog and profile files and of the code that judges (`verdict_memo_key`).
_MEMO: dict[str, tuple[Catalog, CountyProfile, dict]] = {}
_MEMO_COUNTIES = 4
_MEMO_FORMAT = 1


def verdict_memo_key(standards_dir: Path, profiles_dir: Path) -> str:
    """What decides a verdict row besides its series: the catalog's and the profiles' files (bytes)
    and the code that loads and judges them (this module, the catalog package, the profile and the
    reporting calendar)."""
    from pipelines.catalog.loader import files_stamp

    h = hashlib.sha256(f"verdict-memo-{_MEMO_FORMAT}".encode())
    for stamp in (files_stamp(Path(standards_dir)), files_stamp(Path(profiles_dir))):
        for rel, digest in stamp:
            h.update(rel.encode() + b"\0" + digest)
    root = Path(__file__).resolve().parents[1]
    code = [Path(__file__).resolve(), root / "profile.py", root / "reporting_calendar.py"]
    for path in [*code, *sorted((root / "catalog").rglob("*.py"))]:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _read_memo(path: Path, key: str, county: str) -> dict:
    try:
        with open(path, "rb") as fh:
            data = pickle.load(fh)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, IndexError, TypeError):
        return {}
    if not isinstance(data, dict) or data.get("key") != key or data.get("county") != county:
        return {}
    memo = data.get("memo")
    return memo if isinstance(memo, dict) else {}


def _write_memo(path: Path, key: str, county: str, memo: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            pickle.dump({"key": key, "county": county, "memo": memo}, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _series_key(series: list[Obs]) -> tuple:
    return tuple(
        (o.observation_id, o.period.code, None if o.value is None else o.value.hex(), o.text) for o in series
    )


def compute_verdicts(
    frame: pd.DataFrame,
    catalog: Catalog,
    profiles: list[CountyProfile],
    periods: list[tuple[str, rc.Period]] | None = None,
    reuse: bool = False,
    memo_dir: Path | None = None,
    memo_key: str = "",
) -> list[dict]:
    """Verdict rows for every requirement in force, subject unit and assessment period.

    `reuse` (the `compliance_verdicts` asset): rows of series whose observations did not change
    since the previous call in this process are reused (see `_MEMO`); with `memo_dir` and
    `memo_key` (`verdict_memo_key`) also since the previous call in another process, from
    `<memo_dir>/<county>.pkl`. The rows are equal to a computation from scratch
    (tests/validation/test_verdict_reuse.py)."""
    series = series_from_frame(frame)
    rows: list[dict] = []
    for profile in profiles:
        ctx = _Ctx(catalog, profile, series)
        alt_ctx: dict[tuple[str, str], _Ctx] = {}

        def alternatives(req: Requirement, row: dict, ctx=ctx, alt_ctx=alt_ctx, profile=profile) -> None:
            """Status of the verdict under every other declared class of the threshold's dimension."""
            dim = row["variant_dimension"]
            if not dim or not row["n_observations"]:
                return
            out = []
            for alt in sorted(req.threshold.variants):
                if alt == row["variant_value"]:
                    continue
                key = (dim, alt)
                if key not in alt_ctx:
                    p = dataclasses.replace(profile, variants={**profile.variants, dim: alt})
                    alt_ctx[key] = _Ctx(catalog, p, ctx.series)
                    alt_ctx[key]._year_cache = ctx._year_cache  # relative values do not depend on variants
                other = verdict_for(
                    req,
                    alt_ctx[key],
                    row["subject_org_code"],
                    row["reporting_org_code"],
                    row["grain"],
                    _parse_period(row["period_code"]),
                )
                out.append((alt, other["status"], other["meets"]))
            row["variant_alternatives"] = ";".join(f"{a}:{st}" for a, st, _ in out) or None
            flips = any(m is not None and row["meets"] is not None and m != row["meets"] for *_, m in out)
            row["variant_decides"] = bool(flips and row["variant_confirmed"] is False)

        old: dict = {}
        memo_file = Path(memo_dir) / f"{profile.code}.pkl" if reuse and memo_dir and memo_key else None
        if reuse:
            hit = _MEMO.get(profile.code)
            if hit is not None and hit[0] is catalog and hit[1] is profile:
                old = hit[2]
            elif memo_file is not None:
                old = _read_memo(memo_file, memo_key, profile.code)
        memo: dict[tuple[str, str], tuple[tuple, dict]] = {}
        computed = [0]  # rows computed (not reused) in this call

        def verdict(
            req: Requirement,
            subject: str,
            org: str,
            grain: str,
            period: rc.Period,
            memo=memo,
            old=old,
            ctx=ctx,
            alternatives=alternatives,
            computed=computed,
        ) -> dict:
            """The row, with its alternatives: computed, or reused while its series is unchanged."""
            if not reuse:
                row = verdict_for(req, ctx, subject, org, grain, period)
                alternatives(req, row)
                return row
            sk = (org, req.indicator)
            entry = memo.get(sk)
            if entry is None:
                key = _series_key(series.get(sk, []))
                prev = old.get(sk)
                entry = memo[sk] = (key, prev[1] if prev is not None and prev[0] == key else {})
            rk = (req.code, subject, grain, period.code)
            row = entry[1].get(rk)
            if row is None:
                row = verdict_for(req, ctx, subject, org, grain, period)
                alternatives(req, row)
                entry[1][rk] = row
                computed[0] += 1
            return dict(row)

        campaigns = {p.campaign for p in profile.programmes} or set(catalog.campaigns)
        primary = {a.indicator: a.org_code for a in profile.assignments(catalog) if a.role == "primary"}
        town_inds = set(profile.town_indicators)
        towns = [t.code for t in profile.towns]
        for grain, period in periods or assessment_periods(profile):
            for camp in sorted(campaigns):
                edition = catalog.campaigns[camp].edition_in_force(period.end)
                if edition is None:
                    continue
                for req in catalog.requirements.values():
                    if req.edition != edition.code:
                        continue
                    org = primary.get(req.indicator, profile.unit_code(req.responsible))
                    rows.append(verdict(req, profile.code, org, grain, period))
                    if req.indicator in town_inds:
                        rows.extend(verdict(req, town, town, grain, period) for town in towns)
        if reuse:
            _MEMO.pop(profile.code, None)
            _MEMO[profile.code] = (catalog, profile, memo)
            while len(_MEMO) > _MEMO_COUNTIES:
                _MEMO.pop(next(iter(_MEMO)))
            unchanged = not computed[0] and memo.keys() == old.keys() and memo_file and memo_file.exists()
            if memo_file is not None and not unchanged:
                _write_memo(memo_file, memo_key, profile.code, memo)
    return rows


def coverage_label(n_requirements: int, n_assessed: int, n_proxy: int, n_stale: int) -> tuple[str, str]:
    """ "按 22 项中的 18 项评价（含代用 2 项；3 项数据过期）" / "judged on 18 of 22 (2 proxies; 3 on stale data)"."""
    zh = f"按 {n_requirements} 项中的 {n_assessed} 项评价"
    en = f"judged on {n_assessed} of {n_requirements}"
    extra_zh, extra_en = [], []
    if n_proxy:
        extra_zh.append(f"含代用标准 {n_proxy} 项")
        extra_en.append(f"{n_proxy} on proxy requirements")
    if n_stale:
        extra_zh.append(f"{n_stale} 项使用过期数据")
        extra_en.append(f"{n_stale} on stale data")
    if extra_zh:
        zh += "（" + "；".join(extra_zh) + "）"
        en += " (" + "; ".join(extra_en) + ")"
    return zh, en


def coverage_rows(rows: list[dict]) -> list[dict]:
    """Coverage per county × campaign × assessment period from the county-level verdicts.

    n_requirements counts the requirements of the edition in force (every one gets a county verdict,
    no_data and not_assessable included); assessed = pass, near or fail."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        if r["subject_org_code"] != r["county_code"]:
            continue
        groups[(r["county_code"], r["campaign_code"], r["period_code"])].append(r)
    out = []
    for (county, camp, period), vs in sorted(groups.items()):
        counts = {s: sum(v["status"] == s for v in vs) for s in STATUSES}
        assessed = [v for v in vs if v["status"] in ASSESSED]
        n, k = len(vs), len(assessed)
        n_proxy = sum(bool(v.get("is_proxy")) for v in assessed)
        n_stale = sum(bool(v.get("is_stale")) for v in assessed)
        zh, en = coverage_label(n, k, n_proxy, n_stale)
        out.append(
            {
                "county_code": county,
                "campaign_code": camp,
                "period_code": period,
                "grain": vs[0]["grain"],
                "edition_code": vs[0]["edition_code"],
                "period_end": vs[0]["period_end"],
                "n_requirements": n,
                "n_assessed": k,
                "n_pass": counts["pass"],
                "n_near": counts["near"],
                "n_fail": counts["fail"],
                "n_no_data": counts["no_data"],
                "n_not_assessable": counts["not_assessable"],
                "n_proxy": sum(bool(v.get("is_proxy")) for v in vs),
                "n_proxy_assessed": n_proxy,
                "coverage": k / n if n else None,
                "n_veto": sum(bool(v.get("is_veto")) for v in vs),
                "n_veto_assessed": sum(bool(v.get("is_veto")) for v in assessed),
                "n_stale": n_stale,
                "n_stale_fail": sum(bool(v.get("is_stale")) and v["status"] == "fail" for v in vs),
                "n_variant_decides": sum(bool(v.get("variant_decides")) for v in vs),
                "label_zh": zh,
                "label_en": en,
            }
        )
    return out


def coverage_tuples(rows: list[dict]) -> list[tuple]:
    names = tables.COVERAGE.column_names
    return [tuple(r.get(n) for n in names) for r in rows]


def verdict_tuples(rows: list[dict]) -> list[tuple]:
    names = tables.VERDICT.column_names
    return [tuple(r.get(n) for n in names) for r in rows]


def _replace(conn, table, rows: list[dict], where: str, params: list) -> int:
    """Make the rows matching `where` equal `rows`, writing only the rows that differ
    (`store.sync_table`, issue 18: after one new file a few hundred of ~10⁴ verdicts change),
    through one Arrow table cast to the declared column types; a row set Arrow cannot type goes
    through `store.sync_rows`' pandas frame. Call inside a transaction."""
    from pipelines.marts.common import _arrow_table
    from pipelines.validation.store import sync_rows, sync_table

    data = _arrow_table(table.column_names, rows) if rows else None
    if data is None:
        return sync_rows(conn, table, rows, where=where, params=params)
    return sync_table(conn, table, data, where=where, params=params)


def write_verdicts(conn, rows: list[dict], coverage: list[dict], counties: list[str]) -> int:
    """Replace the verdicts and coverage of `counties` in one transaction; returns the verdicts written."""
    where, params = "county_code IN (SELECT unnest(?))", [counties]
    conn.execute("BEGIN TRANSACTION")
    try:
        n = _replace(conn, tables.VERDICT, rows, where, params)
        _replace(conn, tables.COVERAGE, coverage, where, params)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return n
