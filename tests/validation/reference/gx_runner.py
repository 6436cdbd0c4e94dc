"""Run the committed Great Expectations suites on an observation frame (GX 1.x API only).

The committed context `expectations/gx/` holds the configuration and the reviewed suites. Each run
opens a working file context under `settings.gx_dir` (git-ignored), copies the committed
configuration and suites into it, validates the frame through a validation definition on a pandas
dataframe asset (`warehouse` / `observation` / `whole_frame`), keeps only the newest
`KEEP_RESULTS` results per suite, and rebuilds Data Docs there.

Works unchanged with pandas 3.1 (no workaround needed for the expectations used here).
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pandas as pd

from pipelines.validation import suites as suite_gen
from tests.validation.reference.results import ERROR, ExpectationResult, empty_items, items_from_frame

log = logging.getLogger(__name__)

KEEP_RESULTS = int(os.environ.get("WUCHUANG_GX_KEEP_RESULTS", "10"))
DATASOURCE, ASSET, BATCH = "warehouse", "observation", "whole_frame"


def _gx():
    """Great Expectations, imported on first use: importing it costs seconds, and importing the
    Dagster definitions (which reach this module) must stay cheap (issue 18)."""
    import great_expectations as gx

    return gx


def committed_context_dir(expectations_dir: Path) -> Path:
    return Path(expectations_dir) / "gx"


def open_context(expectations_dir: Path, gx_dir: Path):
    """The working file context under gx_dir, with the committed configuration and suites copied in."""
    root = Path(gx_dir) / "gx"
    committed = committed_context_dir(expectations_dir)
    (root / "expectations").mkdir(parents=True, exist_ok=True)
    src_cfg = committed / "great_expectations.yml"
    dst_cfg = root / "great_expectations.yml"
    if not dst_cfg.exists() or dst_cfg.read_bytes() != src_cfg.read_bytes():
        shutil.copyfile(src_cfg, dst_cfg)
    for old in (root / "expectations").glob("*.json"):
        old.unlink()
    for suite in suite_gen.suites_dir(expectations_dir).glob("*.json"):
        shutil.copyfile(suite, root / "expectations" / suite.name)
    return _gx().get_context(mode="file", project_root_dir=Path(gx_dir))


_OPS = {
    "==": lambda s, v: s == v,
    "!=": lambda s, v: s != v,
    "<": lambda s, v: s < v,
    "<=": lambda s, v: s <= v,
    ">": lambda s, v: s > v,
    ">=": lambda s, v: s >= v,
    "IN": lambda s, v: s.isin(list(v)),
    "NOT IN": lambda s, v: ~s.isin(list(v)),
}


def _condition_mask(frame: pd.DataFrame, cond) -> pd.Series:
    """Rows matching a serialised GX comparison / and condition (the kinds the suites use)."""
    if hasattr(cond, "dict"):
        cond = cond.dict()
    kind = cond.get("type")
    if kind == "and":
        mask = pd.Series(True, index=frame.index)
        for c in cond.get("conditions", []):
            mask &= _condition_mask(frame, c)
        return mask
    if kind == "comparison" and cond.get("operator") in _OPS:
        col = frame[cond["column"]["name"]]
        return _OPS[cond["operator"]](col, cond["parameter"]).fillna(False).astype(bool)
    raise ValueError(f"unsupported row condition {cond}")


def _checked_mask(frame: pd.DataFrame, type_: str, kwargs: dict) -> pd.Series:
    """Rows an expectation evaluates (row condition applied, missing values skipped as GX does)."""
    mask = pd.Series(True, index=frame.index)
    cond = kwargs.get("row_condition")
    if cond:
        mask &= _condition_mask(frame, cond)
    if "column" in kwargs and type_ != "expect_column_values_to_not_be_null":
        mask &= frame[kwargs["column"]].notna()
    if "column_A" in kwargs and kwargs.get("ignore_row_if") == "either_value_is_missing":
        mask &= frame[kwargs["column_A"]].notna() & frame[kwargs["column_B"]].notna()
    return mask


def run_suite(context, suite_name: str, frame: pd.DataFrame, check_name: str) -> list[ExpectationResult]:
    """Validate `frame` (positional index) against one suite; one ExpectationResult per expectation."""
    suite = context.suites.get(suite_name)
    batch_def = context.data_sources.get(DATASOURCE).get_asset(ASSET).get_batch_definition(BATCH)
    vd = context.validation_definitions.add_or_update(
        _gx().ValidationDefinition(name=f"{suite_name}__{BATCH}", data=batch_def, suite=suite)
    )
    result = vd.run(batch_parameters={"dataframe": frame}, result_format={"result_format": "COMPLETE"})
    out = []
    for r in result.results:
        cfg = r.expectation_config
        meta = cfg.meta or {}
        kwargs = dict(cfg.kwargs)
        res = ExpectationResult(
            check_name=check_name,
            key=meta.get("key", cfg.type),
            severity=ERROR,
            dimension=meta.get("dimension", ""),
            bound=meta.get("bound", ""),
            reason_code=meta.get("reason_code", ""),
            description_zh=meta.get("description_zh", ""),
            description_en=meta.get("description_en", ""),
        )
        exc = (r.exception_info or {}) if isinstance(r.exception_info, dict) else {}
        if exc.get("raised_exception"):
            res.error = str(exc.get("exception_message") or "exception")[:300]
            res.items = empty_items()
        else:
            checked = _checked_mask(frame, cfg.type, kwargs)
            bad_idx = [i for i in (r.result.get("unexpected_index_list") or []) if not isinstance(i, dict)]
            failed = pd.Series(False, index=frame.index)
            failed.loc[[i for i in bad_idx if i in failed.index]] = True
            if not r.success and not bad_idx:  # an aggregate expectation failed without row indices
                res.error = "failed without row-level detail"
            res.items = items_from_frame(
                frame[checked | failed], failed, res.description_zh, res.description_en
            )
        out.append(res)
    return out


def prune_results(gx_dir: Path, keep: int = KEEP_RESULTS) -> int:
    """Keep the newest `keep` validation results per suite; returns how many were removed."""
    removed = 0
    base = Path(gx_dir) / "gx" / "uncommitted" / "validations"
    if not base.exists():
        return 0
    for suite_dir in base.iterdir():
        if not suite_dir.is_dir():
            continue
        runs = sorted(p for p in suite_dir.glob("*/*") if p.is_dir())  # <run_name>/<timestamp>
        for old in runs[: max(0, len(runs) - keep)]:
            shutil.rmtree(old, ignore_errors=True)
            removed += 1
    return removed


def run_suites(
    frame: pd.DataFrame,
    expectations_dir: Path,
    gx_dir: Path,
    suite_names: tuple[str, ...] = suite_gen.SUITE_NAMES,
    build_docs: bool = False,
) -> dict[str, list[ExpectationResult]]:
    """Validate the enriched observation frame against each suite; results also kept under gx_dir."""
    context = open_context(expectations_dir, gx_dir)
    frame = frame.reset_index(drop=True)
    out = {name: run_suite(context, name, frame, name) for name in suite_names}
    prune_results(gx_dir)
    if build_docs:
        docs = Path(gx_dir) / "gx" / "uncommitted" / "data_docs"
        shutil.rmtree(docs, ignore_errors=True)  # pruned results must not linger in the docs
        context.build_data_docs()
    return out
