"""Shared Streamlit helpers for the pages: language, filters in session state, notices, downloads.

Pages stay thin: they call `data` for frames, `charts` for figures and these helpers for the rest.
A table that is not built yet, or no snapshot at all, becomes an info notice in Chinese and English.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from dashboards import auth, charts, data, exports, i18n
from pipelines.warehouse.publish import NoSnapshotError

# Session-state keys of the sidebar widgets (persist across pages).
K_LANG = "lang_en"
K_COUNTY = "f_county"
K_CAMPAIGN = "f_campaign"
K_PERIOD = "f_period"
K_UNIT = "f_unit"
K_GOTO_INDICATOR = "goto_indicator"

# Status colours without emoji (headless browsers and office PCs may lack an emoji font).
STATUS_MD_COLOR = {
    "pass": "green",
    "near": "orange",
    "fail": "red",
    "no_data": "gray",
    "not_assessable": "gray",
}
STATUS_BG = {
    "pass": "#e8f5e9",
    "near": "#fff8e1",
    "fail": "#ffebee",
    "no_data": "#f5f5f5",
    "not_assessable": "#f5f5f5",
}


def lang() -> str:
    return "en" if st.session_state.get(K_LANG) else "zh"


def t(key: str, **fmt: object) -> str:
    return i18n.t(key, lang(), **fmt)


def name(row: dict | pd.Series, base: str = "name") -> str:
    """The row's name in the current language (falls back to Chinese)."""
    zh, en = row.get(f"{base}_zh"), row.get(f"{base}_en")
    return str(en if lang() == "en" and isinstance(en, str) and en else zh or "")


def status_text(status: str | None) -> str:
    return f"● {i18n.status_label(status, lang())}" if status else ""


def status_md(status: str | None) -> str:
    """Coloured status for markdown and captions."""
    return f":{STATUS_MD_COLOR.get(status or '', 'gray')}[{status_text(status)}]"


def style_status(frame: pd.DataFrame, column: str, statuses: list[str]):
    """A Styler colouring `column` by the status codes in `statuses` (same order as the rows)."""
    css = [
        f"background-color: {STATUS_BG.get(s, '')}; color: {charts.STATUS_COLORS.get(s, '#000')}; font-weight: 600"
        for s in statuses
    ]

    def _apply(_col: pd.Series) -> list[str]:
        return css

    return frame.style.apply(_apply, subset=[column])


def county() -> str | None:
    return st.session_state.get(K_COUNTY)


def campaign() -> str | None:
    return st.session_state.get(K_CAMPAIGN) or None


def period() -> str | None:
    return st.session_state.get(K_PERIOD)


def unit() -> str | None:
    return st.session_state.get(K_UNIT) or None


def widget_key(state_key: str) -> str:
    """Key of the widget bound to `state_key` in the current language (see `select`)."""
    return f"{state_key}__{lang()}"


def select(container, label: str, options: list, labels: dict, state_key: str, default_last: bool = False):
    """A selectbox whose chosen value lives under `state_key` and survives the language switch.

    Option labels depend on the language, and Streamlit maps the browser's choice back through the
    label, so the widget is keyed per language and the value itself is kept under a plain key."""
    current = st.session_state.get(state_key)
    if current not in options:
        current = (options[-1] if default_last else options[0]) if options else None
        st.session_state[state_key] = current
    wkey = widget_key(state_key)

    def _sync() -> None:
        st.session_state[state_key] = st.session_state[wkey]

    if wkey in st.session_state and st.session_state[wkey] not in options:
        del st.session_state[wkey]
    # A value set through the session state (a link, the URL) wins over `index`; passing index 0
    # then avoids Streamlit's "default value and Session State" warning.
    index = 0 if wkey in st.session_state else (options.index(current) if options else None)
    container.selectbox(
        label,
        options,
        index=index if options else None,
        format_func=lambda o: labels.get(o, str(o)),
        key=wkey,
        on_change=_sync,
    )
    return st.session_state[state_key]


def header(page_key: str) -> None:
    st.title(t(page_key))


