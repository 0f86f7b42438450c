"""The headless adapter: openpyxl, for the CLI and batch runs.

openpyxl cannot write the cached value of a formula, and drops every cached
value it loaded. Programs that read saved values (pandas, python-calamine,
openpyxl ``data_only=True``) would then see empty totals. So this adapter
reads the cached values itself (one streaming pass over each sheet's XML),
and after saving puts back a cached value in every formula cell: the value
Python computed for the formulas it wrote, the previous one for the others.
Excel and LibreOffice still recalculate on opening (fullCalcOnLoad).
"""
from __future__ import annotations

import os
import re
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Optional, Sequence
from xml.sax.saxutils import escape, unescape

from ..errors import CalpaeError, UnreadableFile
from ..workbook import layout as L
from ..workbook.port import (KEEP, BarChart, Block, ClearContents, ConditionalRule, DefineName, EnsureSheet,
                             ForgetValue, Formula, Grid, Op, PageSetup, SheetSetup, SheetVisibility, Text, dispatch,
                             spread_arrays)
from . import gate, safety, saveframe
from .ooxml import cached_value, clean_text, sheet_xml_paths, value_text


def _openpyxl():
    import openpyxl  # noqa: PLC0415 - imported late so that the core never pays for it
    return openpyxl


# --- cached values -----------------------------------------------------------------

_FORMULA_CELL = re.compile(rb'<c\b([^>]*?)>(?:<f\b[^>]*?/>|<f\b[^>]*>[^<]*</f>)(?:<v>([^<]*)</v>)?')
_ATTR_R = re.compile(rb'\br="([A-Z]+[0-9]+)"')
_ATTR_T = re.compile(rb'\bt="(\w+)"')


def read_cached_formula_values(path: str) -> dict[str, dict[str, object]]:
    """Sheet -> {A1: cached value} for every formula cell of the file. A
    regular-expression pass over each sheet's XML: only formula cells matter
    here, and a full XML parse of big sheets costs seconds (text never holds
    a raw "<" in XML, so the patterns are exact)."""
    out: dict[str, dict[str, object]] = {}
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        for name, part in sheet_xml_paths(z).items():
            if part not in names:
                continue
            cells: dict[str, object] = {}
            for m in _FORMULA_CELL.finditer(z.read(part)):
                r = _ATTR_R.search(m.group(1))
                if not r:
                    continue
                t_m = _ATTR_T.search(m.group(1))
                t = t_m.group(1).decode() if t_m else "n"
                text = m.group(2).decode("utf-8") if m.group(2) is not None else None
                if text is not None and "&" in text:
                    text = unescape(text, {"&quot;": '"', "&apos;": "'"})
                cells[r.group(1).decode()] = cached_value(t, text)
            out[name] = cells
    return out


# openpyxl writes "<v />" (xml.etree) or "<v></v>" (lxml) after a formula
_CELL_RE = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*)><f>((?:(?!</f>).)*)</f>(?:<v\s*/>|<v></v>)', re.S)


