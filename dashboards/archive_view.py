"""Archive (档案资料) summaries for other pages: ready-to-call data and render functions.

For the Overview (`overview_frame` / `render_overview`), the campaign page (`campaign_summary` /
`render_campaign_summary`), the unit workspace (`unit_owed` / `render_unit_owed`) and the briefing
(`briefing_lines`). Data functions are plain (no Streamlit) and scoped by the viewer through
`dashboards.archive_data`; render functions draw compact Streamlit elements in the page's language
with a link to 档案资料.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboards import archive_data as ad
from dashboards import auth, i18n
from pipelines.archive import package


def _pct(x) -> str:
    return "—" if x is None or pd.isna(x) else f"{x * 100:.1f}%"


def _campaign_name(county: str, code: str, lang: str) -> str:
    c = ad.archive(county).catalog.campaigns[code]
    return c.name_en if lang == "en" else c.name_zh


def _period(code: str, lang: str) -> str:
    if code == "once":
        return i18n.t("ar_period_once", lang)
    return code.replace("Q", " Q") if lang == "en" else package.period_label(code)


def campaign_summary(
    viewer: auth.Viewer, county: str, campaign: str, as_of: dt.date | None = None, lang: str = "zh"
) -> dict | None:
    """The campaign's archive figures (required, provided, accepted, missing, returned, overdue, archive
    readiness, the prerequisite cap with the clause names, indicator and overall readiness) plus a
    one-line `text` in `lang`; None when the viewer may not see the campaign."""
    if not viewer.sees_campaign(campaign):
        return None
    row = ad.campaign_row(viewer, county, campaign, as_of)
    if row is None:
        return None
    clauses = {r["clause_code"]: r for r in ad.clause_rows(viewer, county, campaign, as_of)}
    key = "clause_name_en" if lang == "en" else "clause_name_zh"
    missing = [clauses[c][key] for c in row["prerequisite_missing_codes"] if c in clauses]
    out = dict(row, campaign_name=_campaign_name(county, campaign, lang), prerequisite_missing_names=missing)
    if lang == "en":
        text = (
            f"Archive: {row['accepted']}/{row['required']} documents accepted ({_pct(row['share_accepted'])}), "
            f"{row['provided'] - row['accepted']} awaiting review, {row['n_returned']} returned; archive readiness "
            f"{_pct(row['archive_readiness'])}"
        )
        if missing:
            text += f"; capped at {_pct(row['readiness_cap'])}: prerequisite evidence missing ({', '.join(missing)})"
    else:
        text = (
            f"档案资料：审核通过 {row['accepted']}/{row['required']} 份（{_pct(row['share_accepted'])}），"
            f"待审核 {row['provided'] - row['accepted']} 份，退回 {row['n_returned']} 份；档案准备度 "
            f"{_pct(row['archive_readiness'])}"
        )
        if missing:
            text += f"；前提条件资料缺失（{'、'.join(missing)}），封顶 {_pct(row['readiness_cap'])}"
    out["text"] = text
    return out


def overview_frame(
    viewer: auth.Viewer, county: str, lang: str = "zh", as_of: dt.date | None = None
) -> pd.DataFrame:
    """One row per campaign the viewer may see: archive next to indicator and overall readiness."""
    rows = ad.campaign_rows(viewer, county, as_of)
    t = lambda k: i18n.t(k, lang)  # noqa: E731
    return pd.DataFrame(
        {
            t("ar_campaign"): [_campaign_name(county, r["campaign_code"], lang) for r in rows],
            t("ar_accepted"): [f"{r['accepted']}/{r['required']}" for r in rows],
            t("ar_archive_readiness"): [_pct(r["archive_readiness"]) for r in rows],
            t("col_prerequisite"): [
                t("ar_state_missing") if r["is_capped"] else t("ar_state_accepted") for r in rows
            ],
            t("ar_indicator_readiness"): [_pct(r["indicator_readiness"]) for r in rows],
            t("ar_overall_readiness"): [_pct(r["overall_readiness"]) for r in rows],
        }
    )


def unit_owed(
    viewer: auth.Viewer, county: str, org_code: str, lang: str = "zh", as_of: dt.date | None = None
) -> pd.DataFrame:
    """The documents a unit still owes (not accepted), overdue first, in `lang`."""
    rows = ad.slot_rows(viewer, county, None, org_code=org_code, owed_only=True, as_of=as_of)
    rows.sort(key=lambda r: (not r["is_overdue"], r["due_date"], r["campaign_code"], r["clause_order"]))
    t = lambda k: i18n.t(k, lang)  # noqa: E731
    en = lang == "en"
    return pd.DataFrame(
        {
            t("ar_campaign"): [_campaign_name(county, r["campaign_code"], lang) for r in rows],
            t("col_clause"): [r["clause_name_en" if en else "clause_name_zh"] for r in rows],
            t("col_evidence_item"): [r["title_en" if en else "title_zh"] for r in rows],
            t("ar_pick_period"): [_period(r["period_code"], lang) for r in rows],
            t("col_due"): [str(r["due_date"]) for r in rows],
            t("col_state"): [t(f"ar_state_{r['state']}") for r in rows],
            t("col_overdue"): [t("ar_yes") if r["is_overdue"] else "" for r in rows],
        }
    )


def briefing_lines(
    viewer: auth.Viewer, county: str, lang: str = "zh", as_of: dt.date | None = None
) -> list[str]:
    """Lines for the briefing: each campaign's archive state, then the units owing the most overdue items."""
    lines = []
    for r in ad.campaign_rows(viewer, county, as_of):
        s = campaign_summary(viewer, county, r["campaign_code"], as_of, lang)
        if s is not None:
            lines.append(f"{s['campaign_name']}{': ' if lang == 'en' else '：'}{s['text']}")
    overdue: dict[str, int] = {}
    for r in ad.slot_rows(viewer, county, None, owed_only=True, as_of=as_of):
        if r["is_overdue"]:
            overdue[r["provider_short"]] = overdue.get(r["provider_short"], 0) + 1
    top = sorted(overdue.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    if top:
        a = ad.archive(county)
        names = [f"{a.unit_name(u, lang)} {n}" for u, n in top]
        lines.append(
            ("Units with the most overdue evidence: " + ", ".join(names))
            if lang == "en"
            else ("逾期未交档案资料最多的单位：" + "、".join(names) + " 项")
        )
    return lines


# ---------------------------------------------------------------- Streamlit renderers


def render_campaign_summary(viewer: auth.Viewer, county: str, campaign: str) -> None:
    import streamlit as st

    from dashboards import ui

    s = campaign_summary(viewer, county, campaign, None, ui.lang())
    if s is None:
        return
    st.subheader(ui.t("ar_summary_title"))
    c = st.columns(3)
    c[0].metric(ui.t("ar_archive_readiness"), _pct(s["archive_readiness"]))
    c[1].metric(ui.t("ar_accepted"), f"{s['accepted']}/{s['required']}")
    c[2].metric(ui.t("ar_overall_readiness"), _pct(s["overall_readiness"]))
    (st.warning if s["is_capped"] else st.caption)(s["text"])
    st.page_link("app_pages/archive.py", label=ui.t("page_archive"), icon=":material/folder_open:")


def render_overview(viewer: auth.Viewer, county: str) -> None:
    import streamlit as st

    from dashboards import ui

    df = overview_frame(viewer, county, ui.lang())
    if df.empty:
        return
    st.subheader(ui.t("ar_all_campaigns"))
    st.dataframe(df, hide_index=True, width="stretch")
    st.page_link("app_pages/archive.py", label=ui.t("page_archive"), icon=":material/folder_open:")


def render_unit_owed(viewer: auth.Viewer, county: str, org_code: str) -> None:
    import streamlit as st

    from dashboards import ui

    df = unit_owed(viewer, county, org_code, ui.lang())
    st.subheader(ui.t("ar_owed_title"))
    if df.empty:
        st.success(ui.t("ar_owed_none"))
        return
    st.dataframe(df, hide_index=True, width="stretch")
    st.page_link("app_pages/archive.py", label=ui.t("page_archive"), icon=":material/folder_open:")