@contextmanager
def part() -> Iterator[None]:
    """Run a part of a page; a missing table or snapshot becomes a notice (zh + en), never a traceback."""
    try:
        yield
    except NoSnapshotError:
        st.info(i18n.both("no_snapshot"), icon=":material/info:")
    except data.MissingTables as e:
        st.info(i18n.both("table_missing", tables=", ".join(e.tables)), icon=":material/info:")
    except duckdb.Error as e:
        first = str(e).splitlines()[0][:200]
        st.warning(
            f"数据表结构与页面不一致，本部分暂不可用 / table layout differs from this page: {first}",
            icon=":material/warning:",
        )


def ready() -> bool:
    """True when a snapshot and the county filter exist; otherwise shows why."""
    if data.snapshot_path() is None:
        st.info(i18n.both("no_snapshot"), icon=":material/info:")
        return False
    if not county():
        st.info(i18n.both("table_missing", tables="dim.county"), icon=":material/info:")
        return False
    return True


def empty_notice() -> None:
    st.info(i18n.both("no_rows"), icon=":material/info:")


def require(action: str) -> auth.Viewer:
    """The signed-in viewer if its role may `action`; otherwise a bilingual notice and the run stops."""
    viewer = auth.require_viewer()
    if not viewer.can(action):
        st.warning(i18n.both("no_permission"), icon=":material/block:")
        st.stop()
    return viewer


def audited(event: str, **detail: object):
    """An on_click callback that records a download (or another action) in the audit log."""

    def _record() -> None:
        auth.audit(event, detail)

    return _record


def downloads(df: pd.DataFrame, stem: str, key: str) -> None:
    c1, c2, _ = st.columns([1, 1, 4])
    c1.download_button(
        t("download_csv"),
        lambda: exports.csv_bytes(df),
        f"{stem}.csv",
        "text/csv",
        key=f"{key}_csv",
        width="stretch",
        on_click=audited("download", file=f"{stem}.csv", rows=len(df)),
    )
    c2.download_button(
        t("download_xlsx"),
        lambda: exports.xlsx_bytes(df),  # built when clicked
        f"{stem}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"{key}_xlsx",
        width="stretch",
        on_click=audited("download", file=f"{stem}.xlsx", rows=len(df)),
    )


def campaign_names() -> dict[str, str]:
    df = data.campaigns(county())
    return {r.campaign_code: name(r._asdict()) for r in df.itertuples(index=False)}


@st.cache_data(ttl=60, show_spinner=False)
def _stale_text(published_dir: str, raw_dir: str, dagster_home: str | None) -> tuple[str, str] | None:
    from dashboards import freshness

    return freshness.notice(freshness.gather(Path(published_dir), Path(raw_dir)))


def stale_banner() -> None:
    """Every page: a warning (Chinese first) when the published data are older than the newest
    received file or the last run failed, with the reason (see dashboards.freshness)."""
    s = data.settings()
    text = _stale_text(str(s.published_dir), str(s.raw_dir), os.environ.get("DAGSTER_HOME"))
    if text:
        st.warning(f"{text[0]}\n\n{text[1]}", icon=":material/history:")


def coverage_label(cov: pd.DataFrame, campaign: str, period: str, lang: str) -> str:
    """The coverage label of one campaign × period ('' when unknown)."""
    if cov is None or cov.empty:
        return ""
    hit = cov[(cov["campaign_code"] == campaign) & (cov["period_code"] == period)]
    if hit.empty:
        return ""
    label = hit.iloc[0]["label_en" if lang == "en" else "label_zh"]
    return "" if pd.isna(label) else str(label)


# ---------------------------------------------------------------- presentation (issue 14)
# The rules live in dashboards.present (plain functions, also used by the briefing); pages call these.

from dashboards import outlook as _outlook  # noqa: E402
from dashboards import present  # noqa: E402

TONE_COLOR = {"good": "green", "warn": "orange", "bad": "red"}
UNIT_PAGE = "app_pages/unit.py"


def num(v: object, unit: object = None) -> str:
    return present.number(v, unit, lang())


def unit_name(unit: object) -> str:
    return present.unit_label(unit, lang())


def threshold_text(row) -> str:
    return present.threshold(row, lang())


