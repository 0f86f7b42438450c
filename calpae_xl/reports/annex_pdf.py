"""The annex a préfecture attaches to the avenant, as a PDF, built from the model.

What it prints, on A4 (the maquette in landscape, the rest in portrait):

* a title block: convention, Département, avenant, année, crédits notifiés and
  report notifié (article 2);
* the maquette financière: one row per action, the bloc / thème / imputation
  Chorus cells grouped over their rows as in the signed annex, text columns
  wrapped (never cut), French amounts ("1 201 409,00 €", narrow no-break
  spaces), a blank amount printed blank, sub-totals and total in bold on a
  grey background, the header row repeated on every page;
* each fiche action on its own page(s), its amounts on the page of its title,
  every text printed whole;
* optionally the Contrôles (the list of findings).

Every page has the document name and "page x / y" in its footer; a draft
(``draft=True``: errors remain and the user insisted) has "PROJET — erreurs
non corrigées" at the top of every page. The PDF has bookmarks (maquette,
each fiche, Contrôles), a title and lang=fr-FR; its fonts are embedded
(subsets of DejaVu Sans Condensed, shipped in ``calpae_xl/data/fonts`` so
that the annex is the same on every machine, see :func:`find_fonts`).

The groups of rows (the blocs) come from the caller as :class:`Group`
objects (label, actions, sub-total): :func:`groups_from_maquette` builds them
from the blocs of a :class:`~calpae_xl.core.model.Maquette`. Nothing here
knows how many groups there are or what they are called.

Engine: ReportLab (pure Python wheel on Linux, Windows and macOS; no system
library), chosen over WeasyPrint and LibreOffice: see docs/annexe-pdf.md for
the measurements. The maquette is paginated here rather than by ReportLab,
so that a grouped cell never has to cross a page break: on each page the
thème and Chorus cells span the rows of that page, and the label is printed
again at the top of the next page.

This module imports the core and ReportLab only: reading a workbook and
deciding whether to print is :mod:`calpae_xl.reports.pdf`'s.

Texts for the user are in French; code and comments in English.
"""
from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO, Mapping, Optional, Sequence, Union
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (BaseDocTemplate, CondPageBreak, Flowable, Frame, KeepTogether, NextPageTemplate,
                                PageBreak, PageTemplate, Paragraph, Spacer, Table, TableStyle)

from ..core.findings import sort_findings, summary_line
from ..core.model import Action, Column, Maquette
from ..core.money import Amount, Unreadable, format_eur
from ..core.rules import bloc_totals, grand_total

__all__ = ["DRAFT_TEXT", "AnnexOptions", "AnnexResult", "FontSet", "Group", "LayoutImpossible", "NoFont",
           "amount_text", "annex_bytes", "find_fonts", "groups_from_maquette", "write_annex_pdf"]


class LayoutImpossible(ValueError):
    """The annex cannot be laid out legibly (amounts too wide for the page):
    its French reason goes to the user as it is."""

# --------------------------------------------------------------------------- data handed to the renderer

NNBSP = "\u202f"  # narrow no-break space: thousands separator (French typography)
NBSP = "\u00a0"  # no-break space: before "€", inside a Chorus code

CALPAE = "Convention d'appui à la lutte contre la pauvreté et d'accès à l'emploi (CALPAE)"


@dataclass(frozen=True)
class Group:
    """A group of rows of the maquette and its sub-total row.

    ``label`` is printed in the first column and in the sub-total row
    ("Sous-total Engagements du socle"); ``subtotal`` maps each amount column
    to its sub-total (a missing column prints blank).
    """

    label: str
    actions: Sequence[Action]
    subtotal: Mapping[Column, Amount]
    subtotal_label: str = ""

    @property
    def subtotal_text(self) -> str:
        return self.subtotal_label or f"Sous-total {self.label}"


def groups_from_maquette(m: Maquette) -> list[Group]:
    """The blocs of a CALPAE maquette, in the model's order, with their
    sub-totals computed from the actions (what the rows add up to)."""
    totals = bloc_totals(m)
    seen: list = []
    for a in m.actions:
        if a.bloc not in seen:
            seen.append(a.bloc)
    return [Group(b.label, [a for a in m.actions if a.bloc == b], totals[b]) for b in seen]


DRAFT_TEXT = "PROJET — erreurs non corrigées : document à ne pas signer"


@dataclass(frozen=True)
class AnnexOptions:
    """What the caller decides; everything has a sensible default.

    ``findings``: the Contrôles to print at the end (None: no Contrôles
    section; an empty list prints "Aucun constat"). ``draft``: print the
    draft mention on every page (the caller sets it when errors remain and
    the user insisted). ``avenant``: e.g. "Avenant n°3" (the model has no
    avenant number: said only when given).
    """

    avenant: str = ""
    convention: str = CALPAE
    document_name: str = ""  # footer; default built from the maquette
    draft: bool = False
    draft_text: str = DRAFT_TEXT
    findings: Optional[Sequence] = None
    fiches: bool = True
    group_header: str = "Bloc"
    columns: Sequence[Column] = tuple(Column)
    font_dir: Optional[str] = None  # a folder with the TTF files to use first
    period: str = ""  # a multi-year contract's span (« 2024-2027 »), said instead of the year in the footer

    def name(self, m: Maquette) -> str:
        if self.document_name:
            return self.document_name
        parts = ["Annexe financière", m.departement.strip() or "Département non renseigné"]
        if self.avenant.strip():
            parts.append(self.avenant.strip())
        if self.period or m.annee:
            parts.append(self.period or str(m.annee))
        return " — ".join(parts)


