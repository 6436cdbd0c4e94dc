"""档案资料 Archive: the evidence the inspection expects, clause by clause. Readiness per campaign and
clause (archive next to indicator readiness, the prerequisite cap), the documents still missing with
the responsible unit and due date, every item with its versions, the upload (a unit's clerk for its own
items, the office for any), the office's review (accept, or return with a comment), and the
inspection package (迎检资料包) for the office."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboards import archive_data as ad
from dashboards import ui
from pipelines.archive import package
from pipelines.archive import store as es
from pipelines.uploads import UploadRefused

ui.header("page_archive")
viewer = ui.require("read")
lang = ui.lang()
county = viewer.county_code or ui.county()
today = dt.date.today()


def pct(x) -> str:
    return "—" if x is None or pd.isna(x) else f"{x * 100:.1f}%"


def period_text(code: str) -> str:
    if code == "once":
        return ui.t("ar_period_once")
    if lang == "en":
        return code.replace("Q", " Q")
    return package.period_label(code)


def yes(flag) -> str:
    return ui.t("ar_yes") if flag else ""


def clause_name(r: dict) -> str:
    return r["clause_name_en"] if lang == "en" else r["clause_name_zh"]


def title(r: dict) -> str:
    return (
        r.get("title_en") if lang == "en" and r.get("title_en") else r.get("title_zh") or r.get("title") or ""
    )


def summary(row: dict) -> None:
    c = st.columns(4)
    c[0].metric(ui.t("ar_required"), row["required"])
    c[1].metric(ui.t("ar_provided"), row["provided"])
    c[2].metric(ui.t("ar_accepted"), row["accepted"])
    c[3].metric(ui.t("ar_missing"), row["missing"])
    c = st.columns(3)
    c[0].metric(ui.t("ar_archive_readiness"), pct(row["archive_readiness"]))
    c[1].metric(
        ui.t("ar_indicator_readiness"),
        pct(row["indicator_readiness"]),
        help=row["indicator_period_code"] or None,
    )
    c[2].metric(ui.t("ar_overall_readiness"), pct(row["overall_readiness"]))
    if row["is_capped"]:
        names = {r["clause_code"]: clause_name(r) for r in ad.clause_rows(viewer, county, campaign, today)}
        clauses = "、".join(names.get(c, c) for c in row["prerequisite_missing_codes"])
        st.warning(ui.t("ar_capped", cap=pct(ad.cap()), clauses=clauses), icon=":material/block:")
    else:
        st.success(ui.t("ar_not_capped"), icon=":material/verified:")
    st.caption(ui.t("ar_rule", cap=pct(ad.cap())))


def clauses_tab() -> None:
    rows = ad.clause_rows(viewer, county, campaign, today)
    a = ad.archive(county)
    df = pd.DataFrame(
        {
            ui.t("col_clause"): [clause_name(r) for r in rows],
            ui.t("ar_campaign"): [ui.t(f"ar_cat_{r['category']}") for r in rows],
            ui.t("col_prerequisite"): [yes(r["prerequisite"]) for r in rows],
            ui.t("col_required"): [r["required"] for r in rows],
            ui.t("col_provided"): [r["provided"] for r in rows],
            ui.t("col_accepted"): [r["accepted"] for r in rows],
            ui.t("col_returned_n"): [r["n_returned"] for r in rows],
            ui.t("col_overdue"): [r["n_overdue"] for r in rows],
            ui.t("col_share"): [pct(r["share_accepted"]) for r in rows],
            ui.t("col_next_due"): [str(r["next_due_date"] or "—") for r in rows],
            ui.t("col_units"): ["、".join(a.unit_name(u, lang) for u in r["units"]) for r in rows],
        }
    )
    df = df.rename(columns={ui.t("ar_campaign"): ui.t("col_kind_ev")})
    st.dataframe(df, hide_index=True, width="stretch")
    ui.downloads(df, f"archive_clauses_{campaign}", "ar_clauses_dl")


def missing_tab() -> None:
    rows = ad.slot_rows(viewer, county, campaign, owed_only=True, as_of=today)
    rows.sort(key=lambda r: (not r["is_overdue"], r["due_date"], r["clause_order"]))
    if not rows:
        ui.empty_notice()
        return
    a = ad.archive(county)
    df = pd.DataFrame(
        {
            ui.t("col_clause"): [clause_name(r) for r in rows],
            ui.t("col_evidence_item"): [title(r) for r in rows],
            ui.t("ar_pick_period"): [period_text(r["period_code"]) for r in rows],
            ui.t("col_unit"): [a.unit_name(r["provider_short"], lang) for r in rows],
            ui.t("col_due"): [str(r["due_date"]) for r in rows],
            ui.t("col_state"): [ui.t(f"ar_state_{r['state']}") for r in rows],
            ui.t("col_accepted"): [f"{r['accepted']}/{r['required']}" for r in rows],
            ui.t("col_overdue"): [yes(r["is_overdue"]) for r in rows],
            ui.t("col_prerequisite"): [yes(r["prerequisite"]) for r in rows],
        }
    )
    st.dataframe(df, hide_index=True, width="stretch")
    ui.downloads(df, f"archive_missing_{campaign}", "ar_missing_dl")  # to send to the units


def items_tab() -> None:
    vs = ad.versions(viewer, county, campaign)
    if not vs:
        ui.empty_notice()
        return
    a = ad.archive(county)
    clause_names = {c.code: (c.name_en if lang == "en" else c.name_zh) for c in a.clauses(campaign)}
    st.dataframe(
        pd.DataFrame(
            {
                ui.t("col_clause"): [clause_names.get(v["clause_code"], v["clause_code"]) for v in vs],
                ui.t("col_evidence_item"): [v["title"] for v in vs],
                ui.t("ar_pick_period"): [period_text(v["period_code"]) for v in vs],
                ui.t("col_unit"): [a.unit_name(v["unit_code"], lang) for v in vs],
                ui.t("col_version"): [f"v{v['version']}" for v in vs],
                ui.t("col_file"): [v["original_name"] for v in vs],
                ui.t("col_size"): [f"{v['size_bytes'] / 1024:.0f} KB" for v in vs],
                ui.t("col_uploaded"): [v["uploaded_at"][:16].replace("T", " ") for v in vs],
                ui.t("col_by"): [
                    a.unit_name(v["unit_code"], lang) if v["channel"] == "drop_folder" else v["uploaded_by"]
                    for v in vs
                ],
                ui.t("col_channel_ev"): [ui.t(f"ar_channel_{v['channel']}") for v in vs],
                ui.t("col_review"): [ui.t(f"ar_state_{v['review_state']}") for v in vs],
                ui.t("col_comment"): [v["review_comment"] or "" for v in vs],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    mine = [v for v in vs if ad.may_download(viewer, county, v["unit_code"])][:300]
    if mine:
        names = {
            v[
                "version_id"
            ]: f"{v['title'][:40]} · {period_text(v['period_code'])} · v{v['version']} · {v['original_name']}"
            for v in mine
        }
        pick = st.selectbox(
            ui.t("ar_download_file"), list(names), format_func=names.get, key=f"ar_file_pick_{lang}"
        )
        got = ad.file_bytes(viewer, county, pick)
        if got is not None:
            st.download_button(
                ui.t("ar_download_file"),
                got[1],
                file_name=got[0],
                key="ar_file_dl",
                on_click=ui.audited("download", file=got[0], version_id=pick),
            )


def upload_tab() -> None:
    slots = ad.upload_slots(viewer, county, campaign)
    if not slots:
        st.info(ui.t("ar_no_slots"))
        return
    a = ad.archive(county)
    by_clause: dict[str, list] = {}
    for s in slots:
        by_clause.setdefault(s.clause_code, []).append(s)
    clause_labels = {
        c: (f"{ss[0].clause_name_en}" if lang == "en" else ss[0].clause_name_zh)
        for c, ss in by_clause.items()
    }
    clause = st.selectbox(
        ui.t("ar_pick_clause"), list(by_clause), format_func=clause_labels.get, key=f"ar_up_clause_{lang}"
    )
    items = {}
    for s in by_clause[clause]:
        items.setdefault(s.item_code, s)
    item = st.selectbox(
        ui.t("ar_pick_item"),
        list(items),
        format_func=lambda k: f"{title(items[k].__dict__)} · {ui.t('ar_kind_' + items[k].kind)}",
        key=f"ar_up_item_{lang}",
    )
    periods = [s for s in by_clause[clause] if s.item_code == item]
    period = st.selectbox(
        ui.t("ar_pick_period"),
        [s.period_code for s in periods],
        format_func=period_text,
        key=f"ar_up_period_{lang}",
    )
    slot = next(s for s in periods if s.period_code == period)
    st.caption(
        f"{ui.t('col_unit')}: {a.unit_name(slot.provider_short, lang)} · {ui.t('col_due')}: {slot.due_date} · "
        f"{ui.t('col_required')}: {slot.count} · {ui.t('col_source')}: "
        # the standard's own (Chinese) wording is cited as a quotation in English mode
        + (f"「{slot.source}」 (Chinese source)" if lang == "en" else str(slot.source))
        + (f" · {ui.t('col_assumed')}" if slot.assumed else "")
    )
    existing = es.latest_versions(a.store, a.county, campaign)
    existing = [v for v in existing if (v["clause_code"], v["item_code"], v["period_code"]) == slot.key[1:]]
    targets = {"": ui.t("ar_new_item")} | {
        v["item_id"]: ui.t(
            "ar_new_version",
            title=v["original_name"],
            version=v["version"],
            state=ui.t(f"ar_state_{v['review_state']}"),
        )
        for v in existing
    }
    with st.form("ar_upload", clear_on_submit=True):
        target = st.selectbox(ui.t("ar_pick_target"), list(targets), format_func=targets.get)
        up = st.file_uploader(ui.t("ar_file"), key="ar_up_file")
        go = st.form_submit_button(ui.t("ar_upload_btn"), type="primary", icon=":material/upload:")
    if go and up is not None:
        try:
            made = ad.submit(viewer, county, slot.key, up.getvalue(), up.name, target or None)
            st.success(ui.t("ar_uploaded", version=made["version"]), icon=":material/check_circle:")
        except UploadRefused as exc:
            st.error(f"{exc.message_zh} / {exc.message_en}")
        except (es.ArchiveError, ad.OutOfScope) as exc:
            st.error(str(exc))


def review_tab() -> None:
    pend = ad.pending(viewer, county, campaign)
    st.subheader(ui.t("ar_pending"))
    if not pend:
        st.info(ui.t("ar_none_pending"))
        return
    a = ad.archive(county)
    st.dataframe(
        pd.DataFrame(
            {
                ui.t("col_evidence_item"): [v["title"] for v in pend],
                ui.t("ar_pick_period"): [period_text(v["period_code"]) for v in pend],
                ui.t("col_unit"): [a.unit_name(v["unit_code"], lang) for v in pend],
                ui.t("col_version"): [f"v{v['version']}" for v in pend],
                ui.t("col_file"): [v["original_name"] for v in pend],
                ui.t("col_uploaded"): [v["uploaded_at"][:16].replace("T", " ") for v in pend],
                ui.t("col_by"): [v["uploaded_by"] for v in pend],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    names = {
        v[
            "version_id"
        ]: f"{v['title'][:40]} · {period_text(v['period_code'])} · v{v['version']} · {v['original_name']}"
        for v in pend
    }
    with st.form("ar_review", clear_on_submit=True):
        pick = st.selectbox(ui.t("ar_pick_version"), list(names), format_func=names.get)
        comment = st.text_area(ui.t("ar_comment"))
        c1, c2 = st.columns(2)
        ok = c1.form_submit_button(ui.t("ar_accept"), type="primary", icon=":material/check:")
        back = c2.form_submit_button(ui.t("ar_return"), icon=":material/undo:")
    if ok or back:
        try:
            ad.review(viewer, county, pick, "accepted" if ok else "returned", comment)
            st.success(ui.t("ar_done_accept" if ok else "ar_done_return"))
        except es.ArchiveError as exc:
            st.error(f"{exc.message_zh} / {exc.message_en}")


def package_tab() -> None:
    st.caption(ui.t("ar_package_note"))
    if st.button(ui.t("ar_package_build"), key="ar_pkg_build", icon=":material/inventory_2:"):
        with st.spinner("…"):
            try:
                data_bytes, cover = ad.build_package(viewer, county, campaign, today)
            except package.NoFont as exc:
                st.error(str(exc))
                return
        st.session_state["ar_pkg"] = (campaign, data_bytes, cover["n_files"])
    got = st.session_state.get("ar_pkg")
    if got and got[0] == campaign:
        st.success(ui.t("ar_package_ready", files=got[2]))
        st.download_button(
            ui.t("ar_package_download"),
            got[1],
            file_name=f"迎检资料包_{campaign}_{today:%Y%m%d}.zip",
            mime="application/zip",
            key="ar_pkg_dl",
            type="primary",
            icon=":material/download:",
        )


def refused_tab() -> None:
    rows = ad.refusals(viewer, county)
    if not rows:
        ui.empty_notice()
        return
    st.dataframe(
        pd.DataFrame(
            {
                ui.t("col_at"): [r["at"][:16].replace("T", " ") for r in rows],
                ui.t("col_file"): [r["rel_path"] or r["original_name"] for r in rows],
                ui.t("col_reason"): [r["message_en"] if lang == "en" else r["message_zh"] for r in rows],
            }
        ),
        hide_index=True,
        width="stretch",
    )


if not county:
    st.info(ui.t("ar_no_campaign"))
    st.stop()

with ui.part():
    codes = ad.campaigns(viewer, county)
    if not codes:
        ui.empty_notice()
        st.stop()
    a = ad.archive(county)
    names = {
        c: a.catalog.campaigns[c].name_en if lang == "en" else a.catalog.campaigns[c].name_zh for c in codes
    }
    if st.session_state.get("ar_campaign") not in codes and ui.campaign() in codes:
        st.session_state["ar_campaign"] = ui.campaign()  # the sidebar's campaign, on first visit
    campaign = ui.select(st, ui.t("ar_campaign"), codes, names, "ar_campaign")  # keeps it across languages
    row = ad.campaign_row(viewer, county, campaign, today)
    if row is not None:
        summary(row)
    tabs = [("ar_tab_clauses", clauses_tab), ("ar_tab_missing", missing_tab), ("ar_tab_items", items_tab)]
    if viewer.can("upload"):
        tabs.append(("ar_tab_upload", upload_tab))
    if viewer.can("approve"):
        tabs += [
            ("ar_tab_review", review_tab),
            ("ar_tab_package", package_tab),
            ("ar_tab_refused", refused_tab),
        ]
    for tab, render in zip(st.tabs([ui.t(k) for k, _f in tabs]), [f for _k, f in tabs], strict=True):
        with tab:
            render()