def outcome_md(o: _outlook.Outlook) -> str:
    return f":{TONE_COLOR[_outlook.STATUS_TONE[o.status]]}-badge[{o.status_label(lang())}]"


def unit_link(org_code: str | None, label: str, key: str | None = None) -> None:
    """A link to the unit page of `org_code` (keeps the session: no new sign-in)."""
    if not org_code:
        st.markdown(label)
        return
    st.page_link(UNIT_PAGE, label=label, icon=":material/apartment:", query_params={"unit": org_code})


def filter_note(applies: dict[str, bool]) -> None:
    """Say which active sidebar filters this page does not apply (county always applies)."""
    active = {"campaign": campaign(), "unit": unit(), "period": period()}
    skipped = [t(k) for k, v in active.items() if v and not applies.get(k, True)]
    if skipped:
        st.caption(t("filter_not_applied", what="、".join(skipped) if lang() == "zh" else ", ".join(skipped)))


def load_outlook(county_code: str, period_code: str) -> dict:
    """Everything the Overview and the briefing say about the campaigns: outlooks, decisions, the
    failing verdicts with owners and the 通报 list — computed once, by the same functions."""
    camps = data.campaigns(county_code)
    if campaign():
        camps = camps[camps["campaign_code"] == campaign()]
    ready, estimated = data.readiness(county_code, period_code)
    cov = data.coverage(county_code, period_code)
    info = data.period_info(period_code)
    end = pd.Timestamp(info.get("end_date") or pd.Timestamp.today())
    forecast = (
        data.campaign_forecast(county_code, period_code) if data.has("marts.campaign_forecast") else None
    )
    owners = data.requirement_owners(county_code)
    groups = data.working_groups(county_code)
    outcomes = data.acceptance_outcomes(county_code)
    verdicts = data.verdicts_asof(county_code, period_code, campaign())
    outlooks = _outlook.campaign_outlooks(
        camps, ready, forecast, cov, owners, groups, outcomes, period_code, end, verdicts
    )
    rect = data.rectification(county_code) if data.has_rows("marts.rectification_item") else None
    if rect is not None and not rect.empty:
        units_df = data.units(county_code)
        nm = units_df.set_index("org_code")
        rect = rect.assign(
            owner_name_zh=rect["owner_org_code"].map(nm["name_zh"]),
            owner_name_en=rect["owner_org_code"].map(nm["name_en"]),
        )
        if campaign():
            rect = rect[rect["campaign_code"] == campaign()]
    late = notice_list(county_code, period_code)
    names = {o.campaign_code: (o.name_zh, o.name_en) for o in outlooks}
    decisions = _outlook.decisions(
        outlooks, verdicts, rect, late, names, lambda r, lg: present.value_vs_threshold(r, lg)
    )
    if unit():
        decisions = [d for d in decisions if d.owner_org_code == unit()]
    return {
        "campaigns": camps,
        "ready": ready,
        "estimated": estimated,
        "coverage": cov,
        "end": end,
        "info": info,
        "outlooks": outlooks,
        "decisions": decisions,
        "verdicts": verdicts,
        "notice": late,
    }


_CODE_IN_PARENS = re.compile(r"\s?[（(][a-z][a-z0-9_]*[）)]")


def _no_codes(text: object) -> object:
    """A text without "（env_total_load_reduction）"-style codes in parentheses."""
    return _CODE_IN_PARENS.sub("", text) if isinstance(text, str) else text


