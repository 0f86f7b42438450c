"""Sheet features the plans set: column widths, frozen panes, row heights, page setup."""
from __future__ import annotations

import copy
import re

from lxml import etree

from ...workbook.a1 import split_ref
from .xml import WS_ORDER, child, q


def _set_width(cols, c: int, width: float) -> None:
    """The width of column ``c``, splitting a <col> range that covers it."""
    for col in list(cols):
        if col.tag != q("col"):
            continue
        lo, hi = int(col.get("min", "0")), int(col.get("max", "0"))
        if lo <= c <= hi:
            pieces = []
            for a, b in ((lo, c - 1), (c + 1, hi)):
                if a <= b:
                    p = copy.deepcopy(col)
                    p.set("min", str(a))
                    p.set("max", str(b))
                    pieces.append((a, p))
            col.set("min", str(c))
            col.set("max", str(c))
            col.set("width", _num(width))
            col.set("customWidth", "1")
            for a, p in pieces:
                if a < c:
                    col.addprevious(p)
                else:
                    col.addnext(p)
            return
    new = etree.Element(q("col"), width=_num(width), customWidth="1", min=str(c), max=str(c))
    for col in cols:
        if col.tag == q("col") and int(col.get("min", "0")) > c:
            col.addprevious(new)
            return
    cols.append(new)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _freeze(views, cell: str) -> None:
    """Freeze the panes above and left of ``cell`` (openpyxl's way of writing it)."""
    view = views.find(q("sheetView"))
    if view is None:
        view = etree.SubElement(views, q("sheetView"), workbookViewId="0")
    pane = view.find(q("pane"))
    if pane is not None and pane.get("topLeftCell") == cell and pane.get("state") == "frozen":
        return
    for ch in view.findall(q("pane")) + view.findall(q("selection")):
        view.remove(ch)
    r, c = split_ref(cell)
    if (r, c) == (1, 1):
        view.insert(0, etree.Element(q("selection"), activeCell="A1", sqref="A1"))
        return
    attrs = {}
    if c > 1:
        attrs["xSplit"] = str(c - 1)
    if r > 1:
        attrs["ySplit"] = str(r - 1)
    active = "bottomRight" if c > 1 and r > 1 else ("topRight" if c > 1 else "bottomLeft")
    pane = etree.Element(q("pane"), attrs, topLeftCell=cell, activePane=active, state="frozen")
    view.insert(0, pane)
    if active == "bottomRight":
        sels = [etree.Element(q("selection"), pane="topRight"), etree.Element(q("selection"), pane="bottomLeft")]
    else:
        sels = []
    sels.append(etree.Element(q("selection"), pane=active, activeCell="A1", sqref="A1"))
    for i, s in enumerate(sels, 1):
        view.insert(i, s)


# --- printing --------------------------------------------------------------------------

_CM = 1 / 2.54  # inches


def _inches(cm: float) -> str:
    return repr(cm * _CM)  # as openpyxl writes them (a float's repr)


def page_setup(root, landscape: bool, fit_width: bool, scale, footer, margins_cm) -> None:
    """A4, orientation, fitted to the width (``fitToPage``, one page wide, as
    many pages down as needed) or at ``scale`` percent, margins and the
    centred footer, written as openpyxl writes them. What else the sheet's
    print settings hold (a printer's settings part) is kept."""
    pr = child(root, "sheetPr", WS_ORDER)
    setup_pr = pr.find(q("pageSetUpPr"))
    if setup_pr is None:
        setup_pr = etree.SubElement(pr, q("pageSetUpPr"))  # after tabColor and outlinePr, as the schema wants
    if fit_width and scale is None:
        setup_pr.set("fitToPage", "1")
    elif "fitToPage" in setup_pr.attrib:
        del setup_pr.attrib["fitToPage"]
    left, right, top, bottom = margins_cm
    m = child(root, "pageMargins", WS_ORDER)
    for k, v in (("left", left), ("right", right), ("top", top), ("bottom", bottom), ("header", 0.8),
                 ("footer", 0.8)):
        m.set(k, _inches(v))
    ps = child(root, "pageSetup", WS_ORDER)
    ps.set("orientation", "landscape" if landscape else "portrait")
    ps.set("paperSize", "9")  # A4
    for k in ("fitToHeight", "fitToWidth", "scale"):
        ps.attrib.pop(k, None)
    if scale is not None:
        ps.set("scale", str(int(scale)))
    elif fit_width:
        ps.set("fitToHeight", "0")
        ps.set("fitToWidth", "1")
    if footer is not None:
        hf = child(root, "headerFooter", WS_ORDER)
        odd = hf.find(q("oddFooter"))
        if odd is None:
            odd = etree.Element(q("oddFooter"))
            header = hf.find(q("oddHeader"))
            if header is not None:
                header.addnext(odd)
            else:
                hf.insert(0, odd)
        odd.text = "&C" + footer


def print_name(names_el, name: str, sheet_index: int, ref: str) -> None:
    """A print setting the workbook keeps as a name local to its sheet
    (_xlnm.Print_Area, _xlnm.Print_Titles): replaced where it is (a second
    run writes the same file), never doubled."""
    same = [dn for dn in names_el.findall(q("definedName"))
            if dn.get("name") == name and dn.get("localSheetId") == str(sheet_index)]
    for dn in same[1:]:
        names_el.remove(dn)
    if same:
        same[0].text = ref
    else:
        etree.SubElement(names_el, q("definedName"), name=name, localSheetId=str(sheet_index)).text = ref


_ROW_HT = re.compile(r'\s(?:ht|customHeight)="[^"]*"')


def row_height(attrs: str, height: float) -> str:
    """Row attributes with a height (``ht`` and ``customHeight``, as openpyxl writes them)."""
    return _ROW_HT.sub("", attrs) + f' ht="{_num(height)}" customHeight="1"'
