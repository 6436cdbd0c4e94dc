"""指标 Indicator: series per unit, threshold line of every campaign it counts for, forecast with its
uncertainty, outliers marked, and the lineage of each point (file, sheet, cell, revision)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import analytics, auth, charts, data, ui

ui.header("page_indicator")

if ui.ready():
    county = ui.county()
    ui.filter_note({"campaign": False})  # the series of one indicator, with every campaign's threshold
    with ui.part():
        inds = data.indicators(county)
        lang = ui.lang()
        labels = {  # names only: codes stay in the downloads and the SQL console
            r.indicator_code: (r.name_en or r.name_zh) if lang == "en" else r.name_zh
            for r in inds.itertuples(index=False)
        }
        goto = st.session_state.pop(ui.K_GOTO_INDICATOR, None)
        asked = st.query_params.get("indicator")  # a link (?indicator=…): applied once, then the picker rules
        if asked and asked != st.session_state.get("_url_indicator"):
            st.session_state["_url_indicator"] = goto = asked
        if goto in labels:
            st.session_state["indicator_code"] = goto
            st.session_state.pop(ui.widget_key("indicator_code"), None)
        code = ui.select(st, ui.t("indicator"), list(labels), labels, "indicator_code")
        info = inds[inds["indicator_code"] == code].iloc[0]
        unit_of = info["unit"] or ""
        obs = data.observations(county, code)
        reqs = data.indicator_requirements(county, code)
        names = ui.campaign_names()
        if ui.unit():
            obs = obs[obs["org_code"] == ui.unit()]
        current = obs[obs["is_current"].fillna(True).astype(bool) & obs["value"].notna()].copy()
        current["date"] = pd.to_datetime(current["end_date"])
        current["org_label"] = current["org_name_en" if lang == "en" else "org_name_zh"].fillna(
            current["org_code"]
        )
        camps = data.campaigns(county).set_index("campaign_code")
        horizon = (
            pd.Timestamp(camps["acceptance_date"].dropna().max())
            if camps["acceptance_date"].notna().any()
            else None
        )
        flagged_ids = set()
        if data.has_rows("quality.outlier"):
            flagged_ids = set(data.outlier_flags(code)["observation_id"])
            mask = current["observation_id"].isin(flagged_ids)
        else:  # issue 4's outliers not built: same rule (modified z-score > 3.5) per unit series
            mask = pd.Series(False, index=current.index)
            for _org, g in current.groupby("org_code"):
                mask.loc[g.index] = analytics.outliers(g["value"])
        fc = None
        if ui.period() and data.has_rows("marts.requirement_forecast"):
            rf = data.requirement_forecast(county, ui.period(), code).dropna(subset=["projected_value"])
            if not rf.empty:
                f = rf.sort_values("target_date").iloc[0]
                fc = pd.DataFrame(
                    {
                        "date": pd.to_datetime([f["as_of_date"], f["target_date"]]),
                        "value": [f["latest_value"], f["projected_value"]],
                        "low": [f["latest_value"], f["projected_low"]],
                        "high": [f["latest_value"], f["projected_high"]],
                    }
                )
                reason = f["status_reason_en" if lang == "en" else "status_reason_zh"]
                st.caption(f"{ui.t('forecast')}: {ui.t('fc_' + str(f['status']))} · {reason or ''}")
        main = current.groupby("org_code").size().idxmax() if not current.empty else None
        if fc is None and main is not None:
            g = current[current["org_code"] == main]
            soonest = g["date"].max() + pd.DateOffset(months=6)
            until = max(horizon, soonest) if horizon is not None else soonest
            fc = analytics.forecast(g["date"], g["value"], until)
        # Threshold segments over each edition's validity, clipped to the window shown.
        first = current["date"].min() if not current.empty else pd.Timestamp("2015-01-01")
        window_end = max(
            [d for d in (current["date"].max(), fc["date"].max() if fc is not None else None) if pd.notna(d)],
            default=first,
        )
        thr = reqs.assign(
            label=[f"{names.get(c, c)}" for c in reqs["campaign_code"]],
            start=pd.to_datetime(reqs["effective_from"]).clip(lower=first),
            end=pd.to_datetime(reqs["effective_to"]).fillna(window_end).clip(upper=window_end),
        )
        thr = thr[thr["end"] >= thr["start"]]
        if current.empty:
            ui.empty_notice()
        st.plotly_chart(
            charts.indicator_series(
                current,
                thr,
                f"{labels[code]} · {ui.t('series')}",
                ui.unit_name(unit_of),
                fc,
                mask,
                forecast_label=ui.t("forecast"),
                outlier_label=ui.t("outliers"),
            ),
            width="stretch",
            key="indicator_chart",
        )
        c1, c2 = st.columns(2)
        with c1:
            st.subheader(ui.t("thresholds"))
            req_names = data.requirement_owners(county).set_index("requirement_code")
            thr_rows = thr.assign(
                req_name=thr["requirement_code"].map(
                    req_names["req_name_en" if lang == "en" else "req_name_zh"]
                ),
                owner=thr["requirement_code"].map(
                    req_names["owner_name_en" if lang == "en" else "owner_name_zh"]
                ),
                unit=unit_of,
            )
            thr_rows["threshold"] = [ui.threshold_text(r) for _, r in thr_rows.iterrows()]
            st.dataframe(
                ui.labelled(
                    thr_rows,
                    [
                        ("label", "campaign", None),
                        ("req_name", "requirement", None),
                        ("owner", "owner", None),
                        ("threshold", "threshold", None),
                        ("is_veto", "veto", lambda v: ui.t("veto") if v else ""),
                        ("effective_from", "valid_from", ui.fmt_date),
                    ],
                ),
                hide_index=True,
                width="stretch",
            )
        with c2:
            st.subheader(ui.t("outliers"))
            flagged = current[mask]
            if flagged.empty:
                ui.empty_notice()
            else:
                st.dataframe(
                    ui.labelled(
                        flagged,
                        [
                            ("period_code", "period", None),
                            ("org_label", "unit", None),
                            ("value", "value", lambda v: ui.num(v, unit_of)),
                            ("file_name", "file_name", None),
                            ("sheet", "sheet", None),
                            ("cell", "cell", None),
                        ],
                    ),
                    hide_index=True,
                    width="stretch",
                )
        st.subheader(ui.t("lineage"))
        lineage = obs[
            [
                "period_code",
                "org_code",
                "value",
                "value_text",
                "raw_text",
                "file_name",
                "sheet",
                "cell",
                "revision_no",
                "valid_from",
                "valid_to",
                "is_current",
            ]
        ]
        onames = ui.org_names(county)
        st.dataframe(
            ui.labelled(
                lineage.assign(org=lineage["org_code"].map(onames)),
                [
                    ("period_code", "period", None),
                    ("org", "unit", None),
                    ("value", "value", lambda v: ui.num(v, unit_of)),
                    ("value_text", "value_text", None),
                    ("raw_text", "raw_text", None),
                    ("file_name", "file_name", None),
                    ("sheet", "sheet", None),
                    ("cell", "cell", None),
                    ("revision_no", "revision_no", ui.fmt_int),
                    ("valid_from", "valid_from", ui.fmt_time),
                    ("valid_to", "valid_to", ui.fmt_time),
                    ("is_current", "is_current", ui.fmt_yes),
                ],
            ),
            hide_index=True,
            width="stretch",
        )
        viewer = auth.require_viewer()
        if all(viewer.can(f"download_lineage:{o}") for o in lineage["org_code"].dropna().unique()):
            ui.downloads(lineage, f"lineage_{code}", "ind_lineage")  # the owning unit and the office only
