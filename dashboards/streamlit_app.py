"""The dashboard frame: page config, language switch, sidebar filters, navigation over app_pages/.

Run: streamlit run dashboards/streamlit_app.py (or `make dashboard`). Reads the latest published
snapshot under Settings.from_env().published_dir (WUCHUANG_WAREHOUSE_DIR overrides the folder).
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run` puts dashboards/ on the path, not the project root
    sys.path.insert(0, str(ROOT))

from dashboards import auth, data, i18n, ui  # noqa: E402
from pipelines.warehouse.publish import NoSnapshotError  # noqa: E402

st.set_page_config(
    page_title="五创联动指标监测 / Creation-campaign monitoring",
    page_icon=":material/monitoring:",
    layout="wide",
)

PAGES = (
    ("page_overview", "app_pages/overview.py", "overview", ":material/dashboard:"),
    ("page_campaign", "app_pages/campaign.py", "campaign", ":material/flag:"),
    ("page_indicator", "app_pages/indicator.py", "indicator", ":material/show_chart:"),
    ("page_units", "app_pages/units.py", "units", ":material/apartment:"),
    ("page_submissions", "app_pages/submissions.py", "submissions", ":material/inbox:"),
    ("page_plan", "app_pages/plan.py", "plan", ":material/event:"),
    ("page_archive", "app_pages/archive.py", "archive", ":material/folder_open:"),
    ("page_supervision", "app_pages/supervision.py", "supervision", ":material/checklist:"),
    ("page_sql", "app_pages/sql.py", "sql", ":material/terminal:"),
    ("page_briefing", "app_pages/briefing.py", "briefing", ":material/description:"),
    ("page_mappings", "app_pages/mappings.py", "mappings", ":material/table_edit:"),
    ("page_admin", "app_pages/admin.py", "admin", ":material/admin_panel_settings:"),
    ("page_workspace", "app_pages/workspace.py", "workspace", ":material/assignment:"),
    ("page_review", "app_pages/review.py", "review", ":material/fact_check:"),
    ("page_notices", "app_pages/notices.py", "notices", ":material/notifications:"),
    ("page_unit", "app_pages/unit.py", "unit", ":material/domain:"),
)
VIEWER = auth.current_viewer()
if VIEWER is None:
    # Nothing runs before sign-in: no page, filter or download. The pages are registered (hidden, never
    # run) only so that the address asked for (e.g. /units) is still the page shown after signing in.
    st.navigation(
        [ui.home_page()] + [st.Page(path, url_path=url) for _key, path, url, _icon in PAGES],
        position="hidden",
    )
    VIEWER = auth.require_viewer()  # renders the sign-in form and stops the run

# Pages a role is offered (the pages and the data layer check again: this only spares a dead end).
PAGE_NEEDS = {"sql": "sql", "mappings": "mappings", "admin": "users"}
PAGE_NEEDS |= {"workspace": "upload", "review": "approve", "notices": "approve"}  # workspace, review, notices


def _who(viewer: auth.Viewer) -> None:
    sb = st.sidebar
    lang = ui.lang()
    try:
        names = {r.org_code: ui.name(r._asdict()) for r in data.units(viewer.county_code).itertuples()}
    except (NoSnapshotError, data.MissingTables):
        names = {}
    scope = "、".join(names.get(u, u) for u in viewer.units[:5]) + ("…" if len(viewer.units) > 5 else "")
    sb.caption(
        f"{ui.t('signed_in_as')}: **{viewer.display_name}** (`{viewer.username}`) · "
        f"{ui.t('role')}: {viewer.role_name(lang)}"
        + (f" · {ui.t('scope_units')}: {scope}" if viewer.units else "")
    )
    if sb.button(ui.t("sign_out"), key="auth_sign_out", icon=":material/logout:"):
        auth.sign_out()


def _filters() -> None:
    sb = st.sidebar
    sb.subheader(ui.t("filters"))
    try:
        counties = data.counties()
    except (NoSnapshotError, data.MissingTables):
        sb.info(i18n.both("no_snapshot"))
        return
    if counties.empty:
        sb.info(i18n.both("table_missing", tables="dim.county"))
        return
    county_names = {r.county_code: ui.name(r._asdict()) for r in counties.itertuples(index=False)}
    county = ui.select(sb, ui.t("county"), list(county_names), county_names, ui.K_COUNTY)
    camps = data.campaigns(county)
    camp_names = {"": ui.t("all")} | {
        r.campaign_code: ui.name(r._asdict()) for r in camps.itertuples(index=False)
    }
    ui.select(sb, ui.t("campaign"), list(camp_names), camp_names, ui.K_CAMPAIGN)
    months = data.months(county)
    if months:
        ui.select(sb, ui.t("period"), months, {}, ui.K_PERIOD, default_last=True)
    units = data.units(county)
    unit_names = {"": ui.t("all")} | {r.org_code: ui.name(r._asdict()) for r in units.itertuples(index=False)}
    ui.select(sb, ui.t("unit"), list(unit_names), unit_names, ui.K_UNIT)
    snap = data.snapshot_path()
    if snap is not None:
        sb.caption(f"{ui.t('snapshot')}: `{snap.name}`")


st.sidebar.toggle(i18n.t("lang_switch"), key=ui.K_LANG)
_who(VIEWER)
pages = [
    st.Page(path, title=ui.t(key), url_path=url, icon=icon)
    for key, path, url, icon in PAGES
    if url not in PAGE_NEEDS or VIEWER.can(PAGE_NEEDS[url])
]
nav = st.navigation(
    {ui.t("section_leaders"): [ui.home_page()] + pages[:4], ui.t("section_analysts"): pages[4:]},
    position="sidebar",
)
ui.url_in()  # filters given in the address (shared link, back button, click-through) win
_filters()
ui.url_out()  # and the chosen ones go back into the address
ui.page_css()  # phone cards, plot tool bars below titles
ui.stale_banner()  # published data older than a received file, or the last run failed
nav.run()
