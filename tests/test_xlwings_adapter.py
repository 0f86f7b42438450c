"""The live adapter against desktop Excel's shape of answers (xlwings over
COM / AppleScript), without Excel: a small stand-in book that answers like
xlwings does there (values and formulas of a whole range in one call) and
counts the calls. What Excel itself does is in docs/verification-excel.md."""
from decimal import Decimal

from calpae_xl.adapters.openpyxl_adapter import OpenpyxlWorkbook
from calpae_xl.adapters.xlwings_adapter import XlwingsWorkbook, coalesce, rectangles
from calpae_xl.app.session import CONTROLER, RECALCULER, run
from calpae_xl.workbook.port import Block, Formula, Text
from tests.helpers.samples import variant, write_variant


class Calls:
    reads = 0
    writes = 0
    asks = 0


class Font:
    def __setattr__(self, k, v):
        Calls.writes += 1


class Range:
    def __init__(self, sheet, a, b=None):
        self.sheet, self.a, self.b = sheet, a, b or a

    def options(self, **_):
        return self

    @property
    def last_cell(self):
        r = max(self.sheet.cells, key=lambda k: k[0])[0] if self.sheet.cells else 1
        c = max(self.sheet.cells, key=lambda k: k[1])[1] if self.sheet.cells else 1
        return type("C", (), {"row": r, "column": c})

    def _grid(self, formulas):
        Calls.reads += 1
        (r1, c1), (r2, c2) = self.a, self.b
        out = []
        for r in range(r1, r2 + 1):
            row = []
            for c in range(c1, c2 + 1):
                v = self.sheet.cells.get((r, c))
                if formulas:
                    row.append(v if isinstance(v, str) and v.startswith("=") else ("" if v is None else str(v)))
                else:
                    row.append(self.sheet.values.get((r, c), v) if isinstance(v, str) and v.startswith("=")
                               else v)
            out.append(tuple(row))
        return tuple(out)

    @property
    def value(self):
        return [list(r) for r in self._grid(False)]

    @value.setter
    def value(self, matrix):
        Calls.writes += 1
        r1, c1 = self.a
        written = {(r1 + i, c1 + j) for i, row in enumerate(matrix) for j, _ in enumerate(row)}
        if written & self.sheet.arrays and not self.sheet.arrays <= written:
            raise RuntimeError("Impossible de modifier une partie d'une matrice.")  # as Excel refuses it
        for i, row in enumerate(matrix):
            for j, v in enumerate(row):
                if isinstance(v, str) and v.startswith("'"):
                    v = v[1:]
                self.sheet.cells[(r1 + i, c1 + j)] = v

    @property
    def formula(self):
        return self._grid(True)

    def clear_contents(self):
        Calls.writes += 1
        (r1, c1), (r2, c2) = self.a, self.b
        for k in list(self.sheet.cells):
            if r1 <= k[0] <= r2 and c1 <= k[1] <= c2:
                del self.sheet.cells[k]

    @property
    def font(self):
        return Font()

    @property
    def has_array(self):
        Calls.asks += 1
        return self.a in self.sheet.arrays

    def __setattr__(self, k, v):
        if k in ("sheet", "a", "b", "value"):  # value: through its setter, which writes the cells
            object.__setattr__(self, k, v)
        else:
            Calls.writes += 1


class Sheet:
    def __init__(self, name, cells, values=None):
        self.name, self.cells, self.values, self.arrays = name, cells, values or {}, set()

    @property
    def used_range(self):
        return Range(self, (1, 1))

    def range(self, a, b=None):
        return Range(self, a, b)


class Sheets(list):
    def __getitem__(self, k):
        return next(s for s in self if s.name == k) if isinstance(k, str) else list.__getitem__(self, k)


class Book:
    def __init__(self, sheets):
        self.sheets = Sheets(sheets)
        self.fullname = "maquette.xlsm"


