"""Pure chart builders: data frames in, Plotly figures out (tests call them directly).

Fonts: a family list with "Noto Sans CJK SC" first so Chinese renders in the browser and in exports.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

FONT_FAMILY = (
    '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'
)

STATUS_COLORS = {
    "pass": "#2e7d32",
    "near": "#f9a825",
    "fail": "#c62828",
    "no_data": "#9e9e9e",
    "not_assessable": "#bdbdbd",
}
RETURN_COLORS = {"on_time": "#2e7d32", "late": "#f9a825", "missing": "#c62828"}
PALETTE = px.colors.qualitative.Safe


def _layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.0, "xanchor": "left"},
        font={"family": FONT_FAMILY, "size": 13},
        height=height,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        # legend below the plot area (never over the data); the title above the tool bar's row
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0},
        template="plotly_white",
    )
    return fig


def readiness_trend(
    readiness: pd.DataFrame,
    names: dict[str, str],
    title: str,
    acceptance: dict[str, pd.Timestamp] | None = None,
    threshold: float | None = None,
    threshold_label: str = "",
) -> go.Figure:
    """Line per campaign: readiness (0–1) by period; each campaign's acceptance month marked with a
    dashed line in its colour, and an optional passing line (threshold)."""
    fig = go.Figure()
    periods = sorted(readiness["period_code"].unique()) if not readiness.empty else []
    for i, (code, g) in enumerate(readiness.sort_values("period_code").groupby("campaign_code", sort=True)):
        name = names.get(code, code)
        color = PALETTE[i % len(PALETTE)]
        fig.add_trace(
            go.Scatter(
                x=g["period_code"],
                y=g["readiness"],
                mode="lines",
                name=name,
                line={"color": color, "width": 2},
                hovertemplate="%{x}: %{y:.1%}<extra>%{fullData.name}</extra>",
            )
        )
        acc = (acceptance or {}).get(name)
        if acc is not None and periods and f"{acc:%Y-%m}" in periods:
            month = f"{acc:%Y-%m}"
            fig.add_shape(
                type="line", x0=month, x1=month, y0=0, y1=1, xref="x", yref="y",
                line={"color": color, "dash": "dash", "width": 1},
            )  # fmt: skip
            fig.add_annotation(
                x=month, y=1.0, xref="x", yref="y", text="▼", showarrow=False, font={"color": color, "size": 10},
                hovertext=f"{name} {acc:%Y-%m-%d}",
            )  # fmt: skip
    if threshold is not None:
        fig.add_hline(y=threshold, line={"color": "#616161", "dash": "dot", "width": 1})
        if threshold_label:
            fig.add_annotation(
                x=0, xref="paper", y=threshold, yref="y", text=threshold_label, showarrow=False,
                xanchor="left", yanchor="bottom", font={"size": 11, "color": "#616161"},
            )  # fmt: skip
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05])
    fig.update_xaxes(type="category", nticks=12)
    return _layout(fig, title)


def status_bars(counts: pd.DataFrame, names: dict[str, str], labels: dict[str, str], title: str) -> go.Figure:
    """Stacked horizontal bars: requirements by status per campaign. counts: campaign_code, status, n."""
    fig = go.Figure()
    for status, color in STATUS_COLORS.items():
        part = counts[counts["status"] == status]
        if part.empty:
            continue
        fig.add_trace(
            go.Bar(
                y=[names.get(c, c) for c in part["campaign_code"]],
                x=part["n"],
                name=labels.get(status, status),
                orientation="h",
                marker_color=color,
            )
        )
    fig.update_layout(barmode="stack")
    fig = _layout(fig, title, height=400)
    fig.update_layout(legend={"y": -0.15})
    return fig


def indicator_series(
    obs: pd.DataFrame,
    thresholds: pd.DataFrame,
    title: str,
    unit: str = "",
    forecast: pd.DataFrame | None = None,
    outlier_mask: pd.Series | None = None,
    forecast_label: str = "forecast",
    outlier_label: str = "outlier",
) -> go.Figure:
    """Series per unit (obs: date, value, org_label, plus hover columns file_name, sheet, cell, revision_no),
    threshold segments of every requirement (thresholds: label, threshold_value, start, end), an optional
    forecast band (date, value, low, high) and outliers marked."""
    fig = go.Figure()
    for i, (org, g) in enumerate(obs.sort_values("date").groupby("org_label", sort=True)):
        hover = (
            g["file_name"].fillna("").astype(str)
            + " · "
            + g["sheet"].fillna("").astype(str)
            + "!"
            + g["cell"].fillna("").astype(str)
            + " · rev "
            + g["revision_no"].fillna(1).astype(int).astype(str)
        )
        fig.add_trace(
            go.Scatter(
                x=g["date"],
                y=g["value"],
                mode="lines+markers",
                name=str(org),
                text=hover,
                hovertemplate="%{x|%Y-%m}: %{y}<br>%{text}<extra>%{fullData.name}</extra>",
                line={"color": PALETTE[i % len(PALETTE)]},
            )
        )
    for i, row in enumerate(thresholds.itertuples(index=False)):
        if pd.isna(row.threshold_value):
            continue
        fig.add_trace(
            go.Scatter(
                x=[row.start, row.end],
                y=[row.threshold_value, row.threshold_value],
                mode="lines",
                name=f"{row.label} {row.threshold_value:g}{unit}",
                line={"dash": "dash", "width": 1.5, "color": px.colors.qualitative.Dark2[i % 8]},
            )
        )
    if forecast is not None and not forecast.empty:
        fig.add_trace(
            go.Scatter(
                x=list(forecast["date"]) + list(forecast["date"][::-1]),
                y=list(forecast["high"]) + list(forecast["low"][::-1]),
                fill="toself",
                mode="lines",
                fillcolor="rgba(33,150,243,0.15)",
                line={"width": 0},
                name=f"{forecast_label} 95%",
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=forecast["date"],
                y=forecast["value"],
                mode="lines",
                name=forecast_label,
                line={"dash": "dot", "color": "#1565c0"},
            )
        )
    if outlier_mask is not None and outlier_mask.any():
        o = obs[outlier_mask.reindex(obs.index, fill_value=False)]
        fig.add_trace(
            go.Scatter(
                x=o["date"],
                y=o["value"],
                mode="markers",
                name=outlier_label,
                marker={"symbol": "x", "size": 12, "color": "#c62828", "line": {"width": 2}},
            )
        )
    fig.update_yaxes(title_text=unit or None)
    fig.update_xaxes(tickformat="%Y-%m")  # locale-free dates (no English month names)
    return _layout(fig, title, height=440)


def ranking_bars(ranking: pd.DataFrame, label_col: str, title: str, score_label: str = "") -> go.Figure:
    """Horizontal bars of the units' scores (red < 60, amber < 85, green); `customdata` carries the
    unit code so that a click (a Plotly selection event in Streamlit) opens the unit."""
    r = ranking.dropna(subset=["score"]).sort_values("score")
    colors = ["#c62828" if s < 60 else "#f9a825" if s < 85 else "#2e7d32" for s in r["score"]]
    fig = go.Figure(
        go.Bar(
            x=r["score"],
            y=r[label_col],
            orientation="h",
            marker_color=colors,
            customdata=r.get("org_code"),
            hovertemplate="%{y}: %{x:.1f}<extra></extra>",
        )
    )
    fig.update_xaxes(title_text=score_label or None, range=[0, 100])
    fig.update_layout(clickmode="event+select", dragmode=False)
    return _layout(fig, title, height=max(300, 22 * len(r) + 80))


# Return cells of the timeliness heatmap: category, colour (on time is green, never orange).
HEAT_BANDS = (
    ("on_time", "#c8e6c9"),
    ("late_1_2", "#fff59d"),
    ("late_3_5", "#ffcc80"),
    ("late_6_10", "#ef9a9a"),
    ("late_11", "#c62828"),
    ("missing", "#616161"),
)


def heat_band(status: str | None, days: float | None) -> int | None:
    """The band index of one return: on time, late by working days (1–2, 3–5, 6–10, > 10), missing;
    None when nothing was due."""
    if status is None or (isinstance(status, float) and pd.isna(status)):
        return None
    if status == "missing":
        return 5
    if status == "on_time":
        return 0
    d = 0 if days is None or pd.isna(days) else float(days)
    return 1 if d <= 2 else 2 if d <= 5 else 3 if d <= 10 else 4


def timeliness_heatmap(
    cells: pd.DataFrame, title: str, missing_text: str = "缺报", hover_days: str = "working days late"
) -> go.Figure:
    """cells: unit (row label), period (column), return_status (on_time | late | missing), working_days_late.
    Missing returns are drawn as missing (dark grey, "缺报"), late ones by working days, on time green;
    a unit × period with nothing due stays blank."""
    c = cells.copy()
    c["band"] = [heat_band(s, d) for s, d in zip(c["return_status"], c["working_days_late"], strict=False)]
    c["text"] = [
        missing_text if s == "missing" else ("" if s == "on_time" else f"{int(d)}" if pd.notna(d) else "")
        for s, d in zip(c["return_status"], c["working_days_late"], strict=False)
    ]
    z = c.pivot_table(index="unit", columns="period", values="band", aggfunc="max")
    text = c.pivot_table(index="unit", columns="period", values="text", aggfunc="first").reindex_like(z)
    if "org_code" in c:  # the unit's code on every cell: a click opens the unit
        codes = c.drop_duplicates("unit").set_index("unit")["org_code"].reindex(z.index)
        custom = [[code] * len(z.columns) for code in codes]
    else:
        custom = None
    n = len(HEAT_BANDS)
    scale = []
    for i, (_band, color) in enumerate(HEAT_BANDS):
        scale += [[i / n, color], [(i + 1) / n, color]]
    fig = go.Figure(
        go.Heatmap(
            z=z.to_numpy(dtype=float),
            x=[str(x) for x in z.columns],
            y=[str(y) for y in z.index],
            text=text.fillna("").to_numpy(),
            texttemplate="%{text}",
            colorscale=scale,
            zmin=-0.5,
            zmax=n - 0.5,
            showscale=False,
            xgap=1,
            ygap=1,
            hovertemplate="%{y} · %{x}: %{text}<extra></extra>",
            customdata=custom,
        )
    )
    fig.update_layout(clickmode="event+select")
    fig.update_xaxes(type="category", side="top")
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, title, height=max(300, 24 * len(z) + 120))


def quality_trend(df: pd.DataFrame, labels: dict[str, str], title: str) -> go.Figure:
    """df: period_code, values_loaded, values_quarantined -> bars plus quarantined share line."""
    d = df.sort_values("period_code")
    share = d["values_quarantined"] / (d["values_loaded"] + d["values_quarantined"]).clip(lower=1)
    fig = go.Figure()
    fig.add_trace(
        go.Bar(x=d["period_code"], y=d["values_loaded"], name=labels["loaded"], marker_color="#90caf9")
    )
    fig.add_trace(
        go.Bar(
            x=d["period_code"], y=d["values_quarantined"], name=labels["quarantined"], marker_color="#ef9a9a"
        )
    )
    fig.add_trace(
        go.Scatter(
            x=d["period_code"],
            y=share,
            name=labels["share"],
            yaxis="y2",
            mode="lines",
            line={"color": "#c62828"},
        )
    )
    fig.update_layout(
        barmode="stack",
        yaxis2={"overlaying": "y", "side": "right", "tickformat": ".0%", "rangemode": "tozero"},
    )
    fig.update_xaxes(type="category", nticks=12)  # a month label every few bars, never overlapping
    return _layout(fig, title)


def file_status_bars(counts: pd.DataFrame, labels: dict[str, str], title: str) -> go.Figure:
    """counts: status, n."""
    colors = {"accepted": "#2e7d32", "partial": "#f9a825", "rejected": "#c62828", "duplicate": "#9e9e9e"}
    fig = go.Figure(
        go.Bar(
            x=[labels.get(s, s) for s in counts["status"]],
            y=counts["n"],
            marker_color=[colors.get(s, "#607d8b") for s in counts["status"]],
            text=counts["n"],
            textposition="outside",
        )
    )
    return _layout(fig, title, height=300)


def gantt(
    bars: pd.DataFrame, milestones: pd.DataFrame, title: str, milestone_label: str = "里程碑 milestone"
) -> go.Figure:
    """bars: label, start, end, group; milestones: label, date, group. Phases/tasks as bars, milestones as ◆."""
    if bars.empty:
        fig = go.Figure()
    else:
        b = bars.copy()
        b["start"], b["end"] = pd.to_datetime(b["start"]), pd.to_datetime(b["end"])
        fig = px.timeline(b, x_start="start", x_end="end", y="label", color="group")
        fig.update_yaxes(autorange="reversed")
    if not milestones.empty:
        fig.add_trace(
            go.Scatter(
                x=pd.to_datetime(milestones["date"]),
                y=milestones["label"],
                mode="markers",
                marker={"symbol": "diamond", "size": 11, "color": "#6a1b9a"},
                name=milestone_label,
                text=milestones["group"],
                hovertemplate="%{y}<br>%{x|%Y-%m-%d}<br>%{text}<extra></extra>",
            )
        )
    n = len(bars) + len(milestones)
    fig.update_yaxes(title_text=None)
    fig.update_layout(legend_title_text="")
    return _layout(fig, title, height=max(320, 24 * n + 120))


# Plan marks: done, overdue and pending are told apart by symbol AND colour (and the legend).
PLAN_MARKS = {
    "done": {"symbol": "circle", "color": "#2e7d32", "line": {"width": 0}},
    "overdue": {"symbol": "x", "color": "#c62828", "line": {"width": 0}},
    "pending": {"symbol": "diamond-open", "color": "#546e7a", "line": {"width": 2}},
}


def plan_state(status: object) -> str:
    """done | overdue | pending of a plan item's status (marts.plan_schedule, marts.task)."""
    s = str(status or "")
    if s in ("done", "completed", "closed", "closed_late"):
        return "done"
    if s in ("overdue", "late"):
        return "overdue"
    return "pending"


