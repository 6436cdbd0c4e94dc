"""Plain data classes of the standards catalog. No I/O here; see `loader.py`."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

COMPARISONS = (">=", ">", "<=", "<", "==", "between", "qualitative")
THRESHOLD_KINDS = ("absolute", "relative", "qualitative", "unknown")
FREQUENCIES = ("monthly", "quarterly", "annual")
# How sub-annual values roll up to the assessed period.
ROLLUPS = ("mean", "sum", "last", "min", "max", "all_pass", "count_pass")
# References a relative threshold may use. Series-backed ones need data in reference_series.yaml;
# the others are computed from the county's own history.
SERIES_REFERENCES = ("national_avg", "provincial_avg", "regional_health_plan", "state_control_target")
HISTORY_REFERENCES = ("previous_year", "5yr_avg")
REFERENCES = SERIES_REFERENCES + HISTORY_REFERENCES
CONDITIONS = ("declining_3y", "increasing_3y")
TRENDS = ("declining", "increasing")
VARIANT_DIMENSIONS = ("terrain", "region", "development", "rainfall", "seat")
# Who may report an indicator (issue 11, item 6). `multi`: a value from a unit other than the
# responsible one is kept as a secondary source (triangulation); `single`: only the responsible unit
# (and units listed in a requirement's also_reported_by) may report it, anything else is refused.
SOURCES = ("multi", "single")

_BRACKETED = re.compile(r"[(\[{【〔<《][^)\]}】〕>》]*[)\]}】〕>》]")
_KEEP = set("%‰≤≥<>=+/.")


def plain_name_key(text: str) -> str:
    """A name compared as the indicator matcher compares it: NFKC, case-folded, without whitespace
    and punctuation (keeping %, ‰, ≤, ≥, <, >, =, +, /, .)."""
    s = unicodedata.normalize("NFKC", text or "").casefold()
    return "".join(ch for ch in s if ch in _KEEP or unicodedata.category(ch)[0] not in "PZC")


def stripped_name_key(text: str) -> str:
    """`plain_name_key` of the name with its bracketed parts removed ("绿地率(%)" → "绿地率")."""
    s = unicodedata.normalize("NFKC", text or "")
    prev = None
    while prev != s:
        prev, s = s, _BRACKETED.sub("", s)
    return plain_name_key(s)


@dataclass(frozen=True)
class UnitOfMeasure:
    unit: str
    kind: str
    name_en: str
    min_value: float | None
    max_value: float | None


@dataclass(frozen=True)
class Edition:
    code: str
    campaign: str
    name_zh: str
    name_en: str
    document: str
    effective_from: dt.date
    effective_to: dt.date | None
    approx_dates: bool = False
    # The edition's own values could not be read: its requirements stand in for it from the nearest
    # edition (every verdict under it counts as a proxy in compliance.coverage). See docs/standards.md.
    proxy: bool = False
    proxy_note: str = ""

    def in_force(self, day: dt.date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


@dataclass(frozen=True)
class Campaign:
    code: str
    name_zh: str
    name_en: str
    editions: tuple[Edition, ...]

    def edition_in_force(self, day: dt.date) -> Edition | None:
        for edition in self.editions:
            if edition.in_force(day):
                return edition
        return None


@dataclass(frozen=True)
class Indicator:
    """One measured quantity, reported once, which may count for several campaigns."""

    code: str
    name_zh: str
    name_en: str
    unit: str
    frequency: str
    rollup: str
    value_type: str  # number | text
    aliases: tuple[str, ...] = ()
    # Names of *different* quantities that look alike and must never be matched to this indicator
    # (建成区绿地率 is not 建成区绿化覆盖率). See indicators.yaml for the definitions behind each.
    not_confused_with: tuple[str, ...] = ()
    sources: str = "multi"  # multi | single, see SOURCES

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name_zh, *self.aliases)


@dataclass(frozen=True)
class Threshold:
    kind: str  # absolute | relative | qualitative | unknown
    value: float | None = None  # absolute: the default (researched) value; between: the low end
    high: float | None = None  # between: the high end
    variant_dimension: str | None = None
    variants: dict[str, float] = field(default_factory=dict)
    reference: str | None = None  # relative
    conditions: tuple[str, ...] = ()  # relative: extra conditions such as declining_3y
    or_trend: str | None = None  # absolute: "X 或持续降低" escape clause
    text: str | None = None  # qualitative wording
    pass_values: tuple[str, ...] = ()  # qualitative: reported values that count as a pass

    def resolve(self, variants: dict[str, str]) -> float | None:
        """The numeric threshold for a county with the given declared variant classes."""
        if self.kind != "absolute":
            return None
        if self.variant_dimension:
            chosen = variants.get(self.variant_dimension)
            if chosen is not None and chosen in self.variants:
                return self.variants[chosen]
        return self.value

    @property
    def token(self) -> str:
        """A compact machine-readable rendering, e.g. `ref:national_avg;declining_3y`."""
        if self.kind == "relative":
            return "ref:" + ";".join((self.reference or "", *self.conditions))
        if self.kind == "qualitative":
            return self.text or ""
        if self.kind == "unknown":
            return "ref:unknown"
        if self.high is not None:
            return f"{self.value:g}..{self.high:g}"
        return f"{self.value:g}"


@dataclass(frozen=True)
class Requirement:
    """A campaign edition's requirement on an indicator."""

    code: str
    campaign: str
    edition: str
    indicator: str
    name_zh: str
    name_en: str
    comparison: str
    threshold: Threshold
    frequency: str
    responsible: str
    also_reported_by: tuple[str, ...] = ()
    veto: bool = False
    veto_reason: str | None = None
    weight: float = 1.0
    variant_note: str = ""
    source: str = ""
    confirmed: bool = False
    # A proxy: the edition's own value could not be found, so the nearest edition's requirement
    # `proxy_of` stands in (its comparison and threshold are copied unless given). Never confirmed;
    # counted and shown as a proxy (compliance.coverage.n_proxy). See docs/standards.md.
    proxy: bool = False
    proxy_of: str | None = None
    proxy_note: str = ""


