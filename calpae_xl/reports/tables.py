"""A report's table as a plan for the port: headers, rows, French number
formats per column, widths from the content, frozen header. Every text is
written as text (never a formula), whatever it begins with, and writable
(a file name's undecodable bytes shown as U+FFFD)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Iterable, Optional, Sequence

from ..core.texts import shown
from ..workbook import layout as L
from ..app.printing import LINE_PT, row_height
from ..workbook.port import KEEP, Block, EnsureSheet, Op, PageSetup, SheetSetup, Text

MIN_WIDTH, MAX_WIDTH = 8, 60


def cell(v: Any) -> Any:
    """A report value as the port writes it: text as Text, numbers as they are,
    missing values (None, NaN, pandas' NA) as blank."""
    if v is None:
        return None
    if isinstance(v, bool):
        return Text("oui" if v else "non")
    if isinstance(v, (Decimal, int)):
        return v
    if isinstance(v, float):
        return None if v != v else Decimal(repr(v))
    if isinstance(v, (dt.date, dt.datetime)):
        return Text(v.isoformat())
    if type(v).__name__ in ("NAType", "NaTType"):
        return None
    return Text(shown(str(v)))  # a file name's undecodable bytes cannot go into a workbook


def _shown_width(v: Any, fmt: Optional[str]) -> int:
    if v is None:
        return 0
    if isinstance(v, Text):
        return max((len(line) for line in v.value.split("\n")), default=0)
    if fmt == L.EUR_FORMAT:
        return len(f"{v:,.2f}") + 3
    return len(str(v))


def table_ops(sheet: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], first_row: int = 1,
              money: Iterable[str] = (), percent: Iterable[str] = (), before_rows: Sequence[Sequence[Any]] = (),
              landscape: bool = True, create: bool = True, bold_first_col: Sequence[str] = ()) -> list[Op]:
    """The plan of one sheet holding a table. ``before_rows`` (a title, a
    note) go above the header row; ``money`` / ``percent``: the headers of the
    columns formatted in euros / as a rate. Rows whose first cell equals
    one of ``bold_first_col`` (e.g. "TOTAL") are set apart."""
    money, percent = set(money), set(percent)
    body = [[cell(v) for v in r] for r in rows]
    n_cols = len(headers)
    ops: list[Op] = [EnsureSheet(sheet)] if create else []
    r = first_row
    for i, extra in enumerate(before_rows):
        ops.append(Block(sheet, r, 1, [[cell(v) for v in extra]], styles="title" if i == 0 else None))
        r += 1
    header_row = r
    ops.append(Block(sheet, header_row, 1, [[Text(h) for h in headers]], styles="header"))
    widths: dict[int, float] = {}
    for j, h in enumerate(headers):
        fmt = L.EUR_FORMAT if h in money else L.PERCENT_FORMAT if h in percent else None
        column = [row[j] if j < len(row) else None for row in body]
        if column:
            ops.append(Block(sheet, header_row + 1, j + 1, [[v] for v in column], number_format=fmt))
        longest = max([_shown_width(v, fmt) for v in column] + [max(len(w) for w in h.split())], default=0)
        widths[j + 1] = float(min(MAX_WIDTH, max(MIN_WIDTH, longest + 2)))
    if bold_first_col:
        for i, row in enumerate(body):
            if row and isinstance(row[0], Text) and row[0].value in bold_first_col:
                ops.append(Block(sheet, header_row + 1 + i, 1, [[KEEP] * n_cols], styles="total"))
    last = header_row + len(body)
    # texts wider than their column (capped at MAX_WIDTH) wrap, and each row gets the height they need
    wrapped = [j + 1 for j in range(n_cols) if any(isinstance(row[j], Text) and _shown_width(row[j], None) + 2 >
                                                   widths[j + 1] for row in body if j < len(row))]
    heights = {header_row: row_height([(h, widths[j + 1]) for j, h in enumerate(headers)], bold=True)}
    for i, row in enumerate(body):
        h = row_height([(row[j - 1].value, widths[j]) for j in wrapped
                        if j <= len(row) and isinstance(row[j - 1], Text)])
        if h > LINE_PT:
            heights[header_row + 1 + i] = h
    for j in range(1, n_cols + 1) if wrapped and body else ():  # a row's cells all at its top, as its text
        ops.append(Block(sheet, header_row + 1, j, [[KEEP]] * len(body), styles="text_wrap" if j in wrapped
                         else "text_top"))
    ops.append(SheetSetup(sheet, widths=widths, freeze=L.a1(header_row + 1, 1), wrap_rows=[header_row],
                          row_heights=heights))
    ops.append(PageSetup(sheet, landscape=landscape, title_rows=(header_row, header_row),
                         area=f"A1:{L.a1(max(last, header_row), n_cols)}", footer=L.PRINT_FOOTER,
                         margins_cm=L.PRINT_MARGINS_CM))
    return ops


def marker_ops() -> list[Op]:
    """The hidden sheet by which a report of the project is known, so that a
    consolidation left in a folder is never read as a maquette."""
    from ..workbook.port import SheetVisibility  # noqa: PLC0415
    return [EnsureSheet(L.REPORT_MARKER), Block(L.REPORT_MARKER, 1, 1, [[Text(
        "Rapport produit par calpae-xl : ce classeur n'est pas une maquette.")]]),
        SheetVisibility(L.REPORT_MARKER, False)]
