"""The live adapter: xlwings, for Excel itself (RunPython, on Windows and
macOS) and for its remote engine (xlwings Server and xlwings Lite).

A sheet is read in one range read (values; formulas too where the engine
gives them in the same call). A plan is applied block by block: one range
write per block of values, one per style property and run of columns, so the
number of Excel operations of a click does not grow with the number of
actions. xlwings is imported by the caller (``calpae_xl.excel``): this module
only receives a ``Book``.

What Excel shows through this adapter and not through openpyxl: nothing.
What it leaves out: cell borders, tab colours and data-validation lists (the
template is created headless; a live click never needs them). Row heights
are Excel's own: the rows a plan sizes are auto-fitted (one call per sheet),
which Excel measures better than an estimate. Page setups: the print
area everywhere xlwings offers it; orientation, fit to width, scale, print
titles, margins and footer through Excel's own PageSetup object where there
is one (desktop Excel); the remote engine (xlwings Server, Lite) has none:
skipped there, the batch sets them.
"""
from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Any, Optional, Sequence

from ..workbook import layout as L
from ..workbook.port import (KEEP, Block, ClearContents, ConditionalRule, DefineName, EnsureSheet, Formula, Grid, Op,
                             PageSetup, SheetSetup, SheetVisibility, Text, dispatch)


def to_excel(v: Any) -> Any:
    """One cell as xlwings writes it. Money leaves Decimal only here, at the
    edge; text the project writes carries Excel's quote prefix, so that
    "4.2", "1/2" or "=x" stay text whatever the locale."""
    if v is None:
        return None
    if isinstance(v, Formula):
        return "=" + v.text
    if isinstance(v, Text):
        return "'" + v.value if v.value else None
    if isinstance(v, bool):
        return v
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, str):
        return "'" + v if v else None
    return v


