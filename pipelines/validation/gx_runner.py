"""Run the committed Great Expectations suites on an observation frame (GX 1.x API only).

The committed context `expectations/gx/` holds the configuration and the reviewed suites. A run
uses a working file context under `settings.gx_dir` (git-ignored) holding copies of the committed
configuration and suites, validates the frame through a validation definition on a pandas
dataframe asset (`warehouse` / `observation` / `whole_frame`), keeps only the newest
`KEEP_RESULTS` results per suite, and (`build_docs`, tests and manual use only) builds a Data Docs
site there. A pipeline run builds no Data Docs site (issue 18: ~1.1 s per run): the Submissions page
renders a stored result's page when the office opens it (`dashboards/gx_docs.py`).

Cost per run (issue 18): the working context is opened, and its validation definitions saved,
once per process and committed state (`open_context` memoises by the working folder and a digest
of the committed files; the copies are rewritten only when they differ); a suite is validated
with result_format BOOLEAN_ONLY first and again with COMPLETE only when an expectation failed
(`_run`), so a clean suite's stored result holds pass/fail per expectation, a failing suite's
both results; the item columns of the frame are converted once per frame
(`results.ItemSource`), not once per expectation.

Works unchanged with pandas 3.1 (no workaround needed for the expectations used here).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path

import pandas as pd

from pipelines.validation import suites as suite_gen
from pipelines.validation.results import ERROR, ExpectationResult, ItemSource, empty_items

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


def _committed_files(expectations_dir: Path) -> dict[str, bytes]:
    """The committed configuration and suites, by their path inside the working context."""
    committed = committed_context_dir(expectations_dir)
    files = {"great_expectations.yml": (committed / "great_expectations.yml").read_bytes()}
    for suite in sorted(suite_gen.suites_dir(expectations_dir).glob("*.json")):
        files[f"expectations/{suite.name}"] = suite.read_bytes()
    return files


def _sync_working_copy(root: Path, files: dict[str, bytes]) -> None:
    """Make the working context's configuration and suites equal the committed ones (rewrite only
    what differs, drop suites no longer committed)."""
    (root / "expectations").mkdir(parents=True, exist_ok=True)
    for old in (root / "expectations").glob("*.json"):
        if f"expectations/{old.name}" not in files:
            old.unlink()
    for rel, data in files.items():
        dst = root / rel
        if not dst.exists() or dst.read_bytes() != data:
            tmp = dst.with_name(f".{dst.name}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, dst)


# Expectation types whose evaluation reads only the columns named in their kwargs (and row condition).
_COLUMN_DOMAIN_TYPES = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_unique",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_pair_values_to_be_equal",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_compound_columns_to_be_unique",
    }
)


def _condition_columns(cond) -> set[str] | None:
    """Columns a serialised GX row condition reads; None for a kind not known here."""
    if not isinstance(cond, dict):
        return None
    if cond.get("type") == "comparison" and isinstance(cond.get("column"), dict):
        return {cond["column"]["name"]}
    if cond.get("type") in ("and", "or"):
        out: set[str] = set()
        for c in cond.get("conditions", []):
            cols = _condition_columns(c)
            if cols is None:
                return None
            out |= cols
        return out
    return None


def suite_columns(suite: dict) -> tuple[str, ...] | None:
    """The frame columns a suite's expectations read (their domain columns and row conditions), or
    None when an expectation may read others (a table-level or unknown type, an unknown condition):
    then the whole frame is validated."""
    cols: set[str] = set()
    for exp in suite.get("expectations", []):
        kwargs = exp.get("kwargs", {})
        if exp.get("type") not in _COLUMN_DOMAIN_TYPES:
            return None
        for k in ("column", "column_A", "column_B"):
            if k in kwargs:
                cols.add(kwargs[k])
        cols.update(kwargs.get("column_list") or [])
        if kwargs.get("row_condition"):
            found = _condition_columns(kwargs["row_condition"])
            if found is None:
                return None
            cols |= found
    return tuple(sorted(cols))


# (working folder, digest of the committed files) ->
#   (file context, {suite: validation definition}, {suite: columns its expectations read})
_CONTEXTS: dict[tuple[str, str], tuple[object, dict, dict]] = {}


def _open(expectations_dir: Path, gx_dir: Path) -> tuple[object, dict, dict]:
    files = _committed_files(expectations_dir)
    digest = hashlib.sha256(b"".join(k.encode() + b"\0" + v for k, v in files.items())).hexdigest()
    root = Path(gx_dir) / "gx"
    _sync_working_copy(root, files)  # cheap when unchanged; restores a working folder removed meanwhile
    key = (str(Path(gx_dir).resolve()), digest)
    if key not in _CONTEXTS:
        _CONTEXTS.clear()  # one county (working folder) per process at a time: keep one context
        columns = {
            rel[len("expectations/") : -len(".json")]: suite_columns(json.loads(data))
            for rel, data in files.items()
            if rel.startswith("expectations/")
        }
        _CONTEXTS[key] = (_gx().get_context(mode="file", project_root_dir=Path(gx_dir)), {}, columns)
    return _CONTEXTS[key]


def open_context(expectations_dir: Path, gx_dir: Path):
    """The working file context under gx_dir, its configuration and suites equal to the committed
    ones; one context object per process, working folder and committed state."""
    return _open(expectations_dir, gx_dir)[0]


def _validation_definition(expectations_dir: Path, gx_dir: Path, suite_name: str):
    """The suite's validation definition on the whole-frame batch, saved once per context."""
    context, definitions, _ = _open(expectations_dir, gx_dir)
    if suite_name not in definitions:
        suite = context.suites.get(suite_name)
        batch_def = context.data_sources.get(DATASOURCE).get_asset(ASSET).get_batch_definition(BATCH)
        definitions[suite_name] = context.validation_definitions.add_or_update(
            _gx().ValidationDefinition(name=f"{suite_name}__{BATCH}", data=batch_def, suite=suite)
        )
    return definitions[suite_name]


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


