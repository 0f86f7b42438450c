"""How the sheets the project writes print by themselves, from Excel or
LibreOffice: their page setups (A4, orientation, fitted to the width, header
row repeated, print area, margins, footer) and the row heights that fit
their wrapped text. Pure plan helpers: positions come from the layout, the
engines apply the operations.

A spreadsheet does not size a row to its wrapped text when a program wrote
the file (Excel only does it while one types), so the heights are computed
here from the text's length and the column's width, generously: a row a
little too tall prints well, a row too short cuts the text. The estimate
holds for Calibri 11 (Excel) and for the wider fonts LibreOffice takes when
Calibri is missing.
"""
from __future__ import annotations

import math
from typing import Iterable, Optional, Sequence

from ..workbook import layout as L
from ..workbook.port import KEEP, Block, Grid, Op, PageSetup, SheetSetup, Text

#: points per line of 11-point text, as the spreadsheets' default row height
LINE_PT = 15.0
#: the highest row a spreadsheet allows
MAX_ROW_PT = 409.0
#: characters of ordinary text per unit of column width: a unit is the width of a digit of the
#: workbook's font, and a letter is narrower (about 1.15 per unit in Calibri, Carlito or DejaVu
#: Sans alike); 1.0 leaves room for the words wrapped whole
CHARS_PER_UNIT = 1.0
#: A4 in points, and the width of a column unit in points (7 pixels at 96 dpi, plus padding)
A4_PT = (595.3, 841.9)
POINTS_PER_UNIT = 5.25
CM_PT = 72 / 2.54


def text_lines(text: object, width: float, size: float = 11) -> int:
    """Lines that ``text`` takes, wrapped in a column ``width`` units wide."""
    if text is None:
        return 1
    s = str(text)
    if not s.strip():
        return 1
    per_line = max(1, int(width * CHARS_PER_UNIT * 11 / size))
    return sum(max(1, math.ceil(len(part.rstrip()) / per_line)) for part in s.split("\n"))


def row_height(cells: Iterable[tuple[object, float]], size: float = 11, bold: bool = False) -> float:
    """The height (points) of a row whose cells hold these (text, column width): the tallest."""
    lines = max((text_lines(t, w * (0.92 if bold else 1), size) for t, w in cells), default=1)
    return min(MAX_ROW_PT, round(lines * LINE_PT * size / 11 + (2 if lines > 1 else 0), 1))


def columns_width_pt(widths: Sequence[float]) -> float:
    return sum(w * POINTS_PER_UNIT + 3.75 for w in widths)


def printable_pt(landscape: bool, margins_cm: Sequence[float] = L.PRINT_MARGINS_CM) -> tuple[float, float]:
    """(width, height) inside the margins of an A4 page."""
    w, h = (A4_PT[1], A4_PT[0]) if landscape else A4_PT
    left, right, top, bottom = margins_cm
    return w - (left + right) * CM_PT, h - (top + bottom) * CM_PT


def page(sheet: str, role: str, last_row: int, n_cols: int, title_row: Optional[int] = None,
         scale: Optional[int] = None) -> PageSetup:
    """The page setup of a sheet the project writes, for its role (L.MAQUETTE,
    L.CONTROLES, L.FICHE_PREFIX…): the print area runs from A1 to ``last_row``
    and ``n_cols``."""
    return PageSetup(sheet, landscape=L.PRINT_LANDSCAPE[role], fit_width=scale is None,
                     title_rows=(title_row, title_row) if title_row else None,
                     area=f"A1:{L.a1(max(last_row, 1), max(n_cols, 1))}", footer=L.PRINT_FOOTER,
                     margins_cm=L.PRINT_MARGINS_CM, scale=scale)


def fiche_scale(heights: dict[int, float], amounts_row: int, widths: Sequence[float]) -> Optional[int]:
    """None when, fitted to the page width, the fiche's rows down to its last
    amount fit the first page; else the scale (percent) at which they do, so
    that the amounts print on the title's page."""
    avail_w, avail_h = printable_pt(False)
    width_scale = min(1.0, avail_w / columns_width_pt(widths))
    down_to = sum(heights.get(r, LINE_PT) for r in range(1, amounts_row + 1))
    if down_to * width_scale <= avail_h * 0.95:
        return None
    return max(30, math.floor(min(width_scale, avail_h * 0.95 / down_to) * 100))


def owned_looks(sheet: str, role: str, header_row: int, body: list[list], old: Optional[Grid],
                widths: Sequence[float], wrapped: Sequence[int], theirs: Sequence[int] = ()) -> list[Op]:
    """How a sheet the project rewrites at each run prints: its long texts
    wrapped (columns ``wrapped``), each row as tall as they need (the rows
    the previous run left below get their usual height back), the header
    row repeated, down to its last row. The columns ``theirs`` (the answers
    a person types) keep the look the person gave them."""
    first = header_row + 1
    ops: list[Op] = []
    heights: dict[int, float] = {}
    if old is not None:
        heights.update({r: LINE_PT for r in range(first, old.n_rows + 1)})
    for i, row in enumerate(body):
        heights[first + i] = row_height([(v.value, widths[c - 1]) for c in wrapped
                                           if c <= len(row) and isinstance(v := row[c - 1], Text)])
    if body:
        styles = ["text_wrap" if c in wrapped else None if c in theirs else "text_top"
                  for c in range(1, len(widths) + 1)]
        ops.append(Block(sheet, first, 1, [[KEEP] * len(widths)] * len(body), styles=styles))
    ops.append(SheetSetup(sheet, row_heights=heights))
    ops.append(page(sheet, role, header_row + len(body), len(widths), title_row=header_row))
    return ops