@dataclass(frozen=True)
class AnnexResult:
    target: Optional[str]  # None when written to a file object
    pages: int
    font: str  # the font family used, and where it came from


# --------------------------------------------------------------------------- texts and amounts

def amount_text(amount: Amount, nnbsp: str = NNBSP) -> str:
    """'1 201 409,00 €' with narrow no-break spaces between the groups of
    digits and a no-break space before '€'; '' for a blank amount (never
    '0,00 €'); an unreadable cell is shown as typed, between « »."""
    if amount is None:
        return ""
    text = format_eur(amount)
    if isinstance(amount, Unreadable):
        return text
    return re.sub(r"(?<=\d)\u00a0(?=\d)", nnbsp, text)


def number_text(value: Optional[Decimal], nnbsp: str = NNBSP) -> str:
    """An indicator value: '1 250', '12,5'; '' when missing."""
    if value is None:
        return ""
    sign = "-" if value < 0 else ""
    whole, _, dec = f"{abs(value).normalize():f}".partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return sign + nnbsp.join(groups or ["0"]) + ("," + dec if dec else "")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def para(text: object) -> str:
    """User text as Paragraph markup: escaped, line breaks kept."""
    s = "" if text is None else str(text)
    s = _CONTROL.sub("", s.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " "))
    s = re.sub(r"« +", "«" + NBSP, re.sub(r" +»", NBSP + "»", s))  # never a « at the end of a line
    return "<br/>".join(escape(line) for line in s.strip().split("\n"))


def chorus_text(action: Action, one_line: bool = True) -> str:
    """'0304 50 19 19 01 – Accompagnement…', the code kept on one line
    (unless the column is too narrow for it)."""
    if action.chorus is None:
        return ""
    code = action.chorus.normalized.replace(" ", NBSP if one_line else " ")
    return f"{code} – {action.chorus.libelle}" if action.chorus.libelle else code


def is_blank_action(a: Action) -> bool:
    """An unused template row: nothing typed in it. Never printed."""
    return not (a.intitule.strip() or a.theme.strip() or a.chorus or a.numero.strip()) and all(
        a.amount(c) is None for c in Column)


def column_label(col: Column, m: Maquette) -> str:
    if col is Column.REPORT:
        return f"Report {m.annee - 1}" if m.annee else "Report N-1"
    if col is Column.AUTRES:
        return "Participation d'autres financeurs le cas échéant"
    return col.label


# --------------------------------------------------------------------------- fonts

class NoFont(RuntimeError):
    """No usable TrueType font (should not happen: ReportLab ships Vera)."""


@dataclass(frozen=True)
class FontSet:
    regular: str
    bold: str
    italic: str
    bold_italic: str
    nnbsp: str  # U+202F when the font has it, else U+00A0
    source: str


