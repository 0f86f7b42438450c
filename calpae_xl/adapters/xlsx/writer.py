"""The package adapter's handlers of a plan's operations (a mixin of
:class:`~calpae_xl.adapters.xlsx.book.PackageWorkbook`)."""
from __future__ import annotations

import re
from decimal import Decimal

from lxml import etree

from ...workbook import layout as L
from ...workbook.a1 import split_ref
from ...workbook.port import (KEEP, Block, ClearContents, ConditionalRule, DefineName, EnsureSheet, ForgetValue,
                              Formula, PageSetup, SheetSetup, SheetVisibility, Text)
from ..ooxml import clean_text, value_text
from .features import _freeze, _set_width, page_setup, print_name, row_height
from .sheet import Sheet, _escape, _set_s, _style_of
from .xml import (CONTENT_TYPES, CT, NEW_SHEET, PR, R, WB_ORDER, WORKBOOK, WORKBOOK_RELS, WS_ORDER, WS_REL, WS_TYPE,
                  _color, child, place, q)

#: a formula cell's parts: its formula element, its saved value, and the attribute that types that value
_HAS_FORMULA = re.compile(r"<(?:\w+:)?f[\s>/]")
_VALUE_ELEMENT = re.compile(r"<((?:\w+:)?v)(?:\s[^>]*)?(?:/>|>[^<]*</\1>)")
_A_TYPE = re.compile(r'\st="[^"]*"')