def notice_list(county_code: str, period_code: str) -> pd.DataFrame:
    """The 通报 list of a month — the one list the Units page, the unit page and the briefing show:
    org_code, org_name_zh, org_name_en, rank, score, missing_returns, late_returns, reason_zh, reason_en."""
    cols = ["org_code", "org_name_zh", "org_name_en", "rank", "score", "missing_returns", "late_returns"]
    cols += ["working_days_late_max", "reason_zh", "reason_en"]
    if data.has_rows("marts.lagging_unit") and data.has_rows("marts.unit_accountability"):
        lag = data.lagging_units(county_code, period_code)
        acc = data.unit_accountability(county_code, period_code).set_index("org_code")
        out = pd.DataFrame(
            {
                "org_code": lag["org_code"],
                "org_name_zh": lag["org_code"].map(acc["org_name_zh"]).fillna(lag["unit_name_zh"]),
                "org_name_en": lag["org_code"].map(acc["org_name_en"]),
                "rank": lag["rank"],
                "score": lag["score"],
                "missing_returns": lag["org_code"].map(acc["returns_missing"]).fillna(0).astype(int),
                "late_returns": lag["org_code"].map(acc["returns_late"]).fillna(0).astype(int),
                "working_days_late_max": lag["org_code"].map(acc["working_days_late_max"]),
                "reason_zh": lag["reason_zh"],
                "reason_en": lag["reason_en"],
            }
        )
        # the mart's texts name a unit or a requirement by its code too: names only on the pages
        out["reason_zh"] = [_no_codes(r) for r in out["reason_zh"]]
        out["reason_en"] = [_no_codes(r) for r in out["reason_en"]]
        out["reason_en"] = [
            str(r).replace(c, str(n or z)) if isinstance(r, str) else r
            for r, c, n, z in zip(
                out["reason_en"], out["org_code"], out["org_name_en"], out["org_name_zh"], strict=False
            )
        ]
        return out.reset_index(drop=True)
    if not data.has("core.submission"):
        return pd.DataFrame(columns=cols)
    exp = data.expected_returns(county_code, period_code)
    bad = exp[exp["return_status"] != "on_time"]
    return pd.DataFrame(
        {
            "org_code": bad["org_code"],
            "org_name_zh": bad["org_name_zh"],
            "org_name_en": bad["org_name_en"],
            "rank": None,
            "score": None,
            "missing_returns": (bad["return_status"] == "missing").astype(int),
            "late_returns": (bad["return_status"] == "late").astype(int),
            "working_days_late_max": bad["working_days_late"],
            "reason_zh": [
                f"{r.org_name_zh}："
                + (
                    "缺报"
                    if r.return_status == "missing"
                    else f"迟报 {int(r.working_days_late or 0)} 个工作日"
                )
                for r in bad.itertuples(index=False)
            ],
            "reason_en": [
                f"{r.org_name_en or r.org_name_zh}: "
                + (
                    "missing"
                    if r.return_status == "missing"
                    else f"{int(r.working_days_late or 0)} working days late"
                )
                for r in bad.itertuples(index=False)
            ],
        }
    ).reset_index(drop=True)


# ---------------------------------------------------------------- phone: tables become cards

_CARD_CSS = """
<style>
@media (max-width: 700px) { [class*="st-key-desk_"] { display: none !important; } }
@media (min-width: 701px) { [class*="st-key-cards_"] { display: none !important; } }
.wc-card { border: 1px solid #e0e0e0; border-radius: 8px; padding: 8px 10px; margin: 6px 0; }
.wc-card .wc-top { font-weight: 600; }
.wc-card .wc-sub { color: #555; font-size: 0.9em; }
.modebar-container { top: auto !important; bottom: 0 !important; }
</style>
"""


def page_css() -> None:
    st.html(_CARD_CSS)


def table(
    frame: pd.DataFrame,
    key: str,
    card_title: str,
    card_first: list[str] | None = None,
    styled=None,
    **dataframe_kwargs,
):
    """A table on a desktop and cards on a phone (status and value first: `card_first` columns lead
    each card, `card_title` is its heading). Returns the dataframe's selection event (desktop)."""
    import html as _html

    page_css()
    with st.container(key=f"desk_{key}"):
        event = st.dataframe(
            styled if styled is not None else frame,
            hide_index=True,
            width="stretch",
            key=key,
            **dataframe_kwargs,
        )
    with st.container(key=f"cards_{key}"):
        first = [c for c in (card_first or []) if c in frame.columns]
        rest = [c for c in frame.columns if c not in first and c != card_title and not c.startswith("_")]
        parts = []
        for _, row in frame.head(60).iterrows():
            top = " · ".join(_html.escape(str(row[c])) for c in first if str(row[c]))
            sub = "<br>".join(
                f"{_html.escape(str(c))}: {_html.escape(str(row[c]))}"
                for c in rest
                if not isinstance(row[c], (list, tuple)) and str(row[c]) not in ("", "[]")
            )
            parts.append(
                f'<div class="wc-card"><div class="wc-top">{_html.escape(str(row.get(card_title, "")))}</div>'
                f'<div class="wc-top">{top}</div><div class="wc-sub">{sub}</div></div>'
            )
        st.html("".join(parts))
    return event