# Candidate families, best first: (label, regular, bold, italic, bold italic).
# DejaVu Sans Condensed: shipped with the package (calpae_xl/data/fonts, with
# its licence), narrow and complete, so the annex is the same everywhere. The
# others only if the shipped files were removed: Liberation Sans
# (fonts-liberation2), DejaVu Sans (fonts-dejavu-core), Arial (Windows), and
# Vera, inside ReportLab itself.
_FAMILIES = (
    ("DejaVu Sans Condensed", "DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Bold.ttf",
     "DejaVuSansCondensed-Oblique.ttf", "DejaVuSansCondensed-BoldOblique.ttf"),
    ("Liberation Sans", "LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf",
     "LiberationSans-Italic.ttf", "LiberationSans-BoldItalic.ttf"),
    ("DejaVu Sans", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf"),
    ("Arial", "arial.ttf", "arialbd.ttf", "ariali.ttf", "arialbi.ttf"),
)
SHIPPED_FONTS = str(Path(__file__).resolve().parents[1] / "data" / "fonts")
_FONT_DIRS = (SHIPPED_FONTS, "/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation2",
              "/usr/share/fonts/truetype/liberation", "/usr/share/fonts/TTF", "/usr/share/fonts/dejavu",
              "/Library/Fonts", os.path.join(os.environ.get("WINDIR", r"C:\Windows"), "Fonts"))
_REGISTERED: dict[tuple, FontSet] = {}


def _find(name: str, dirs: Sequence[str]) -> Optional[str]:
    for d in dirs:
        p = os.path.join(d, name)
        if os.path.isfile(p):
            return p
    return None


def find_fonts(font_dir: Optional[str] = None) -> FontSet:
    """Register (once) and return the first complete font family found.

    The regular and bold faces are required; a missing italic falls back to
    the upright face. The fonts are embedded (subset) in the PDF.
    """
    key = (font_dir,)
    if key in _REGISTERED:
        return _REGISTERED[key]
    dirs = ([font_dir] if font_dir else []) + list(_FONT_DIRS)
    import reportlab  # noqa: PLC0415
    vera_dir = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    families = list(_FAMILIES) + [("Bitstream Vera (ReportLab)", "Vera.ttf", "VeraBd.ttf", "VeraIt.ttf", "VeraBI.ttf")]
    for label, *files in families:
        search = dirs + [vera_dir]
        paths = [_find(f, search) for f in files]
        if not (paths[0] and paths[1]):
            continue
        paths[2] = paths[2] or paths[0]
        paths[3] = paths[3] or paths[1]
        base = "Annex" + re.sub(r"\W", "", label)
        names = [base, base + "-Bold", base + "-Italic", base + "-BoldItalic"]
        fonts = [TTFont(n, p) for n, p in zip(names, paths, strict=True)]
        for f in fonts:
            pdfmetrics.registerFont(f)
        pdfmetrics.registerFontFamily(base, normal=names[0], bold=names[1], italic=names[2], boldItalic=names[3])
        has_nnbsp = all(0x202F in f.face.charToGlyph for f in fonts[:2])
        fs = FontSet(*names, nnbsp=NNBSP if has_nnbsp else NBSP, source=f"{label} ({os.path.dirname(paths[0])})")
        _REGISTERED[key] = fs
        return fs
    raise NoFont("Aucune police TrueType utilisable (ni DejaVu, ni Liberation, ni Arial, ni Vera) n'a été trouvée.")


# --------------------------------------------------------------------------- styles and page geometry

PORTRAIT = A4
LANDSCAPE = landscape(A4)
MARGIN_X = 12 * mm
MARGIN_TOP = 16 * mm  # room for the draft mention
MARGIN_BOTTOM = 14 * mm  # room for the footer
BODY = 8.0  # the maquette's body font size (the smallest on the document)
TEXT = 9.5  # the fiches' text

GRID = colors.HexColor("#555555")
HEAD_BG = colors.HexColor("#DCE3EC")
SUB_BG = colors.HexColor("#EBEBEB")
TOTAL_BG = colors.HexColor("#D0D0D0")
LABEL_BG = colors.HexColor("#F2F2F2")
PAD = 2.5


class _Styles:
    def __init__(self, f: FontSet):
        self.f = f
        base = dict(fontName=f.regular, splitLongWords=1, allowWidows=0, allowOrphans=0)
        self.cell = ParagraphStyle("cell", fontSize=BODY, leading=BODY * 1.2, **base)
        self.cell_bold = ParagraphStyle("cellb", parent=self.cell, fontName=f.bold)
        self.head = ParagraphStyle("head", parent=self.cell_bold, alignment=TA_CENTER)
        self.title = ParagraphStyle("title", fontSize=16, leading=20, spaceAfter=4, fontName=f.bold)
        self.subtitle = ParagraphStyle("subtitle", fontSize=10.5, leading=13.5, spaceAfter=2, fontName=f.regular)
        self.h1 = ParagraphStyle("h1", fontSize=13, leading=16, spaceBefore=6, spaceAfter=6, fontName=f.bold,
                                 keepWithNext=1)
        self.h2 = ParagraphStyle("h2", fontSize=10.5, leading=13, spaceBefore=8, spaceAfter=3, fontName=f.bold)
        self.text = ParagraphStyle("text", fontSize=TEXT, leading=TEXT * 1.3, spaceAfter=2, **base)
        self.none = ParagraphStyle("none", parent=self.text, fontName=f.italic)
        self.tcell = ParagraphStyle("tcell", fontSize=9, leading=11, **base)
        self.tcell_bold = ParagraphStyle("tcellb", parent=self.tcell, fontName=f.bold)
        self.thead = ParagraphStyle("thead", parent=self.tcell_bold, alignment=TA_LEFT)
        for style in vars(self).values():  # ReportLab's default bullet font is Helvetica (not embedded)
            if isinstance(style, ParagraphStyle):
                style.bulletFontName = f.regular


# --------------------------------------------------------------------------- page decoration and bookmarks

class _Anchor(Flowable):
    """Zero-size flowable: a PDF bookmark (outline entry) at this point."""

    def __init__(self, key: str, title: str, level: int = 0):
        super().__init__()
        self.key, self.title, self.level = key, title, level
        self.width = self.height = 0

    def wrap(self, aw, ah):
        return 0, 0

    def draw(self):
        self.canv.bookmarkPage(self.key)
        self.canv.addOutlineEntry(self.title, self.key, level=self.level, closed=True)


class _Doc(BaseDocTemplate):
    def __init__(self, target, name: str, fonts: FontSet, draft_text: Optional[str], **kw):
        super().__init__(target, pagesize=LANDSCAPE, title=name, author="calpae_xl", lang="fr-FR",
                         subject="Annexe financière et fiches actions", creator="calpae_xl",
                         initialFontName=fonts.regular, initialFontSize=BODY,
                         invariant=1,  # no creation date nor random id: the same annex gives the same file
                         **kw)
        self.doc_name, self.fonts, self.draft_text = name, fonts, draft_text
        self.pages = 0
        frames = {}
        for tid, size in (("maquette", LANDSCAPE), ("fiche", PORTRAIT)):
            w, h = size
            frames[tid] = Frame(MARGIN_X, MARGIN_BOTTOM, w - 2 * MARGIN_X, h - MARGIN_TOP - MARGIN_BOTTOM,
                                id=tid, leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([PageTemplate(id=t, frames=[fr], pagesize=(LANDSCAPE if t == "maquette" else PORTRAIT),
                                            onPage=self._decorate) for t, fr in frames.items()])

    def frame_size(self, tid: str) -> tuple[float, float]:
        fr = next(t for t in self.pageTemplates if t.id == tid).frames[0]
        return fr._aW, fr._aH

    def _decorate(self, canv, doc):
        """Footer (document name, page x / y) and the draft mention."""
        self.pages = canv.getPageNumber()
        w, h = canv._pagesize
        f = self.fonts
        canv.saveState()
        canv.setFillColor(colors.black)
        canv.setStrokeColor(GRID)
        canv.setLineWidth(0.4)
        y = MARGIN_BOTTOM - 5 * mm
        canv.line(MARGIN_X, y + 3.2 * mm, w - MARGIN_X, y + 3.2 * mm)
        canv.setFont(f.regular, BODY)
        label = f"page {canv.getPageNumber()} / "
        right = w - MARGIN_X - 20  # room for the page total (up to 4 digits)
        canv.drawRightString(right, y, label)
        canv.saveState()
        canv.translate(right, y)
        canv.doForm("annex_page_total")
        canv.restoreState()
        name = self.doc_name  # a reminder: the title block has it in full
        max_w = right - canv.stringWidth(label, f.regular, BODY) - MARGIN_X - 12
        if canv.stringWidth(name, f.regular, BODY) > max_w:
            while name and canv.stringWidth(name + "…", f.regular, BODY) > max_w:
                name = name[:-1]
            name = name.rstrip() + "…"
        canv.drawString(MARGIN_X, y, name)
        if self.draft_text:
            canv.setFont(f.bold, 10)
            canv.drawCentredString(w / 2, h - MARGIN_TOP + 5 * mm, self.draft_text)
            canv.setLineWidth(1)
            canv.rect(MARGIN_X, h - MARGIN_TOP + 3 * mm, w - 2 * MARGIN_X, 6.5 * mm)
        canv.restoreState()

    def _endBuild(self):
        """After the last page: define the page-total form that every footer
        references (a forward reference: one pass is enough), then save."""
        self._doSave = 0
        super()._endBuild()
        canv = self.canv
        canv.beginForm("annex_page_total")
        canv.setFont(self.fonts.regular, BODY)
        canv.drawString(0, 0, str(self.pages))
        canv.endForm()
        canv.save()


# --------------------------------------------------------------------------- the maquette table

@dataclass
class _Row:
    kind: str  # "action", "subtotal", "total"
    group: int  # index of the group (-1 for the total)
    cells: list
    keys: tuple = ()  # span keys of the first three columns (group, thème, Chorus)


class _Maquette:
    """Builds the maquette as one Table per page, spans limited to the page."""

    def __init__(self, m: Maquette, groups: Sequence[Group], total: Mapping[Column, Amount],
                 st: _Styles, opts: AnnexOptions, width: float):
        self.m, self.groups, self.total, self.st, self.opts = m, groups, total, st, opts
        self.cols = list(opts.columns)
        f = st.f
        w_amounts = []
        for c in self.cols:  # each amount column as wide as its widest amount (totals are bold)
            texts = [amount_text(a.amount(c), f.nnbsp) for g in groups for a in g.actions]
            bold = [amount_text(g.subtotal.get(c), f.nnbsp) for g in groups] + [amount_text(total.get(c), f.nnbsp)]
            head = [pdfmetrics.stringWidth(wd, f.bold, BODY) for wd in column_label(c, m).split()]  # never cut
            w = max([pdfmetrics.stringWidth(t, f.regular, BODY) for t in texts]
                    + [pdfmetrics.stringWidth(t, f.bold, BODY) for t in bold] + head + [44])
            w_amounts.append(w + 2 * PAD + 1)
        numeros = [a.label for g in groups for a in g.actions] + ["Action 1.1"]
        w_num = min(max(pdfmetrics.stringWidth(n, f.regular, BODY) for n in numeros) + 2 * PAD + 1, 70)
        w_num = max(w_num, pdfmetrics.stringWidth("action", f.bold, BODY) + 2 * PAD + 1)
        longest_word = max((pdfmetrics.stringWidth(wd, f.bold, BODY) for g in groups for wd in g.label.split()),
                           default=40)
        w_group = min(max(longest_word + 2 * PAD + 1, 46), 80)
        rest = width - w_group - w_num - sum(w_amounts)
        # The text columns share the rest. The intitulé matters most (the thème repeats); when the
        # amounts are wide (tens of millions, or a wide font), the thème header and the Chorus code
        # are allowed to wrap rather than squeeze the intitulé.
        code_w = pdfmetrics.stringWidth("0304 50 19 19 01 –", f.regular, BODY) + 2 * PAD + 1
        theme_min = pdfmetrics.stringWidth("contractualisation", f.bold, BODY) + 2 * PAD + 1  # header word
        self.code_on_one_line = rest - code_w - theme_min >= 100
        if not self.code_on_one_line:
            code_w, theme_min = 48, 52
        w_theme, w_chorus = rest * 0.33, max(rest * 0.22, code_w)
        w_int = rest - w_theme - w_chorus
        if w_int < 110:
            give = min(110 - w_int, max(w_theme - theme_min, 0))
            w_theme, w_int = w_theme - give, w_int + give
        if w_int < 110:
            give = min(110 - w_int, max(w_chorus - code_w, 0))
            w_chorus, w_int = w_chorus - give, w_int + give
        if w_int < 60:
            raise LayoutImpossible("les montants sont trop larges pour la page, l'annexe ne serait pas lisible : "
                                   "corrigez les montants démesurés (constat MONTANT_DEMESURE), puis recommencez")
        self.widths = [w_group, w_theme, w_chorus, w_num, w_int] + w_amounts
        self.header = ([opts.group_header, "Thème de la contractualisation", "Imputation Chorus (code – libellé)",
                        "Fiche action N°", "Intitulé de l'action"] + [column_label(c, m) for c in self.cols])
        self.rows = self._rows()

    def _amounts(self, get) -> list[str]:
        return [amount_text(get(c), self.st.f.nnbsp) for c in self.cols]

    def _rows(self) -> list[_Row]:
        st, rows = self.st, []
        for gi, g in enumerate(self.groups):
            for a in g.actions:
                if is_blank_action(a):
                    continue
                chorus = (a.chorus.normalized, a.chorus.libelle) if a.chorus else None
                rows.append(_Row("action", gi, [
                    Paragraph(para(g.label), st.cell_bold), Paragraph(para(a.theme), st.cell),
                    Paragraph(para(chorus_text(a, self.code_on_one_line)), st.cell), Paragraph(para(a.label), st.cell),
                    Paragraph(para(a.intitule), st.cell)] + self._amounts(a.amount),
                    keys=((gi,), (gi, a.theme.strip()), (gi, chorus))))
            rows.append(_Row("subtotal", gi, [Paragraph(para(g.subtotal_text), st.cell_bold), "", "", "", ""]
                             + self._amounts(g.subtotal.get)))
        rows.append(_Row("total", -1, [Paragraph("Total", st.cell_bold), "", "", "", ""]
                         + self._amounts(self.total.get)))
        return rows

    def table(self, rows: Sequence[_Row]) -> Table:
        header = [Paragraph(escape(t), self.st.head) for t in self.header]
        data = [header] + [list(r.cells) for r in rows]
        n_txt = 5
        style = [
            ("FONT", (0, 0), (-1, -1), self.st.f.regular, BODY, BODY * 1.2),
            ("GRID", (0, 0), (-1, -1), 0.5, GRID),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("VALIGN", (0, 1), (n_txt - 1, -1), "TOP"),
            ("ALIGN", (n_txt, 1), (-1, -1), "RIGHT"),
            ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
            ("LEFTPADDING", (0, 0), (-1, -1), PAD), ("RIGHTPADDING", (0, 0), (-1, -1), PAD),
            ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ]
        for i, r in enumerate(rows, start=1):
            if r.kind != "action":
                style += [("SPAN", (0, i), (n_txt - 1, i)), ("VALIGN", (0, i), (-1, i), "MIDDLE"),
                          ("BACKGROUND", (0, i), (-1, i), SUB_BG if r.kind == "subtotal" else TOTAL_BG),
                          ("FONT", (n_txt, i), (-1, i), self.st.f.bold, BODY, BODY * 1.2)]
        for col in range(3):  # grouped cells: runs of equal keys, on this page only
            i = 0
            while i < len(rows):
                if rows[i].kind != "action":
                    i += 1
                    continue
                j = i
                while j + 1 < len(rows) and rows[j + 1].kind == "action" and rows[j + 1].keys[col] == rows[i].keys[col]:
                    j += 1
                if j > i:
                    style.append(("SPAN", (col, i + 1), (col, j + 1)))
                    for k in range(i + 1, j + 1):
                        data[k + 1][col] = ""
                i = j + 1
        i = 1
        while i <= len(rows):  # the group column shaded, one rectangle per run of actions
            if rows[i - 1].kind != "action":
                i += 1
                continue
            j = i
            while j < len(rows) and rows[j].kind == "action":
                j += 1
            style.append(("BACKGROUND", (0, i), (0, j), LABEL_BG))
            i = j + 1
        t = Table(data, colWidths=self.widths, repeatRows=1, splitInRow=1, hAlign="LEFT")
        t.setStyle(TableStyle(style))
        return t

    def _height(self, rows: Sequence[_Row], width: float) -> float:
        return self.table(rows).wrap(width, 1e9)[1]

    def pages(self, width: float, first_height: float, height: float) -> list[Table]:
        """Greedy pagination: as many rows as fit on each page (measured by
        ReportLab itself, spans included). A single row taller than a page
        is left to ReportLab, which splits it inside (splitInRow)."""
        out, start, avail = [], 0, first_height
        n = len(self.rows)
        while start < n:
            # rows[start:lo] is taken (at least one row), rows[start:hi] does not fit
            lo, hi = start + 1, min(n, start + int(avail // (BODY * 1.2 + 4.5)) + 1)
            if self._height(self.rows[start:hi], width) <= avail:
                lo = hi
            else:
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    if self._height(self.rows[start:mid], width) <= avail:
                        lo = mid
                    else:
                        hi = mid
            end = lo
            # a sub-total or the total does not open a page alone: its last action comes along
            if end < n and self.rows[end].kind != "action" and end - start > 1 and self.rows[end - 1].kind == "action":
                end -= 1
            out.append(self.table(self.rows[start:end]))
            start, avail = end, height
        return out


# --------------------------------------------------------------------------- the document

def _title_block(m: Maquette, st: _Styles, opts: AnnexOptions) -> list:
    f = st.f
    line = [f"Département : <b>{escape(m.departement.strip() or 'non renseigné')}</b>"]
    if opts.avenant.strip():
        line.append(escape(opts.avenant.strip()))
    line.append(f"année <b>{m.annee}</b>" if m.annee else "année non renseignée")
    out = [Paragraph("Annexe financière", st.title),
           Paragraph(escape(opts.convention), st.subtitle),
           Paragraph(" — ".join(line), st.subtitle), Spacer(1, 3)]
    year = f" au titre de {m.annee}" if m.annee else ""
    previous = f" {m.annee - 1}" if m.annee else " N-1"
    p = getattr(m, "profile", None)
    rows = [[Paragraph(f"Crédits de l'État notifiés{year}", st.cell),
             amount_text(m.credits_etat, f.nnbsp) or "non renseigné"]]
    if p is not None and not p.fongible:  # each group its own envelope: said group by group
        for g in p.groupes:
            value = (getattr(m, "credits_groupes", None) or {}).get(g.value)
            if value is not None or g.obligatoire:
                rows.append([Paragraph(f"dont {escape(g.label)}", st.cell),
                             amount_text(value, f.nnbsp) or "non renseigné"])
    if p is None or p.report:
        rows.append([Paragraph(f"Report des crédits{previous} non consommés (notifié)", st.cell),
                     amount_text(m.report_etat_notifie, f.nnbsp) or "non renseigné"])
    t = Table(rows, colWidths=[330 if len(rows) > 2 else 230, 90], hAlign="LEFT")
    t.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), f.bold, BODY + 1), ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                           ("GRID", (0, 0), (-1, -1), 0.5, GRID), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                           ("BACKGROUND", (0, 0), (0, -1), LABEL_BG)]))
    out += [t, Spacer(1, 8), Paragraph("Maquette financière", ParagraphStyle("h1m", parent=st.h1, keepWithNext=0))]
    return out