def _book_from(path):
    """The workbook as desktop Excel holds it: formulas in cells, values computed."""
    import openpyxl
    f = openpyxl.load_workbook(path)
    v = openpyxl.load_workbook(path, data_only=True)
    sheets = []
    for ws in f.worksheets:
        cells, values = {}, {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    cells[(c.row, c.column)] = c.value
                    if c.data_type == "f":
                        values[(c.row, c.column)] = v[ws.title][c.coordinate].value
        sheets.append(Sheet(ws.title, cells, values))
    return Book(sheets)


def _recalculated(tmp_path, fiches: bool):
    """A maquette recalculated and checked by the file adapter, as it is on disk."""
    path = tmp_path / "m.xlsx"
    write_variant(str(path), variant(), fiches=fiches)
    wbk = OpenpyxlWorkbook.open(str(path))
    run(wbk, [RECALCULER, CONTROLER])
    wbk.save(backup=False)
    return path


def test_reads_values_and_formulas_in_one_call_per_sheet_and_keeps_user_formulas(tmp_path):
    book = _book_from(_recalculated(tmp_path, fiches=False))
    maquette = book.sheets["Maquette"]
    maquette.cells[(5, 10)] = "=1000+500"  # the officer typed a formula in an input (report) cell
    maquette.values[(5, 10)] = 1500
    wb = XlwingsWorkbook(book)
    grid = wb.read_sheet("Maquette")
    assert grid.formulas_known and grid.formula(5, 10) == "1000+500" and grid.get(5, 10) == 1500
    Calls.reads = Calls.writes = 0
    outcome = run(wb, [RECALCULER, CONTROLER])
    assert Calls.reads <= 2 * len(book.sheets)  # values + formulas, at most once per sheet
    assert maquette.cells[(5, 10)] == "=1000+500"  # written back as a formula, not as its value
    a11 = outcome.maquette.actions[0]
    assert a11.report == Decimal(1500)
    assert str(maquette.cells[(5, 8)]).startswith("=INT(ROUND(")  # part État: the live formula
    assert Calls.writes <= 15


def test_blocks_join_and_formats_become_few_rectangles():
    ops = coalesce([Block("S", 5, 6, [[1, 2]]), Block("S", 6, 6, [[3, Formula("A1", Decimal(1))]]),
                    Block("S", 7, 6, [[Text("x"), None]])])
    assert len(ops) == 1 and ops[0].row == 5 and len(ops[0].values) == 3
    cells = [(r, c) for r in range(1, 11) for c in (1, 2)] + [(12, 1)]
    assert rectangles(cells) == [(1, 1, 10, 2), (12, 1, 12, 1)]


def test_excel_is_asked_to_recompute_before_the_values_are_read_again():
    """In Excel set to compute by hand (F9), the values read again after Recalculer's writes would still be the
    old ones: the adapter asks Excel to recompute; the remote engine, which cannot be asked, raises nothing."""
    asked = []

    class App:
        def calculate(self):
            asked.append(True)

    class Remote:
        @property
        def calculate(self):
            raise NotImplementedError

    for app in (App(), Remote()):
        book = type("B", (), {"app": app, "fullname": "m.xlsx", "sheets": []})()
        wb = XlwingsWorkbook(book)
        wb._grids["Maquette"] = "stale"
        wb.recompute()
        assert wb._grids == {}
    assert asked == [True]


def test_an_array_formula_of_the_persons_is_never_written_into_and_few_cells_are_asked(tmp_path):
    """Excel refuses a write into part of a legacy (CSE) array formula, and the file readers keep such cells;
    in Excel the adapter finds them too, asking Excel only about the cells whose formula is that of a
    neighbour (every cell of an array shows the array's formula; the tool's own formulas differ by row)."""
    path = _recalculated(tmp_path, fiches=True)
    book = _book_from(path)
    Calls.asks = 0
    run(XlwingsWorkbook(_book_from(path)), [RECALCULER, CONTROLER])
    assert Calls.asks == 0  # the tool's own workbook: nothing to ask
    maquette = book.sheets["Maquette"]
    for r in (9, 10):  # H9:H10 = {=F9:F10/2}: the part État typed as an array over two actions
        maquette.cells[(r, 8)] = "=F9:F10/2"
        maquette.values[(r, 8)] = 7
        maquette.arrays.add((r, 8))
    wb = XlwingsWorkbook(book)
    Calls.asks = 0
    outcome = run(wb, [RECALCULER, CONTROLER])
    assert Calls.asks == 2  # H9 and H10, the only amounts whose formula is a neighbour's
    assert {f.where.cell for f in outcome.findings if f.code == "PARITE_ROMPUE"} == {"H9", "H10"}  # said wrong
    assert [maquette.cells[(r, 8)] for r in (9, 10)] == ["=F9:F10/2"] * 2  # never written into


def test_array_asks_are_bounded_and_past_the_bound_every_row_is_kept_alike():
    """Only the cells given (the table's amounts) whose formula is a neighbour's are asked, one Excel call
    each; past ARRAY_ASKS, every such cell is taken as part of an array (kept, never written, its figure
    checked as read): the safe side, the same for every row. Lone formulas are never asked."""
    from calpae_xl.adapters import xlwings_adapter as X
    sheet = Sheet("S", {})
    sheet.arrays = {(3, 2), (4, 2)}
    formulas = {(r, 2): "$A$1" for r in range(1, 31)}
    formulas[(1, 5)] = "A1*2"  # alone: not asked
    formulas[(1, 6)] = formulas[(2, 6)] = "$A$1"  # not among the cells given: not asked
    cells = [(r, c) for r in range(1, 31) for c in (2, 5)]
    Calls.asks = 0
    assert X._arrays(sheet, formulas, cells) == [(3, 2, 4, 2)]
    assert Calls.asks == 30
    many = {(r, 2): "$A$1" for r in range(1, X.ARRAY_ASKS + 2)}
    Calls.asks = 0
    assert X._arrays(sheet, many, list(many)) == [(1, 2, X.ARRAY_ASKS + 1, 2)]
    assert Calls.asks == 0
