"""`wuchuang verdicts`: a campaign's verdicts for one year, under the declared county classes and
under each alternative class (issue 13, item 7).

    wuchuang verdicts --campaign eco_county --year 2013
    wuchuang verdicts --campaign eco_county --year 2013 --variant terrain=hill

Reads the current observations of the published snapshot and recomputes the year's verdicts with
`pipelines.validation.compliance` (the same code as the pipeline), so the declared column equals
`compliance.verdict`. For every requirement whose threshold depends on a county class it prints the
status under each other class ("按 丘陵 hill：达标 pass"); an unconfirmed class that turns a verdict
between met and fail is marked. With `--variant dim=value` (repeatable) every requirement is judged
under those classes too and the changes are listed.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

import pandas as pd

from pipelines import reporting_calendar as rc
from pipelines.catalog.model import VARIANT_DIMENSIONS, Catalog
from pipelines.profile import VARIANT_DIMENSION_ZH, VARIANT_VALUE_ZH, CountyProfile
from pipelines.settings import Settings
from pipelines.validation import compliance


def _cli():  # the main CLI module imports this one; import lazily to avoid a cycle
    from pipelines import cli

    return cli


def class_label(value: str | None) -> str:
    if value is None:
        return "默认 default"
    zh = VARIANT_VALUE_ZH.get(value)
    return f"{zh} {value}" if zh else value


def status_label(status: str | None) -> str:
    if status is None:
        return "—"
    return f"{compliance._STATUS_ZH[status]} {status}"


def known_classes(catalog: Catalog) -> dict[str, set[str]]:
    """Classes each dimension can take, from the thresholds of the catalog."""
    out: dict[str, set[str]] = {d: set() for d in VARIANT_DIMENSIONS}
    for r in catalog.requirements.values():
        if r.threshold.variant_dimension:
            out.setdefault(r.threshold.variant_dimension, set()).update(r.threshold.variants)
    return out


def parse_overrides(items: list[str], catalog: Catalog) -> dict[str, str]:
    known = known_classes(catalog)
    out: dict[str, str] = {}
    for item in items or []:
        dim, sep, value = item.partition("=")
        dim, value = dim.strip(), value.strip()
        if not sep or dim not in VARIANT_DIMENSIONS:
            raise _cli().CliError(
                f"--variant 须为 维度=类型，维度为 {'/'.join(VARIANT_DIMENSIONS)} / "
                f"--variant must be dimension=class with dimension one of {', '.join(VARIANT_DIMENSIONS)}: {item}"
            )
        if known.get(dim) and value not in known[dim]:
            options = ", ".join(sorted(known[dim]))
            raise _cli().CliError(
                f"{VARIANT_DIMENSION_ZH.get(dim, dim)} 没有类型“{value}”，可选：{options} / "
                f"no class '{value}' for {dim}; choose one of: {options}"
            )
        out[dim] = value
    return out


def _year_verdicts(frame: pd.DataFrame, catalog: Catalog, profile: CountyProfile, campaign: str, year: int):
    period = rc.parse_period(str(year))
    rows = compliance.compute_verdicts(frame, catalog, [profile], periods=[(compliance.YEAR, period)])
    return [r for r in rows if r["campaign_code"] == campaign and r["subject_org_code"] == profile.code]


def _fmt(v) -> str:
    return "—" if v is None else f"{v:.4g}"


def render(
    frame: pd.DataFrame,
    catalog: Catalog,
    profile: CountyProfile,
    campaign: str,
    year: int,
    overrides: dict[str, str] | None = None,
) -> list[str]:
    """The lines `wuchuang verdicts` prints."""
    camp = catalog.campaigns[campaign]
    declared = _year_verdicts(frame, catalog, profile, campaign, year)
    lines = [f"{camp.name_zh} / {camp.name_en} · {year}"]
    if not declared:
        lines.append(f"{year} 年无有效标准版本 / no edition of the standard in force in {year}")
        return lines
    (cov,) = [c for c in compliance.coverage_rows(declared) if c["period_code"] == str(year)]
    lines.append(f"标准版本 edition {cov['edition_code']} · {cov['label_zh']} / {cov['label_en']}")
    dims = sorted({r["variant_dimension"] for r in declared if r["variant_dimension"]} | set(overrides or {}))
    for dim in dims:
        d = profile.variant_declaration(dim)
        state = "已核实 confirmed" if profile.variant_confirmed(dim) else "未核实 UNCONFIRMED"
        src = f"；来源 source: {d.source}" if d and d.source else ""
        lines.append(
            f"{VARIANT_DIMENSION_ZH.get(dim, dim)} {dim} = {class_label(profile.variants.get(dim))}（{state}{src}）"
        )
    alt_rows: dict[str, dict] = {}
    if overrides:
        alt_profile = dataclasses.replace(profile, variants={**profile.variants, **overrides})
        alt_rows = {
            r["requirement_code"]: r for r in _year_verdicts(frame, catalog, alt_profile, campaign, year)
        }
        label = "、".join(f"{dim}={class_label(v)}" for dim, v in overrides.items())
        lines.append(f"对比 / compared with: {label}")
    lines.append("")
    changed = 0
    for r in sorted(declared, key=lambda r: r["requirement_code"]):
        req = catalog.requirements[r["requirement_code"]]
        head = f"{r['requirement_code']:<34} {req.name_zh}：{status_label(r['status'])}"
        if r["status"] == "no_data":
            pass
        elif r["threshold_value"] is None:
            head += f"（“{r['value_text'] or _fmt(r['value'])}”）"
        else:
            head += f"（{_fmt(r['value'])} {r['comparison']} {_fmt(r['threshold_value'])}）"
        if r["is_veto"]:
            head += " [否决项 veto]"
        if r.get("is_stale"):
            head += f" [数据过期 stale: {r['value_period_end']}]"
        if r["variant_decides"]:
            head += " ⚠ 未核实的县域类型决定结论 / decided by an unconfirmed county class"
        lines.append(head)
        if r["variant_alternatives"]:
            alts = [a.split(":", 1) for a in r["variant_alternatives"].split(";")]
            lines.append(
                "    "
                + "；".join(f"按 {class_label(v)}：{status_label(s)}" for v, s in alts)
                + f" / with {', '.join(f'{v}: {s}' for v, s in alts)}"
            )
        if overrides:
            a = alt_rows.get(r["requirement_code"])
            if a is not None and (a["status"], a["threshold_value"]) != (r["status"], r["threshold_value"]):
                changed += 1
                lines.append(
                    f"    → 按所选类型 with the chosen class: {status_label(a['status'])}"
                    f"（要求 threshold {_fmt(a['threshold_value'])}）"
                )
    if overrides:
        lines.append("")
        lines.append(f"按所选类型改变结论的要求 / requirements that change: {changed}")
    return lines


def cmd_verdicts(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.catalog import load_catalog
    from pipelines.profile import load_profiles
    from pipelines.validation import frame as vframe
    from pipelines.warehouse import publish

    cli = _cli()
    catalog = load_catalog(settings.standards_dir)
    profiles = load_profiles(settings.profiles_dir, catalog)
    if args.campaign not in catalog.campaigns:
        raise cli.CliError(
            f"未知创建项目“{args.campaign}”，可选：{', '.join(sorted(catalog.campaigns))} / "
            f"unknown campaign '{args.campaign}'; choose one of: {', '.join(sorted(catalog.campaigns))}"
        )
    profile = next((p for p in profiles if p.code == args.county), None) if args.county else profiles[0]
    if profile is None:
        raise cli.CliError(f"未知县代码 {args.county} / unknown county code {args.county}")
    overrides = parse_overrides(args.variant, catalog)
    try:
        conn = publish.connect_readonly(settings.published_dir)
    except publish.NoSnapshotError as exc:
        raise cli.CliError(str(exc), cli.EXIT_FAILED) from None
    try:
        obs = vframe.enrich(vframe.read_observations(conn, current_only=True), catalog)
    finally:
        conn.close()
    sys.stdout.write("\n".join(render(obs, catalog, profile, args.campaign, args.year, overrides)) + "\n")
    return cli.EXIT_OK


def register(sub) -> None:
    p = sub.add_parser(
        "verdicts",
        help="某创建项目某年的评价结论及各县域类型下的结论 / a campaign's verdicts for a year, under each county class",
    )
    p.add_argument("--campaign", required=True, help="创建项目代码 / campaign code, e.g. eco_county")
    p.add_argument("--year", type=int, required=True, help="年份 / year, e.g. 2013")
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="DIM=CLASS",
        help="按此县域类型评价（可重复） / judge under this county class (repeatable), e.g. terrain=hill",
    )
    p.add_argument("--county", help="县代码 / county code (default: the first profile)")
    p.set_defaults(func=cmd_verdicts)
