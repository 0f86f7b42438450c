"""The fast headless adapter: the workbook's package itself, through lxml.

openpyxl turns every part into objects and rewrites the whole package: for
the Loiret workbook that costs more than the three operations, and what it
cannot read (shapes, charts, x14 formats, slicers...) is lost. This adapter
checks that every XML part is well formed, indexes only the sheets it is
asked for (their cells held as text), changes only the cells, styles and
parts the plan names, and copies every other part of the package as it was.

Written the way openpyxl 3.1 writes them, so that both adapters give files
equal on meaning (a test compares them): strings inline, styles as new
``xf`` records merged over the cell's own, the cached value next to each
formula. calcChain is dropped and a full recalculation asked for on opening.
"""
from __future__ import annotations

import copy
import html
import io
import re
import uuid
import zipfile
from decimal import Decimal
from functools import lru_cache
from typing import Any, Optional, Sequence
from xml.parsers import expat

from lxml import etree

from .. import gate, layout as L, safety
from ..errors import CalpaeError, UnreadableFile, UnwritableFile
from ..port import (KEEP, Block, ClearContents, ConditionalRule, DefineName, EnsureSheet, Formula, Grid, Op,
                    SheetSetup, Text, dispatch)
from . import files
from .files import cached_value, clean_text, part_name, value_text

M = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PR = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
WS_REL = R + "/worksheet"
WS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CALC_CHAIN_REL = R + "/calcChain"
STYLES_REL = R + "/styles"
SST_REL = R + "/sharedStrings"
WORKBOOK, WORKBOOK_RELS, CONTENT_TYPES = "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"
PACKAGE_PARTS = (WORKBOOK, WORKBOOK_RELS, CONTENT_TYPES)

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=False,
                         huge_tree=False)


def q(tag: str) -> str:
    return "{%s}%s" % (M, tag)


T, RUN = q("t"), q("r")
SHEET_ROOTS = {q(t) for t in ("worksheet", "chartsheet", "dialogsheet")}

# element orders of the schema: a child must be inserted at its place
WS_ORDER = ("sheetPr dimension sheetViews sheetFormatPr cols sheetData sheetCalcPr sheetProtection "
            "protectedRanges scenarios autoFilter sortState dataConsolidate customSheetViews mergeCells "
            "phoneticPr conditionalFormatting dataValidations hyperlinks printOptions pageMargins pageSetup "
            "headerFooter rowBreaks colBreaks customProperties cellWatches ignoredErrors smartTags drawing "
            "legacyDrawing legacyDrawingHF drawingHF picture oleObjects controls webPublishItems tableParts "
            "extLst").split()
WB_ORDER = ("fileVersion fileSharing workbookPr workbookProtection bookViews sheets functionGroups "
            "externalReferences definedNames calcPr oleSize customWorkbookViews pivotCaches smartTagPr "
            "smartTagTypes webPublishing fileRecoveryPr webPublishObjects extLst").split()
STYLE_ORDER = "numFmts fonts fills borders cellStyleXfs cellXfs cellStyles dxfs tableStyles colors extLst".split()

NEW_SHEET = (f'<worksheet xmlns="{M}" xmlns:r="{R}"><sheetPr><outlinePr summaryBelow="1" summaryRight="1"/>'
             '<pageSetUpPr/></sheetPr><dimension ref="A1"/><sheetViews><sheetView workbookViewId="0">'
             '<selection activeCell="A1" sqref="A1"/></sheetView></sheetViews>'
             '<sheetFormatPr baseColWidth="8" defaultRowHeight="15"/><sheetData/>'
             '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/></worksheet>')


def _local(el) -> Optional[str]:
    tag = el.tag
    if not isinstance(tag, str):
        return None  # comments, processing instructions
    return tag.rsplit("}", 1)[-1]


