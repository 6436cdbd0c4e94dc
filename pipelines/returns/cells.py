"""Cell references: 0-based (row, column) ↔ A1, shared by the readers, the layouts and the parser."""

from __future__ import annotations

import re

_COL_LETTERS: list[str] = []
_A1 = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")


def col_letter(c: int) -> str:
    """0-based column index → spreadsheet letters (0 → A, 26 → AA)."""
    while len(_COL_LETTERS) <= c:
        n = len(_COL_LETTERS) + 1
        s = ""
        while n:
            n, rem = divmod(n - 1, 26)
            s = chr(65 + rem) + s
        _COL_LETTERS.append(s)
    return _COL_LETTERS[c]


def a1(r: int, c: int) -> str:
    """0-based row and column → A1 reference."""
    return f"{col_letter(c)}{r + 1}"


def rc(ref: str) -> tuple[int, int] | None:
    """A1 reference → 0-based (row, column), None when it is not one."""
    m = _A1.fullmatch(ref)
    if not m:
        return None
    c = 0
    for ch in m.group(1):
        c = c * 26 + ord(ch) - 64
    return int(m.group(2)) - 1, c - 1