def from_excel(v: Any) -> Any:
    """A value read from Excel: whole floats become int (years, counts), other
    floats stay floats for :func:`calpae_xl.core.money.amount_from_cell`."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 2 ** 53:
        return int(v)
    return v


def _hex(color: Optional[str]) -> Optional[str]:
    return None if color is None else "#" + color.lstrip("#")


class XlwingsWorkbook:
    """An ``xlwings.Book`` behind the port (a live workbook or a remote payload)."""

    #: Excel recomputes every formula itself: saved values need no refresh from Python
    recalculates = True

    def __init__(self, book):
        self.book = book
        try:
            self.path = str(book.fullname)
        except Exception:  # noqa: BLE001 - the remote engine knows only the name
            self.path = str(book.name)
        self._grids: dict[str, Grid] = {}
        self._names: Optional[list[str]] = None  # the book's sheet names, in order, while a plan is applied
        self._sheets: dict[str, Any] = {}  # name -> xlwings Sheet, looked up once

    # reading ---------------------------------------------------------------------------
    def sheet_names(self) -> list[str]:
        return list(self._sheet_names())

    def _sheet_names(self) -> list[str]:
        if self._names is None:
            self._names = [s.name for s in self.book.sheets]
        return self._names

    def _sheet(self, name: str):
        """The xlwings Sheet of that name, looked up once per plan: the remote
        engine finds a sheet by a scan of every name, so a lookup per block
        made 2 000 new fiches quadratic."""
        ws = self._sheets.get(name)
        if ws is None:
            ws = self._sheets[name] = self.book.sheets[name]
        return ws

    def read_sheet(self, sheet: str) -> Grid:
        if sheet in self._grids:
            return self._grids[sheet]
        ws = self._sheet(sheet)
        last = ws.used_range.last_cell
        rng = ws.range((1, 1), (last.row, last.column))
        raw = rng.options(ndim=2).value or []
        values = [[from_excel(v) for v in row] for row in raw]
        formulas: dict[tuple[int, int], str] = {}
        formulas_known = True
        try:
            f = rng.formula  # Excel: the whole range in one call
        except NotImplementedError:  # the remote engine sends values only
            formulas_known = False
        else:
            rows = f if isinstance(f, (list, tuple)) and f and isinstance(f[0], (list, tuple)) else [[f]]
            for r, row in enumerate(rows, 1):
                for c, text in enumerate(row, 1):
                    if isinstance(text, str) and text.startswith("="):
                        formulas[(r, c)] = text[1:]
        probe = partial(_arrays, ws, formulas) if formulas_known else None
        grid = Grid(values, formulas, [], formulas_known=formulas_known, merges_known=False, array_probe=probe)
        self._grids[sheet] = grid
        return grid

    def recompute(self) -> None:
        """Excel recomputes now, as F9 does: set to compute by hand, it would
        leave the values the tool reads again as they were before its writes.
        The remote engine cannot be asked (Excel there recomputes itself)."""
        try:
            self.book.app.calculate()
        except Exception:  # noqa: BLE001 - the remote engine has no app to ask
            pass
        self._grids.clear()

    # writing ---------------------------------------------------------------------------
    def apply(self, ops: Sequence[Op]) -> None:
        self._formats: dict[str, dict[str, dict[tuple[int, int], Any]]] = {}
        self._autofit: dict[str, set[int]] = {}
        dispatch(coalesce(ops), {EnsureSheet: self._ensure, Block: self._block, ClearContents: self._clear,
                                 SheetSetup: self._setup, ConditionalRule: self._rule, DefineName: self._define,
                                 PageSetup: self._page, SheetVisibility: self._visibility})
        self._flush_formats()
        self._flush_heights()
        self._grids.clear()
        self._names, self._sheets = None, {}

    def _ensure(self, op: EnsureSheet) -> None:
        names = self._sheet_names()
        if op.sheet in names:
            return
        sheets = self.book.sheets
        pos = names.index(op.before) if op.before in names else len(names)
        if 0 < pos < len(names):
            # after the sheet that precedes ``before`` (the remote engine's
            # ``before=`` lands one place too early)
            ws = sheets.add(name=op.sheet, after=self._sheet(names[pos - 1]))
        elif pos == 0:
            ws = sheets.add(name=op.sheet, before=self._sheet(op.before))
        else:
            ws = sheets.add(name=op.sheet, after=self._sheet(names[-1]))
        names.insert(pos, op.sheet)
        self._sheets[op.sheet] = ws
        if op.hidden:
            ws.visible = False

    def _block(self, op: Block) -> None:
        ws = self._sheet(op.sheet)
        n_rows, n_cols = len(op.values), max((len(r) for r in op.values), default=0)
        if not n_rows or not n_cols:
            return
        if not all(v is KEEP for row in op.values for v in row):
            matrix = [[self._keep(op, i, j) if v is KEEP else to_excel(v) for j, v in enumerate(row)]
                      + [None] * (n_cols - len(row)) for i, row in enumerate(op.values)]
            ws.range((op.row, op.col)).value = matrix
        if op.styles is not None:
            styles = [op.styles] * n_cols if isinstance(op.styles, str) else list(op.styles)
            for j, style in enumerate(styles[:n_cols]):
                if style:
                    for prop, value in L.STYLES[style].items():
                        self._format(op.sheet, prop, value, range(op.row, op.row + n_rows), [op.col + j])
        if op.number_format:
            for i, row in enumerate(op.values):
                for j, v in enumerate(row):
                    styled = op.styles is not None and (isinstance(op.styles, str) or (
                        j < len(op.styles) and op.styles[j]))
                    if not styled and isinstance(v, (Decimal, int, Formula)) and not isinstance(v, bool):
                        self._format(op.sheet, "number_format", op.number_format, [op.row + i], [op.col + j])

    def _format(self, sheet: str, prop: str, value: Any, rows, cols) -> None:
        """Formats are gathered per sheet and property (the last one set wins,
        as in Excel) and sent at the end as few rectangles as possible."""
        if prop not in _LIVE_PROPS:
            return
        cells = self._formats.setdefault(sheet, {}).setdefault(prop, {})
        for r in rows:
            for c in cols:
                cells[(r, c)] = value

    def _flush_formats(self) -> None:
        for sheet, props in self._formats.items():
            ws = self._sheet(sheet)
            for prop, cells in props.items():
                by_value: dict[Any, list[tuple[int, int]]] = {}
                for cell, value in cells.items():
                    by_value.setdefault(value, []).append(cell)
                for value, where in by_value.items():
                    for r1, c1, r2, c2 in rectangles(where):
                        _LIVE_PROPS[prop](ws.range((r1, c1), (r2, c2)), value)
        self._formats = {}

    def _clear(self, op: ClearContents) -> None:
        self._sheet(op.sheet).range((op.row1, op.col1), (op.row2, op.col2)).clear_contents()

    def _keep(self, op: Block, i: int, j: int) -> Any:
        """A KEEP cell in a block that also writes values: write back what is there."""
        grid = self.read_sheet(op.sheet)
        r, c = op.row + i, op.col + j
        f = grid.formula(r, c)
        return "=" + f if f else grid.get(r, c)

    def _setup(self, op: SheetSetup) -> None:
        ws = self._sheet(op.sheet)
        for a, b in _index_runs(sorted(op.widths), key=op.widths.get):
            ws.range((1, a), (1, b)).column_width = op.widths[a]
        if op.freeze:
            ws.freeze_panes.freeze_at(op.freeze)
        self._format(op.sheet, "wrap", True, op.wrap_rows, range(1, len(op.widths or L.FICHE_WIDTHS) + 1))
        if op.row_heights:
            self._autofit.setdefault(op.sheet, set()).update(op.row_heights)

    def _flush_heights(self) -> None:
        """The rows sized by the plan, auto-fitted by Excel after the values and
        formats are in (one call per sheet, from the first row sized to the
        last); skipped where the engine cannot."""
        for sheet, rows in self._autofit.items():
            try:
                self.book.sheets[sheet].range(f"{min(rows)}:{max(rows)}").rows.autofit()
            except (NotImplementedError, AttributeError):
                break
        self._autofit = {}

    def _page(self, op: PageSetup) -> None:
        """The print area through xlwings; the rest through Excel's PageSetup
        object where there is one (desktop Excel), else left to the batch."""
        ws = self.book.sheets[op.sheet]
        try:
            if op.area:
                ws.page_setup.print_area = op.area
            api = ws.api.PageSetup
        except (NotImplementedError, AttributeError):
            return
        try:
            cm = 72 / 2.54
            left, right, top, bottom = op.margins_cm
            api.Orientation = 2 if op.landscape else 1  # xlLandscape, xlPortrait
            api.PaperSize = 9  # xlPaperA4
            if op.scale is not None:
                api.Zoom = int(op.scale)
            elif op.fit_width:
                api.Zoom = False
                api.FitToPagesWide, api.FitToPagesTall = 1, False
            if op.title_rows:
                api.PrintTitleRows = f"${op.title_rows[0]}:${op.title_rows[1]}"
            if op.footer is not None:
                api.CenterFooter = op.footer
            api.LeftMargin, api.RightMargin, api.TopMargin, api.BottomMargin = (
                left * cm, right * cm, top * cm, bottom * cm)
        except Exception:  # noqa: BLE001 - macOS AppleScript objects differ: the print area is set, the rest skipped
            return

    def _visibility(self, op: SheetVisibility) -> None:
        self.book.sheets[op.sheet].visible = op.visible

    def _rule(self, op: ConditionalRule) -> None:
        st = L.STYLES[op.style]
        self._sheet(op.sheet).range(op.ref).conditional_formats.add_custom(
            "=" + op.formula, fill_color=_hex(st.get("fill")), font_color=_hex(st.get("font_color")),
            font_bold=st.get("bold"))

    def _define(self, op: DefineName) -> None:
        self.book.names.add(op.name, "=" + op.ref)


def _font(attr: str, conv):
    def put(rng, value):
        setattr(rng.font, attr, conv(value))
    return put


#: the style properties Excel gets through xlwings (borders and alignment are
#: left to the batch: the remote engine has no borders)
_LIVE_PROPS = {
    "fill": lambda rng, v: setattr(rng, "color", _hex(v)),
    "bold": _font("bold", bool),
    "italic": _font("italic", bool),
    "size": _font("size", float),
    "font_color": _font("color", _hex),
    "wrap": lambda rng, v: setattr(rng, "wrap_text", bool(v)),
    "number_format": lambda rng, v: setattr(rng, "number_format", v),
}


def rectangles(cells: Sequence[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
    """Cover a set of cells with few rectangles (r1, c1, r2, c2): runs of rows
    per column, then neighbouring columns with the same runs joined."""
    by_col: dict[int, list[int]] = {}
    for r, c in cells:
        by_col.setdefault(c, []).append(r)
    runs: dict[tuple[int, int], list[int]] = {}
    for c, rows in by_col.items():
        for a, b in _index_runs(sorted(set(rows))):
            runs.setdefault((a, b), []).append(c)
    out = []
    for (a, b), cols in runs.items():
        for c1, c2 in _index_runs(sorted(cols)):
            out.append((a, c1, b, c2))
    return sorted(out)


def coalesce(ops: Sequence[Op]) -> list[Op]:
    """Consecutive value blocks that continue one another (same sheet and
    columns, next rows, no style) become one block: the maquette's action
    rows, sub-totals and total are then one write."""
    out: list[Op] = []
    for op in ops:
        prev = out[-1] if out else None
        if (isinstance(op, Block) and isinstance(prev, Block) and prev.sheet == op.sheet and prev.col == op.col
                and prev.styles is None and op.styles is None and prev.number_format == op.number_format
                and prev.row + len(prev.values) == op.row
                and {len(r) for r in prev.values} == {len(r) for r in op.values}
                and not any(v is KEEP for r in prev.values + op.values for v in r)):
            out[-1] = Block(op.sheet, prev.row, prev.col, prev.values + op.values, None, op.number_format)
        else:
            out.append(op)
    return out


def _index_runs(items: Sequence[int], key=lambda i: None) -> list[tuple[int, int]]:
    """[1, 2, 3, 7] -> [(1, 3), (7, 7)]; with ``key``, a run also needs equal keys."""
    out: list[tuple[int, int]] = []
    for i in items:
        if out and i == out[-1][1] + 1 and key(i) == key(out[-1][0]):
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


#: at most this many cells asked « part of an array? » per table; past it, every
#: cell that could be part of one is taken as such (kept, never written, its
#: figure checked as read: the safe side, and the same for every row)
ARRAY_ASKS = 2000


def _arrays(ws, formulas: dict, cells: list) -> list[tuple[int, int, int, int]]:
    """The legacy (CSE) array formulas among ``cells`` (the table's amounts
    holding formulas). Excel refuses a write into part of one, so
    Recalculer must keep them, as the file readers do (:attr:`Grid.arrays`).
    Excel gives every cell of an array the array's formula, so only a cell
    whose formula is that of a neighbour can be one: those are asked
    (``has_array``, one call each); relative copies such as the tool's own
    ``=G5+K5`` differ from row to row and cost nothing. Found cells are
    given as runs of two cells or more (a 2-D array as its rows and its
    columns: only which cells are in one matters)."""
    def same(r, c, dr, dc):
        return formulas.get((r + dr, c + dc)) == formulas[(r, c)]
    asked = sorted(k for k in cells if k in formulas and
                   any(same(*k, dr, dc) for dr, dc in ((0, 1), (0, -1), (1, 0), (-1, 0))))
    if len(asked) > ARRAY_ASKS:
        inside = set(asked)
    else:
        inside = {k for k in asked if ws.range(k).has_array}
    out = []
    for dr, dc in ((0, 1), (1, 0)):
        for r, c in sorted(inside):
            if (r - dr, c - dc) in inside and same(r, c, -dr, -dc):
                continue  # not the start of a run
            n = 1
            while (r + n * dr, c + n * dc) in inside and same(r + (n - 1) * dr, c + (n - 1) * dc, dr, dc):
                n += 1
            if n > 1:
                out.append((r, c, r + (n - 1) * dr, c + (n - 1) * dc))
    return out
