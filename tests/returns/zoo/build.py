"""Write the layout zoo: returns in the layout families real 平昌县 offices send.

Every file is described cell by cell. A cell written through `E(...)` is an expected value (the
indicator, subject org, period and number a careful person reads off that cell); a cell written
through `X(...)` is a trap that must never be loaded as an exact actual value (target, previous
period, change, completion rate, 县城 column, approximate or impossible value, another area ...).
Cell references are computed while writing, so they cannot drift from the layout.

Built from how county offices fill in returns, not from the parser: do not tune this file
against `pipelines/returns/parse.py`.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import html
import io
import os
import random
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import xlwt
import yaml
from openpyxl.utils import get_column_letter, range_boundaries

COUNTY = "511923"
PROJECT_ROOT = Path(__file__).resolve().parents[3]
PROFILE = PROJECT_ROOT / "expectations" / "profiles" / "pingchang.yaml"

FAMILIES = (
    "long",
    "periods_as_columns",
    "periods_as_rows",
    "sheet_per_period",
    "crosstab",
    "panel",
    "yearbook",
    "place",
    "format",
    "refuse",
)


# --- public records --------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    indicator_code: str
    subject_org_code: str
    period_code: str
    value: float
    sheet: str
    cell: str


@dataclass
class ZooFile:
    path: Path
    family: str
    expected: list[Expected] = field(default_factory=list)
    must_not_load: list[tuple[str, str, str]] = field(default_factory=list)
    expect_refused: str | None = None
    note: str = ""


# --- cell markers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Pct:
    """A number stored as a fraction and shown with a percent format (0.852 shown as 85.2%)."""

    fraction: float
    fmt: str = "0.0%"


@dataclass(frozen=True)
class E:
    """An expected value. `value` defaults to the number the shown content reads as."""

    shown: object
    ind: str
    value: float | None = None
    period: str | None = None
    org: str | None = None  # short code (unit or town); defaults to the file's folder unit


@dataclass(frozen=True)
class X:
    """A trap cell: never to be loaded as an exact actual value."""

    shown: object
    why: str


_FW = str.maketrans("0123456789.,-%", "０１２３４５６７８９．，－％")


def fw(text: object) -> str:
    """Full-width digits, as typed with a Chinese IME in full-width mode."""
    return str(text).translate(_FW)


def read_number(shown: object) -> float:
    if isinstance(shown, Pct):
        return round(shown.fraction * 100, 10)
    if isinstance(shown, (int, float)):
        return float(shown)
    s = str(shown).translate(str.maketrans("０１２３４５６７８９．，－％", "0123456789.,-%"))
    s = s.replace(",", "").replace("%", "").replace("*", "").replace("\u00a0", "").strip()
    return float(s)


# --- the county --------------------------------------------------------------------------------


def _towns() -> list[tuple[str, str]]:
    """Towns that send returns (the profile marks the others `reports: false`), in profile order."""
    prof = yaml.safe_load(PROFILE.read_text(encoding="utf-8"))
    return [(t["code"], t["name_zh"]) for t in prof["towns"] if t.get("reports", True)]


TOWNS = _towns()

# Plausible ranges (low, high, decimals) for generated values, by indicator.
RANGE = {
    "env_api_good_days_ratio": (86, 100, 1),
    "drinking_source_compliance": (96, 100, 1),
    "env_water_function_zone_compliance": (90, 100, 1),
    "hyg_drinking_source_lvl1_compliance": (96, 100, 1),
    "urban_sewage_treatment": (70, 92, 1),
    "garbage_harmless": (86, 99.5, 1),
    "hyg_garbage_feces_harmless": (80, 99, 1),
    "hyg_closed_garbage_transport": (85, 99.5, 1),
    "hyg_street_cleaning_hours": (12, 16, 0),
    "hyg_notifiable_disease_incidence": (15, 40, 2),
    "industrial_compliance": (85, 99.5, 1),
    "env_hazardous_waste_disposal": (95, 100, 1),
    "hyg_immunization_coverage": (90, 99.5, 1),
    "hyg_vaccination_card_rate": (92, 99.8, 1),
    "hyg_u3_child_mgmt": (80, 95, 1),
    "hyg_smi_management": (70, 90, 1),
    "regional_noise": (50, 56, 1),
    "env_traffic_noise": (62, 69, 1),
    "industrial_solid_waste_use": (80, 98, 1),
    "env_total_load_reduction": (96, 100, 1),
    "eco_demo_ei": (60, 75, 1),
    "env_public_satisfaction": (80, 95, 1),
    "eco_cod_intensity": (2, 5, 2),
    "eco_so2_intensity": (1, 4, 2),
    "builtup_green_coverage": (33, 42, 2),
    "forest_builtup_green_space_rate_2007": (28, 33, 2),
    "park_green_per_capita": (7, 12, 2),
    "hyg_sewer_network_coverage": (80, 95, 1),
    "forest_street_canopy": (20, 30, 1),
    "forest_park_service_radius": (70, 90, 1),
    "eco_township_sewage_treatment": (30, 75, 1),
    "forest_coverage": (55, 62, 2),
    "forest_pest_disaster_rate": (1, 3.5, 2),
    "forest_fire_damage_rate": (0.1, 0.8, 2),
    "forest_voluntary_planting_rate": (85, 95, 1),
    "forest_road_greening": (80, 95, 1),
    "forest_village_tree_coverage": (30, 45, 1),
    "protected_area_ratio": (14, 18, 2),
    "eco_rural_sanitary_toilet": (45, 85, 1),
    "eco_straw_utilisation": (80, 92, 1),
    "eco_livestock_manure_use": (75, 92, 1),
    "eco_fertilizer_intensity": (200, 260, 1),
    "eco_rural_clean_energy": (40, 60, 1),
    "env_gdp_per_capita": (9000, 20000, 0),
    "eco_farmer_net_income": (5000, 9000, 0),
    "hyg_infant_mortality": (4, 9, 2),
    "hyg_u5_mortality": (6, 12, 2),
    "hyg_maternal_mortality": (10, 30, 2),
    "hyg_life_expectancy": (74, 77, 2),
    "hyg_beds_per_1000": (3.5, 5.5, 2),
    "water_per_gdp": (60, 120, 1),
    "civ_traffic_death_rate": (2, 6, 2),
}


class Values:
    """Deterministic plausible values, one generator per file."""

    def __init__(self, seed: str):
        self.rng = random.Random(zlib.crc32(seed.encode("utf-8")))

    def __call__(self, ind: str) -> float:
        lo, hi, dec = RANGE[ind]
        v = round(self.rng.uniform(lo, hi), dec)
        return int(v) if dec == 0 else v

    def near(self, v: float, spread: float = 3.0, dec: int = 1) -> float:
        return round(v + self.rng.uniform(-spread, spread), dec)


# --- periods and received dates ----------------------------------------------------------------


def period_end(code: str) -> dt.date:
    if len(code) == 4:
        return dt.date(int(code), 12, 31)
    y = int(code[:4])
    m = 3 * int(code[-1]) if "Q" in code else int(code[5:7])
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def received(code: str, days: int = 6) -> dt.date:
    return period_end(code) + dt.timedelta(days=days)


MONTHS_ZH = [f"{m}月" for m in range(1, 13)]
QUARTERS_ZH = ["一季度", "二季度", "三季度", "四季度"]


# --- writers -----------------------------------------------------------------------------------


@dataclass
class Sheet:
    name: str
    rows: list[list]
    merges: list[str] = field(default_factory=list)


class Zoo:
    def __init__(self, out_dir: Path):
        self.out = Path(out_dir)
        self.files: list[ZooFile] = []

    def add(
        self,
        family: str,
        unit: str,
        name: str,
        sheets: list[Sheet],
        period: str | None,
        got: dt.date,
        kind: str = "xlsx",
        refused: str | None = None,
        note: str = "",
    ) -> ZooFile:
        folder = self.out / COUNTY / unit
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        zf = ZooFile(path=path, family=family, expect_refused=refused, note=note)
        grids = [(s, self._resolve(zf, s, unit, period, path, kind)) for s in sheets]
        if kind == "xlsx":
            _write_xlsx(path, grids)
        elif kind == "xls":
            _write_xls(path, grids)
        elif kind in ("csv-gbk", "csv-utf8bom", "csv-as-xls"):
            enc = "utf-8-sig" if kind == "csv-utf8bom" else "gbk"
            _write_csv(path, grids[0][1], enc)
        elif kind == "html-as-xls":
            _write_html(path, grids[0][1], grids[0][0].name)
        else:  # pragma: no cover
            raise ValueError(kind)
        ts = dt.datetime.combine(got, dt.time(9, 30)).timestamp()
        os.utime(path, (ts, ts))
        if refused:
            zf.expected = []
        self.files.append(zf)
        return zf

    @staticmethod
    def _resolve(zf: ZooFile, sheet: Sheet, unit: str, period: str | None, path: Path, kind: str):
        """Replace markers by their shown content; record expected and trap cells."""
        sheet_name = path.stem if kind.startswith("csv") or kind == "html-as-xls" else sheet.name
        grid = []
        for r, row in enumerate(sheet.rows, start=1):
            out = []
            for c, v in enumerate(row, start=1):
                ref = f"{get_column_letter(c)}{r}"
                if isinstance(v, E):
                    per = v.period or period
                    assert per, f"{path.name} {ref}: no period"
                    val = read_number(v.shown) if v.value is None else float(v.value)
                    org = f"{COUNTY}-{v.org or unit}"
                    zf.expected.append(Expected(v.ind, org, per, val, sheet_name, ref))
                    v = v.shown
                elif isinstance(v, X):
                    zf.must_not_load.append((sheet_name, ref, v.why))
                    v = v.shown
                out.append(v)
            grid.append(out)
        return grid


def _write_xlsx(path: Path, grids) -> None:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet, grid in grids:
        ws = wb.create_sheet(sheet.name)
        for r, row in enumerate(grid, start=1):
            for c, v in enumerate(row, start=1):
                if v is None:
                    continue
                cell = ws.cell(row=r, column=c)
                if isinstance(v, Pct):
                    cell.value = v.fraction
                    cell.number_format = v.fmt
                elif isinstance(v, dt.datetime):
                    cell.value = v
                    cell.number_format = 'yyyy"年"m"月"'
                else:
                    cell.value = v
        for m in sheet.merges:
            ws.merge_cells(m)
        ws.column_dimensions["B"].width = 36
    wb.save(path)


def _write_xls(path: Path, grids) -> None:
    wb = xlwt.Workbook(encoding="utf-8")
    pct = xlwt.easyxf(num_format_str="0.0%")
    for sheet, grid in grids:
        ws = wb.add_sheet(sheet.name)
        merged: set[tuple[int, int]] = set()
        for m in sheet.merges:
            c0, r0, c1, r1 = range_boundaries(m)
            ws.write_merge(r0 - 1, r1 - 1, c0 - 1, c1 - 1, grid[r0 - 1][c0 - 1])
            merged |= {(r, c) for r in range(r0 - 1, r1) for c in range(c0 - 1, c1)}
        for r, row in enumerate(grid):
            for c, v in enumerate(row):
                if v is None or (r, c) in merged:
                    continue
                if isinstance(v, Pct):
                    ws.write(r, c, v.fraction, pct)
                else:
                    ws.write(r, c, v)
    wb.save(str(path))


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, Pct):
        return f"{round(v.fraction * 100, 6):g}%"
    if isinstance(v, float):
        return f"{v:g}" if abs(v) < 1e6 else str(v)
    return str(v)


def _write_csv(path: Path, grid, encoding: str) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    width = max(len(r) for r in grid)
    for row in grid:
        w.writerow([_text(v) for v in row] + [""] * (width - len(row)))
    path.write_bytes(buf.getvalue().encode(encoding))


def _write_html(path: Path, grid, title: str) -> None:
    """An HTML table saved with an .xls name, as web portals and CNKI export them (GBK)."""
    width = max(len(r) for r in grid)
    lines = [
        "<html><head>",
        '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">',
        f"<title>{html.escape(title)}</title></head><body>",
        "<table border=1>",
    ]
    for row in grid:
        cells = "".join(f"<td>{html.escape(_text(v))}</td>" for v in row + [None] * (width - len(row)))
        lines.append(f"<tr>{cells}</tr>")
    lines.append("</table></body></html>")
    path.write_bytes("\n".join(lines).encode("gbk"))


# --- the zoo -----------------------------------------------------------------------------------


def build_zoo(out_dir: Path) -> list[ZooFile]:
    """Write every zoo file under `out_dir/511923/<unit>/` and return their descriptions."""
    from tests.returns.zoo import families  # the families use the helpers above

    zoo = Zoo(Path(out_dir))
    for fn in families.ALL:
        fn(zoo)
    return zoo.files
