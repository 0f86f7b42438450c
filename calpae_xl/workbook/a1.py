"""A1 references, once for the whole project: column letters, cell and range
references, sheet names quoted for formulas. Standard library only (the gate
uses it before any parser runs)."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

MAX_ROW, MAX_COL = 1_048_576, 16_384
_DIGITS = "0123456789"
REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


@lru_cache(maxsize=1024)
def col_letter(col: int) -> str:
    """1 -> A, 27 -> AA."""
    s = ""
    while col:
        col, r = divmod(col - 1, 26)
        s = chr(65 + r) + s
    return s


@lru_cache(maxsize=4096)
def col_index(letters: str) -> int:
    """'A' -> 1, 'AB' -> 28 (upper-case letters; no check of the range)."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


#: A..ZZ -> column number, looked up without a call on hot paths
COLUMNS = {col_letter(i): i for i in range(1, 703)}


def a1(row: int, col: int, absolute: bool = False) -> str:
    d = "$" if absolute else ""
    return f"{d}{col_letter(col)}{d}{row}"


def split_ref(ref: str) -> tuple[int, int]:
    """'AB12' (or '$AB$12') -> (12, 28)."""
    ref = ref.replace("$", "")
    letters = ref.rstrip(_DIGITS)
    return int(ref[len(letters):]), col_index(letters.upper())


def parse_ref(ref: str) -> Optional[tuple[int, int]]:
    """(row, col) of an A1 reference, or None when it is not one."""
    m = REF.fullmatch(ref.strip())
    if not m:
        return None
    return int(m.group(2)), col_index(m.group(1).upper())



_LOOKS_LIKE_REF = re.compile(r"[A-Za-z]{1,3}[0-9]+|[Rr][0-9]*[Cc][0-9]*|TRUE|FALSE", re.I)


def sheet_ref(sheet: str) -> str:
    """'Maquette' -> Maquette, 'Fiche S 1' -> 'Fiche S 1' quoted for formulas
    (as are names a spreadsheet would take for a reference: 'AB12', 'R1C1')."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", sheet) and not _LOOKS_LIKE_REF.fullmatch(sheet):
        return sheet
    return "'" + sheet.replace("'", "''") + "'"