def plan_gantt(
    items: pd.DataFrame,
    row_labels: dict[str, str],
    labels: dict[str, str],
    title: str,
    today: pd.Timestamp | None = None,
) -> go.Figure:
    """The plan grouped by campaign: one row per campaign (a bar from its start to its acceptance date)
    with its milestones and tasks as marks on that row — done ●, overdue ✕, pending ◇ in distinct
    colours — the county-wide phases on a first row, and a "today" line (the data horizon).

    items: row (campaign code, or "" for county-wide), kind (bar | mark), name, start, end, status.
    row_labels: row -> label; labels: done, overdue, pending, today (legend texts in the viewer's
    language)."""
    fig = go.Figure()
    order = list(dict.fromkeys(items["row"])) if not items.empty else []
    ylabel = {r: row_labels.get(r, r) for r in order}
    bars = items[items["kind"] == "bar"].dropna(subset=["start", "end"])
    for i, b in enumerate(bars.itertuples(index=False)):
        start, end = pd.Timestamp(b.start), pd.Timestamp(b.end)
        fig.add_trace(
            go.Bar(
                x=[(end - start).total_seconds() * 1000],
                base=[start],
                y=[ylabel[b.row]],
                orientation="h",
                marker={"color": PALETTE[i % len(PALETTE)], "opacity": 0.35},
                width=0.5,
                showlegend=False,
                name=str(b.name),
                hovertemplate=f"{b.name}<br>{start:%Y-%m-%d} – {end:%Y-%m-%d}<extra></extra>",
            )
        )
    marks = items[items["kind"] == "mark"].dropna(subset=["end"]).copy()
    marks["state"] = marks["status"].map(plan_state)
    for state, style in PLAN_MARKS.items():
        m = marks[marks["state"] == state]
        fig.add_trace(
            go.Scatter(
                x=pd.to_datetime(m["end"]),
                y=[ylabel[r] for r in m["row"]],
                mode="markers",
                marker={
                    "symbol": style["symbol"],
                    "size": 11,
                    "color": style["color"],
                    "line": style["line"],
                },
                name=labels.get(state, state),
                text=m["name"],
                hovertemplate="%{text}<br>%{x|%Y-%m-%d}<extra>%{fullData.name}</extra>",
                visible=True if len(m) else "legendonly",
            )
        )
    if today is not None and not pd.isna(today):
        fig.add_shape(
            type="line", x0=today, x1=today, y0=0, y1=1, xref="x", yref="paper",
            line={"color": "#1565c0", "width": 2, "dash": "dot"},
        )  # fmt: skip
        fig.add_annotation(
            x=today, y=1, xref="x", yref="paper", text=labels.get("today", "today"), showarrow=False,
            yanchor="bottom", font={"color": "#1565c0", "size": 11},
        )  # fmt: skip
    fig.update_layout(barmode="overlay", legend_title_text="")
    fig.update_yaxes(
        title_text=None, autorange="reversed", categoryorder="array", categoryarray=list(ylabel.values())
    )
    fig.update_xaxes(type="date", tickformat="%Y-%m")
    return _layout(fig, title, height=max(300, 56 * len(order) + 150))


def failure_rate_trend(df: pd.DataFrame, title: str) -> go.Figure:
    """df: period_code, dimension, failure_rate -> one line per data-quality dimension."""
    fig = go.Figure()
    for i, (dim, g) in enumerate(df.sort_values("period_code").groupby("dimension", sort=True)):
        fig.add_trace(
            go.Scatter(
                x=g["period_code"],
                y=g["failure_rate"],
                name=str(dim),
                mode="lines+markers",
                line={"color": PALETTE[i % len(PALETTE)]},
            )
        )
    fig.update_yaxes(tickformat=".1%", rangemode="tozero")
    fig.update_xaxes(type="category")
    return _layout(fig, title)