def inject_cached_values(src: str, dst: str, values: dict[str, dict[str, object]]) -> None:
    """Copy the package ``src`` to ``dst`` with the cached values of formula
    cells filled in (openpyxl writes ``<f>…</f><v />``)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        parts = sheet_xml_paths(zin)
        by_part = {parts[s]: v for s, v in values.items() if s in parts and v}
        for info in zin.infolist():
            data = zin.read(info.filename)
            cached = by_part.get(info.filename)
            if cached:
                text = data.decode("utf-8")

                def put(m: re.Match, cached: dict = cached) -> str:
                    fv = value_text(cached.get(m.group(1)))
                    if fv is None:
                        return m.group(0)
                    attrs = re.sub(r'\s+t="[^"]*"', "", m.group(2))
                    t = "" if fv[0] == "n" else f' t="{fv[0]}"'
                    return f'<c r="{m.group(1)}"{attrs}{t}><f>{m.group(3)}</f><v>{escape(fv[1])}</v>'
                data = _CELL_RE.sub(put, text).encode("utf-8")
            zout.writestr(info, data)


# --- styles ----------------------------------------------------------------------------

def _style_factory():
    """openpyxl objects for the layout's engine-neutral styles."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side  # noqa: PLC0415
    thin = Side(style="thin", color="BFBFBF")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    out = {}
    for key, st in L.STYLES.items():
        d: dict = {}
        font = {k: st[s] for k, s in (("bold", "bold"), ("italic", "italic"), ("size", "size"),
                                      ("color", "font_color")) if s in st}
        if font:
            d["font"] = Font(name=L.FONT_NAME, family=2, **font)
        if "fill" in st:
            d["fill"] = PatternFill("solid", start_color=st["fill"], end_color=st["fill"])
        if st.get("border"):
            d["border"] = box
        if any(k in st for k in ("wrap", "valign", "halign")):
            d["alignment"] = Alignment(wrap_text=st.get("wrap") or None, vertical=st.get("valign"),
                                       horizontal=st.get("halign"))
        if "number_format" in st:
            d["number_format"] = st["number_format"]
        out[key] = d
    return out


def _differential(style: str):
    """The DifferentialStyle of a conditional format (fill, font colour, bold)."""
    from openpyxl.styles import Font, PatternFill  # noqa: PLC0415
    st = L.STYLES[style]
    fill = PatternFill("solid", start_color=st["fill"], end_color=st["fill"], bgColor=st["fill"]) \
        if "fill" in st else None
    font = Font(color=st.get("font_color"), bold=st.get("bold")) if ("font_color" in st or "bold" in st) else None
    return fill, font


# --- the adapter ------------------------------------------------------------------------