# ---------------------------------------------------------------- page and filters in the URL

URL_PARAMS = ((K_COUNTY, "county"), (K_CAMPAIGN, "campaign"), (K_PERIOD, "period"), (K_UNIT, "unit"))


def set_filter(key: str, value: str | None) -> None:
    """Set a sidebar filter from code (a link, the URL): the value and the widget's own state, so the
    browser's widget shows it too (a widget keeps its value in the browser otherwise)."""
    st.session_state[key] = value
    for lg in ("zh", "en"):
        st.session_state.pop(f"{key}__{lg}", None)
    st.session_state[widget_key(key)] = value if value is not None else ""


def url_in() -> None:
    """Before the filters: a filter given in the URL (a shared link, the back button, a click-through)
    wins over the session's value. Values are checked by the filter widgets (unknown ones fall back)."""
    qp = st.query_params
    for key, param in URL_PARAMS:
        value = qp.get(param)
        if value is not None and value != st.session_state.get(f"_url_{param}"):
            set_filter(key, value)
            st.session_state[f"_url_{param}"] = value


def link_params(**overrides: str) -> dict[str, str]:
    """The current filters as query parameters, with `overrides` (a link carries them all, so the
    address needs no second update and the back button goes back one step)."""
    out = {p: st.session_state.get(k) for k, p in URL_PARAMS}
    out |= overrides
    return {k: str(v) for k, v in out.items() if v}


def url_out() -> None:
    """After the filters: the chosen filters in the URL (shareable, bookmarkable), written in one
    update (one browser-history entry, so the back button restores the previous view)."""
    qp = st.query_params
    wanted = {k: v for k, v in qp.to_dict().items() if k not in dict((p, 1) for _k, p in URL_PARAMS)}
    wanted |= link_params()
    if qp.to_dict() != wanted:
        qp.from_dict(wanted)
    for key, param in URL_PARAMS:
        st.session_state[f"_url_{param}"] = st.session_state.get(key) or None


def _home() -> None:
    st.switch_page("app_pages/overview.py", query_params=dict(st.query_params))


def home_page() -> st.Page:
    """The default page `/`: a hidden page that opens the Overview at `/overview` (keeping the
    filters in the address), so that `/overview` is a real address — shareable, and still the page
    shown after signing in (a default page with a url_path is only served at `/`)."""
    return st.Page(_home, title=t("page_overview"), url_path="home", default=True, visibility="hidden")


# ---------------------------------------------------------------- tables with labels and formatted values


def fmt_date(v: object) -> str:
    if present.is_missing(v):
        return present.DASH
    try:
        return f"{pd.Timestamp(v):%Y-%m-%d}"
    except (TypeError, ValueError):
        return str(v)


def fmt_time(v: object) -> str:
    if present.is_missing(v):
        return present.DASH
    try:
        return f"{pd.Timestamp(v):%Y-%m-%d %H:%M}"
    except (TypeError, ValueError):
        return str(v)


def fmt_int(v: object) -> str:
    return present.DASH if present.is_missing(v) else f"{int(float(v))}"


def fmt_text(v: object) -> str:
    return present.DASH if present.is_missing(v) or str(v) == "" else str(v)


def fmt_yes(v: object) -> str:
    if present.is_missing(v):
        return present.DASH
    return t("yes") if bool(v) else t("no")


def org_names(county_code: str) -> dict[str, str]:
    """org_code -> the unit's name in the viewer's language (units the viewer may see)."""
    df = data.units(county_code)
    return {r.org_code: name(r._asdict()) for r in df.itertuples(index=False)}