def _kv_table(rows: Sequence[tuple[str, object]], st: _Styles, width: float, amounts: bool = False) -> Table:
    """Two columns: label | value (Paragraph, or a plain right-aligned amount)."""
    data = [[Paragraph(escape(k), st.tcell_bold), v if amounts else Paragraph(para(v), st.tcell)] for k, v in rows]
    t = Table(data, colWidths=[width * 0.42, width * 0.58] if not amounts else [width - 120, 120],
              hAlign="LEFT", splitInRow=1)
    style = [("GRID", (0, 0), (-1, -1), 0.5, GRID), ("VALIGN", (0, 0), (-1, -1), "TOP"),
             ("BACKGROUND", (0, 0), (0, -1), LABEL_BG), ("FONT", (0, 0), (-1, -1), st.f.regular, 9, 11),
             ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 4)]
    if amounts:
        style.append(("ALIGN", (1, 0), (1, -1), "RIGHT"))
    t.setStyle(TableStyle(style))
    return t


def _grid_table(header: Sequence[str], rows: Sequence[Sequence], widths: Sequence[float], st: _Styles,
                right: Sequence[int] = (), bold_last: bool = False) -> Table:
    data = [[Paragraph(escape(h), st.thead) for h in header]]
    for n, r in enumerate(rows, start=1):
        style = st.tcell_bold if bold_last and n == len(rows) else st.tcell
        data.append([c if i in right else Paragraph(para(c), style) for i, c in enumerate(r)])
    t = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT", splitInRow=1)
    style = [("GRID", (0, 0), (-1, -1), 0.5, GRID), ("VALIGN", (0, 0), (-1, -1), "TOP"),
             ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG), ("FONT", (0, 0), (-1, -1), st.f.regular, 9, 11),
             ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 4)]
    style += [("ALIGN", (i, 1), (i, -1), "RIGHT") for i in right]
    if bold_last:
        style += [("FONT", (0, -1), (-1, -1), st.f.bold, 9, 11), ("BACKGROUND", (0, -1), (-1, -1), SUB_BG)]
    t.setStyle(TableStyle(style))
    return t