def place(parent, el, order: Sequence[str]):
    """Insert ``el`` among ``parent``'s children at its place in the schema's
    order (after the last child of the same or an earlier kind)."""
    rank = {n: i for i, n in enumerate(order)}
    k = rank[_local(el)]
    for i, ch in enumerate(parent):
        if rank.get(_local(ch) or "", -1) > k:
            parent.insert(i, el)
            return el
    parent.append(el)
    return el


def child(parent, name: str, order: Sequence[str], create: bool = True):
    el = parent.find(q(name))
    if el is None and create:
        el = place(parent, etree.Element(q(name)), order)
    return el


@lru_cache(maxsize=4096)
def col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


_DIGITS = "0123456789"
MAX_ROW, MAX_COL = 1_048_576, 16_384
_COLUMNS = {L.col_letter(i): i for i in range(1, 703)}  # A..ZZ, looked up without a call


def split_ref(ref: str) -> tuple[int, int]:
    """'AB12' -> (12, 28)."""
    letters = ref.rstrip(_DIGITS)
    return int(ref[len(letters):]), col_index(letters.upper().lstrip("$"))


def _number(text: str):
    """As openpyxl reads a number: int, or float with a point or exponent."""
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)


def _string_item(el) -> str:
    """The plain text of a shared or inline string (runs joined, phonetic
    guides left out), as openpyxl reads rich text into a string."""
    t = el.find(T)
    if t is not None and len(el) == 1:
        return t.text or ""
    out = []
    for ch in el:
        if ch.tag == T:
            out.append(ch.text or "")
        elif ch.tag == RUN:
            out.extend(x.text or "" for x in ch.iter(T))
    return "".join(out)


def _canon(el) -> bytes:
    """An element's canonical form (attribute order, namespace prefixes) to find an identical one."""
    return etree.tostring(el, method="c14n", exclusive=True)


def _color(rgb: str) -> str:
    return rgb if len(rgb) == 8 else "00" + rgb


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


# --- one sheet -------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _patterns(pfx: str) -> dict:
    """The regular expressions of a sheet's body, for its namespace prefix."""
    e = re.escape(pfx)
    return {"row": re.compile(rf"<{e}row\b([^>]*?)(?:/>|>(.*?)</{e}row>)", re.S),
            # group 2 and 3: the reference, when it comes first (as Excel and openpyxl write it)
            "c": re.compile(rf'<{e}c\b((?: r="([A-Z]{{1,3}})([0-9]+)")?[^>]*?)(?:/>|>(.*?)</{e}c>)', re.S),
            "f": re.compile(rf"<{e}f\b([^>]*?)(?:/>|>(.*?)</{e}f>)", re.S),
            "v": re.compile(rf"<{e}v\b[^>]*?(?:/>|>(.*?)</{e}v>)", re.S),
            "is": re.compile(rf"<{e}is\b[^>]*?(?:/>|>(.*?)</{e}is>)", re.S),
            "t": re.compile(rf"<{e}t\b[^>]*?(?:/>|>(.*?)</{e}t>)", re.S),
            "tail": re.compile(rf"<{e}extLst\b.*", re.S),
            "rich": re.compile(rf"<{e}(?:r|rPh)\b")}


_A_R = re.compile(r'\sr="([^"]*)"')
_A_S = re.compile(r'\ss="([^"]*)"')
_A_T = re.compile(r'\st="([^"]*)"')
_A_VALUE = re.compile(r'\s(?:t|cm|vm)="[^"]*"')
_A_ROW = re.compile(r'\s(?:r|spans)="[^"]*"')
_A_SHARED = re.compile(r'\s(?:t|si|ref)="[^"]*"')


def _unescape(text: str) -> str:
    return html.unescape(text) if "&" in text else text


def _escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "&#13;") if "\r" in text else text


