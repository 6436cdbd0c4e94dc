"""`store.replace_frame` writes through one Arrow table (issue 18) and gives exactly the table the
pandas path gave: same values, NULLs (None, NaN, NaT) and column types, on every quality table; a row
set Arrow cannot type falls back to the pandas path."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipelines.validation import store
from pipelines.warehouse.schema import create_all, transaction
from pipelines.warehouse.tables import quality as qt

WHEN = dt.datetime(2026, 12, 1, 6, 0, 1)


def _rows() -> dict:
    check = [
        {
            "check_name": "observation_values",
            "expectation": f"range:0..{i}",
            "dimension": "validity",
            "severity": "ERROR",
            "org_code": "511923-wjw" if i % 3 else "?",
            "period_code": f"2012-{i % 12 + 1:02d}",
            "n_checked": i,
            "n_failed": i % 2,
            "failure_rate": None if i == 0 else (i % 2) / i,
            "threshold_rate": 0.0,
            "bound": "0 ≤ value ≤ 100",
            "passed": bool(i % 2 == 0),
            "examples": None if i % 2 == 0 else '[{"cell": "G4"}]',
            "message_zh": "数值须在范围内",
            "message_en": "value must be possible",
            "evaluated_at": WHEN,
        }
        for i in range(50)
    ]
    flag = [
        {
            "flag_id": f"f{i}",
            "check_name": "value_outliers",
            "expectation": "modified_z",
            "severity": "WARN",
            "observation_id": None if i == 1 else f"o{i}",
            "value": [1.5, float("nan"), None, np.float64(2.25)][i % 4],
            "message_zh": "异常",
            "message_en": "outlier",
        }
        for i in range(8)
    ]
    violation = [
        {
            "violation_id": f"v{i}",
            "rule_id": "r",
            "left_value": np.float64(i) if i else None,
            "right_value": i,  # an int in a DOUBLE column
            "observation_ids": [f"o{i}", f"o{i + 1}"] if i else [],
            "message_zh": "违规",
            "message_en": "violation",
        }
        for i in range(4)
    ]
    outlier = [
        {
            "observation_id": f"o{i}",
            "method": "modified_z",
            "value": float(i),
            "score": np.float64(3.6 + i),
            "n_history": np.int64(12),
            "follow_up": None,
        }
        for i in range(3)
    ]
    return {qt.CHECK_RESULT: check, qt.FLAG: flag, qt.RULE_VIOLATION: violation, qt.OUTLIER: outlier}


def _complete(t, row: dict) -> dict:
    """The row with a value in each NOT NULL column it leaves out."""
    fill = {"INTEGER": 0, "DOUBLE": 0.0, "BOOLEAN": False, "TIMESTAMP": WHEN}
    return {**{c.name: fill.get(c.type, "x") for c in t.columns if not c.nullable}, **row}


def _written(rows_by_table: dict, arrow: bool) -> dict:
    rows_by_table = {t: [_complete(t, r) for r in rows] for t, rows in rows_by_table.items()}
    conn = duckdb.connect()
    try:
        create_all(conn, list(rows_by_table))
        out = {}
        with transaction(conn):
            for t, rows in rows_by_table.items():
                assert store.replace_frame(conn, t, rows, arrow=arrow) == len(rows)
        for t in rows_by_table:
            cols = ", ".join(f'"{c}", typeof("{c}")' for c in t.column_names)
            out[t.qualified] = conn.execute(f"SELECT {cols} FROM {t.qualified} ORDER BY ALL").fetchall()
        return out
    finally:
        conn.close()


def test_arrow_and_pandas_paths_write_the_same_tables():
    rows = _rows()
    got, want = _written(rows, arrow=True), _written(rows, arrow=False)
    assert got == want
    flag = got[qt.FLAG.qualified]
    assert sum(r[qt.FLAG.column_names.index("value") * 2] is None for r in flag) == 4  # NaN and None
    for t, rows_ in rows.items():
        assert store._arrow_table(t.column_names, rows_) is not None  # the fast path was taken


def test_a_column_arrow_cannot_type_falls_back_to_pandas():
    rows = {qt.FLAG: [{"flag_id": "a", "cell": "G4"}, {"flag_id": "b", "cell": 7}]}  # text and a number
    assert store._arrow_table(qt.FLAG.column_names, rows[qt.FLAG]) is None
    assert _written(rows, arrow=True) == _written(rows, arrow=False)


def test_replace_keeps_other_rows_and_rolls_back_with_the_transaction():
    t = qt.FLAG
    conn = duckdb.connect()
    create_all(conn, [t])
    with transaction(conn):
        store.replace_frame(
            conn,
            t,
            [
                _complete(t, {"flag_id": "a", "check_name": "x"}),
                _complete(t, {"flag_id": "b", "check_name": "y"}),
            ],
        )
    with transaction(conn):
        store.replace_frame(
            conn, t, [_complete(t, {"flag_id": "c", "check_name": "x"})], where="check_name = ?", params=["x"]
        )
    assert conn.execute(f"SELECT flag_id FROM {t.qualified} ORDER BY 1").fetchall() == [("b",), ("c",)]
    with pytest.raises(duckdb.Error), transaction(conn):  # a duplicate key: nothing changes
        store.replace_frame(conn, t, [_complete(t, {"flag_id": "d"}), _complete(t, {"flag_id": "d"})])
    assert conn.execute(f"SELECT flag_id FROM {t.qualified} ORDER BY 1").fetchall() == [("b",), ("c",)]
    assert store.replace_frame(conn, t, [], where="flag_id = ?", params=["zz"]) == 0
    conn.close()


def test_timestamps_keep_their_value_and_missing_ones_are_null():
    t = qt.CHECK_RESULT
    rows = [
        {"check_name": "c", "expectation": "e", "org_code": "o", "period_code": str(i), "evaluated_at": v}
        for i, v in enumerate([WHEN, None, pd.Timestamp(WHEN), pd.NaT])
    ]
    got = _written({t: rows}, arrow=True)[t.qualified]
    assert got == _written({t: rows}, arrow=False)[t.qualified]
    i = t.column_names.index("evaluated_at") * 2
    assert sorted((r[i] is None) for r in got) == [False, False, True, True]
