"""Shared Streamlit helpers for the pages: language, filters in session state, notices, downloads.

Pages stay thin: they call `data` for frames, `charts` for figures and these helpers for the rest.
A table that is not built yet, or no snapshot at all, becomes an info notice in Chinese and English.
"""

from __future__ import annotations

import os
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

    container.selectbox(
        label,
        options,
        index=options.index(current) if options else None,
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