class Sheet:
    """One worksheet part. Its sheetData, the only big element, is held as
    text: rows -> {column: (attributes, content)}, from one pass of regular
    expressions over lxml's own serialization of it (the part was parsed, so
    it is well formed, and quoting and escaping are lxml's). Python objects
    per cell cost seconds at 10 000 actions; strings do not. The rest of the
    part stays an lxml tree, for panes, widths, lists and conditional formats."""

    def __init__(self, name: str, part: str, root, book: "PackageWorkbook"):
        self.name, self.part, self.root, self.book = name, part, root, book
        self.dirty = False
        self.is_worksheet = root.tag == q("worksheet")  # a chart sheet has no cells: read as empty
        sd = root.find(q("sheetData"))
        if sd is None:
            sd = etree.Element(q("sheetData"))
            if self.is_worksheet:
                place(root, sd, WS_ORDER)
        self.sheet_data = sd
        self.pfx = f"{sd.prefix}:" if sd.prefix else ""
        self.re = _patterns(self.pfx)
        if len(sd):  # comments and processing instructions could hide a closing tag from the patterns
            etree.strip_tags(sd, etree.Comment, etree.ProcessingInstruction)
        body = etree.tostring(sd, encoding="unicode") if len(sd) else ""
        sd[:] = []
        sd.text = None
        #: r -> [row attributes, {column: (cell attributes, cell content)}, what follows the cells]
        self.rows: dict[int, list] = {}
        self.irregular = False  # cells whose reference is missing or disagrees with their place
        shared: Optional[dict] = {} if 't="shared"' in body else None
        cell_re = self.re["c"]
        columns = _COLUMNS
        r_prev = max_c = 0
        for m in self.re["row"].finditer(body):
            attrs, inner = m.group(1), m.group(2) or ""
            ra = _A_R.search(attrs)
            r = int(ra.group(1)) if ra else r_prev + 1
            if not 1 <= r <= MAX_ROW:
                raise ValueError(f"ligne {r} hors de la feuille")
            r_attr = str(r)
            r_prev = r
            cells: dict[int, tuple[str, str]] = {}
            c_prev = end = 0
            for cm in cell_re.finditer(inner):
                end = cm.end()
                ca, letters, digits, content = cm.groups()
                content = content or ""
                if letters is None:
                    refm = _A_R.search(ca)
                    ref = refm.group(1) if refm else ""
                    letters = ref.rstrip(_DIGITS)
                    digits = ref[len(letters):]
                    if not (letters.isalpha() and letters.isupper()):
                        letters = ""
                col = columns.get(letters) or col_index(letters)
                if not 1 <= col <= MAX_COL or digits != r_attr:
                    self.irregular = True
                    if not 1 <= col <= MAX_COL:
                        col = c_prev + 1
                c_prev = col
                if col > max_c:
                    max_c = col
                if shared is not None and 't="shared"' in content:
                    content = self._unshare(content, r, col, shared)
                cells[col] = (ca, content)
            tail = inner[end:].strip()
            if r in self.rows:  # a repeated row (a broken file): its cells join the first
                self.rows[r][1].update(cells)
            else:
                self.rows[r] = [attrs, cells, tail]
        refusal = gate.too_far(max_c, max(self.rows, default=0))  # the gate read the dimension; here, the cells
        if refusal:
            raise UnreadableFile(book.path, refusal.reason, refusal.code)

    def _unshare(self, content: str, r: int, col: int, shared: dict) -> str:
        """A shared formula becomes each cell's own formula (as openpyxl reads
        it): writing over the master cell must not break its dependants."""
        fm = self.re["f"].search(content)
        if fm is None or 't="shared"' not in fm.group(1):
            return content
        from openpyxl.formula.translate import Translator  # noqa: PLC0415
        si_m = re.search(r'\ssi="([^"]*)"', fm.group(1))
        si = si_m.group(1) if si_m else ""
        here = L.col_letter(col) + str(r)
        text = _unescape(fm.group(2) or "")
        if text and si not in shared:
            shared[si] = (text, here)
        elif si in shared:
            origin_text, origin = shared[si]
            text = Translator("=" + origin_text, origin=origin).translate_formula(here)[1:]
        f = f"<{self.pfx}f{_A_SHARED.sub('', fm.group(1))}>{_escape(text)}</{self.pfx}f>"
        return content[:fm.start()] + f + content[fm.end():]

    # reading ---------------------------------------------------------------------------
    def grid(self) -> Grid:
        book, rx = self.book, self.re
        n_rows = max(self.rows, default=0)
        values: list[list] = [[] for _ in range(n_rows)]
        formulas: dict[tuple[int, int], str] = {}
        f_open = f"<{self.pfx}f"
        dates: Optional[set] = None
        for r, (_attrs, cells, _tail) in self.rows.items():
            out = values[r - 1]
            for c, (attrs, content) in cells.items():
                if not content:
                    continue  # a formatted empty cell
                tm = _A_T.search(attrs) if 't="' in attrs else None
                t = tm.group(1) if tm else "n"
                try:
                    if f_open in content and (fm := rx["f"].search(content)) is not None:
                        formulas[(r, c)] = _unescape(fm.group(2) or "")
                        vm = rx["v"].search(content)
                        v = cached_value(t, _unescape(vm.group(1)) if vm and vm.group(1) is not None else None)
                    elif t == "n":
                        vm = rx["v"].search(content)
                        if vm is None or vm.group(1) is None:
                            continue
                        v = _number(vm.group(1))
                        if 's="' in attrs:
                            if dates is None:
                                dates = book.styles.date_styles()[0]
                            if dates:
                                si = _style_of(attrs)[1]
                                if si is not None and si in dates:
                                    v = book.date(v, si)
                    elif t == "inlineStr":
                        v = self._inline(content)
                    else:
                        vm = rx["v"].search(content)
                        v = book.value(t, _unescape(vm.group(1)) if vm and vm.group(1) is not None else None)
                except (ValueError, TypeError, ArithmeticError) as e:
                    raise UnreadableFile(book.path, f"la cellule {L.sheet_ref(self.name)}!{L.col_letter(c)}{r} "
                                                    f"est illisible ({e})", "CLASSEUR_INVALIDE") from None
                if v is None:
                    continue
                if len(out) < c:
                    out.extend([None] * (c - len(out)))
                out[c - 1] = v
        merged = []
        for m in self.root.iterfind(q("mergeCells") + "/" + q("mergeCell")):
            ref = m.get("ref", "")
            if ":" in ref:
                a, b = ref.split(":", 1)
                (r1, c1), (r2, c2) = split_ref(a), split_ref(b)
                merged.append((r1, c1, r2, c2))
        return Grid(values, formulas, merged)

    def _inline(self, content: str) -> Optional[str]:
        m = self.re["is"].search(content)
        if m is None:
            return None
        inner = m.group(1) or ""
        if self.re["rich"].search(inner):  # runs, phonetic guides: rare, read with lxml
            p = self.pfx[:-1]
            decl = f' xmlns:{p}="{M}"' if p else f' xmlns="{M}"'
            return _string_item(etree.fromstring(f"<{self.pfx}is{decl}>{inner}</{self.pfx}is>", PARSER))
        tm = self.re["t"].search(inner)
        return _unescape(tm.group(1) or "") if tm else ""

    # writing ---------------------------------------------------------------------------
    def row_cells(self, r: int) -> dict[int, tuple[str, str]]:
        entry = self.rows.get(r)
        if entry is None:
            entry = self.rows[r] = ["", {}, ""]
        return entry[1]

    def new_cell(self, r: int, c: int) -> tuple[str, str]:
        return (f' r="{L.col_letter(c)}{r}"', "")

    def without_value(self, cell: tuple[str, str]) -> tuple[str, str]:
        """The cell with its value, formula and type removed (its format and
        any extension stay)."""
        attrs, content = cell
        tail = self.re["tail"].search(content) if content and "extLst" in content else None
        return (_A_VALUE.sub("", attrs) if 't="' in attrs or "m=" in attrs else attrs,
                tail.group(0) if tail else "")

    def max_col(self) -> int:
        return max((max(cells) for _a, cells, _t in self.rows.values() if cells), default=0)

    def serialize(self) -> bytes:
        """The part with its rows and cells in order, and its dimension."""
        p = self.pfx
        parts = []
        for r in sorted(self.rows):
            attrs, cells, tail = self.rows[r]
            parts.append(f'<{p}row r="{r}"{_A_ROW.sub("", attrs)}')
            if not cells and not tail:
                parts.append("/>")
                continue
            parts.append(">")
            for c in sorted(cells):
                ca, content = cells[c]
                if self.irregular or not ca.startswith(" r="):  # each cell's reference says where it is read
                    ca = f' r="{L.col_letter(c)}{r}"' + _A_R.sub("", ca)
                parts.append(f"<{p}c{ca}>{content}</{p}c>" if content else f"<{p}c{ca}/>")
            parts.append(f"{tail}</{p}row>")
        dim = child(self.root, "dimension", WS_ORDER)
        cols = [c for _a, cells, _t in self.rows.values() for c in (min(cells, default=0), max(cells, default=0))
                if c]
        if self.rows and cols:
            dim.set("ref", f"{L.col_letter(min(cols))}{min(self.rows)}:{L.col_letter(max(cols))}{max(self.rows)}")
        else:
            dim.set("ref", "A1")
        marker = "calpae" + uuid.uuid4().hex
        self.sheet_data.text = marker
        try:
            xml = etree.tostring(self.root, xml_declaration=True, encoding="UTF-8", standalone=True)
        finally:
            self.sheet_data.text = None
        head, _, rest = xml.partition(marker.encode())
        return head + "".join(parts).encode("utf-8") + rest


