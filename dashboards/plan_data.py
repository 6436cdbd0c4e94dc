"""Reads and figures of the plan-process pages (督查检查, the plan page's letters and acceptance records).

Every function takes the viewer's scope like `dashboards.data` (county, units, campaigns bound as SQL
parameters through its helpers); the figures are pure functions that tests call directly. Office
records not yet mirrored into the warehouse are read from the workflow store
(`pipelines.plan_process.store`), so an entry shows at once.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards import auth, data
from dashboards.data import _IN_CAMPAIGNS, _IN_UNITS, _camps, _county, _select, _units, _viewer

PROBLEM_STATUS = {
    "open": ("整改中", "open"),
    "overdue": ("逾期未整改", "overdue"),
    "closed": ("已整改销号", "closed"),
    "closed_late": ("逾期后整改", "closed late"),
}
ROUND_KIND = {"self": ("自查", "self-inspection"), "supervision": ("督查", "supervision")}
RESULT = {
    "passed": ("通过", "passed"),
    "failed": ("未通过", "failed"),
    "conditional": ("有条件通过", "passed with conditions"),
    None: ("待定", "pending"),
}
KIND = {"acceptance": ("申报验收", "application and acceptance"), "re_review": ("复审/复查", "re-review")}
MILESTONE = {
    "acceptance": ("考核验收", "acceptance"),
    "interim_acceptance": ("阶段（省级）验收", "interim (provincial)"),
}
CAMPAIGN_STATUS_COLOR = {
    "creating": "gray",
    "applied": "blue",
    "failed": "red",
    "passed": "green",
    "consolidating": "green",
    "re_reviewed": "green",
    "at_risk": "orange",
}


def word(mapping: dict, code, lang: str) -> str:
    zh, en = mapping.get(code, (code if code is not None else "—", code if code is not None else "—"))
    return en if lang == "en" else zh


def points(county: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    v = _viewer(scope)
    return _select(
        f"""
        SELECT p.*, t.name_zh AS town_name_zh, t.name_en AS town_name_en, u.name_zh AS unit_name_zh,
               u.name_en AS unit_name_en
        FROM supervision.point p
        LEFT JOIN dim.org_unit t ON t.org_code = p.town_code
        LEFT JOIN dim.org_unit u ON u.org_code = p.unit_code
        WHERE p.county_code = ? AND {_IN_UNITS.format("p.unit_code")}
        ORDER BY p.point_type, p.point_code
        """,
        [_county(v, county), *_units(v)],
        needs=("supervision.point", "dim.org_unit"),
    )


def inspections(county: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    v = _viewer(scope)
    return _select(
        f"""
        SELECT i.*, p.name_zh AS point_name_zh, p.type_name_zh, p.type_name_en, t.name_zh AS town_name_zh,
               t.name_en AS town_name_en
        FROM supervision.inspection i
        JOIN supervision.point p USING (county_code, point_code)
        LEFT JOIN dim.org_unit t ON t.org_code = i.town_code
        WHERE i.county_code = ? AND {_IN_UNITS.format("i.unit_code")}
        ORDER BY i.inspected_on, i.point_code
        """,
        [_county(v, county), *_units(v)],
        needs=("supervision.inspection", "supervision.point", "dim.org_unit"),
    )


def problems(county: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    v = _viewer(scope)
    return _select(
        f"""
        SELECT pr.*, u.name_zh AS unit_name_zh, u.name_en AS unit_name_en
        FROM supervision.problem pr LEFT JOIN dim.org_unit u ON u.org_code = pr.owner_org_code
        WHERE pr.county_code = ? AND {_IN_UNITS.format("pr.owner_org_code")}
        ORDER BY CASE pr.status WHEN 'overdue' THEN 0 WHEN 'open' THEN 1 ELSE 2 END, pr.due_date DESC, pr.item_id
        """,
        [_county(v, county), *_units(v)],
        needs=("supervision.problem", "dim.org_unit"),
    )


def file_issues(county: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    """Problems in the 督查 spreadsheets (office-wide: the files are the office's)."""
    v = _viewer(scope)
    return _select(
        "SELECT * FROM supervision.issue WHERE county_code = ? ORDER BY rel_path, sheet, cell",
        [_county(v, county)],
        needs=("supervision.issue",),
    )


def unit_scores(county: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    v = _viewer(scope)
    return _select(
        f"""
        SELECT s.*, u.name_zh AS unit_name_zh, u.name_en AS unit_name_en FROM supervision.unit_score s
        LEFT JOIN dim.org_unit u ON u.org_code = s.org_code
        WHERE s.county_code = ? AND {_IN_UNITS.format("s.org_code")}
        ORDER BY s.year DESC, s.rank_group, s.rank NULLS LAST
        """,
        [_county(v, county), *_units(v)],
        needs=("supervision.unit_score", "dim.org_unit"),
    )


def campaign_status(county: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    v = _viewer(scope)
    return _select(
        f"""
        SELECT s.*, c.name_zh AS campaign_name_zh, c.name_en AS campaign_name_en
        FROM plan_process.campaign_status s LEFT JOIN dim.campaign c USING (campaign_code)
        WHERE s.county_code = ? AND {_IN_CAMPAIGNS.format("s.campaign_code")}
        ORDER BY s.campaign_code
        """,
        [_county(v, county), *_camps(v)],
        needs=("plan_process.campaign_status", "dim.campaign"),
    )


def regression_alerts(
    county: str, latest_only: bool = True, scope: auth.Viewer | None = None
) -> pd.DataFrame:
    v = _viewer(scope)
    return _select(
        f"""
        SELECT * FROM plan_process.regression_alert
        WHERE county_code = ? AND {_IN_CAMPAIGNS.format("campaign_code")} AND (is_latest OR NOT ?)
        ORDER BY CASE status WHEN 'fail' THEN 0 ELSE 1 END, campaign_code, requirement_code, grain, period_code
        """,
        [_county(v, county), *_camps(v), latest_only],
        needs=("plan_process.regression_alert",),
    )


def acceptance(county: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    v = _viewer(scope)
    return _select(
        f"""
        SELECT * FROM plan_process.acceptance WHERE county_code = ? AND {_IN_CAMPAIGNS.format("campaign_code")}
        ORDER BY campaign_code, kind, milestone, attempt
        """,
        [_county(v, county), *_camps(v)],
        needs=("plan_process.acceptance",),
    )


def letters(county: str, scope: auth.Viewer | None = None) -> pd.DataFrame:
    v = _viewer(scope)
    return _select(
        f"""
        SELECT * FROM plan_process.letter WHERE county_code = ? AND {_IN_UNITS.format("org_code")}
        ORDER BY year DESC, org_code
        """,
        [_county(v, county), *_units(v)],
        needs=("plan_process.letter",),
    )


def letter_targets(county: str, org: str, year: int, scope: auth.Viewer | None = None) -> pd.DataFrame:
    v = _viewer(scope)
    return _select(
        f"""
        SELECT * FROM plan_process.letter_target
        WHERE county_code = ? AND org_code = ? AND year = ? AND {_IN_UNITS.format("org_code")}
        ORDER BY campaign_code, requirement_code
        """,
        [_county(v, county), org, int(year), *_units(v)],
        needs=("plan_process.letter_target",),
    )


# ------------------------------------------------------------------------------------ figures


def score_trend(insp: pd.DataFrame, by: str, lang: str, title: str) -> go.Figure:
    """Mean inspection score (%) per round date, one line per point type (`by` = 'type') or town ('town')."""
    fig = go.Figure()
    low = 0.0
    if not insp.empty:
        col = (
            ("type_name_en" if lang == "en" else "type_name_zh")
            if by == "type"
            else ("town_name_en" if lang == "en" else "town_name_zh")
        )
        df = insp.assign(month=pd.to_datetime(insp["inspected_on"]).dt.to_period("M").dt.to_timestamp())
        g = df.groupby([col, "month"], as_index=False)["score_pct"].mean()
        for key, part in g.groupby(col):
            fig.add_trace(
                go.Scatter(x=part["month"], y=part["score_pct"].round(1), mode="lines+markers", name=str(key))
            )
    fig.update_layout(
        title=title,
        height=360,
        margin={"l": 40, "r": 10, "t": 50, "b": 40},
        yaxis={"title": "得分率 %" if lang == "zh" else "score %", "range": [low, 101]},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def point_map(pts: pd.DataFrame, latest: pd.DataFrame, lang: str, title: str) -> go.Figure:
    """Points with coordinates on plain longitude/latitude axes (no map tiles: works offline); colour = the
    point's latest score (%), size = its open problems."""
    fig = go.Figure()
    have = pts.dropna(subset=["lon", "lat"]) if not pts.empty else pts
    if not have.empty:
        m = have.merge(latest, how="left", on="point_code")
        label = m["name_zh"] + "（" + m["type_name_en" if lang == "en" else "type_name_zh"] + "）"
        fig.add_trace(
            go.Scatter(
                x=m["lon"],
                y=m["lat"],
                mode="markers+text",
                # point names are Chinese place names: English labels say the type and a number
                # (the Chinese name stays in the hover text)
                text=m["name_zh"]
                if lang != "en"
                else m["type_name_en"] + " " + (m.groupby("type_name_en").cumcount() + 1).astype(str),
                textposition="top center",
                hovertext=label + "：" + m["score_pct"].round(1).astype(str) + "%",
                hoverinfo="text",
                marker={
                    "size": 12 + 4 * m["open_problems"].fillna(0),
                    "color": m["score_pct"],
                    "colorscale": "RdYlGn",
                    "cmin": 60,
                    "cmax": 100,
                    "colorbar": {"title": "%"},
                    "line": {"width": 1, "color": "#333"},
                },
            )
        )
    fig.update_layout(
        title=title,
        height=420,
        margin={"l": 50, "r": 10, "t": 50, "b": 40},
        xaxis={"title": "经度" if lang == "zh" else "Longitude"},
        yaxis={"title": "纬度" if lang == "zh" else "Latitude", "scaleanchor": "x"},
        showlegend=False,
    )
    return fig


def problems_by_unit(probs: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Per responsible unit: open, overdue, closed, found again / recurring (repeat offenders first)."""
    if probs.empty:
        return pd.DataFrame()
    name = probs["unit_name_en" if lang == "en" else "unit_name_zh"].fillna(probs["unit_name_zh"])
    df = probs.assign(unit=name)
    g = df.groupby("unit").agg(
        total=("item_id", "count"),
        open=("status", lambda s: int(s.isin(["open", "overdue"]).sum())),
        overdue=("status", lambda s: int((s == "overdue").sum())),
        late=("status", lambda s: int((s == "closed_late").sum())),
        repeat=("is_repeat", "sum"),
    )
    g = g.sort_values(["overdue", "repeat", "open"], ascending=False).reset_index()
    cols = {
        "zh": ["责任单位", "问题数", "未整改", "逾期未整改", "逾期后整改", "反复出现"],
        "en": ["Unit", "Problems", "Open", "Overdue", "Closed late", "Repeat"],
    }[lang]
    g.columns = cols
    return g


def latest_by_point(insp: pd.DataFrame, probs: pd.DataFrame) -> pd.DataFrame:
    if insp.empty:
        return pd.DataFrame(columns=["point_code", "score_pct", "open_problems"])
    last = (
        insp.sort_values("inspected_on")
        .groupby("point_code", as_index=False)
        .last()[["point_code", "score_pct"]]
    )
    if not probs.empty:
        openp = (
            probs[probs["status"].isin(["open", "overdue"])]
            .groupby("point_code")
            .size()
            .rename("open_problems")
        )
        last = last.merge(openp, how="left", left_on="point_code", right_index=True)
    else:
        last["open_problems"] = 0
    return last


def rounds(insp: pd.DataFrame, lang: str) -> pd.DataFrame:
    if insp.empty:
        return pd.DataFrame()
    g = insp.groupby(["inspected_on", "round_kind", "round_name"], as_index=False).agg(
        points=("point_code", "nunique"), mean=("score_pct", "mean"), deductions=("n_deductions", "sum")
    )
    g["round_kind"] = g["round_kind"].map(lambda k: word(ROUND_KIND, k, lang))
    g["inspected_on"] = pd.to_datetime(g["inspected_on"]).dt.strftime("%Y-%m-%d")
    g["mean"] = g["mean"].round(1)
    g = g.sort_values(["inspected_on", "round_name"], ascending=False)
    g.columns = {
        "zh": ["检查日期", "类型", "检查轮次", "点位数", "平均得分率%", "扣分项数"],
        "en": ["Date", "Kind", "Round", "Points", "Mean score %", "Deductions"],
    }[lang]
    return g


def units_lookup(county: str) -> dict[str, tuple[str, str]]:
    df = data.units(county)
    return {r.org_code: (r.name_zh, r.name_en or r.name_zh) for r in df.itertuples(index=False)}
