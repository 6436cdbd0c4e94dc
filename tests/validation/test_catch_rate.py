"""Catch rates from a manifest of deliberate defects and the warehouse after a run."""

from __future__ import annotations

from pipelines.validation.catch_rate import catch_rates
from pipelines.warehouse.connection import writer
from pipelines.warehouse.schema import replace_rows
from pipelines.warehouse.tables import core, quality


def _obs(oid: str, file_id: str, cell: str) -> dict:
    return {
        "observation_id": oid,
        "submission_id": "s",
        "file_id": file_id,
        "org_code": "511923-zjj",
        "indicator_code": "builtup_green_coverage",
        "period_code": "2012",
        "sheet": "填报表",
        "cell": cell,
        "valid_from": "2013-01-10 09:00:00",
    }


MANIFEST = {
    "files": [
        {
            "path": "a.xlsx",
            "sha256": "A",
            "expected": {"status": "partial"},
            "cells": [
                {"sheet": "填报表", "cell": "G4", "expect": "ok"},
                {"sheet": "填报表", "cell": "G5", "expect": "ok"},
                {"sheet": "填报表", "cell": "G6", "expect": "out_of_range"},
                {"sheet": "填报表", "cell": "G7", "expect": "out_of_range"},
                {"sheet": "填报表", "cell": "G8", "expect": "ok"},
            ],
        },
        {
            "path": "empty.xlsx",
            "sha256": "E",
            "expected": {"status": "rejected", "reasons": ["empty_file"]},
            "cells": [],
        },
    ],
    "outliers": [{"path": "a.xlsx", "sheet": "填报表", "cell": "G8"}],
}


def test_catch_rates_count_caught_missed_and_clean_flagged(tmp_path):
    with writer(tmp_path / "w.duckdb") as conn:
        replace_rows(
            conn,
            core.SOURCE_FILE,
            [
                {"file_id": "A", "path": "a.xlsx", "status": "partial"},
                {"file_id": "E", "path": "empty.xlsx", "status": "rejected", "reason_codes": ["empty_file"]},
            ],
        )
        replace_rows(
            conn,
            core.OBSERVATION,
            [_obs("o4", "A", "G4"), _obs("o5", "A", "G5"), _obs("o7", "A", "G7"), _obs("o8", "A", "G8")],
        )
        replace_rows(
            conn,
            core.QUARANTINE,
            [
                {
                    "quarantine_id": "q",
                    "file_id": "A",
                    "sheet": "填报表",
                    "cell": "G6",
                    "scope": "value",
                    "reason_code": "out_of_range",
                    "message_zh": "z",
                    "message_en": "e",
                },
            ],
        )
        replace_rows(
            conn,
            quality.FLAG,
            [
                {
                    "flag_id": "f1",
                    "check_name": "triangulation",
                    "expectation": "r",
                    "severity": "WARN",
                    "observation_id": "o5",
                },
            ],
        )
        replace_rows(conn, quality.OUTLIER, [{"observation_id": "o8", "method": "modified_z"}])
        r = catch_rates(conn, MANIFEST)
    assert (r["bad_items"], r["bad_caught"], r["bad_caught_with_expected_reason"]) == (3, 2, 2)
    assert r["bad_missed"] == [{"path": "a.xlsx", "cell": "G7", "expected": "out_of_range"}]
    assert (r["planted_outliers"], r["planted_outliers_flagged"]) == (1, 1)
    assert (r["clean_values"], r["clean_flagged"], r["clean_flagged_rate"]) == (2, 1, 0.5)
    assert r["clean_flagged_by_check"] == {"triangulation": 1}