# --- the adapter ------------------------------------------------------------------------

class PackageWorkbook:
    """A workbook file read and written as its package (``.xlsx`` or ``.xlsm``)."""

    def __init__(self, path: str, blob: bytes):
        self.path = str(path)
        self.blob = blob
        self.zip = zipfile.ZipFile(io.BytesIO(blob))
        self.names = set(self.zip.namelist())
        self.stamp: Optional[tuple[int, int]] = None
        self.modified: set[str] = set()  # package-level parts to rewrite
        self.dropped: set[str] = set()
        self._grids: dict[str, Grid] = {}
        self._sheets: dict[str, Sheet] = {}
        self._trees: dict[str, Any] = {}
        self._target = self.path
        self.wb = self._xml(WORKBOOK)
        if self.wb.tag != q("workbook"):
            raise UnreadableFile(path, "le classeur n'est pas au format Office Open XML transitionnel "
                                       "(enregistrez-le depuis Excel au format .xlsx)", "CLASSEUR_INVALIDE")
        self.rels = self._xml(WORKBOOK_RELS)
        self.types = self._xml(CONTENT_TYPES)
        self.targets = {r.get("Id"): r for r in self.rels.iterfind("{%s}Relationship" % PR)}
        self.parts: dict[str, str] = {}
        for s in self.sheet_elements():
            rel = self.targets.get(s.get("{%s}id" % R))
            if rel is None:
                raise KeyError(f"relation de la feuille « {s.get('name')} »")
            self.parts[s.get("name")] = part_name(rel.get("Target", ""))
        pr = self.wb.find(q("workbookPr"))
        self.date1904 = pr is not None and pr.get("date1904") in ("1", "true")
        self._sst: Optional[list[str]] = None
        self._styles: Optional[Styles] = None
        self._check_parts()

    # package ---------------------------------------------------------------------------
    def _xml(self, name: str):
        tree = self._trees.pop(name, None)
        return tree if tree is not None else etree.fromstring(self.zip.read(name), PARSER)

    def _check_parts(self) -> None:
        """Every XML part must be well formed, the ones this adapter copies
        without reading them too: a file it writes opens again (the trees
        of the parts it reads are kept)."""
        roots = {p: {q(tag)} for p, tag in ((self._rel_part(STYLES_REL), "styleSheet"),
                                             (self._rel_part(SST_REL), "sst")) if p}
        keep = set(self.parts.values()) | set(roots)
        for name in self.zip.namelist():
            if name.endswith((".xml", ".rels")) and name not in PACKAGE_PARTS:  # those are parsed already
                try:
                    tree = etree.fromstring(self.zip.read(name), PARSER)
                except etree.XMLSyntaxError as e:
                    raise UnreadableFile(self.path, f"la partie « {name} » du classeur est abîmée ({e.msg})",
                                         "CLASSEUR_INVALIDE") from None
                if name in keep:
                    expected = roots.get(name, SHEET_ROOTS)
                    if tree.tag not in expected:
                        raise UnreadableFile(self.path, f"la partie « {name} » du classeur n'a pas la forme attendue "
                                                        f"({_local(tree)})", "CLASSEUR_INVALIDE")
                    self._trees[name] = tree

    def _rel_part(self, rel_type: str) -> Optional[str]:
        for rel in self.targets.values():
            if rel.get("Type") == rel_type:
                return part_name(rel.get("Target", ""))
        return None

    def sheet_elements(self) -> list:
        sheets = self.wb.find(q("sheets"))
        return list(sheets.iterfind(q("sheet"))) if sheets is not None else []

    # opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str) -> "PackageWorkbook":
        files.preflight(path)  # before any parser: hostile and broken files stop here
        stamp = safety.stamp(path)
        try:
            with open(path, "rb") as fh:
                blob = fh.read()
            wbk = cls(path, blob)
        except CalpaeError:
            raise
        except zipfile.BadZipFile:
            raise UnreadableFile(path, "ce n'est pas un classeur Excel (.xlsx) valide", "ZIP_ABIME") from None
        except KeyError as e:
            raise UnreadableFile(path, f"partie manquante dans le classeur ({e})", "PARTIE_MANQUANTE") from None
        except Exception as e:  # noqa: BLE001 - the boundary: any parser failure names the file
            raise UnreadableFile(path, f"{type(e).__name__} : {str(e)[:200]}", "CLASSEUR_INVALIDE") from None
        wbk.stamp = stamp
        return wbk

    # reading ---------------------------------------------------------------------------
    def sheet_names(self) -> list[str]:
        return [s.get("name") for s in self.sheet_elements()]

    @property
    def styles(self) -> Styles:
        if self._styles is None:
            part = self._rel_part(STYLES_REL)
            if part and part in self.names:
                root = self._xml(part)
            else:
                part = "xl/styles.xml"
                root = etree.fromstring(f'<styleSheet xmlns="{M}"><fonts count="1"><font><sz val="11"/></font>'
                                        '</fonts><fills count="2"><fill><patternFill patternType="none"/></fill>'
                                        '<fill><patternFill patternType="gray125"/></fill></fills>'
                                        '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf '
                                        'numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
                                        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" '
                                        'xfId="0"/></cellXfs></styleSheet>')
                self._add_part(part, STYLES_REL, "application/vnd.openxmlformats-officedocument."
                                                 "spreadsheetml.styles+xml", "styles.xml")
            self._styles = Styles(root)
            self._styles_part = part
        return self._styles

    @property
    def shared_strings(self) -> list[str]:
        if self._sst is None:
            part = self._rel_part(SST_REL)
            self._sst = []
            if part and part in self.names:
                self._sst = [_string_item(si) for si in self._xml(part).iterfind(q("si"))]
        return self._sst

    def value(self, t: str, text: Optional[str]):
        """A cell's value as openpyxl reads it, from its type and its <v>
        (numbers and inline strings are read by the sheet itself)."""
        if t == "s":
            sst = self.shared_strings
            return sst[int(text)] if text is not None and text.isdigit() and int(text) < len(sst) else None
        if t == "b":
            return text is not None and text.strip() not in ("0", "false", "")
        if t == "d":
            from openpyxl.utils.datetime import from_ISO8601  # noqa: PLC0415
            return from_ISO8601(text) if text else None
        return text  # str, e

    def date(self, v, style: int):
        """A number in a date (or duration) format, as openpyxl reads it."""
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel  # noqa: PLC0415
        try:
            return from_excel(v, CALENDAR_MAC_1904 if self.date1904 else CALENDAR_WINDOWS_1900,
                              timedelta=style in self.styles.date_styles()[1])
        except (OverflowError, ValueError):
            return "#VALUE!"

    def sheet(self, name: str) -> Sheet:
        if name not in self._sheets:
            part = self.parts[name]
            if part not in self.names:  # listed in workbook.xml, absent from the package
                raise UnreadableFile(self.path, f"partie manquante dans le classeur (feuille « {name} » : {part})",
                                     "PARTIE_MANQUANTE")
            self._sheets[name] = Sheet(name, part, self._xml(part), self)
        return self._sheets[name]

    def target(self, name: str) -> Sheet:
        """A sheet a plan writes to: a worksheet (a chart sheet of that name stops the save)."""
        sh = self.sheet(name)
        if not sh.is_worksheet:
            raise UnwritableFile(self.path, f"la feuille « {name} » n'est pas une feuille de calcul (graphique ?) ; "
                                            "renommez-la, puis recommencez", "FEUILLE_NON_CALCUL")
        sh.dirty = True
        return sh

    def read_sheet(self, sheet: str) -> Grid:
        if sheet not in self._grids:
            try:
                self._grids[sheet] = self.sheet(sheet).grid()
            except CalpaeError:
                raise
            except Exception as e:  # noqa: BLE001 - the boundary: a sheet that cannot be read names the file
                raise UnreadableFile(self.path, f"feuille « {sheet} » : {type(e).__name__} : {str(e)[:200]}",
                                     "CLASSEUR_INVALIDE") from None
        return self._grids[sheet]

    # writing ---------------------------------------------------------------------------
    def apply(self, ops: Sequence[Op]) -> None:
        self._grids.clear()
        dispatch(ops, {EnsureSheet: self._ensure, Block: self._block, ClearContents: self._clear,
                       SheetSetup: self._setup, ConditionalRule: self._rule, DefineName: self._define})

    def _add_part(self, part: str, rel_type: str, content_type: str, target: str) -> str:
        ids = {r.get("Id") for r in self.targets.values()}
        n = len(ids) + 1
        while f"rId{n}" in ids:
            n += 1
        rid = f"rId{n}"
        rel = etree.SubElement(self.rels, "{%s}Relationship" % PR, Id=rid, Type=rel_type, Target=target)
        self.targets[rid] = rel
        etree.SubElement(self.types, "{%s}Override" % CT, PartName="/" + part, ContentType=content_type)
        self.modified |= {WORKBOOK_RELS, CONTENT_TYPES}
        return rid

    def _ensure(self, op: EnsureSheet) -> None:
        if op.sheet in self.parts:
            return
        used = self.names | set(self.parts.values())
        n = 1
        while f"xl/worksheets/sheet{n}.xml" in used:
            n += 1
        part = f"xl/worksheets/sheet{n}.xml"
        rid = self._add_part(part, WS_REL, WS_TYPE, f"worksheets/sheet{n}.xml")
        sheets = child(self.wb, "sheets", WB_ORDER)
        elements = self.sheet_elements()
        ids = [int(s.get("sheetId")) for s in elements if (s.get("sheetId") or "").isdigit()]
        el = etree.Element(q("sheet"), name=op.sheet, sheetId=str(max(ids, default=0) + 1))
        if op.hidden:
            el.set("state", "hidden")
        el.set("{%s}id" % R, rid)
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

    # saving ----------------------------------------------------------------------------
    def save(self, target: Optional[str] = None, backup: bool = True, replace: bool = False) -> Optional[str]:
        """Atomic save (``files.atomic_save``). Every part the plan did not
        touch is copied as it was: nothing is lost, so no lossy-save guard."""
        target = self._target = str(target or self.path)
        files.guard(target, self.path, self.stamp, replace, lossy=False)
        return files.atomic_save(target, self.path, self._write, len(self.parts), backup)

    def _finish_workbook(self) -> None:
        """Formulas changed: a full recalculation on opening, and no calcChain
        (Excel rebuilds it; a stale one makes it repair the file)."""
        calc = child(self.wb, "calcPr", WB_ORDER)
        calc.set("fullCalcOnLoad", "1")
        if calc.get("calcId") is None:
            calc.set("calcId", "124519")
        for rid, rel in list(self.targets.items()):
            if rel.get("Type") == CALC_CHAIN_REL:
                self.dropped.add(part_name(rel.get("Target", "")))
                self.rels.remove(rel)
                del self.targets[rid]
        for o in list(self.types):
            if o.get("PartName", "").lstrip("/") in self.dropped:
                self.types.remove(o)
        self.modified |= set(PACKAGE_PARTS)

    def _write(self, tmp: str) -> None:
        out: dict[str, bytes] = {}
        if any(sh.dirty for sh in self._sheets.values()):
            self._finish_workbook()
        for sh in self._sheets.values():
            if sh.dirty:
                out[sh.part] = data = sh.serialize()
                try:  # the cells are written as text: the part is parsed again before it replaces anything
                    expat.ParserCreate().Parse(data, True)  # well-formedness only: no tree, 25 % faster than lxml
                except expat.ExpatError as e:
                    raise UnwritableFile(self._target, f"la feuille « {sh.name} » écrite est mal formée ({e}) ; "
                                                       "signalez-le avec le fichier", "ECRITURE_INVALIDE") from None
        if self._styles is not None and self._styles.dirty:
            out[self._styles_part] = self._styles.serialize()
        roots = dict(zip(PACKAGE_PARTS, (self.wb, self.rels, self.types)))
        for part in self.modified:
            out[part] = etree.tostring(roots[part], xml_declaration=True, encoding="UTF-8", standalone=True)
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in self.zip.infolist():
                if info.filename in self.dropped:
                    continue
                data = out.pop(info.filename, None)
                if data is None:
                    data = self.zip.read(info)
                zi = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                zi.compress_type = zipfile.ZIP_DEFLATED
                zi.external_attr = info.external_attr
                zout.writestr(zi, data)
            for name, data in out.items():
                zout.writestr(name, data)


def _style_of(attrs: str) -> tuple[Optional[re.Match], Optional[int]]:
    """A cell's s attribute (its match in ``attrs``) and the format index it
    gives (None: no s, or one that is not a number)."""
    m = _A_S.search(attrs) if 's="' in attrs else None
    return m, (int(m.group(1)) if m is not None and m.group(1).isdigit() else None)


def _set_s(attrs: str, s: int, found: Optional[re.Match] = None) -> str:
    """Cell attributes with the format index ``s``; ``found``: the s attribute
    as ``_style_of`` matched it (used when it was matched in these very attributes)."""
    if found is None or found.string is not attrs:
        found = _style_of(attrs)[0]
    if found is not None:
        return attrs[:found.start(1)] + str(s) + attrs[found.end(1):]
    m = _A_R.search(attrs)
    if m:  # r, then s, as Excel and openpyxl write them
        return attrs[:m.end()] + f' s="{s}"' + attrs[m.end():]
    return f' s="{s}"' + attrs


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