class OpenpyxlWorkbook:
    """A workbook file opened with openpyxl (``.xlsx`` or ``.xlsm``)."""

    def __init__(self, path: str, wb=None, cached: Optional[dict] = None):
        self.path = str(path)
        self.wb = wb
        self.cached: dict[str, dict[str, object]] = cached or {}
        self.written: dict[str, dict[str, object]] = {}
        self._grids: dict[str, Grid] = {}
        self._styles = None
        self.stamp: Optional[tuple[int, int]] = None  # the file as read, to detect changes on disk

    # opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str) -> "OpenpyxlWorkbook":
        p = Path(path)
        gate.preflight(path)
        stamp = safety.stamp(path)
        try:
            cached = read_cached_formula_values(path)
            wb = _openpyxl().load_workbook(path, keep_vba=p.suffix.lower() == ".xlsm", keep_links=True,
                                           rich_text=True)
        except CalpaeError:
            raise
        except zipfile.BadZipFile:
            raise UnreadableFile(path, "ce n'est pas un classeur Excel (.xlsx) valide", "ZIP_ABIME") from None
        except KeyError as e:
            raise UnreadableFile(path, f"partie manquante dans le classeur ({e})", "PARTIE_MANQUANTE") from None
        except Exception as e:  # noqa: BLE001 - the boundary: any parser failure names the file
            raise UnreadableFile(path, f"{type(e).__name__} : {str(e)[:200]}", "CLASSEUR_INVALIDE") from None
        wbk = cls(path, wb, cached)
        wbk.stamp = stamp
        return wbk

    @classmethod
    def new(cls, path: str) -> "OpenpyxlWorkbook":
        wb = _openpyxl().Workbook()
        wb.remove(wb.active)
        return cls(path, wb, {})

    # reading ---------------------------------------------------------------------------
    def sheet_names(self) -> list[str]:
        return list(self.wb.sheetnames)

    def read_sheet(self, sheet: str) -> Grid:
        if sheet in self._grids:
            return self._grids[sheet]
        ws = self.wb[sheet]
        cached = {**self.cached.get(sheet, {}), **self.written.get(sheet, {})}
        # from the cells that exist (a sheet may hold one cell far away: no dense rectangle)
        cells = ws._cells  # noqa: SLF001 - openpyxl's own sparse store, read only
        n_rows = max((r for r, _ in cells), default=0)
        values: list[list] = [[] for _ in range(n_rows)]
        formulas: dict[tuple[int, int], str] = {}
        for (r, c), cell in cells.items():
            v = cell.value
            if v is None:
                continue
            if not isinstance(v, (str, int, float, Decimal)) and type(v).__name__ == "CellRichText":
                v = str(v)  # rich text is kept in the file, read as its plain text
            if cell.data_type == "f":
                text = v if isinstance(v, str) else getattr(v, "text", None) or str(v)
                formulas[(r, c)] = text[1:] if text.startswith("=") else text
                v = cached.get(cell.coordinate)
            row = values[r - 1]
            if len(row) < c:
                row.extend([None] * (c - len(row)))
            row[c - 1] = v
        merged = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]
        hidden = frozenset(r for r, d in ws.row_dimensions.items() if d.hidden)
        grid = Grid(values, formulas, merged, hidden_rows=hidden, arrays=_arrays(ws, cells, formulas, self.path))
        self._grids[sheet] = grid
        return grid

    # writing ---------------------------------------------------------------------------
    def apply(self, ops: Sequence[Op]) -> None:
        self._grids.clear()
        dispatch(ops, {EnsureSheet: self._ensure, Block: self._block, ClearContents: self._clear,
                       SheetSetup: self._setup, ConditionalRule: self._rule, DefineName: self._define,
                       PageSetup: self._page, SheetVisibility: self._visibility, BarChart: self._chart,
                       ForgetValue: self._forget})

    def _forget(self, op: ForgetValue) -> None:
        for r, c in op.cells:
            ref = f"{L.col_letter(c)}{r}"
            self.cached.get(op.sheet, {}).pop(ref, None)
            self.written.get(op.sheet, {}).pop(ref, None)

    def _ensure(self, op: EnsureSheet) -> None:
        if op.sheet in self.wb.sheetnames:
            return
        idx = self.wb.sheetnames.index(op.before) if op.before in self.wb.sheetnames else None
        ws = self.wb.create_sheet(op.sheet, idx)
        if op.hidden:
            ws.sheet_state = "hidden"

    def _block(self, op: Block) -> None:
        ws = self.wb[op.sheet]
        styles = self._styles or _style_factory()
        self._styles = styles
        written = self.written.setdefault(op.sheet, {})
        for i, row in enumerate(op.values):
            for j, v in enumerate(row):
                cell = ws.cell(op.row + i, op.col + j)
                style = op.styles if isinstance(op.styles, str) or op.styles is None else (
                    op.styles[j] if j < len(op.styles) else None)
                if style:
                    for attr, val in styles[style].items():
                        setattr(cell, attr, val)
                if v is KEEP:
                    continue
                if isinstance(v, Formula):
                    cell.value = "=" + v.text
                    written[cell.coordinate] = v.cached
                elif isinstance(v, Text):
                    cell.value = clean_text(v.value) or None
                    if cell.value is not None:  # a typed empty cell is no text (openpyxl would write an empty
                        cell.data_type = "s"    # inline string, <c t="inlineStr"/>)
                    if v.value and not cell.quotePrefix:
                        # Excel's quote prefix: the text stays text when the officer edits the cell
                        # ("4.2" is not a date, "=x" not a formula), as the live adapter's "'" does
                        cell.quotePrefix = True
                    written.pop(cell.coordinate, None)
                elif isinstance(v, str):
                    cell.value = clean_text(v) or None
                    if cell.value is not None:
                        cell.data_type = "s"  # a plain string from the project is never a formula either
                else:
                    cell.value = v
                    written.pop(cell.coordinate, None)
                if op.number_format and isinstance(v, (Decimal, int, Formula)) and not style:
                    cell.number_format = op.number_format

    def _clear(self, op: ClearContents) -> None:
        ws = self.wb[op.sheet]
        written = self.written.get(op.sheet, {})
        cached = self.cached.get(op.sheet, {})
        for (r, c), cell in list(ws._cells.items()):  # noqa: SLF001 - sparse: only cells that exist
            if op.row1 <= r <= op.row2 and op.col1 <= c <= op.col2:
                if cell.hyperlink is not None:  # the links of the first version's Contrôles sheet
                    cell.hyperlink = None
                if cell.value is not None:
                    cell.value = None
                    written.pop(cell.coordinate, None)
                    cached.pop(cell.coordinate, None)

    def _setup(self, op: SheetSetup) -> None:
        from openpyxl.utils import get_column_letter  # noqa: PLC0415
        from openpyxl.worksheet.datavalidation import DataValidation  # noqa: PLC0415
        from openpyxl.styles import Alignment  # noqa: PLC0415
        ws = self.wb[op.sheet]
        for c, w in op.widths.items():
            ws.column_dimensions[get_column_letter(c)].width = w
        if op.freeze:
            ws.freeze_panes = op.freeze
        for ref, name in op.validations:
            existing = [dv for dv in ws.data_validations.dataValidation if str(dv.sqref) == ref]
            if not existing:
                dv = DataValidation(type="list", formula1=name, allow_blank=True,  # stored without "=", as Excel
                                    showErrorMessage=False)
                dv.add(ref)
                ws.add_data_validation(dv)
        for r in op.wrap_rows:
            for cell in ws[r]:
                al = cell.alignment
                if not al.wrap_text:
                    cell.alignment = Alignment(wrap_text=True, vertical="top", horizontal=al.horizontal)
        if op.tab_color:
            ws.sheet_properties.tabColor = op.tab_color
        for r, h in op.row_heights.items():
            ws.row_dimensions[r].height = h

    def _rule(self, op: ConditionalRule) -> None:
        """Add a conditional format. Rules of the first version (one rule listing
        the cells, with a marker formula) are dropped on the way."""
        from openpyxl.formatting.formatting import ConditionalFormattingList  # noqa: PLC0415
        from openpyxl.formatting.rule import FormulaRule  # noqa: PLC0415
        if op.sheet not in self.wb.sheetnames:
            return
        ws = self.wb[op.sheet]
        if any(L.HIGHLIGHT_MARKER in (f or "") for cf in ws.conditional_formatting for r in cf.rules
               for f in (r.formula or [])):
            kept = ConditionalFormattingList()
            for cf in ws.conditional_formatting:
                for rule in cf.rules:
                    if not any(L.HIGHLIGHT_MARKER in (f or "") for f in (rule.formula or [])):
                        kept.add(cf.sqref, rule)
            ws.conditional_formatting = kept
        fill, font = _differential(op.style)
        ws.conditional_formatting.add(op.ref, FormulaRule(formula=[op.formula], fill=fill, font=font,
                                                          stopIfTrue=False))

    def _define(self, op: DefineName) -> None:
        from openpyxl.workbook.defined_name import DefinedName  # noqa: PLC0415
        if op.name in self.wb.defined_names:
            del self.wb.defined_names[op.name]
        self.wb.defined_names[op.name] = DefinedName(op.name, attr_text=op.ref)

    def _page(self, op: PageSetup) -> None:
        from openpyxl.worksheet.page import PageMargins  # noqa: PLC0415
        ws = self.wb[op.sheet]
        ws.page_setup.orientation = "landscape" if op.landscape else "portrait"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = ws.page_setup.fitToHeight = ws.page_setup.scale = None
        if op.scale is not None:
            ws.sheet_properties.pageSetUpPr.fitToPage = None
            ws.page_setup.scale = int(op.scale)
        elif op.fit_width:
            ws.sheet_properties.pageSetUpPr.fitToPage = True
            ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        if op.title_rows:
            ws.print_title_rows = f"{op.title_rows[0]}:{op.title_rows[1]}"
        if op.area:
            ws.print_area = op.area
        if op.footer:
            ws.oddFooter.center.text = op.footer
        cm = 1 / 2.54
        left, right, top, bottom = op.margins_cm
        ws.page_margins = PageMargins(left=left * cm, right=right * cm, top=top * cm, bottom=bottom * cm,
                                      header=0.8 * cm, footer=0.8 * cm)

    def _visibility(self, op: SheetVisibility) -> None:
        ws = self.wb[op.sheet]
        ws.sheet_state = "visible" if op.visible else "hidden"
        active = self.wb.active
        if active is None or active.sheet_state != "visible":  # the active tab must be a visible one
            shown = [i for i, w in enumerate(self.wb.worksheets) if w.sheet_state == "visible"]
            if shown:
                self.wb.active = shown[0]

    def _chart(self, op: BarChart) -> None:
        from openpyxl.chart import BarChart as XlBarChart, Reference  # noqa: PLC0415
        ws = self.wb[op.sheet]
        chart = XlBarChart()
        chart.type = "bar"
        chart.title = op.title
        chart.y_axis.title = "€"
        chart.y_axis.numFmt = op.number_format
        for col in op.series_cols:
            chart.add_data(Reference(ws, min_col=col, min_row=op.header_row, max_row=op.last_row),
                           titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=op.categories_col, min_row=op.first_row, max_row=op.last_row))
        chart.height, chart.width = 12, 26
        ws.add_chart(chart, op.anchor)

    # saving ----------------------------------------------------------------------------
    def save(self, target: Optional[str] = None, backup: bool = True, replace: bool = False,
             force: bool = False) -> Optional[str]:
        """Through the save frame (:func:`saveframe.write`), with the cached values
        put back. openpyxl rewrites the whole package: the lossy-save guard applies."""
        target = str(target or self.path)

        def produce(tmp: str) -> None:
            fd, raw = tempfile.mkstemp(prefix=".~calpae-", suffix=Path(tmp).suffix, dir=os.path.dirname(tmp))
            os.close(fd)
            try:
                self.wb.save(raw)
                values = {s: dict(v) for s, v in self.cached.items() if s in self.wb.sheetnames}
                for s, v in self.written.items():
                    values.setdefault(s, {}).update(v)
                inject_cached_values(raw, tmp, values)
            finally:
                os.unlink(raw)
        self.saved = saveframe.write(target, produce, verify=saveframe.verify_package(len(self.wb.sheetnames)),
                                     source=None if replace else self.path, stamp=self.stamp, backup=backup,
                                     lossy=True, force=force or replace)
        return self.saved.backup


def _arrays(ws, cells: dict, formulas: dict, path: str) -> list[tuple[int, int, int, int]]:
    """The array formulas over several cells (openpyxl holds the formula in
    the first cell only): every cell of one is read as its formula, with its
    own saved value (see :attr:`Grid.arrays` and :func:`spread_arrays`)."""
    from openpyxl.worksheet.cell_range import CellRange  # noqa: PLC0415
    anchors = []
    for (r0, c0), cell in cells.items():
        v = cell.value
        ref = getattr(v, "ref", None) if type(v).__name__ == "ArrayFormula" else None
        if ref and ":" in ref and (r0, c0) in formulas:
            try:
                rng = CellRange(ref.replace("$", ""))
            except (ValueError, TypeError):
                continue
            anchors.append((r0, c0, formulas[(r0, c0)], (rng.min_row, rng.min_col, rng.max_row, rng.max_col)))
    if not anchors:
        return []
    cols_of: dict[int, list[int]] = {}
    for r, c in cells:
        cols_of.setdefault(r, []).append(c)
    for cs in cols_of.values():
        cs.sort()
    return spread_arrays(anchors, cols_of, formulas, path, ws.title)
