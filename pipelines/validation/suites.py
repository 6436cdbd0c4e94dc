"""Great Expectations suites on the observation frame, generated from the catalog and the profiles.

The suites are committed as reviewed JSON under `expectations/gx/expectations/` (a GX 1.x file data
context lives in `expectations/gx/`). Value sets and unit ranges come from the catalog
(`indicators.yaml`, `units.yaml`) and the county profiles (units, towns, calendar): they are never
typed twice. Regenerate after changing the catalog or a profile:

    .venv/bin/python -m pipelines.validation.suites

and review the diff; a test fails while the committed suites differ from what this module generates.

Two suites, both structural (a failure blocks downstream assets):
- `observation_structure`: required fields, known codes, one current value per indicator × unit ×
  period × revision, periods not in the future;
- `observation_values`: values possible for their unit (percent 0–100, ‰ 0–1000, counts ≥ 0, dB(A)
  and concentrations in physical ranges), days within the period.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

from pipelines import reporting_calendar as rc
from pipelines.catalog.model import Catalog
from pipelines.profile import CountyProfile

GX_VERSION = "1.24.1"
STRUCTURE = "observation_structure"
VALUES = "observation_values"
SUITE_NAMES = (STRUCTURE, VALUES)
_NS = uuid.UUID("9b1c3c1e-52f1-4f3e-8f7e-5a0c6b1d2e3f")

REQUIRED = (
    "observation_id",
    "submission_id",
    "file_id",
    "org_code",
    "indicator_code",
    "period_code",
    "valid_from",
)


def _exp(suite: str, key: str, type_: str, kwargs: dict, meta: dict) -> dict:
    return {
        "id": str(uuid.uuid5(_NS, f"{suite}/{key}")),
        "type": type_,
        "kwargs": kwargs,
        "meta": {"key": key, **meta},
        "severity": "critical",
    }


def _meta(dimension: str, bound: str, reason: str, zh: str, en: str) -> dict:
    return {
        "dimension": dimension,
        "bound": bound,
        "reason_code": reason,
        "description_zh": zh,
        "description_en": en,
    }


def _where(column: str, value) -> dict:
    """A GX 1.x row condition (serialised ComparisonCondition: Column(column) == value)."""
    return {"type": "comparison", "column": {"name": column}, "operator": "==", "parameter": value}


def known_org_codes(profiles: list[CountyProfile]) -> list[str]:
    return sorted({u.code for p in profiles for u in p.org_units if u.level in ("department", "town")})


def known_period_codes(profiles: list[CountyProfile]) -> list[str]:
    codes = {
        per.code
        for p in profiles
        for freq in ("monthly", "quarterly", "annual")
        for per in rc.periods_between(p.first_period, p.last_period, freq)
    }
    return sorted(codes)


def structure_suite(catalog: Catalog, profiles: list[CountyProfile]) -> dict:
    s = STRUCTURE
    exps = []
    for col in REQUIRED:
        exps.append(
            _exp(
                s,
                f"not_null:{col}",
                "expect_column_values_to_not_be_null",
                {"column": col},
                _meta(
                    "completeness",
                    f"{col} IS NOT NULL",
                    "missing_field",
                    f"必填字段 {col} 不能为空",
                    f"{col} is required",
                ),
            )
        )
    exps.append(
        _exp(
            s,
            "not_null:value_for_numbers",
            "expect_column_values_to_not_be_null",
            {
                "column": "value",
                "row_condition": _where("value_type", "number"),
            },
            _meta(
                "completeness",
                "value IS NOT NULL for numeric indicators",
                "not_a_number",
                "数值型指标必须有数值",
                "numeric indicators need a value",
            ),
        )
    )
    exps.append(
        _exp(
            s,
            "unique:observation_id",
            "expect_column_values_to_be_unique",
            {"column": "observation_id"},
            _meta(
                "uniqueness",
                "observation_id unique",
                "duplicate_id",
                "观测编号重复",
                "observation id is not unique",
            ),
        )
    )
    sets = {
        "indicator_code": (sorted(catalog.indicators), "unknown_indicator", "指标代码", "indicator code"),
        "org_code": (known_org_codes(profiles), "unknown_unit", "填报单位代码", "reporting unit code"),
        "period_code": (known_period_codes(profiles), "period_not_expected", "报告期代码", "period code"),
        "unit": (sorted(catalog.units), "wrong_unit", "计量单位", "unit"),
    }
    for col, (values, reason, zh, en) in sets.items():
        exps.append(
            _exp(
                s,
                f"in_set:{col}",
                "expect_column_values_to_be_in_set",
                {"column": col, "value_set": values},
                _meta(
                    "validity",
                    f"{col} in the {len(values)} codes of the catalog/profile",
                    reason,
                    f"{zh}须为已知代码",
                    f"{en} must be a known code",
                ),
            )
        )
    exps.append(
        _exp(
            s,
            "equal:unit_is_indicator_unit",
            "expect_column_pair_values_to_be_equal",
            {"column_A": "unit", "column_B": "indicator_unit", "ignore_row_if": "either_value_is_missing"},
            _meta(
                "validity",
                "unit = the indicator's catalog unit",
                "wrong_unit",
                "计量单位须与指标目录一致",
                "unit must be the indicator's catalog unit",
            ),
        )
    )
    exps.append(
        _exp(
            s,
            "unique:indicator_org_period_revision",
            "expect_compound_columns_to_be_unique",
            {"column_list": ["indicator_code", "org_code", "period_code", "revision_no"]},
            _meta(
                "uniqueness",
                "one value per indicator × unit × period × revision",
                "conflicting_values",
                "同一指标、单位、报告期、修订版本只能有一个数值",
                "one value per indicator × unit × period × revision",
            ),
        )
    )
    exps.append(
        _exp(
            s,
            "unique:current_indicator_org_period",
            "expect_compound_columns_to_be_unique",
            {
                "column_list": ["indicator_code", "org_code", "period_code"],
                "row_condition": _where("is_current", True),
            },
            _meta(
                "uniqueness",
                "one current value per indicator × unit × period",
                "conflicting_values",
                "同一指标、单位、报告期只能有一个现行数值",
                "one current value per indicator × unit × period",
            ),
        )
    )
    exps.append(
        _exp(
            s,
            "not_future:period_start_before_received",
            "expect_column_pair_values_a_to_be_greater_than_b",
            {
                "column_A": "valid_from",
                "column_B": "period_start",
                "or_equal": True,
                "ignore_row_if": "either_value_is_missing",
            },
            _meta(
                "timeliness",
                "period start ≤ received time",
                "period_in_future",
                "报告期不能晚于收到日期",
                "the period cannot start after the value was received",
            ),
        )
    )
    return _suite(
        s,
        exps,
        "Structure of core.observation: required fields, known codes, uniqueness, periods not in the future.",
    )


def _where_in(column: str, values: list) -> dict:
    """A GX 1.x row condition: Column(column).is_in(values)."""
    return {"type": "comparison", "column": {"name": column}, "operator": "IN", "parameter": list(values)}


def values_suite(catalog: Catalog) -> dict:
    s = VALUES
    exps = []
    # One expectation per distinct (min, max) of the units the indicators use: fewer row filters, same bounds.
    used = {i.unit for i in catalog.indicators.values()}
    groups: dict[tuple, list[str]] = {}
    for unit_code, u in sorted(catalog.units.items()):
        if unit_code in used and (u.min_value is not None or u.max_value is not None):
            groups.setdefault((u.min_value, u.max_value), []).append(unit_code)
    for (lo_v, hi_v), units in sorted(groups.items(), key=lambda kv: (kv[0][0] or 0, kv[0][1] or 0)):
        kwargs: dict = {"column": "value", "row_condition": _where_in("indicator_unit", units)}
        if lo_v is not None:
            kwargs["min_value"] = float(lo_v)
        if hi_v is not None:
            kwargs["max_value"] = float(hi_v)
        lo = "" if lo_v is None else f"{lo_v:g} ≤ "
        hi = "" if hi_v is None else f" ≤ {hi_v:g}"
        bound = f"{lo}value{hi} for {', '.join(units)}"
        exps.append(
            _exp(
                s,
                f"range:{'' if lo_v is None else f'{lo_v:g}'}..{'' if hi_v is None else f'{hi_v:g}'}",
                "expect_column_values_to_be_between",
                kwargs,
                _meta(
                    "validity",
                    bound,
                    "out_of_range",
                    f"数值须在计量单位的可能范围内：{bound}",
                    f"value must be possible for its unit: {bound}",
                ),
            )
        )
    day_units = sorted(c for c, u in catalog.units.items() if u.kind == "days")
    for unit_code in day_units:
        exps.append(
            _exp(
                s,
                f"days_within_period:{unit_code}",
                "expect_column_pair_values_a_to_be_greater_than_b",
                {
                    "column_A": "period_days",
                    "column_B": "value",
                    "or_equal": True,
                    "row_condition": _where("indicator_unit", unit_code),
                    "ignore_row_if": "either_value_is_missing",
                },
                _meta(
                    "validity",
                    f"value ≤ days in the period ({unit_code})",
                    "out_of_range",
                    "天数不能超过报告期的天数",
                    "days cannot exceed the days in the period",
                ),
            )
        )
    return _suite(
        s, exps, "Values possible for their unit (ranges from units.yaml) and days within the period."
    )


def _suite(name: str, exps: list[dict], notes: str) -> dict:
    return {
        "name": name,
        "id": str(uuid.uuid5(_NS, name)),
        "expectations": exps,
        "meta": {
            "great_expectations_version": GX_VERSION,
            "generated_by": "pipelines.validation.suites",
            "note": "Generated from expectations/standards and expectations/profiles; do not edit by hand.",
        },
        "notes": notes,
    }


def generate_suites(catalog: Catalog, profiles: list[CountyProfile]) -> dict[str, dict]:
    return {STRUCTURE: structure_suite(catalog, profiles), VALUES: values_suite(catalog)}


def suites_dir(expectations_dir: Path) -> Path:
    return Path(expectations_dir) / "gx" / "expectations"


def dumps(suite: dict) -> str:
    return json.dumps(suite, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_suites(expectations_dir: Path, catalog: Catalog, profiles: list[CountyProfile]) -> list[Path]:
    """Regenerate the committed suite files; returns the paths written."""
    folder = suites_dir(expectations_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, suite in generate_suites(catalog, profiles).items():
        path = folder / f"{name}.json"
        path.write_text(dumps(suite), encoding="utf-8")
        paths.append(path)
    return paths


def read_committed(expectations_dir: Path) -> dict[str, dict]:
    folder = suites_dir(expectations_dir)
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))}


def main() -> None:
    from pipelines.catalog import load_catalog
    from pipelines.profile import load_profiles
    from pipelines.settings import Settings

    settings = Settings.from_env()
    catalog = load_catalog(settings.standards_dir)
    profiles = load_profiles(settings.profiles_dir, catalog)
    for path in write_suites(settings.expectations_dir, catalog, profiles):
        sys.stdout.write(f"wrote {path}\n")


if __name__ == "__main__":
    main()
