"""styles.xml: the cell formats to read (dates) and to add to (the layout's
styles merged over a cell's own, as openpyxl assigns them)."""
from __future__ import annotations

import copy
import re
from typing import Optional

from lxml import etree

from ...workbook import layout as L
from .xml import M, STYLE_ORDER, _canon, _color, child, q

# built-in number formats that are not dates (ECMA-376 18.8.30)
_PLAIN_BUILTINS = {0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%", 11: "0.00E+00",
                   12: "# ?/?", 13: "# ??/??", 37: "#,##0 ;(#,##0)", 38: "#,##0 ;[Red](#,##0)",
                   39: "#,##0.00;(#,##0.00)", 40: "#,##0.00;[Red](#,##0.00)", 48: "##0.0E+0", 49: "@"}
_NOT_DATE_PARTS = re.compile(r'"[^"]*"|\[(?![hHmMsS]+\])[^\]]*\]|\\.|_.')  # [h], [mm], [ss] are durations


def _maybe_date(code: str) -> bool:
    """False when a custom format surely shows no date (no d, m, y, h or s
    outside quotes, brackets and escapes): openpyxl need not be imported."""
    return re.search(r"[dmhysDMHYS]", _NOT_DATE_PARTS.sub("", code.split(";")[0])) is not None


# --- styles ----------------------------------------------------------------------------

