"""Direction-aware comparison of a value with a threshold, following the standard's wording.

`>=` (不低于/达到) passes at exactly the threshold; `>` (大于/高于) does not. The margin is in the
indicator's natural units and is positive when the value is on the good side of the threshold.
"""

from __future__ import annotations

import math

# Floating-point slack so 85.3 typed as text and 85.3 as a float compare equal at the boundary.
_EPS = 1e-9


def meets(value: float, comparison: str, threshold: float, high: float | None = None) -> bool:
    """Whether `value` satisfies `comparison` against `threshold` (and `high` for ranges)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise ValueError("value is missing / 数值缺失")
    if comparison == ">=":
        return value >= threshold - _EPS
    if comparison == ">":
        return value > threshold + _EPS
    if comparison == "<=":
        return value <= threshold + _EPS
    if comparison == "<":
        return value < threshold - _EPS
    if comparison == "==":
        return abs(value - threshold) <= _EPS
    if comparison == "between":
        if high is None:
            raise ValueError("a range comparison needs a high end / 区间比较缺少上限")
        return threshold - _EPS <= value <= high + _EPS
    raise ValueError(f"unknown comparison '{comparison}' / 未知比较方式")


def margin(value: float, comparison: str, threshold: float, high: float | None = None) -> float:
    """Distance from the threshold in natural units; >0 is the passing side (0 at the boundary)."""
    if comparison in (">=", ">"):
        return value - threshold
    if comparison in ("<=", "<"):
        return threshold - value
    if comparison == "==":
        return -abs(value - threshold)
    if comparison == "between":
        if high is None:
            raise ValueError("a range comparison needs a high end / 区间比较缺少上限")
        return min(value - threshold, high - value)
    raise ValueError(f"unknown comparison '{comparison}' / 未知比较方式")


def meets_qualitative(value: str | None, pass_values: tuple[str, ...]) -> bool:
    """A qualitative item passes when its assessed value is one of the accepted values."""
    if value is None:
        raise ValueError("value is missing / 数值缺失")
    v = str(value).strip().upper()
    return v in {p.strip().upper() for p in pass_values}