def _section(title: str, body, st: _Styles) -> list:
    """A heading and its text (an empty text prints "Non renseigné"). The
    heading never ends a page (it needs room for itself and three lines);
    the text then flows over the pages."""
    keep = CondPageBreak(st.h2.spaceBefore + st.h2.leading + st.h2.spaceAfter + 3 * st.text.leading + 4)
    head = Paragraph(escape(title), st.h2)
    if isinstance(body, str) or body is None:
        text = (body or "").strip()
        return [keep, head, Paragraph(para(text), st.text) if text else Paragraph("Non renseigné.", st.none)]
    return [keep, head] + list(body)


def _fiche(m: Maquette, g: Group, a: Action, st: _Styles, width: float, key: str,
           years: Sequence[Maquette] = ()) -> list:
    f, fi = st.f, a.fiche
    title = f"{a.label} : {a.intitule}" if a.intitule.strip() else a.label
    head = [_Anchor(key, f"{title[:90]} ({g.label})", 1),
            Paragraph(f"Fiche action — {escape(g.label)}", st.subtitle),
            Paragraph(para(title), st.h1),
            _kv_table([("Thème de la contractualisation", a.theme),
                       ("Imputation Chorus", chorus_text(a).replace(NBSP, " "))], st, width),
            Spacer(1, 6)]
    if years:  # a multi-year contract: one column per year
        per_year = [y.find(a.bloc, a.numero) for y in years]
        rows = [[column_label(c, m).replace(f"Report {m.annee - 1}", "Report N-1") if m.annee else column_label(c, m)]
                + [amount_text(ya.amount(c), f.nnbsp) if ya else "" for ya in per_year] for c in Column]
        rows.append(["Budget exécuté"] + [amount_text(ya.budget_execute, f.nnbsp) if ya else "" for ya in per_year])
        label_w = width - 78 * len(years)
        head += [Paragraph("Budget prévisionnel par année (maquette financière)", st.h2),
                 _grid_table([""] + [str(y.annee) for y in years], rows, [label_w] + [78] * len(years), st,
                             right=tuple(range(1, len(years) + 1)))]
    else:
        head += [Paragraph(f"Budget prévisionnel{' ' + str(m.annee) if m.annee else ''} (maquette financière)",
                           st.h2),
                 _kv_table([(column_label(c, m), amount_text(a.amount(c), f.nnbsp)) for c in Column], st, width,
                           amounts=True)]
    out: list = [KeepTogether(head)]
    out += _section("Description de l'action", fi.description, st)
    out += _section("Date de mise en place de l'action", fi.date_mise_en_place, st)
    out += _section("Partenaires et co-financeurs", fi.partenaires, st)
    out += _section("Durée de l'action", fi.duree, st)
    budget: list = []
    if fi.budget_commentaire.strip():
        budget.append(Paragraph(para(fi.budget_commentaire), st.text))
    if a.ventilation:
        total = sum((v.montant for v in a.ventilation), Decimal(0))
        rows = [(v.libelle, amount_text(v.montant, f.nnbsp)) for v in a.ventilation]
        rows.append(("Total de la ventilation", amount_text(total, f.nnbsp)))
        budget.append(_grid_table(["Ventilation du budget", "Montant"], rows, [width - 120, 120], st,
                                  right=(1,), bold_last=True))
    out += _section("Budget", budget or None, st)
    exe = []
    if a.budget_execute is not None and not years:  # a contract's: in the table by year above
        exe.append(("Budget exécuté", amount_text(a.budget_execute, f.nnbsp)))
    if a.periode_execution.strip():
        exe.append(("Période d'exécution", a.periode_execution))
    if exe or not years:
        out += _section("Budget exécuté", [_kv_table(exe, st, width)] if exe else None, st)
    fapi = {True: "Oui", False: "Non", None: ""}[a.fapi]
    out += _section("Action déjà financée au titre du FAPI", fapi, st)
    if a.indicateurs and years:  # a contract: each year's target and result
        rows = []
        for ind in a.indicateurs:
            for y in years:
                v = ind.value_for(y.annee)
                if v is None and y is not years[0]:
                    continue
                rows.append((ind.libelle, ind.unite, str(y.annee), number_text(v.cible if v else None, f.nnbsp),
                             number_text(v.resultat if v else None, f.nnbsp),
                             "; ".join(x for x in ((v.commentaire if v else ""), ind.source) if x)))
        ind_t = _grid_table(["Indicateur", "Unité", "Année", "Cible", "Résultat", "Commentaire"], rows,
                            [width * 0.34, width * 0.11, width * 0.09, width * 0.11, width * 0.11, width * 0.24], st,
                            right=(3, 4))
        out += _section("Indicateurs", [ind_t], st)
    elif a.indicateurs:
        rows = []
        for ind in a.indicateurs:
            v = ind.value_for(m.annee)
            rows.append((ind.libelle, ind.unite, number_text(v.cible if v else None, f.nnbsp),
                         number_text(v.resultat if v else None, f.nnbsp),
                         "; ".join(x for x in ((v.commentaire if v else ""), ind.source) if x)))
        year = f" {m.annee}" if m.annee else ""
        ind_t = _grid_table(["Indicateur", "Unité", f"Cible{year}", f"Résultat{year}", "Commentaire"],
                            rows, [width * 0.40, width * 0.12, width * 0.12, width * 0.12, width * 0.24], st,
                            right=(2, 3))
        out += _section("Indicateurs", [ind_t], st)
    else:
        out += _section("Indicateurs", None, st)
    out += _section("Bilan d'exécution", fi.bilan, st)
    out += _section("Perspectives futures de mise en œuvre de l'action", fi.perspectives, st)
    return out


