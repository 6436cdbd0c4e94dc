"""导入映射 Import mappings: teach the platform a layout once.

A file refused because no recogniser read its layout (no header, ambiguous layout, no catalog
indicator), or a file uploaded here, is shown as a grid (row numbers, column letters). The page
pre-fills the best guess (`layouts.mapped.guess`); the office marks header rows, where indicators,
subjects and periods are, and the value columns, previews the tidy rows the mapping loads (with the
problems validation finds) and saves the mapping (`expectations/mappings/<fingerprint>.yaml`).
Every later file of the same layout then loads by it; `wuchuang mappings reingest` re-reads the
refused ones.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboards import data, ui
from pipelines.returns import mapping_service
from pipelines.returns.layouts import mapped
from pipelines.settings import Settings

ui.header("page_mappings")
ui.require("mappings")

GRID_ROWS = 60
L: dict[str, tuple[str, str]] = {
    "intro": (
        "表格版式无法自动识别的文件，在这里标注一次表头、指标、主体、报告期和数值列并保存为“导入映射”；"
        "以后同一版式的文件自动按此映射入库。",
        "Files whose layout no recogniser reads: mark the header, indicator, subject, period and value "
        "columns once and save an import mapping; later files of the same layout load by it.",
    ),
    "source": ("文件来源", "File source"),
    "src_refused": ("因版式被拒收的文件", "Files refused for their layout"),
    "src_upload": ("上传文件", "Upload a file"),
    "pick_file": ("选择文件", "Choose a file"),
    "no_refused": ("没有因版式被拒收的文件", "No file was refused for its layout"),
    "upload": ("上传报表（xlsx、xls、ods、csv）", "Upload a return (xlsx, xls, ods, csv)"),
    "missing_file": ("报表接收目录中找不到该文件", "The file is not in the raw folder"),
    "unreadable": ("文件无法读取", "The file cannot be read"),
    "sheet": ("工作表", "Sheet"),
    "grid": ("表格内容（前 {n} 行）", "Sheet contents (first {n} rows)"),
    "known": (
        "此版式已有映射“{name}”，下面按该映射预填。",
        "This layout already has the mapping '{name}'; it is pre-filled below.",
    ),
    "guess": (
        "已按自动识别的最佳猜测预填，请核对后保存。",
        "Pre-filled with the best guess; check it, then save.",
    ),
    "layout": ("版式标注", "Mark the layout"),
    "name": ("映射名称", "Mapping name"),
    "header_first": ("表头首行", "First header row"),
    "header_last": ("表头末行", "Last header row"),
    "data_start": ("数据起始行", "First data row"),
    "ind_axis": ("指标在哪里", "Where are the indicators"),
    "ind_row": ("每行一个指标（某列为指标名称）", "One indicator per row (a name column)"),
    "ind_column": ("每列一个指标（某表头行为指标名称）", "One indicator per column (a header row)"),
    "ind_fixed": ("整张表只有一个指标", "One indicator for the whole sheet"),
    "ind_col": ("指标名称所在列", "Indicator name column"),
    "ind_hrow": ("指标名称所在行", "Indicator name row"),
    "ind_pick": ("指标（按名称选择）", "Indicator (by name)"),
    "subj_axis": ("主体（乡镇、单位）", "Subject (towns, units)"),
    "subj_none": ("无：全部为填报单位本身的数值", "None: all values are the reporting unit's"),
    "subj_row": ("每行一个主体（某列为主体名称）", "One subject per row (a name column)"),
    "subj_column": ("每列一个主体（某表头行）", "One subject per column (a header row)"),
    "subj_col": ("主体名称所在列", "Subject column"),
    "subj_hrow": ("主体名称所在行", "Subject row"),
    "per_axis": ("报告期", "Period"),
    "per_sheet": (
        "整表一个报告期（取自标题、工作表名或文件名）",
        "One period (from title, sheet or file name)",
    ),
    "per_row": ("每行一个报告期（某列）", "One period per row (a column)"),
    "per_column": ("每列一个报告期（某表头行）", "One period per column (a header row)"),
    "per_col": ("报告期所在列", "Period column"),
    "per_hrow": ("报告期所在行", "Period row"),
    "values": (
        "数值列（只勾选本期实际值，不选目标值、上期、增减列）",
        "Value columns (this period's actual values only)",
    ),
    "unit_col": ("计量单位所在列", "Unit column"),
    "none": ("无", "None"),
    "preview": ("预览：将入库的数据", "Preview: the rows that will load"),
    "problems": ("发现的问题", "Problems found"),
    "no_values": ("按当前标注没有可入库的数值", "No value loads with these marks"),
    "save": ("保存映射", "Save mapping"),
    "saved": (
        "映射“{file}”已保存。同一版式的文件今后自动按此映射入库；已拒收的文件可运行 wuchuang mappings reingest 重新入库。",
        "Mapping '{file}' saved. Files of this layout now load by it; run `wuchuang mappings reingest` for the refused ones.",
    ),
    "save_failed": ("映射未保存：{msg}", "Mapping not saved: {msg}"),
    "saved_list": ("已保存的映射", "Saved mappings"),
    "broken": ("无法使用的映射文件", "Mapping files that cannot be used"),
    "c_indicator": ("指标", "Indicator"),
    "c_unit": ("计量单位", "Unit"),
    "c_subject": ("主体", "Subject"),
    "c_period": ("报告期", "Period"),
    "c_value": ("数值", "Value"),
    "c_cell": ("单元格", "Cell"),
    "c_sheet": ("工作表", "Sheet"),
    "c_file": ("文件", "File"),
    "c_reason": ("拒收原因", "Reason"),
    "c_received": ("收到时间", "Received"),
    "c_name": ("名称", "Name"),
    "c_sample": ("样例文件", "Sample file"),
    "c_created": ("保存时间", "Saved at"),
    "c_field": ("字段", "Field"),
    "c_message": ("说明", "Message"),
    "row_no": ("行号", "Row"),
}


def t(key: str, **fmt: object) -> str:
    zh, en = L[key]
    return (en if ui.lang() == "en" else zh).format(**fmt)


@st.cache_resource(show_spinner=False)
def _context():
    settings = Settings.from_env()
    return settings, mapping_service.context(settings)


def _classifier(ctx):
    from pipelines.returns.parse import resources

    return resources(ctx).classifier


@st.cache_data(show_spinner=False, max_entries=8)
def _book(path: str, mtime: float):
    from pipelines.returns.readers import read_book

    return read_book(Path(path))


def _refused() -> pd.DataFrame | None:
    if data.snapshot_path() is None:
        return None
    try:
        return data.query(
            """
            SELECT path, file_name, received_at, reason_codes
            FROM core.source_file
            WHERE status = 'rejected'
              AND len(list_intersect(reason_codes, ['no_header', 'ambiguous_layout', 'no_indicator'])) > 0
            ORDER BY received_at DESC NULLS LAST, file_name
            """,
            needs=("core.source_file",),
        )
    except Exception:  # a missing table or unreadable snapshot: the upload is still there
        return None


def _upload_dir() -> Path:
    d = Path(tempfile.gettempdir()) / "wuchuang-mapping-uploads"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _choose_file(settings: Settings) -> Path | None:
    st.caption(t("intro"))
    refused = _refused()
    sources = ["refused", "upload"] if refused is not None and not refused.empty else ["upload", "refused"]
    src = st.radio(
        t("source"),
        sources,
        format_func=lambda s: t("src_refused") if s == "refused" else t("src_upload"),
        horizontal=True,
        key="map_source",
    )
    if src == "refused":
        if refused is None or refused.empty:
            st.info(t("no_refused"), icon=":material/info:")
            return None
        lang = ui.lang()
        labels = {
            r.path: f"{r.file_name} · {'、'.join(mapping_service.reason_text(c, lang) for c in r.reason_codes)}"
            for r in refused.itertuples(index=False)
        }
        rel = st.selectbox(t("pick_file"), list(labels), format_func=labels.get, key="map_file")
        path = (settings.raw_dir / rel).resolve()
        if not path.is_file() or not path.is_relative_to(settings.raw_dir.resolve()):
            st.warning(t("missing_file"), icon=":material/warning:")
            return None
        return path
    up = st.file_uploader(t("upload"), type=["xlsx", "xls", "ods", "csv", "xlsm"], key="map_upload")
    if up is None:
        return None
    body = up.getvalue()
    digest = hashlib.sha256(body).hexdigest()[:16]
    d = _upload_dir() / digest
    d.mkdir(exist_ok=True)
    path = d / Path(up.name).name
    if not path.exists():
        path.write_bytes(body)
    return path


def _grid(sheet) -> pd.DataFrame:
    rows = sheet.rows[:GRID_ROWS]
    width = max((len(r) for r in rows), default=0)
    cols = [mapped.col_letter(c) for c in range(width)]
    frame = pd.DataFrame(
        [[("" if v is None else str(v)) for v in (list(r) + [""] * (width - len(r)))] for r in rows],
        columns=cols,
    )
    frame.index = pd.RangeIndex(1, len(frame) + 1, name=t("row_no"))
    return frame


def _col_options(sheet, header_last: int) -> tuple[list[str], dict[str, str]]:
    """Column letters with their header text ("C · 本阶段数据")."""
    width = max((len(r) for r in sheet.rows[:GRID_ROWS]), default=1)
    opts = [mapped.col_letter(c) for c in range(width)]
    labels = {}
    for c, letter in enumerate(opts):
        text = str(sheet.cell(header_last - 1, c) or "").strip()
        labels[letter] = f"{letter} · {text[:20]}" if text else letter
    return opts, labels


def _editor(sheet, m: mapped.Mapping, ctx, fp: str) -> mapped.Mapping:
    """Widgets pre-filled from `m`; returns the mapping as marked."""
    k = f"map_{fp}_{ui.lang()}"
    st.subheader(t("layout"))
    name = st.text_input(
        t("name"), m.name or f"{sheet.name} {Path(m.sample_file).stem}".strip(), key=f"{k}_name"
    )
    nrows = max(len(sheet.rows), 2)
    c1, c2, c3 = st.columns(3)
    h1 = c1.number_input(t("header_first"), 1, nrows, min(m.header_rows[0], nrows), key=f"{k}_h1")
    h2 = c2.number_input(t("header_last"), 1, nrows, min(max(m.header_rows[1], h1), nrows), key=f"{k}_h2")
    ds = c3.number_input(
        t("data_start"), 2, nrows + 1, min(max(m.data_start_row, h2 + 1), nrows + 1), key=f"{k}_ds"
    )
    opts, col_labels = _col_options(sheet, int(h2))
    fmt = lambda x: col_labels.get(x, x)  # noqa: E731

    def pick_col(container, label: str, current: str | None, key: str) -> str:
        cur = current if current in opts else opts[0]
        return container.selectbox(label, opts, index=opts.index(cur), format_func=fmt, key=key)

    def pick_row(container, label: str, current: int | None, key: str) -> int:
        return int(container.number_input(label, 1, nrows, int(current or h2), key=key))

    left, right = st.columns(2)
    axes = ["row", "column", "fixed"]
    ind_axis = left.radio(
        t("ind_axis"),
        axes,
        index=axes.index(m.indicator["axis"]),
        format_func=lambda a: t(f"ind_{a}"),
        key=f"{k}_ia",
    )
    if ind_axis == "row":
        indicator = {
            "axis": "row",
            "column": pick_col(left, t("ind_col"), m.indicator.get("column"), f"{k}_ic"),
        }
    elif ind_axis == "column":
        indicator = {
            "axis": "column",
            "row": pick_row(left, t("ind_hrow"), m.indicator.get("row"), f"{k}_ir"),
        }
    else:
        cat = ctx.catalog
        codes = sorted(cat.indicators, key=lambda c: cat.indicators[c].name_zh)
        en = ui.lang() == "en"
        names = {
            c: (
                f"{cat.indicators[c].name_en} ({cat.indicators[c].name_zh})"
                if en
                else cat.indicators[c].name_zh
            )
            for c in codes
        }
        cur = m.indicator.get("code")
        code = left.selectbox(
            t("ind_pick"),
            codes,
            index=codes.index(cur) if cur in codes else None,
            format_func=names.get,
            key=f"{k}_if",
        )
        indicator = {"axis": "fixed", "code": code or ""}
    s_axes = ["none", "row", "column"]
    subj_axis = right.radio(
        t("subj_axis"),
        s_axes,
        index=s_axes.index(m.subject["axis"]),
        format_func=lambda a: t(f"subj_{a}"),
        key=f"{k}_sa",
    )
    if subj_axis == "row":
        subject = {
            "axis": "row",
            "column": pick_col(right, t("subj_col"), m.subject.get("column"), f"{k}_sc"),
        }
    elif subj_axis == "column":
        subject = {"axis": "column", "row": pick_row(right, t("subj_hrow"), m.subject.get("row"), f"{k}_sr")}
    else:
        subject = {"axis": "none"}
    p_axes = ["sheet", "row", "column"]
    per_axis = right.radio(
        t("per_axis"),
        p_axes,
        index=p_axes.index(m.period["axis"]),
        format_func=lambda a: t(f"per_{a}"),
        key=f"{k}_pa",
    )
    if per_axis == "row":
        period = {"axis": "row", "column": pick_col(right, t("per_col"), m.period.get("column"), f"{k}_pc")}
    elif per_axis == "column":
        period = {"axis": "column", "row": pick_row(right, t("per_hrow"), m.period.get("row"), f"{k}_pr")}
    else:
        period = {"axis": "sheet"}
    values = st.multiselect(
        t("values"),
        opts,
        default=[v for v in (m.value_columns or []) if v in opts],
        format_func=fmt,
        key=f"{k}_vc",
    )
    unit_opts = ["", *opts]
    unit = st.selectbox(
        t("unit_col"),
        unit_opts,
        index=unit_opts.index(m.unit_column) if m.unit_column in unit_opts else 0,
        format_func=lambda x: fmt(x) if x else t("none"),
        key=f"{k}_uc",
    )
    return mapped.Mapping(
        fingerprint=fp,
        name=name.strip(),
        header_rows=(int(h1), int(h2)),
        data_start_row=int(ds),
        indicator=indicator,
        subject=subject,
        period=period,
        value_columns=values or None,
        columns=dict(m.columns),
        unit_column=unit or None,
        created_by=m.created_by or "office",
        created_at=m.created_at,
        sample_file=m.sample_file,
        sheet_name=sheet.name,
    )


def _preview(path: Path, m: mapped.Mapping, ctx) -> bool:
    st.subheader(t("preview"))
    result = mapping_service.apply(path, m, ctx, m.sheet_name)
    rows = mapping_service.tidy_rows(result, ctx)
    en = ui.lang() == "en"
    if rows:
        frame = pd.DataFrame(
            {
                t("c_indicator"): [r.indicator_en if en else r.indicator for r in rows],
                t("c_unit"): [r.unit for r in rows],
                t("c_subject"): [r.subject_en if en else r.subject for r in rows],
                t("c_period"): [r.period for r in rows],
                t("c_value"): [r.value for r in rows],
                t("c_cell"): [f"{r.sheet}!{r.cell}" for r in rows],
            }
        )
        st.dataframe(frame, hide_index=True, width="stretch")
    else:
        st.info(t("no_values"), icon=":material/info:")
    lines = mapping_service.problem_lines(result, "en" if en else "zh")
    if lines:
        st.markdown(f"**{t('problems')}**")
        st.markdown("\n".join(f"- {line}" for line in lines[:50]))
    return bool(rows)


def _saved_list(d: Path) -> None:
    errors: list[mapped.MappingError] = []
    maps = mapped.load_mappings(d, errors)
    with st.expander(f"{t('saved_list')} ({len(maps)})"):
        if maps:
            st.dataframe(
                pd.DataFrame(
                    {
                        t("c_name"): [m.name for m in maps.values()],
                        t("c_sample"): [m.sample_file for m in maps.values()],
                        t("c_created"): [m.created_at for m in maps.values()],
                    }
                ),
                hide_index=True,
                width="stretch",
            )
    if errors:
        en = ui.lang() == "en"
        st.warning(t("broken"), icon=":material/warning:")
        st.dataframe(
            pd.DataFrame(
                {
                    t("c_file"): [e.file for e in errors],
                    t("c_field"): [e.field for e in errors],
                    t("c_message"): [e.message_en if en else e.message_zh for e in errors],
                }
            ),
            hide_index=True,
            width="stretch",
        )


def main() -> None:
    settings, ctx = _context()
    mdir = mapping_service.mappings_dir(settings)
    path = _choose_file(settings)
    if path is not None:
        try:
            book = _book(str(path), path.stat().st_mtime)
        except Exception as exc:  # the reader refused the file: say so, in both languages
            st.warning(f"{t('unreadable')}: {getattr(exc, 'detail', exc)}", icon=":material/warning:")
            book = None
        if book is not None:
            sheets = [s for s in book.sheets if s.is_visible and s.name != "_meta"]
            if sheets:
                sheet = sheets[0]
                if len(sheets) > 1:
                    names = [s.name for s in sheets]
                    sheet = sheets[names.index(st.selectbox(t("sheet"), names, key="map_sheet"))]
                st.markdown(
                    f"**{t('grid', n=min(GRID_ROWS, len(sheet.rows)))}** · {t('sheet')}：{sheet.name}"
                )
                st.dataframe(_grid(sheet), width="stretch", height=300)
                use_name = book.file_format != "csv"
                fp = mapped.fingerprint(sheet, use_name)
                known = mapped.load_mappings(mdir).get(fp)
                county = ctx.profiles[0].code if ctx.profiles else None
                if known is not None:
                    st.info(t("known", name=known.name or known.sample_file), icon=":material/info:")
                    base = known
                else:
                    st.caption(t("guess"))
                    base = mapped.guess(sheet, _classifier(ctx), county, path.name)
                    base.fingerprint = fp
                m = _editor(sheet, base, ctx, fp)
                _preview(path, m, ctx)
                if st.button(t("save"), type="primary", key=f"map_save_{fp}"):
                    try:
                        saved = mapped.save_mapping(mdir, m)
                    except mapped._Invalid as exc:
                        msg = exc.en if ui.lang() == "en" else exc.zh
                        st.error(t("save_failed", msg=f"{exc.field}: {msg}"), icon=":material/error:")
                    except OSError as exc:
                        st.error(t("save_failed", msg=str(exc)), icon=":material/error:")
                    else:
                        st.success(t("saved", file=m.name or saved.stem), icon=":material/check_circle:")
    _saved_list(mdir)


main()