def labelled(frame: pd.DataFrame, spec: list[tuple[str, str, object]]) -> pd.DataFrame:
    """A table for the eye: (source column, label key, formatter) per column, in order; every value
    turned into text by its formatter (None -> "—"), every header a label in the viewer's language."""
    out = {}
    for col, key, fmt in spec:
        values = frame[col] if col in frame.columns else pd.Series([None] * len(frame), index=frame.index)
        f = fmt or fmt_text
        out[t(key)] = [f(v) for v in values]
    return pd.DataFrame(out, index=frame.index).reset_index(drop=True)


def plan_gantt_figure(county_code: str, title: str):
    """The plan's Gantt grouped by campaign (charts.plan_gantt) from marts.plan_schedule and the
    campaigns; honours the campaign and unit filters (tasks of the chosen unit only). Today = the
    schedule's as-of date (the data horizon), so an old sample is drawn at its own "today"."""
    camps = data.campaigns(county_code)
    if campaign():
        camps = camps[camps["campaign_code"] == campaign()]
    names = {r.campaign_code: name(r._asdict()) for r in camps.itertuples(index=False)}
    rows = [{"row": "", "kind": "bar", "name": t("plan_phases"), "start": None, "end": None, "status": None}]
    rows += [
        {"row": r.campaign_code, "kind": "bar", "name": names[r.campaign_code], "start": r.start_date,
         "end": r.acceptance_date, "status": None}
        for r in camps.itertuples(index=False)
    ]  # fmt: skip
    today = None
    if data.has_rows("marts.plan_schedule"):
        s = data.plan_schedule(county_code)
        s = s[s["campaign_code"].isna() | s["campaign_code"].isin(names)]
        if unit():
            s = s[s["owner_org_code"].isna() | (s["owner_org_code"] == unit())]
        lang_col = "name_en" if lang() == "en" else "name_zh"
        for r in s.itertuples(index=False):
            label = getattr(r, lang_col) or r.name_zh
            row = r.campaign_code if isinstance(r.campaign_code, str) else ""
            if r.item_kind == "phase":
                rows.append({"row": "", "kind": "bar", "name": label, "start": r.start_date, "end": r.due_date,
                             "status": r.status})  # fmt: skip
            else:
                rows.append({"row": row, "kind": "mark", "name": label, "start": None, "end": r.due_date,
                             "status": r.status})  # fmt: skip
        if "as_of_date" in s and s["as_of_date"].notna().any():
            today = pd.Timestamp(s["as_of_date"].max())
    items = pd.DataFrame(rows)
    row_labels = {"": t("plan_county_wide")} | names
    labels = {k: t(f"plan_{k}") for k in ("done", "overdue", "pending", "today")}
    return charts.plan_gantt(items, row_labels, labels, title, today)


_LONG_DECIMAL = re.compile(r"(?<![\w.])(-?\d+\.\d{3,})(?![\w.])")
_SNAKE_TOKEN = re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w./-])")


@st.cache_data(ttl=300, show_spinner=False)
def _code_names(snapshot: str, county_code: str, lang_code: str, viewer_key: str) -> dict[str, str]:
    owners = data.requirement_owners(county_code)
    inds = data.indicators(county_code)
    col = "en" if lang_code == "en" else "zh"
    out = dict(zip(inds["indicator_code"], inds[f"name_{col}"].fillna(inds["name_zh"]), strict=False))
    out |= dict(
        zip(owners["requirement_code"], owners[f"req_name_{col}"].fillna(owners["req_name_zh"]), strict=False)
    )
    return out


def tidy(text: object, county_code: str | None = None) -> object:
    """A text from the warehouse made fit to show: indicator and requirement codes replaced by their
    names, numbers with three or more decimals rounded to two (messages written by the pipeline)."""
    if not isinstance(text, str):
        return text
    viewer = auth.current_viewer()
    names = _code_names(
        data.snapshot_name(), county_code or county() or "", lang(), viewer.username if viewer else ""
    )
    text = _SNAKE_TOKEN.sub(lambda m: names.get(m.group(0), m.group(0)), text)
    return _LONG_DECIMAL.sub(lambda m: present.number(float(m.group(1)), with_unit=False), text)