class PlanWriter:
    """Applies a plan's operations to the package (parts changed in memory;
    :meth:`PackageWorkbook.save` writes them)."""

    def _add_part(self, part: str, rel_type: str, content_type: str, target: str) -> str:
        if getattr(self, "_rel_ids", None) is None:  # kept between calls: a thousand new fiches stay linear
            self._rel_ids, self._next_rel = {r.get("Id") for r in self.targets.values()}, 1
        n = max(self._next_rel, len(self._rel_ids) + 1)
        while f"rId{n}" in self._rel_ids:
            n += 1
        rid = f"rId{n}"
        self._rel_ids.add(rid)
        self._next_rel = n + 1
        rel = etree.SubElement(self.rels, "{%s}Relationship" % PR, Id=rid, Type=rel_type, Target=target)
        self.targets[rid] = rel
        etree.SubElement(self.types, "{%s}Override" % CT, PartName="/" + part, ContentType=content_type)
        self.modified |= {WORKBOOK_RELS, CONTENT_TYPES}
        return rid

    def _ensure(self, op: EnsureSheet) -> None:
        if op.sheet in self.parts:
            return
        if getattr(self, "_used_parts", None) is None:  # kept between calls (see _add_part)
            elements = self.sheet_elements()
            self._used_parts, self._next_part = self.names | set(self.parts.values()), 1
            self._max_sheet_id = max((int(s.get("sheetId")) for s in elements if (s.get("sheetId") or "").isdigit()),
                                     default=0)
        n = self._next_part
        while f"xl/worksheets/sheet{n}.xml" in self._used_parts:
            n += 1
        part = f"xl/worksheets/sheet{n}.xml"
        self._used_parts.add(part)
        self._next_part = n + 1
        rid = self._add_part(part, WS_REL, WS_TYPE, f"worksheets/sheet{n}.xml")
        sheets = child(self.wb, "sheets", WB_ORDER)
        self._max_sheet_id += 1
        el = etree.Element(q("sheet"), name=op.sheet, sheetId=str(self._max_sheet_id))
        if op.hidden:
            el.set("state", "hidden")
        el.set("{%s}id" % R, rid)
        elements = self.sheet_elements() if op.before is not None else []
        names = [s.get("name") for s in elements]
        if op.before in names:
            pos = names.index(op.before)
            elements[pos].addprevious(el)
            self._shift_sheet_indexes(pos)
        else:
            sheets.append(el)
        self.parts[op.sheet] = part
        sh = self._sheets[op.sheet] = Sheet(op.sheet, part, etree.fromstring(NEW_SHEET), self)
        sh.dirty = True
        self.modified.add(WORKBOOK)

    def _shift_sheet_indexes(self, pos: int) -> None:
        """A sheet inserted at ``pos``: names local to a sheet and the active
        tab follow their sheet."""
        for dn in self.wb.iterfind(q("definedNames") + "/" + q("definedName")):
            lid = dn.get("localSheetId")
            if lid is not None and lid.isdigit() and int(lid) >= pos:
                dn.set("localSheetId", str(int(lid) + 1))
        for view in self.wb.iterfind(q("bookViews") + "/" + q("workbookView")):
            for a in ("activeTab", "firstSheet"):
                v = view.get(a)
                if v is not None and v.isdigit() and int(v) >= pos:
                    view.set(a, str(int(v) + 1))

    def _block(self, op: Block) -> None:
        sh = self.target(op.sheet)
        styles = self.styles
        p = sh.pfx
        per_col = not (isinstance(op.styles, str) or op.styles is None)
        for i, row in enumerate(op.values):
            r = op.row + i
            cells = sh.row_cells(r)
            for j, v in enumerate(row):
                c = op.col + j
                style = (op.styles[j] if j < len(op.styles) else None) if per_col else op.styles
                cell = cells.get(c) or sh.new_cell(r, c)
                sm, s_old = _style_of(cell[0])
                s_old = s_old or 0
                quote = False
                nf = op.number_format if (op.number_format and isinstance(v, (Decimal, int, Formula))
                                          and not style) else None
                if v is not KEEP:
                    attrs, tail = sh.without_value(cell)
                    t = None
                    if isinstance(v, Formula):
                        fv = value_text(v.cached)
                        content = f"<{p}f>{_escape(v.text)}</{p}f>"
                        if fv is not None:
                            t = fv[0] if fv[0] != "n" else None
                            content += f"<{p}v>{_escape(fv[1])}</{p}v>"
                    elif isinstance(v, (Text, str)):
                        text = clean_text(v.value if isinstance(v, Text) else v)
                        quote = isinstance(v, Text) and bool(v.value)
                        content = ""
                        if text:
                            t = "inlineStr"
                            space = ' xml:space="preserve"' if text != text.strip() else ""
                            content = f"<{p}is><{p}t{space}>{_escape(text)}</{p}t></{p}is>"
                    elif isinstance(v, bool):
                        t, content = "b", f"<{p}v>{int(v)}</{p}v>"
                    elif isinstance(v, (Decimal, int, float)):
                        content = f"<{p}v>{value_text(v)[1]}</{p}v>"
                    else:
                        content = ""
                    cell = (attrs + (f' t="{t}"' if t else ""), content + tail)
                if quote and s_old < len(styles.xfs) and styles.xfs[s_old].get("quotePrefix") in ("1", "true"):
                    quote = False
                if style or quote or nf:
                    new = styles.restyle(s_old, style, quote, nf)
                    if sm is None or new != s_old:
                        cell = (_set_s(cell[0], new, sm), cell[1])
                cells[c] = cell

    def _forget(self, op: ForgetValue) -> None:
        """The saved value of each formula cell goes (its value and its type);
        the formula element stays as it was (array, shared, attributes). An
        array formula over several cells goes as one: its other cells hold a
        value alone in the file, and the spreadsheet recomputes the whole array."""
        sh = self.target(op.sheet)
        arrays = sh.grid().arrays
        targets = set(op.cells)
        for r1, c1, r2, c2 in arrays:
            if any(r1 <= r <= r2 and c1 <= c <= c2 for r, c in op.cells):
                targets |= {(r, c) for r, (_a, cells, _t) in sh.rows.items() if r1 <= r <= r2
                            for c in cells if c1 <= c <= c2}
        for r, c in sorted(targets):
            cells = sh.row_cells(r)
            cell = cells.get(c)
            if cell is None or "<" not in cell[1]:
                continue
            if not _HAS_FORMULA.search(cell[1]) and not any(
                    r1 <= r <= r2 and c1 <= c <= c2 for r1, c1, r2, c2 in arrays):
                continue  # a value the person typed: never removed
            attrs, content = cell
            cells[c] = (_A_TYPE.sub("", attrs), _VALUE_ELEMENT.sub("", content))

    def _clear(self, op: ClearContents) -> None:
        sh = self.target(op.sheet)
        for r, (_a, cells, _t) in sh.rows.items():
            if op.row1 <= r <= op.row2:
                for c, cell in cells.items():
                    if op.col1 <= c <= op.col2 and cell[1]:
                        cells[c] = sh.without_value(cell)
                        sh.dirty = True
        links = sh.root.find(q("hyperlinks"))
        if links is not None:
            for h in list(links):
                ref = (h.get("ref") or "").split(":")[0]
                if ref:
                    r, c = split_ref(ref)
                    if op.row1 <= r <= op.row2 and op.col1 <= c <= op.col2:
                        links.remove(h)
                        sh.dirty = True
            if len(links) == 0:
                sh.root.remove(links)

    def _setup(self, op: SheetSetup) -> None:
        sh = self.target(op.sheet)
        root = sh.root
        for c, w in sorted(op.widths.items()):
            _set_width(child(root, "cols", WS_ORDER), c, w)
        if op.freeze:
            _freeze(child(root, "sheetViews", WS_ORDER), op.freeze)
        if op.validations:
            dvs = child(root, "dataValidations", WS_ORDER)
            existing = {dv.get("sqref") for dv in dvs.iterfind(q("dataValidation"))}
            for ref, name in op.validations:
                if ref not in existing:
                    dv = etree.SubElement(dvs, q("dataValidation"), sqref=ref, showDropDown="0",
                                          showInputMessage="0", showErrorMessage="0", allowBlank="1", type="list")
                    etree.SubElement(dv, q("formula1")).text = name  # a formula is stored without "="
            dvs.set("count", str(len(dvs)))
        if op.wrap_rows:
            styles = self.styles
            width = sh.max_col()
            for r in op.wrap_rows:
                cells = sh.row_cells(r)
                for c in range(1, width + 1):  # as openpyxl's ws[r]: every cell of the row, up to the last column
                    attrs, content = cells.get(c) or sh.new_cell(r, c)
                    sm, s_old = _style_of(attrs)
                    cells[c] = (_set_s(attrs, styles.wrapped(s_old or 0), sm), content)
        for r, h in sorted(op.row_heights.items()):
            entry = sh.rows.get(r)
            if entry is None:
                entry = sh.rows[r] = ["", {}, ""]
            entry[0] = row_height(entry[0], h)
        if op.tab_color:
            pr = child(root, "sheetPr", WS_ORDER)
            tab = pr.find(q("tabColor"))
            if tab is None:
                tab = etree.Element(q("tabColor"))
                pr.insert(0, tab)
            tab.attrib.clear()
            tab.set("rgb", _color(op.tab_color))

    def _rule(self, op: ConditionalRule) -> None:
        """Add a conditional format; rules of the first version (one rule
        listing the cells, with a marker formula) are dropped on the way."""
        if op.sheet not in self.parts:
            return
        sh = self.target(op.sheet)
        root = sh.root
        prio = 0
        for cf in root.findall(q("conditionalFormatting")):
            for rule in cf.findall(q("cfRule")):
                if any(L.HIGHLIGHT_MARKER in (f.text or "") for f in rule.iterfind(q("formula"))):
                    cf.remove(rule)
                elif (rule.get("priority") or "").isdigit():
                    prio = max(prio, int(rule.get("priority")))
            if cf.find(q("cfRule")) is None:
                root.remove(cf)
        cf = place(root, etree.Element(q("conditionalFormatting"), sqref=op.ref), WS_ORDER)
        rule = etree.SubElement(cf, q("cfRule"), type="expression", dxfId=str(self.styles.dxf(op.style)),
                                priority=str(prio + 1))
        etree.SubElement(rule, q("formula")).text = op.formula

    def _define(self, op: DefineName) -> None:
        names = child(self.wb, "definedNames", WB_ORDER)
        for dn in names.findall(q("definedName")):
            if dn.get("name") == op.name and dn.get("localSheetId") is None:
                names.remove(dn)
        etree.SubElement(names, q("definedName"), name=op.name).text = op.ref
        self.modified.add(WORKBOOK)

    def _page(self, op: PageSetup) -> None:
        """Page setup, and the print titles and area as names local to the sheet."""
        sh = self.target(op.sheet)
        page_setup(sh.root, op.landscape, op.fit_width, op.scale, op.footer, op.margins_cm)
        index = [s.get("name") for s in self.sheet_elements()].index(op.sheet)
        quoted = "'" + op.sheet.replace("'", "''") + "'"  # as openpyxl writes them, always quoted
        if op.title_rows or op.area:
            names = child(self.wb, "definedNames", WB_ORDER)
            if op.title_rows:
                print_name(names, "_xlnm.Print_Titles", index, f"{quoted}!${op.title_rows[0]}:${op.title_rows[1]}")
            if op.area:
                a, _, b = op.area.partition(":")
                (r1, c1), (r2, c2) = split_ref(a), split_ref(b or a)
                print_name(names, "_xlnm.Print_Area", index,
                           f"{quoted}!{L.a1(r1, c1, True)}:{L.a1(r2, c2, True)}")
            self.modified.add(WORKBOOK)

    def _visibility(self, op: SheetVisibility) -> None:
        """Show or hide a sheet; the active tab stays on a visible one."""
        elements = self.sheet_elements()
        for el in elements:
            if el.get("name") == op.sheet:
                if op.visible:
                    el.attrib.pop("state", None)
                else:
                    el.set("state", "hidden")
        shown = [i for i, el in enumerate(elements) if el.get("state") not in ("hidden", "veryHidden")]
        for view in self.wb.iterfind(q("bookViews") + "/" + q("workbookView")):
            active = int(view.get("activeTab", "0")) if (view.get("activeTab") or "0").isdigit() else 0
            if shown and active not in shown:
                view.set("activeTab", str(shown[0]))
        self.modified.add(WORKBOOK)

    # saving ----------------------------------------------------------------------------