def run_suite(
    context, suite_name: str, frame: pd.DataFrame, check_name: str, source: ItemSource | None = None
) -> list[ExpectationResult]:
    """Validate `frame` (positional index) against one suite; one ExpectationResult per expectation."""
    suite = context.suites.get(suite_name)
    batch_def = context.data_sources.get(DATASOURCE).get_asset(ASSET).get_batch_definition(BATCH)
    vd = context.validation_definitions.add_or_update(
        _gx().ValidationDefinition(name=f"{suite_name}__{BATCH}", data=batch_def, suite=suite)
    )
    return _results(vd, frame, check_name, source)


def _clean_pass(result) -> bool:
    """Every expectation of a validation result passed and none raised."""
    for r in result.results:
        exc = (r.exception_info or {}) if isinstance(r.exception_info, dict) else {}
        if not r.success or exc.get("raised_exception"):
            return False
    return True


def _run(vd, frame: pd.DataFrame, columns: tuple[str, ...] | None = None):
    """The suite's result on the frame: first with result_format BOOLEAN_ONLY (pass/fail per
    expectation, about half the cost: GX computes no unexpected values, indices or index
    queries); only when something failed or raised, again with COMPLETE, whose failing row
    indices the items need. A clean pass has no failing rows, so both give the same items.

    `columns` (`suite_columns`): GX gets only the columns the suite's expectations read, same rows
    and index. Each row-conditioned metric filters the whole batch frame with `DataFrame.query`
    (column resolvers and a row `take` over every column), so a narrower frame costs less, and
    expectations that never read the other columns give the same results."""
    batch = frame if columns is None else frame[list(columns)]
    result = vd.run(batch_parameters={"dataframe": batch}, result_format={"result_format": "BOOLEAN_ONLY"})
    if _clean_pass(result):
        return result
    return vd.run(batch_parameters={"dataframe": batch}, result_format={"result_format": "COMPLETE"})


def _results(
    vd,
    frame: pd.DataFrame,
    check_name: str,
    source: ItemSource | None,
    columns: tuple[str, ...] | None = None,
) -> list[ExpectationResult]:
    source = source if source is not None else ItemSource(frame)
    result = _run(vd, frame, columns)
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
            bad_idx = [
                i for i in ((r.result or {}).get("unexpected_index_list") or []) if not isinstance(i, dict)
            ]
            failed = pd.Series(False, index=frame.index)
            failed.loc[[i for i in bad_idx if i in failed.index]] = True
            if not r.success and not bad_idx:  # an aggregate expectation failed without row indices
                res.error = "failed without row-level detail"
            res.items = source.items(checked | failed, failed, res.description_zh, res.description_en)
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
    frame = frame.reset_index(drop=True)
    source = ItemSource(frame)
    columns = _open(expectations_dir, gx_dir)[2]
    out = {
        name: _results(
            _validation_definition(expectations_dir, gx_dir, name), frame, name, source, columns.get(name)
        )
        for name in suite_names
    }
    prune_results(gx_dir)
    if build_docs:
        build_data_docs(expectations_dir, gx_dir)
    return out


def _docs_site(gx_dir: Path) -> Path:
    return Path(gx_dir) / "gx" / "uncommitted" / "data_docs" / "local_site"


def build_data_docs(expectations_dir: Path, gx_dir: Path) -> None:
    """Data Docs of the kept results, rendering only what is new.

    The pages of results not rendered yet and the suites' pages are built, and the index is
    rebuilt, which also removes the pages of pruned results (GX's `skip_and_clean_missing`), so
    pruned results do not linger in the docs. Without an index yet, everything is built."""
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    context = open_context(expectations_dir, gx_dir)
    site = _docs_site(gx_dir)
    if not (site / "index.html").exists():
        shutil.rmtree(site.parent, ignore_errors=True)
        context.build_data_docs()
        return
    new = [
        key
        for key in context.validation_results_store.list_keys()
        if not site.joinpath("validations", *map(str, key.to_tuple())).with_suffix(".html").exists()
    ]
    suites = [ExpectationSuiteIdentifier(name=key.name) for key in context.expectations_store.list_keys()]
    context.build_data_docs(resource_identifiers=[*new, *suites])
