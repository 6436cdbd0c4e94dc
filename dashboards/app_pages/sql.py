"""SQL 查询: a read-only console over the published snapshot (see dashboards/sql_guard.py)."""

from __future__ import annotations

import streamlit as st

from dashboards import auth, data, i18n, sql_guard, ui

ui.header("page_sql")
ui.require("sql")  # only roles that see everything: the console reads the whole snapshot

K_SQL = "sql_text"

if ui.ready():
    snap = data.snapshot_path()
    st.caption(
        ui.t("sql_readonly_note", rows=sql_guard.DEFAULT_ROW_CAP, secs=int(sql_guard.DEFAULT_TIMEOUT_S))
    )
    main, side = st.columns([3, 2])
    with side:
        st.subheader(ui.t("sql_examples"))
        lang = ui.lang()
        for i, (zh, en, sql) in enumerate(sql_guard.EXAMPLE_QUERIES):
            if st.button(en if lang == "en" else zh, key=f"sql_example_{i}", width="stretch"):
                st.session_state[K_SQL] = sql
        st.subheader(ui.t("sql_schema"))
        cols = sql_guard.schema_columns(snap)
        for (schema, table), g in cols.groupby(["schema_name", "table_name"], sort=True):
            with st.expander(f"{schema}.{table}"):
                doc = g["table_comment"].iloc[0]
                if doc:
                    st.caption(doc)
                st.dataframe(g[["column_name", "data_type", "comment"]], hide_index=True, width="stretch")
    with main:
        if K_SQL not in st.session_state:
            st.session_state[K_SQL] = sql_guard.EXAMPLE_QUERIES[0][2]
        st.text_area(ui.t("sql_input"), key=K_SQL, height=180)
        if st.button(ui.t("sql_run"), type="primary", key="sql_run"):
            try:
                auth.audit("sql", {"sql": st.session_state[K_SQL][:4000]})
                result = sql_guard.run_query(snap, st.session_state[K_SQL])
            except sql_guard.GuardError as e:
                st.session_state["sql_error"] = f"{e.zh} / {e.en}"
                st.session_state.pop("sql_result", None)
            else:
                st.session_state["sql_result"] = result
                st.session_state.pop("sql_error", None)
        if err := st.session_state.get("sql_error"):
            st.error(f"{i18n.both('sql_refused')}: {err}", icon=":material/block:")
        result = st.session_state.get("sql_result")
        if result is not None:
            st.caption(ui.t("sql_rows", n=len(result.frame), s=result.elapsed_s))
            if result.truncated:
                st.warning(i18n.both("sql_truncated", n=result.row_cap))
            st.dataframe(result.frame, hide_index=True, width="stretch")
            ui.downloads(result.frame, f"query_{sql_guard.now_stamp()}", "sql_dl")
