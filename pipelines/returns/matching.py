"""Matching free text from returns to catalog indicators, header roles and org units.

Plain functions and small classes, no I/O. Build each matcher once (the parser caches them per
`ParseContext`); every matcher memoises its answers, so a name seen in a thousand files is matched once.

Indicator names: exact first (after NFKC, case folding, and removing whitespace, brackets and
punctuation), then exact on the name with its bracketed parts removed, then fuzzy with rapidfuzz's
`fuzz.ratio` on those keys. A fuzzy match is accepted only when the best indicator scores at least
`FUZZY_FLOOR` and beats the runner-up (a different indicator) by at least `AMBIGUITY_MARGIN`;
otherwise the result is a rejection, `unknown_indicator` or `ambiguous_indicator`, naming the
candidates. The matcher never guesses silently.

Look-alikes (issue 11, item 7): the catalog lists per indicator the names of *different* quantities
that must never match it (`Indicator.not_confused_with`: 建成区绿地率 is not 建成区绿化覆盖率). Exact
catalog names and aliases still win; a name equal to a look-alike (also without brackets) is
refused as `lookalike_indicator`, and so is a fuzzy match whose best look-alike scores within
`AMBIGUITY_MARGIN` of the winner, so fuzzy matching never bridges two look-alikes.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from pipelines.catalog.model import Catalog, plain_name_key, stripped_name_key
from pipelines.profile import CountyProfile, OrgUnit

# A fuzzy indicator match must score at least this (rapidfuzz ratio, 0..100) ...
FUZZY_FLOOR = 86.0
# ... and beat the best *other* indicator by this many points, else it is ambiguous.
AMBIGUITY_MARGIN = 6.0
# Candidates at or above this score are named in a rejection message.
CANDIDATE_FLOOR = 60.0
# Header cells: fuzzy floor against the known column names.
HEADER_FUZZY_FLOOR = 80.0

_BRACKETED = re.compile(r"[(\[{【〔<《][^)\]}】〕>》]*[)\]}】〕>》]")
_PUNCT_CATEGORIES = ("P", "Z", "C")  # punctuation, separators, control
_KEEP = set("%‰≤≥<>=+/.")


@functools.lru_cache(maxsize=65_536)
def name_key(text: str) -> str:
    """The comparison key of a name: NFKC, case-folded, no whitespace, brackets or punctuation
    (symbols that carry meaning — %, ‰, ≤, ≥, <, >, =, +, /, . — are kept). The catalog loader
    validates look-alikes with the same key (`catalog.model.plain_name_key`). A pure function of
    the text, memoised (header words and names repeat across every file)."""
    return plain_name_key(text)


def stripped_key(text: str) -> str:
    """The key of a name with its bracketed parts removed ("建成区绿化覆盖率(%)" → "建成区绿化覆盖率")."""
    return stripped_name_key(text)


@dataclass(frozen=True)
class IndicatorMatch:
    """The answer for one name: a code (accepted) or a reason code (rejected), never both."""

    name: str
    code: str | None
    method: str  # exact | exact_stripped | fuzzy | none
    score: float
    reason: str | None = None  # unknown_indicator | ambiguous_indicator | lookalike_indicator
    candidates: tuple[tuple[str, float], ...] = ()  # (indicator code, score), best first
    lookalike: str | None = None  # lookalike_indicator: the look-alike name the text is (or is near)
    lookalike_of: tuple[str, ...] = ()  # lookalike_indicator: the indicators it must not be matched to

    @property
    def ok(self) -> bool:
        return self.code is not None

    def lookalike_message(self, catalog: Catalog | None = None) -> tuple[str, str]:
        """(zh, en) naming both quantities: "“建成区绿地率”不是“建成区绿化覆盖率”…"."""
        targets = []
        for code in self.lookalike_of:
            label = catalog.indicators[code].name_zh if catalog and code in catalog.indicators else code
            targets.append((label, code))
        zh_t = "、".join(f"“{label}”[{code}]" for label, code in targets)
        en_t = ", ".join(f"'{label}' [{code}]" for label, code in targets)
        la = self.lookalike or self.name
        same = name_key(la) in (name_key(self.name), stripped_key(self.name))
        near_zh = "" if same else f"接近“{la}”，"
        near_en = "" if same else f" is close to '{la}', which"
        zh = f"“{self.name}”{near_zh}不是{zh_t}：两者是易混淆的不同统计量，不予匹配；请核实指标名称"
        en = f"'{self.name}'{near_en} is not {en_t}: a different quantity that looks alike; not matched"
        return zh, en

    def candidates_text(self, catalog: Catalog | None = None) -> str:
        parts = []
        for code, score in self.candidates[:3]:
            label = catalog.indicators[code].name_zh if catalog and code in catalog.indicators else code
            parts.append(f"{label} [{code}] {score:.0f}")
        return "; ".join(parts)


@dataclass
class IndicatorMatcher:
    """Indicator names → catalog codes. Names: indicator name_zh, aliases, the indicator code
    itself and the name_zh of every requirement on the indicator."""

    catalog: Catalog
    floor: float = FUZZY_FLOOR
    margin: float = AMBIGUITY_MARGIN
    _exact: dict[str, set[str]] = field(default_factory=dict, init=False, repr=False)
    _stripped: dict[str, set[str]] = field(default_factory=dict, init=False, repr=False)
    _choices: list[str] = field(default_factory=list, init=False, repr=False)
    _choice_codes: list[frozenset[str]] = field(default_factory=list, init=False, repr=False)
    _memo: dict[str, IndicatorMatch] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        names = self.catalog.indicator_names()
        for n, codes in names.items():
            if k := name_key(n):
                self._exact.setdefault(k, set()).update(codes)
            if k := stripped_key(n):
                self._stripped.setdefault(k, set()).update(codes)
        keys: dict[str, set[str]] = {}
        for table in (self._exact, self._stripped):
            for k, codes in table.items():
                keys.setdefault(k, set()).update(codes)
        self._choices = list(keys)
        self._choice_codes = [frozenset(keys[k]) for k in self._choices]
        self._codes_folded = {c.casefold(): c for c in self.catalog.indicators}
        # Look-alikes: key → (name, indicators it is not, indicators whose own name it is).
        self._lookalikes: dict[str, tuple[str, frozenset[str], frozenset[str]]] = {}
        for n, owners in self.catalog.lookalikes().items():
            for k in (name_key(n), stripped_key(n)):
                if k and k not in self._lookalikes:
                    self._lookalikes[k] = (n, frozenset(owners), frozenset(keys.get(k, ())))
        self._la_choices = list(self._lookalikes)

    def match(self, name: str) -> IndicatorMatch:
        hit = self._memo.get(name)
        if hit is None:
            hit = self._match(name)
            if len(self._memo) < 100_000:
                self._memo[name] = hit
        return hit

    def _match(self, name: str) -> IndicatorMatch:
        key = name_key(name)
        if not key:
            return IndicatorMatch(name, None, "none", 0.0, "unknown_indicator")
        code = self._codes_folded.get(unicodedata.normalize("NFKC", name).strip().casefold())
        if code:
            return IndicatorMatch(name, code, "exact", 100.0)
        for method, table, k in (
            ("exact", self._exact, key),
            ("exact_stripped", self._stripped, stripped_key(name)),
        ):
            codes = table.get(k)
            if codes:
                if len(codes) == 1:
                    return IndicatorMatch(name, next(iter(codes)), method, 100.0)
                cands = tuple((c, 100.0) for c in sorted(codes))
                return IndicatorMatch(name, None, method, 100.0, "ambiguous_indicator", cands)
            la = self._lookalikes.get(k)
            if la is not None:  # a known other quantity (its catalog twin, if any, matched above)
                return self._refuse(name, method, 100.0, la[0], la[1])
        return self._fuzzy(name, key)

    def _refuse(self, name: str, method: str, score: float, lookalike: str, owners) -> IndicatorMatch:
        return IndicatorMatch(
            name,
            None,
            method,
            score,
            "lookalike_indicator",
            lookalike=lookalike,
            lookalike_of=tuple(sorted(owners)),
        )

    def _fuzzy(self, name: str, key: str) -> IndicatorMatch:
        best: dict[str, float] = {}
        queries = {key, stripped_key(name)} - {""}
        la_best: dict[str, float] = {}  # look-alike key → best score
        for q in queries:
            for _choice, score, idx in process.extract(
                q, self._choices, scorer=fuzz.ratio, limit=12, score_cutoff=CANDIDATE_FLOOR
            ):
                for code in self._choice_codes[idx]:
                    if score > best.get(code, -1.0):
                        best[code] = score
            if self._la_choices:
                for choice, score, _idx in process.extract(
                    q, self._la_choices, scorer=fuzz.ratio, limit=8, score_cutoff=CANDIDATE_FLOOR
                ):
                    la_best[choice] = max(score, la_best.get(choice, -1.0))
        ranked = tuple(sorted(best.items(), key=lambda kv: (-kv[1], kv[0])))
        top = ranked[0][1] if ranked else 0.0
        if not ranked or top < self.floor:
            # Nearest to a known other quantity rather than to any catalog name: say so.
            la = self._nearest_lookalike(la_best, None, max(top, self.floor))
            if la is not None:
                return self._refuse(
                    name, "fuzzy", la_best[la], self._lookalikes[la][0], self._lookalikes[la][1]
                )
            return IndicatorMatch(name, None, "fuzzy", top, "unknown_indicator", ranked[:3])
        winner = ranked[0][0]
        # Never bridge look-alikes: a look-alike that is not the winner's own name and scores about
        # as well as the winner makes the match unsafe.
        la = self._nearest_lookalike(la_best, winner, top - self.margin)
        if la is not None:
            n, owners, own = self._lookalikes[la]
            if not own or la_best[la] >= top:
                return self._refuse(name, "fuzzy", la_best[la], n, owners)
            return self._refuse(name, "fuzzy", la_best[la], n, owners | {winner})
        if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < self.margin:
            return IndicatorMatch(name, None, "fuzzy", ranked[0][1], "ambiguous_indicator", ranked[:3])
        return IndicatorMatch(name, winner, "fuzzy", ranked[0][1], None, ranked[:3])

    def _nearest_lookalike(
        self, la_best: dict[str, float], winner: str | None, at_least: float
    ) -> str | None:
        """The best-scoring look-alike key scoring at least `at_least` that is not a name of
        `winner` itself; None when there is none."""
        hits = [
            (score, k)
            for k, score in la_best.items()
            if score >= at_least and (winner is None or winner not in self._lookalikes[k][2])
        ]
        return max(hits)[1] if hits else None


# --- header columns ----------------------------------------------------------------------------

# Column roles and the names departments give them. `target` and `previous` columns are recognised
# so that they are never taken as the value column.
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "name": ("指标名称", "指标", "项目", "考核指标", "指标项目", "项目名称", "评价指标", "指标内容", "名称"),
    "value": (
        "本期数值",
        "本期",
        "本月",
        "本月数",
        "完成值",
        "实际值",
        "数值",
        "指标值",
        "填报值",
        "本季度",
        "本年",
        "年度值",
        "本期值",
        "本月完成",
        "本期完成",
        "本季",
        "本季数",
        "本年数",
        "实际完成",
        "完成情况",
        "监测值",
        "统计值",
        "当期值",
        "现状值",
        "数据",
    ),
    "unit": ("计量单位", "单位"),
    "code": ("指标代码", "代码", "指标编码", "编码", "code"),
    "period": ("报告期", "期间", "时期", "月份", "统计期", "报告期间", "时间", "日期", "年月", "统计时间"),
    "seq": ("序号", "编号", "no"),
    "remark": ("备注", "说明", "附注"),
    "target": (
        "目标值",
        "标准值",
        "标准要求",
        "考核标准",
        "目标",
        "标准",
        "创建标准",
        "要求",
        "考核要求",
        "计划值",
        "目标要求",
    ),
    "previous": (
        "上期数值",
        "上期",
        "上月",
        "上年",
        "上年同期",
        "同期值",
        "上月数",
        "去年同期",
        "上期值",
        "同期",
    ),
}
# Preference among several value columns of one header: earlier in HEADER_NAMES["value"] wins.
VALUE_RANK = {name_key(n): i for i, n in enumerate(HEADER_NAMES["value"])}


@dataclass(frozen=True)
class HeaderMatch:
    role: str
    canonical: str  # the known column name it matched
    score: float
    unit_hint: str | None = None  # from "数值(%)"


class HeaderMatcher:
    """Header cell text → column role, exact then fuzzy (floor `HEADER_FUZZY_FLOOR`, unique role)."""

    def __init__(self, names: dict[str, tuple[str, ...]] | None = None, floor: float = HEADER_FUZZY_FLOOR):
        self.floor = floor
        self._exact: dict[str, tuple[str, str]] = {}
        for role, ns in (names or HEADER_NAMES).items():
            for n in ns:
                self._exact.setdefault(name_key(n), (role, n))
        self._choices = list(self._exact)
        self._memo: dict[str, HeaderMatch | None] = {}

    def match(self, text: str) -> HeaderMatch | None:
        if text in self._memo:
            return self._memo[text]
        hit = self._match(text)
        if len(self._memo) < 50_000:
            self._memo[text] = hit
        return hit

    def _match(self, text: str) -> HeaderMatch | None:
        norm = unicodedata.normalize("NFKC", text or "")
        if len(norm) > 30:
            return None
        hint = None
        inside = re.findall(r"\(([^)]*)\)", norm)
        for part in inside:
            p = part.replace("单位", "").replace(":", "").strip()
            if p in ("%", "‰") or p.startswith("%"):
                hint = p[0]
        for key in (name_key(norm), stripped_key(norm)):
            if key in self._exact:
                role, canon = self._exact[key]
                return HeaderMatch(role, canon, 100.0, hint)
        key = stripped_key(norm)
        if len(key) < 2:
            return None
        found = process.extract(key, self._choices, scorer=fuzz.ratio, limit=5, score_cutoff=self.floor)
        if not found:
            return None
        roles = {self._exact[c][0] for c, s, _ in found if s >= found[0][1] - 1e-9}
        if len(roles) != 1:
            return None
        role, canon = self._exact[found[0][0]]
        return HeaderMatch(role, canon, float(found[0][1]), hint)


# --- org units ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgMatch:
    org_code: str | None
    matched: str | None  # the name found in the text
    candidates: tuple[str, ...] = ()  # org codes when ambiguous


class OrgMatcher:
    """Finds the reporting unit named in a text (title, sheet name, file name).

    Names: each department's and town's name_zh and `aliases` (old names), each also without its
    leading "县", and the unit's short code as a separate token (template file names). The longest
    name found wins; equally long names of different units are ambiguous (no answer). With several
    counties, a unit name shared by counties is resolved by the county named in the text.
    """

    def __init__(self, profiles: Iterable[CountyProfile]):
        self.profiles = tuple(profiles)
        self._names: dict[str, set[str]] = {}
        self._short: dict[str, set[str]] = {}
        self._county_of: dict[str, str] = {}
        self._county_names: dict[str, str] = {}
        for prof in self.profiles:
            self._county_names[prof.code] = prof.name_zh
            for u in (*prof.departments, *prof.towns):
                self._county_of[u.code] = prof.code
                for n in unit_names(u):
                    self._names.setdefault(n, set()).add(u.code)
                self._short.setdefault(u.short_code.casefold(), set()).add(u.code)
        # Longest names first, so "县环境保护局" is tried before "环境保护局".
        self._ordered = sorted(self._names, key=len, reverse=True)
        alternation = "|".join(re.escape(n) for n in self._ordered)
        self._pattern = re.compile(alternation) if alternation else None
        self._memo: dict[tuple[str, str | None], OrgMatch] = {}

    def find(self, text: str, county: str | None = None) -> OrgMatch:
        key = (text, county)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._find(text, county)
            if len(self._memo) < 50_000:
                self._memo[key] = hit
        return hit

    def _restrict(self, codes: set[str], county: str | None, text: str) -> set[str]:
        if county:
            inside = {c for c in codes if self._county_of.get(c) == county}
            if inside:
                return inside
        if len({self._county_of.get(c) for c in codes}) > 1:
            named = {c for c in codes if self._county_names.get(self._county_of.get(c, ""), "\0") in text}
            if named:
                return named
        return codes

    def _find(self, text: str, county: str | None) -> OrgMatch:
        s = unicodedata.normalize("NFKC", text or "")
        if not s or self._pattern is None:
            return OrgMatch(None, None)
        found: dict[str, int] = {}
        for m in self._pattern.finditer(s):
            name = m.group(0)
            found[name] = max(found.get(name, 0), len(name))
        if found:
            longest = max(found.values())
            codes: set[str] = set()
            names = [n for n, ln in found.items() if ln == longest]
            for n in names:
                codes |= self._restrict(self._names[n], county, s)
            if len(codes) == 1:
                return OrgMatch(next(iter(codes)), names[0])
            return OrgMatch(None, names[0], tuple(sorted(codes)))
        # Short codes as whole tokens, e.g. "2012-03_sthjj_县生态环境局.xlsx" already matched above,
        # "sthjj_2012-03.csv" here.
        tokens = {t.casefold() for t in re.split(r"[^A-Za-z0-9]+", s) if t}
        codes = set()
        for t in tokens:
            codes |= self._restrict(self._short.get(t, set()), county, s)
        if len(codes) == 1:
            code = next(iter(codes))
            return OrgMatch(code, code.split("-", 1)[-1])
        return OrgMatch(None, None, tuple(sorted(codes)))

    def by_folder(self, county: str, short: str) -> str | None:
        for code in self._short.get(short.casefold(), ()):
            if self._county_of.get(code) == county:
                return code
        return None


def unit_names(unit: OrgUnit) -> list[str]:
    """The names a unit may appear under in a text: name_zh, aliases, each without a leading 县."""
    out: list[str] = []
    for n in (unit.name_zh, *getattr(unit, "aliases", ())):
        n = unicodedata.normalize("NFKC", n).strip()
        if not n:
            continue
        out.append(n)
        if n.startswith("县") and len(n) >= 4:
            out.append(n[1:])
    return list(dict.fromkeys(out))
