"""The small port between the use cases and a workbook engine.

The use cases read whole sheets as grids and answer with a list of write
operations (a plan) made of rectangular blocks. An adapter (the package
adapter and openpyxl headless, xlwings for live Excel) applies the plan: one
block is one range write for xlwings, so the number of Excel operations does
not grow with the number of actions. A workbook file is opened and saved
through the port too (:class:`WorkbookFile`), so that every file the project
writes goes through one save frame.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Optional, Protocol, Sequence, Union


@dataclass(frozen=True)
class Formula:
    """A formula and the value Python computed for it (written as the cached
    value, so that programs reading saved values see the right number)."""

    text: str  # without the leading "="
    cached: Optional[Decimal] = None


@dataclass(frozen=True)
class Text:
    """User text written by the project: always text, never a formula, even
    when it begins with "=", "+", "-" or "@"."""

    value: str


class _Keep:
    """In a block: leave this cell's value alone (style-only writes)."""

    def __repr__(self) -> str:  # pragma: no cover - debug display
        return "KEEP"


KEEP = _Keep()

CellValue = Union[None, Decimal, int, str, Text, Formula, _Keep]


@dataclass
class Block:
    """A rectangle of cells from (row, col), 1-based. ``styles`` is either one
    style key for the whole block, or one per column (None = leave the style
    alone); ``number_format`` applies to numeric cells."""

    sheet: str
    row: int
    col: int
    values: list[list[CellValue]]
    styles: Union[None, str, Sequence[Optional[str]]] = None
    number_format: Optional[str] = None


@dataclass
class SheetSetup:
    """Cosmetics of a sheet the project owns (widths, frozen panes, lists,
    row heights that fit wrapped text)."""

    sheet: str
    widths: dict[int, float] = field(default_factory=dict)
    freeze: Optional[str] = None  # A1 of the first unfrozen cell
    validations: list[tuple[str, str]] = field(default_factory=list)  # (A1 range, list formula)
    wrap_rows: list[int] = field(default_factory=list)
    tab_color: Optional[str] = None
    #: row -> height in points (computed from the wrapped text and the column widths)
    row_heights: dict[int, float] = field(default_factory=dict)


@dataclass
class EnsureSheet:
    """Create the sheet when it is missing (an existing sheet is left as it is:
    the project's own sheets are emptied by ClearContents, then rewritten)."""

    sheet: str
    before: Optional[str] = None  # place it before this sheet when it is created
    hidden: bool = False


@dataclass
class ClearContents:
    """Empty the values of a rectangle (formats stay): what a sheet the
    project owns held before it is rewritten."""

    sheet: str
    row1: int
    col1: int
    row2: int
    col2: int


@dataclass
class ConditionalRule:
    """A conditional format: where ``formula`` (relative to the range's top-left
    cell, without "=") is true, the cells take ``style`` (fill, font colour, bold)."""

    sheet: str
    ref: str
    formula: str
    style: str


@dataclass
class DefineName:
    name: str
    ref: str  # e.g. 'Paramètres'!$A$20:$A$27


@dataclass
class PageSetup:
    """How a sheet prints: A4, orientation, fitted to the page width (pages
    follow down) or at a given ``scale`` (percent: a fiche whose amounts must
    stay on its title's page), header rows repeated on each page, print
    area, footer (Excel's codes: &P page, &N pages, &A sheet, &F file)."""

    sheet: str
    landscape: bool = False
    fit_width: bool = True
    title_rows: Optional[tuple[int, int]] = None
    area: Optional[str] = None  # "A1:L40"
    footer: Optional[str] = None
    margins_cm: tuple[float, float, float, float] = (1.5, 1.5, 1.5, 1.5)  # left, right, top, bottom
    scale: Optional[int] = None  # percent; set: not fitted to the width


@dataclass
class SheetVisibility:
    """Show or hide a sheet (a copy made for printing shows only what is printed)."""

    sheet: str
    visible: bool


@dataclass
class BarChart:
    """A native bar chart of ``series`` columns against ``categories`` (rows
    ``first_row``..``last_row``, the header row above), placed at ``anchor``."""

    sheet: str
    title: str
    categories_col: int
    series_cols: Sequence[int]
    header_row: int
    first_row: int
    last_row: int
    anchor: str
    number_format: str = '#,##0 "€"'


@dataclass
class ForgetValue:
    """Formulas of the person's whose saved value this run makes stale (they
    depend on a cell it changed): the formula stays as typed, its saved value
    goes. The spreadsheet recomputes it on opening; until then the reader says
    it has no value, never the old one. A live engine recomputes by itself."""

    sheet: str
    cells: Sequence[tuple[int, int]]


Op = Union[EnsureSheet, Block, ClearContents, SheetSetup, ConditionalRule, DefineName, PageSetup, SheetVisibility,
           BarChart, ForgetValue]


def dispatch(ops: Sequence[Op], handlers: dict) -> None:
    """Apply a plan with one handler per kind of operation (the adapters'
    common loop); an operation an engine has no handler for is skipped."""
    for op in ops:
        handler = handlers.get(type(op))
        if handler is not None:
            handler(op)


class Workbook(Protocol):
    """What an engine must offer the use cases: read sheets, apply a plan."""

    path: str

    def sheet_names(self) -> list[str]: ...

    def read_sheet(self, sheet: str) -> "Grid": ...

    def apply(self, ops: Sequence[Op]) -> None: ...


