"""An in-memory workbook behind the port, for testing the plans without files
(as xlwings tests macros with a mock caller): cells, formulas with the value
the plan cached, and every non-cell operation recorded."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Optional, Sequence

from calpae_xl.workbook.port import (KEEP, BarChart, Block, ClearContents, ConditionalRule, DefineName, EnsureSheet,
                                     Formula, Grid, Op, PageSetup, SheetSetup, SheetVisibility, Text, dispatch)


class MemoryWorkbook:
    """Sheets of cells {(row, col): value}; a formula cell holds a Formula."""

    def __init__(self, sheets: Optional[dict[str, dict[tuple[int, int], Any]]] = None, path: str = "memoire.xlsx"):
        self.path = path
        self.sheets: dict[str, dict[tuple[int, int], Any]] = {k: dict(v) for k, v in (sheets or {}).items()}
        self.hidden: set[str] = set()
        self.styles: dict[tuple[str, int, int], str] = {}
        self.recorded: list[Op] = []
        self.merged: dict[str, list[tuple[int, int, int, int]]] = {}

    @classmethod
    def from_rows(cls, sheets: dict[str, list[list[Any]]], **kw) -> "MemoryWorkbook":
        """Sheets given as lists of rows (None: an empty cell; "=..." a formula without cached value)."""
        out = {}
        for name, rows in sheets.items():
            cells = {}
            for r, row in enumerate(rows, 1):
                for c, v in enumerate(row, 1):
                    if isinstance(v, str) and v.startswith("="):
                        v = Formula(v[1:], None)
                    if v is not None:
                        cells[(r, c)] = v
            out[name] = cells
        return cls(out, **kw)

    # the port -----------------------------------------------------------------------------
    def sheet_names(self) -> list[str]:
        return list(self.sheets)

    def read_sheet(self, sheet: str) -> Grid:
        cells = self.sheets[sheet]
        n_rows = max((r for r, _ in cells), default=0)
        values: list[list] = [[] for _ in range(n_rows)]
        formulas = {}
        for (r, c), v in cells.items():
            if isinstance(v, Formula):
                formulas[(r, c)] = v.text
                v = v.cached
            elif isinstance(v, Text):
                v = v.value
            row = values[r - 1]
            row.extend([None] * (c - len(row)))
            row[c - 1] = v
        return Grid(values, formulas, list(self.merged.get(sheet, [])))

    def apply(self, ops: Sequence[Op]) -> None:
        dispatch(ops, {EnsureSheet: self._ensure, Block: self._block, ClearContents: self._clear,
                       SheetSetup: self.recorded.append, ConditionalRule: self.recorded.append,
                       DefineName: self.recorded.append, PageSetup: self.recorded.append,
                       SheetVisibility: self.recorded.append, BarChart: self.recorded.append})

    def _ensure(self, op: EnsureSheet) -> None:
        if op.sheet in self.sheets:
            return
        names = list(self.sheets)
        pos = names.index(op.before) if op.before in names else len(names)
        items = list(self.sheets.items())
        items.insert(pos, (op.sheet, {}))
        self.sheets = dict(items)
        if op.hidden:
            self.hidden.add(op.sheet)

    def _block(self, op: Block) -> None:
        cells = self.sheets[op.sheet]
        for i, row in enumerate(op.values):
            for j, v in enumerate(row):
                key = (op.row + i, op.col + j)
                style = op.styles if isinstance(op.styles, str) or op.styles is None else (
                    op.styles[j] if j < len(op.styles) else None)
                if style:
                    self.styles[(op.sheet, *key)] = style
                if v is KEEP:
                    continue
                if v is None or (isinstance(v, (Text, str)) and not (v.value if isinstance(v, Text) else v)):
                    cells.pop(key, None)
                else:
                    cells[key] = v

    def _clear(self, op: ClearContents) -> None:
        cells = self.sheets[op.sheet]
        for (r, c) in list(cells):
            if op.row1 <= r <= op.row2 and op.col1 <= c <= op.col2:
                del cells[(r, c)]

    # for the tests ----------------------------------------------------------------------------
    def value(self, sheet: str, row: int, col: int) -> Any:
        """What a program reading saved values sees (a formula's cached value, a text's string)."""
        v = self.sheets[sheet].get((row, col))
        if isinstance(v, Formula):
            return v.cached
        if isinstance(v, Text):
            return v.value
        return v

    def amount(self, sheet: str, row: int, col: int) -> Optional[Decimal]:
        v = self.value(sheet, row, col)
        return None if v is None else Decimal(str(v))