@dataclass(frozen=True)
class ReferenceSeries:
    reference: str
    indicator: str
    unit: str
    values: dict[int, float]
    confirmed: bool
    source: str


@dataclass(frozen=True)
class Catalog:
    units: dict[str, UnitOfMeasure]
    campaigns: dict[str, Campaign]
    indicators: dict[str, Indicator]
    requirements: dict[str, Requirement]
    reference_series: tuple[ReferenceSeries, ...]

    @property
    def editions(self) -> dict[str, Edition]:
        return {e.code: e for c in self.campaigns.values() for e in c.editions}

    def requirements_in_force(self, campaign: str, day: dt.date) -> list[Requirement]:
        """The requirements of the campaign's edition in force on `day` (empty if none is)."""
        edition = self.campaigns[campaign].edition_in_force(day)
        if edition is None:
            return []
        return [r for r in self.requirements.values() if r.edition == edition.code]

    def requirements_for_indicator(self, indicator: str) -> list[Requirement]:
        return [r for r in self.requirements.values() if r.indicator == indicator]

    def indicator_names(self) -> dict[str, set[str]]:
        """Every name an indicator is known by (name_zh, aliases, requirement names) → codes."""
        names: dict[str, set[str]] = {}
        for ind in self.indicators.values():
            for n in ind.names:
                names.setdefault(n, set()).add(ind.code)
        for req in self.requirements.values():
            if req.indicator in self.indicators and req.name_zh:
                names.setdefault(req.name_zh, set()).add(req.indicator)
        return names

    def lookalikes(self) -> dict[str, tuple[str, ...]]:
        """Every `not_confused_with` name → the indicators it must never be matched to."""
        out: dict[str, set[str]] = {}
        for ind in self.indicators.values():
            for n in ind.not_confused_with:
                out.setdefault(n, set()).add(ind.code)
        return {n: tuple(sorted(codes)) for n, codes in out.items()}

    def known_non_catalog_quantities(self) -> dict[str, tuple[str, ...]]:
        """Look-alike names that are no catalog indicator's name: quantities the county may report
        (林木绿化率, 污水处理率 …) that the catalog knows it does not assess. Name → the indicators
        they resemble."""
        catalog_keys = {k for n in self.indicator_names() for k in (plain_name_key(n), stripped_name_key(n))}
        return {n: codes for n, codes in self.lookalikes().items() if plain_name_key(n) not in catalog_keys}

    def reference_value(self, reference: str, indicator: str, year: int) -> float | None:
        for s in self.reference_series:
            if s.reference == reference and s.indicator == indicator:
                return s.values.get(year)
        return None