def _controles(findings: Sequence, st: _Styles, width: float) -> list:
    out: list = [_Anchor("controles", "Contrôles", 0), Paragraph("Contrôles de la maquette", st.h1)]
    if not findings:
        return out + [Paragraph("Aucun constat.", st.text)]
    out.append(Paragraph(escape(summary_line(findings)) + ".", st.text))
    rows = []
    for fd in sort_findings(findings):
        where = fd.where
        cell = f"{where.sheet} ! {where.cell}" if where.sheet and where.cell else (where.sheet or "")
        rows.append((fd.severity.label, fd.code, "\n".join(x for x in (fd.action_label or "", cell) if x),
                     fd.message))
    out.append(_grid_table(["Gravité", "Code", "Action, cellule", "Constat"], rows,
                           [width * 0.13, width * 0.245, width * 0.15, width * 0.475], st))
    return out


def write_annex_pdf(maquette: Maquette, target: Union[str, os.PathLike, BinaryIO],
                    options: Optional[AnnexOptions] = None, groups: Optional[Sequence[Group]] = None,
                    total: Optional[Mapping[Column, Amount]] = None,
                    years: Sequence[Maquette] = ()) -> AnnexResult:
    """Write the annex of ``maquette`` to ``target`` (a path or a binary file).

    ``groups`` default to the blocs (:func:`groups_from_maquette`), ``total``
    to the sum of all the actions. The maquette is printed as given: call
    ``recalculate`` first for a recalculated annex. ``years``: every year of
    a multi-year contract (the first is ``maquette``): one maquette per year,
    and each fiche's budget year by year.
    """
    opts = options or AnnexOptions()
    groups = list(groups) if groups is not None else groups_from_maquette(maquette)
    total = total if total is not None else grand_total(maquette)
    fonts = find_fonts(opts.font_dir)
    st = _Styles(fonts)
    out_path = None
    if isinstance(target, (str, os.PathLike)):
        out_path = str(target)
        Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    doc = _Doc(out_path or target, opts.name(maquette), fonts, opts.draft_text if opts.draft else None)
    mw, mh = doc.frame_size("maquette")
    pw, _ = doc.frame_size("fiche")

    story: list = []
    views = list(years) if len(years) > 1 else [maquette]
    for k, m in enumerate(views):
        if k:
            story.append(PageBreak())
        story.append(_Anchor(f"maquette-{m.annee}" if k else "maquette",
                             f"Maquette financière {m.annee}" if len(views) > 1 else "Maquette financière", 0))
        year_groups = groups if not k else groups_from_maquette(m)
        title = _title_block(m, st, opts)
        title_h = sum(fl.wrap(mw, mh)[1] + fl.getSpaceBefore() + fl.getSpaceAfter() for fl in title)
        story += title
        tables: list = []
        if any(not is_blank_action(a) for g in year_groups for a in g.actions):
            year_total = total if not k else grand_total(m)
            tables = _Maquette(m, year_groups, year_total, st, opts, mw).pages(mw, mh - title_h - 4, mh - 2)
        else:  # no table of blank rows and zero totals
            story.append(Paragraph("Aucune action n'est saisie dans la maquette.", st.none))
        for i, t in enumerate(tables):
            if i:
                story.append(PageBreak())
            story.append(t)
    if opts.fiches:
        story.append(NextPageTemplate("fiche"))
        first = True
        for gi, g in enumerate(groups):
            for ai, a in enumerate(g.actions):
                if is_blank_action(a):
                    continue
                story.append(PageBreak())
                if first:
                    story.append(_Anchor("fiches", "Fiches actions", 0))
                    first = False
                story += _fiche(maquette, g, a, st, pw, f"fiche-{gi}-{ai}", views if len(views) > 1 else ())
    if opts.findings is not None:
        story += [NextPageTemplate("fiche"), PageBreak()] + _controles(opts.findings, st, pw)
    doc.build(story)
    return AnnexResult(out_path, doc.pages, fonts.source)


def annex_bytes(maquette: Maquette, **kw) -> bytes:
    """The PDF as bytes (for tests and for a web service)."""
    buf = io.BytesIO()
    write_annex_pdf(maquette, buf, **kw)
    return buf.getvalue()