class WorkbookFile(Workbook, Protocol):
    """A workbook that lives in a file (the headless adapters): opened and
    saved through the save frame (guards, temporary file, check, backup,
    atomic replace). Live Excel saves itself and has no such contract."""

    @classmethod
    def open(cls, path: str) -> "WorkbookFile": ...

    def save(self, target: Optional[str] = None, backup: bool = True, replace: bool = False,
             force: bool = False) -> Optional[str]:
        """Write to ``target`` (default: the file read); returns the backup's
        path, and leaves what the frame did in ``self.saved`` (a
        ``saveframe.Written``: whether the file changed). ``replace``: a new
        workbook, no file read; ``force``: an existing file other than the one
        read may be replaced."""


@dataclass
class Grid:
    """A sheet as read: values (cached values for formulas, already resolved),
    formulas where cells hold one, and merged ranges as (r1, c1, r2, c2)."""

    values: list[list[Any]]
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    #: False when the engine cannot tell formulas (the xlwings remote engine
    #: sends values only) or merged cells (neither xlwings engine reads them in
    #: one call): the reader then infers what it can
    formulas_known: bool = True
    merges_known: bool = True
    #: rows the officer hid (an engine that cannot tell leaves it empty)
    hidden_rows: frozenset = frozenset()
    #: array formulas over several cells (r1, c1, r2, c2): each cell holds the array's formula (in
    #: ``formulas``) and its own saved value; a write into one would break the array
    arrays: list[tuple[int, int, int, int]] = field(default_factory=list)
    #: for an engine that must be asked, cell by cell, whether a cell is part of an array (live Excel): given
    #: the cells that matter (the table's amounts holding formulas), the ranges covering their arrays; it
    #: then stands for ``arrays``
    array_probe: Optional[Callable[[list[tuple[int, int]]], list[tuple[int, int, int, int]]]] = \
        field(default=None, compare=False)

    @property
    def n_rows(self) -> int:
        return len(self.values)

    @property
    def n_cols(self) -> int:
        return max((len(r) for r in self.values), default=0)

    def get(self, row: int, col: int) -> Any:
        """1-based access; outside the grid is None."""
        if 1 <= row <= len(self.values):
            r = self.values[row - 1]
            if 1 <= col <= len(r):
                return r[col - 1]
        return None

    def formula(self, row: int, col: int) -> Optional[str]:
        return self.formulas.get((row, col))

    def with_merges_filled(self) -> "Grid":
        """A copy where each merged range's top-left value fills all its cells
        (the annex merges thème, Chorus and bloc over several rows). The grid
        itself, which an adapter may cache, is left as read; only the rows a
        merge touches are copied."""
        values = list(self.values)
        copied: set[int] = set()
        width = self.n_cols  # a merge reaching beyond the cells read fills no further (bounded work)
        for r1, c1, r2, c2 in self.merged:
            v = self.get(r1, c1)
            if v is None:
                continue
            c2 = min(c2, width)
            for r in range(r1, min(r2, self.n_rows) + 1):
                if r not in copied:
                    values[r - 1] = list(values[r - 1])
                    copied.add(r)
                row = values[r - 1]
                for c in range(c1, c2 + 1):
                    if c > len(row):
                        row.extend([None] * (c - len(row)))
                    if row[c - 1] is None:
                        row[c - 1] = v
        return Grid(values, self.formulas, self.merged, self.formulas_known, self.merges_known, self.hidden_rows,
                    self.arrays, self.array_probe)


def spread_arrays(anchors, cols_of: dict, formulas: dict, path: str, sheet: str) -> list[tuple[int, int, int, int]]:
    """Give every cell of an array formula over several cells its formula
    (a file holds it in the first cell only; the others hold their saved
    value alone and must never read as typed numbers), for both readers.

    ``anchors`` are (row, column, formula, (r1, c1, r2, c2)); ``cols_of`` maps
    each row the sheet holds to its sorted columns. The work is bounded by
    the cells the file holds, whatever the ranges say: arrays cannot
    overlap, so each cell is visited once; a file whose arrays would make
    it visit cells again and again (``path``, its sheet ``sheet``) is
    refused. Returns the ranges."""
    import bisect  # noqa: PLC0415

    from ..errors import UnreadableFile  # noqa: PLC0415
    from .a1 import sheet_ref  # noqa: PLC0415
    out: list[tuple[int, int, int, int]] = []
    rows = sorted(cols_of)
    budget = 2 * (sum(len(c) for c in cols_of.values()) + len(rows)) + 10_000
    work = 0
    for r0, c0, text, (r1, c1, r2, c2) in anchors:
        r1, r2, c1, c2 = min(r1, r2), max(r1, r2), min(c1, c2), max(c1, c2)
        if (r1, c1) == (r2, c2):
            continue
        out.append((r1, c1, r2, c2))
        for r in rows[bisect.bisect_left(rows, r1):bisect.bisect_right(rows, r2)]:
            cs = cols_of[r]
            lo, hi = bisect.bisect_left(cs, c1), bisect.bisect_right(cs, c2)
            work += 1 + hi - lo
            if work > budget:
                raise UnreadableFile(path, f"la feuille {sheet_ref(sheet)} déclare des formules matricielles qui se "
                                           "chevauchent (un classeur abîmé ou fabriqué)", "FEUILLE_DEMESUREE")
            for c in cs[lo:hi]:
                if (r, c) != (r0, c0):
                    formulas.setdefault((r, c), text)
    return out
