"""Direction-aware comparisons at, just above and just below each kind of threshold."""

from __future__ import annotations

import pytest

from pipelines.catalog.compare import margin, meets, meets_qualitative

D = 0.001
CASES = [
    # comparison, threshold, high, value, expected
    (">=", 85, None, 85, True),
    (">=", 85, None, 85 + D, True),
    (">=", 85, None, 85 - D, False),
    (">", 90, None, 90, False),
    (">", 90, None, 90 + D, True),
    (">", 90, None, 90 - D, False),
    ("<=", 60, None, 60, True),
    ("<=", 60, None, 60 + D, False),
    ("<=", 60, None, 60 - D, True),
    ("<", 25, None, 25, False),
    ("<", 25, None, 25 + D, False),
    ("<", 25, None, 25 - D, True),
    ("==", 0, None, 0, True),
    ("==", 0, None, 0 + D, False),
    ("==", 0, None, 0 - D, False),
    ("between", 6.5, 8.5, 6.5, True),
    ("between", 6.5, 8.5, 8.5, True),
    ("between", 6.5, 8.5, 8.5 + D, False),
    ("between", 6.5, 8.5, 6.5 - D, False),
    ("between", 6.5, 8.5, 7.0, True),
]


@pytest.mark.parametrize(("comparison", "threshold", "high", "value", "expected"), CASES)
def test_meets_follows_the_direction_and_strictness(comparison, threshold, high, value, expected):
    assert meets(value, comparison, threshold, high) is expected


@pytest.mark.parametrize(("comparison", "threshold", "high", "value", "expected"), CASES)
def test_margin_sign_agrees_with_the_verdict_except_at_strict_boundaries(
    comparison, threshold, high, value, expected
):
    m = margin(value, comparison, threshold, high)
    if m > 1e-9:
        assert expected
    elif m < -1e-9:
        assert not expected
    else:  # exactly at the threshold: only the wording decides
        assert expected is (comparison in (">=", "<=", "==", "between"))


def test_margin_is_in_natural_units():
    assert margin(82.5, ">=", 85) == pytest.approx(-2.5)
    assert margin(55, "<=", 60) == pytest.approx(5)


def test_text_typed_value_at_the_boundary_still_passes():
    assert meets(float("85.3"), ">=", 85.3)


@pytest.mark.parametrize(
    ("value", "expected"), [("C", True), ("c级", True), ("C级", True), ("D", False), (" a ", True)]
)
def test_qualitative_pass_values(value, expected):
    assert meets_qualitative(value, ("A", "B", "C", "A级", "B级", "C级")) is expected


def test_missing_value_and_unknown_comparison_are_errors():
    with pytest.raises(ValueError):
        meets(float("nan"), ">=", 1)
    with pytest.raises(ValueError, match="unknown comparison"):
        meets(1, "~", 1)
    with pytest.raises(ValueError):
        meets_qualitative(None, ("A",))