class Styles:
    """styles.xml: the cell formats to read (dates) and to add to (the
    layout's styles merged over a cell's own, as openpyxl assigns them)."""

    def __init__(self, root):
        self.root = root
        self.dirty = False
        xfs = root.find(q("cellXfs"))
        self.xfs = list(xfs.iterfind(q("xf"))) if xfs is not None else []
        self.custom = {int(n.get("numFmtId")): n.get("formatCode") or ""
                       for n in root.iterfind(q("numFmts") + "/" + q("numFmt")) if n.get("numFmtId", "").isdigit()}
        self._xf_index: Optional[dict[bytes, int]] = None
        self._parts: dict[str, dict[bytes, int]] = {}
        self._restyled: dict[tuple, int] = {}
        self._dates: Optional[tuple[set, set]] = None

    # reading
    def date_styles(self) -> tuple[set, set]:
        """Indexes of the cell formats that show a date, and a duration (as
        openpyxl decides; it is imported only when a format may be one)."""
        if self._dates is None:
            dates, deltas = set(), set()
            ids = {}
            for i, xf in enumerate(self.xfs):
                nid = xf.get("numFmtId", "0")
                ids[i] = int(nid) if nid.isdigit() else 0
            if any(_maybe_date(self.custom[n]) if n in self.custom else n not in _PLAIN_BUILTINS
                   for n in set(ids.values())):
                from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format  # noqa
                for i, nid in ids.items():
                    code = self.custom.get(nid, BUILTIN_FORMATS.get(nid, "General"))
                    if is_date_format(code):
                        dates.add(i)
                        if is_timedelta_format(code):
                            deltas.add(i)
            self._dates = (dates, deltas)
        return self._dates

    # writing
    def _collection(self, name: str):
        el = child(self.root, name, STYLE_ORDER)
        return el

    def _add(self, collection: str, xml: str) -> int:
        """Index of an element in a collection (fonts, fills, borders, dxfs):
        an identical one already there (from an earlier run) is reused, so
        that runs do not pile up formats."""
        coll = self._collection(collection)
        index = self._parts.get(collection)
        if index is None:
            index = self._parts[collection] = {}
            for i, el in enumerate(coll):
                index.setdefault(_canon(el), i)
        el = etree.fromstring(xml)
        key = _canon(el)
        if key not in index:
            coll.append(el)
            coll.set("count", str(len(coll)))
            index[key] = len(coll) - 1
            self.dirty = True
        return index[key]

    def numfmt(self, code: str) -> int:
        for nid, c in self.custom.items():
            if c == code:
                return nid
        if code in _PLAIN_BUILTINS.values():
            return next(n for n, c in _PLAIN_BUILTINS.items() if c == code)
        from openpyxl.styles.numbers import BUILTIN_FORMATS_REVERSE  # noqa: PLC0415
        if code in BUILTIN_FORMATS_REVERSE:
            return BUILTIN_FORMATS_REVERSE[code]
        nid = max([163, *self.custom]) + 1
        coll = self._collection("numFmts")
        etree.SubElement(coll, q("numFmt"), numFmtId=str(nid), formatCode=code)
        coll.set("count", str(len(coll)))
        self.custom[nid] = code
        self.dirty = True
        return nid

    def _font(self, st: dict) -> str:
        parts = []
        if st.get("bold"):
            parts.append('<b val="1"/>')
        if st.get("italic"):
            parts.append('<i val="1"/>')
        if "font_color" in st:
            parts.append(f'<color rgb="{_color(st["font_color"])}"/>')
        if "size" in st:
            parts.append(f'<sz val="{st["size"]}"/>')
        parts.append(f'<name val="{L.FONT_NAME}"/><family val="2"/>')
        return f'<font xmlns="{M}">{"".join(parts)}</font>'

    @staticmethod
    def _fill(rgb: str) -> str:
        c = _color(rgb)
        return (f'<fill xmlns="{M}"><patternFill patternType="solid"><fgColor rgb="{c}"/><bgColor rgb="{c}"/>'
                '</patternFill></fill>')

    @staticmethod
    def _border() -> str:
        side = '<{0} style="thin"><color rgb="00BFBFBF"/></{0}>'
        return f'<border xmlns="{M}">' + "".join(side.format(s) for s in ("left", "right", "top", "bottom")) + \
            "<diagonal/></border>"

    def _xf(self, xf) -> int:
        """Index of a cell format, added when no identical one exists."""
        if self._xf_index is None:
            self._xf_index = {}
            for i, x in enumerate(self.xfs):
                self._xf_index.setdefault(_canon(x), i)
        key = _canon(xf)
        if key not in self._xf_index:
            coll = self._collection("cellXfs")
            coll.append(xf)
            coll.set("count", str(len(coll)))
            self.xfs.append(xf)
            self._xf_index[key] = len(self.xfs) - 1
            self.dirty = True
        return self._xf_index[key]

    def _base(self, s: int):
        if 0 <= s < len(self.xfs):
            return copy.deepcopy(self.xfs[s])
        return etree.fromstring(f'<xf xmlns="{M}" numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>')

    @staticmethod
    def _align(xf, **attrs) -> None:
        old = xf.find(q("alignment"))
        if old is not None:
            xf.remove(old)
        al = etree.Element(q("alignment"), {k: v for k, v in attrs.items() if v})
        xf.insert(0, al)
        xf.set("applyAlignment", "1")

    def restyle(self, s: int, key: Optional[str], quote: bool, number_format: Optional[str]) -> int:
        """The cell format ``s`` with the layout's style ``key`` laid over it
        (font, fill, border, alignment, number format each replaced when the
        style names it), the quote prefix, a number format."""
        k = (s, key, quote, number_format)
        if k in self._restyled:
            return self._restyled[k]
        xf = self._base(s)
        st = L.STYLES[key] if key else {}
        if any(a in st for a in ("bold", "italic", "size", "font_color")):
            xf.set("fontId", str(self._add("fonts", self._font(st))))
            xf.set("applyFont", "1")
        if "fill" in st:
            xf.set("fillId", str(self._add("fills", self._fill(st["fill"]))))
            xf.set("applyFill", "1")
        if st.get("border"):
            xf.set("borderId", str(self._add("borders", self._border())))
            xf.set("applyBorder", "1")
        if any(a in st for a in ("wrap", "valign", "halign")):
            self._align(xf, horizontal=st.get("halign"), vertical=st.get("valign"),
                        wrapText="1" if st.get("wrap") else None)
        nf = st.get("number_format") or number_format
        if nf:
            xf.set("numFmtId", str(self.numfmt(nf)))
            xf.set("applyNumberFormat", "1")
        if quote:
            xf.set("quotePrefix", "1")
        self._restyled[k] = out = self._xf(xf)
        return out

    def wrapped(self, s: int) -> int:
        """The cell format ``s`` with wrapped text (aligned at the top)."""
        k = (s, "<wrap>", False, None)
        if k not in self._restyled:
            xf = self._base(s)
            al = xf.find(q("alignment"))
            if al is not None and al.get("wrapText") in ("1", "true"):
                self._restyled[k] = s
            else:
                self._align(xf, horizontal=al.get("horizontal") if al is not None else None, vertical="top",
                            wrapText="1")
                self._restyled[k] = self._xf(xf)
        return self._restyled[k]

    def dxf(self, key: str) -> int:
        st = L.STYLES[key]
        font = ""
        if "font_color" in st or "bold" in st:
            font = "<font>" + ('<b val="1"/>' if st.get("bold") else "") + \
                (f'<color rgb="{_color(st["font_color"])}"/>' if "font_color" in st else "") + "</font>"
        fill = ""
        if "fill" in st:
            c = _color(st["fill"])
            fill = (f'<fill><patternFill patternType="solid"><fgColor rgb="{c}"/><bgColor rgb="{c}"/>'
                    '</patternFill></fill>')
        return self._add("dxfs", f'<dxf xmlns="{M}">{font}{fill}</dxf>')

    def serialize(self) -> bytes:
        return etree.tostring(self.root, xml_declaration=True, encoding="UTF-8", standalone=True)
