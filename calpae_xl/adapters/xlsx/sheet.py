"""One worksheet part, its cells held as text (the package adapter's hot path)."""
from __future__ import annotations

import html
import re
import uuid
from functools import lru_cache
from typing import TYPE_CHECKING, Optional

from lxml import etree

from ...errors import UnreadableFile
from ...workbook import layout as L
from ...workbook.a1 import COLUMNS, MAX_COL, MAX_ROW, col_index, parse_ref, split_ref
from ...workbook.port import Grid, spread_arrays
from .. import gate
from ..ooxml import cached_value
from .xml import M, PARSER, WS_ORDER, child, place, q

if TYPE_CHECKING:
    from .book import PackageWorkbook

T, RUN = q("t"), q("r")
_DIGITS = "0123456789"

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
_HIDDEN = re.compile(r'\shidden="(?:1|true)"')
_A_S = re.compile(r'\ss="([^"]*)"')
_A_T = re.compile(r'\st="([^"]*)"')
_A_REF = re.compile(r'\sref="([^"]*)"')
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
        columns = COLUMNS
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
        refusal = gate.too_far(max_c, self.last_row())
        if refusal:
            raise UnreadableFile(book.path, refusal.reason, refusal.code)

    def last_row(self) -> int:
        """The last row that holds cells (LibreOffice writes an empty row 1048576 after a row is deleted)."""
        return max((r for r, entry in self.rows.items() if entry[1]), default=0)

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
        n_rows = self.last_row()
        values: list[list] = [[] for _ in range(n_rows)]
        formulas: dict[tuple[int, int], str] = {}
        f_open = f"<{self.pfx}f"
        dates: Optional[set] = None
        arrays: list[tuple[int, int, str, str]] = []  # (row, column, formula, ref) of an array formula
        for r, (_attrs, cells, _tail) in self.rows.items():
            if not cells:
                continue
            out = values[r - 1]
            for c, (attrs, content) in cells.items():
                if not content:
                    continue  # a formatted empty cell
                tm = _A_T.search(attrs) if 't="' in attrs else None
                t = tm.group(1) if tm else "n"
                try:
                    if f_open in content and (fm := rx["f"].search(content)) is not None:
                        formulas[(r, c)] = _unescape(fm.group(2) or "")
                        if 't="array"' in fm.group(1) and (am := _A_REF.search(fm.group(1))) and ":" in am.group(1):
                            arrays.append((r, c, formulas[(r, c)], am.group(1)))
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
        hidden = frozenset(r for r, entry in self.rows.items() if _HIDDEN.search(entry[0]))
        return Grid(values, formulas, merged, hidden_rows=hidden, arrays=self._array_members(arrays, formulas))

    def _array_members(self, arrays: list, formulas: dict) -> list[tuple[int, int, int, int]]:
        """The ranges of the array formulas over several cells, each cell read
        as the array's formula (see :func:`spread_arrays`)."""
        anchors = []
        for r0, c0, text, ref in arrays:
            a, _, b = ref.partition(":")
            first, last = parse_ref(a.replace("$", "")), parse_ref(b.replace("$", ""))
            if first is not None and last is not None:
                anchors.append((r0, c0, text, (*first, *last)))
        if not anchors:
            return []
        cols_of = {r: sorted(entry[1]) for r, entry in self.rows.items() if entry[1]}
        return spread_arrays(anchors, cols_of, formulas, self.book.path, self.name)

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
