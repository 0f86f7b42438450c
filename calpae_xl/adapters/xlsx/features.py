"""Sheet features the plans set: column widths, frozen panes, page setup."""
from __future__ import annotations

import copy

from lxml import etree

from ...workbook.a1 import split_ref
from .xml import q

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
