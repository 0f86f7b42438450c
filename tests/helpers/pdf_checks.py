"""Checks of a PDF, made the way a person reads it (pdfplumber).

Each ``check_*`` function returns the list of problems found (French
sentences, empty when all is well), so that a test is one line::

    assert check_no_overprint(doc) == []

They do not depend on the engine that made the PDF: they look at the pages
(size, fonts, words and their boxes, ruled tables), not at the code, so they
serve the annex (ReportLab) and the workbook printed by LibreOffice alike.
The annex's maquette pages are the landscape pages; the fiches are found, in
the model's order, on the portrait pages.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Optional, Sequence

import pdfplumber

A4 = (595.28, 841.89)
_WS = re.compile(r"\s+", re.UNICODE)  # \s covers U+00A0 and U+202F
FOOTER = re.compile(r"page\s*(\d+)\s*/\s*(\d+)", re.IGNORECASE)


def norm(text: object) -> str:
    """Text compared without any white space (line breaks, no-break spaces):
    what is checked is that every character is there, in order."""
    return _WS.sub("", "" if text is None else str(text))


@dataclass
class Page:
    index: int
    page: "pdfplumber.page.Page"

    @property
    def landscape(self) -> bool:
        return self.page.width > self.page.height

    @cached_property
    def text(self) -> str:
        return self.page.extract_text() or ""

    @cached_property
    def words(self) -> list[dict]:
        return self.page.extract_words(use_text_flow=False, keep_blank_chars=False)

    @cached_property
    def tables(self) -> list:
        return self.page.find_tables()

    @cached_property
    def rows(self) -> list[list[Optional[str]]]:
        out = []
        for t in self.tables:
            out.extend(t.extract())
        return out

    @cached_property
    def body_text(self) -> str:
        """The page text without its running header and footer lines."""
        lines = [ln for ln in self.text.split("\n") if not FOOTER.search(ln) and not ln.startswith("PROJET")]
        return "\n".join(lines)


class AnnexPdf:
    def __init__(self, path: str):
        self.path = path
        self._pdf = pdfplumber.open(path)
        self.pages = [Page(i, p) for i, p in enumerate(self._pdf.pages)]

    def close(self):
        self._pdf.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def maquette_pages(self) -> list[Page]:
        return [p for p in self.pages if p.landscape and "Intitulé" in p.text and "Budget" in p.text]

    @property
    def portrait_pages(self) -> list[Page]:
        return [p for p in self.pages if not p.landscape]

    # -- figures
    def font_sizes(self, pages: Optional[Iterable[Page]] = None) -> Counter:
        c: Counter = Counter()
        for p in pages if pages is not None else self.pages:
            for ch in p.page.chars:
                if ch["text"].strip():
                    c[round(ch["size"], 1)] += 1
        return c

    def body_size(self, pages: Optional[Iterable[Page]] = None) -> Optional[float]:
        sizes = self.font_sizes(pages)
        return sizes.most_common(1)[0][0] if sizes else None

    def min_size(self) -> Optional[float]:
        sizes = self.font_sizes()
        return min(sizes) if sizes else None


# --------------------------------------------------------------------------- page-level checks

def check_a4(doc: AnnexPdf) -> list[str]:
    out = []
    for p in doc.pages:
        w, h = sorted((p.page.width, p.page.height))
        if abs(w - A4[0]) > 1 or abs(h - A4[1]) > 1:
            out.append(f"page {p.index + 1} : format {p.page.width:.0f} × {p.page.height:.0f} pt, pas A4")
    return out


def check_min_font(doc: AnnexPdf, minimum: float = 8.0) -> list[str]:
    out = []
    for p in doc.pages:
        small = {round(c["size"], 1) for c in p.page.chars if c["text"].strip() and c["size"] < minimum - 0.05}
        if small:
            out.append(f"page {p.index + 1} : corps {sorted(small)} pt < {minimum} pt")
    return out


def check_fonts_embedded(path: str) -> list[str]:
    """Every font used is embedded (no reliance on the reader's fonts)."""
    from pypdf import PdfReader  # noqa: PLC0415
    out, seen = [], set()
    reader = PdfReader(path)

    def fonts_of(resources):
        if not resources or "/Font" not in resources:
            return
        for _, ref in resources["/Font"].items():
            font = ref.get_object()
            yield font
            for d in font.get("/DescendantFonts", []):
                yield d.get_object()

    def walk(resources):
        if not resources:
            return
        resources = resources.get_object()
        for font in fonts_of(resources):
            name = str(font.get("/BaseFont"))
            if name in seen:
                continue
            seen.add(name)
            if font.get("/Subtype") in ("/Type0", "/Type3"):
                continue
            desc = font.get("/FontDescriptor")
            desc = desc.get_object() if desc is not None else None
            if desc is None or not any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                out.append(f"police non incorporée : {name}")
        for _, xo in (resources.get("/XObject") or {}).items():
            xo = xo.get_object()
            walk(xo.get("/Resources"))

    for page in reader.pages:
        walk(page.get("/Resources"))
    return out


def check_no_overprint(doc: AnnexPdf, ratio: float = 0.5) -> list[str]:
    """No glyph is drawn over another: two characters whose boxes overlap by
    more than ``ratio`` of the smaller one, both ways (text over text, as
    when a wrapped cell overflows onto the next row). Character level, so
    that two lines drawn 2 pt apart are not merged into one "word"."""
    out = []
    cell = 8.0
    for p in doc.pages:
        chars = [c for c in p.page.chars if c["text"].strip()]
        grid: dict = {}
        for i, c in enumerate(chars):
            for gx in range(int(c["x0"] // cell), int(c["x1"] // cell) + 1):
                for gy in range(int(c["top"] // cell), int(c["bottom"] // cell) + 1):
                    grid.setdefault((gx, gy), []).append(i)
        seen, hits, example = set(), 0, None
        for bucket in grid.values():
            for n, i in enumerate(bucket):
                a = chars[i]
                for j in bucket[n + 1:]:
                    if (i, j) in seen:
                        continue
                    seen.add((i, j))
                    b = chars[j]
                    dx = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
                    dy = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
                    wmin = min(a["x1"] - a["x0"], b["x1"] - b["x0"])
                    hmin = min(a["bottom"] - a["top"], b["bottom"] - b["top"])
                    if dx > ratio * wmin and dy > ratio * hmin and wmin > 0:
                        hits += 1
                        example = example or (a["text"], b["text"], round(a["x0"]), round(a["top"]))
        if hits:
            out.append(f"page {p.index + 1} : {hits} caractère(s) imprimés l'un sur l'autre, ex. « {example[0]} » / "
                       f"« {example[1]} » à ({example[2]}, {example[3]})")
    return out


def check_words_inside_cells(doc: AnnexPdf, tolerance: float = 0.6, pages: Optional[Iterable[Page]] = None) \
        -> list[str]:
    """A word that starts in a table cell ends in it: nothing runs out of its
    cell (cut by the cell's edge or printed over the next one)."""
    out = []
    for p in doc.pages if pages is None else pages:
        cells = [c for t in p.tables for c in t.cells]
        bad = []
        for w in p.words:
            cy = (w["top"] + w["bottom"]) / 2
            start = [c for c in cells if c[0] <= w["x0"] + 0.5 <= c[2] and c[1] <= cy <= c[3]]
            if not start:
                continue
            c = min(start, key=lambda c: (c[2] - c[0]) * (c[3] - c[1]))
            if w["x1"] > c[2] + tolerance or w["bottom"] > c[3] + 2 or w["top"] < c[1] - 2:
                bad.append(w["text"])
        if bad:
            out.append(f"page {p.index + 1} : {len(bad)} mot(s) débordent de leur cellule, ex. « {bad[0]} »")
    return out


def check_footer(doc: AnnexPdf, name: Optional[str] = None) -> list[str]:
    """Each page says "page x / y" with the right x and y, and the document name."""
    out, n = [], len(doc.pages)
    for p in doc.pages:
        m = FOOTER.search(p.text)
        if not m or (int(m.group(1)), int(m.group(2))) != (p.index + 1, n):
            out.append(f"page {p.index + 1} : pas de « page {p.index + 1} / {n} »")
        if name and norm(name)[:40] not in norm(p.text):
            out.append(f"page {p.index + 1} : le nom du document n'apparaît pas")
    return out


def check_mention(doc: AnnexPdf, text: str) -> list[str]:
    return [f"page {p.index + 1} : mention « {text} » absente" for p in doc.pages if norm(text) not in norm(p.text)]


# --------------------------------------------------------------------------- the maquette

def _amount(amount) -> str:
    """What an amount cell must show, worked out here and not by the code
    under test: blank for None, the typed text for an unreadable cell, else
    the French format (compared without spaces)."""
    from calpae_xl.core.money import Unreadable, format_eur  # noqa: PLC0415
    if amount is None:
        return ""
    if isinstance(amount, Unreadable):
        return f"« {amount.raw} »"
    return format_eur(amount)


def maquette_rows(doc: AnnexPdf) -> list[list[str]]:
    return [[c or "" for c in r] for p in doc.maquette_pages for r in p.rows]


_HEADER_KEYS = {"budget_global": "budgetglobal", "budget_etat_cd": "cd", "part_etat": "tat",
                "part_cd": "participationcd", "report": "report", "autres_financeurs": "autresfinanceurs"}


def _amount_columns(rows: Sequence[Sequence[str]], columns: Sequence) -> dict:
    """Where each amount column is, from the header row (the engines differ)."""
    header = next((r for r in rows if any("Intitulé" in c for c in r)), None)
    if header is None:
        return {}
    cells = [norm(c).lower() for c in header]
    out = {}
    for col in columns:
        key = _HEADER_KEYS[col.value]
        for i, c in enumerate(cells):
            if i in out.values():
                continue
            if col.value == "budget_etat_cd" and not ("budget" in c and "cd" in c):
                continue
            if col.value == "part_etat" and not (c.startswith("par") and ("état" in c or "etat" in c)):
                continue
            if key in c:
                out[col] = i
                break
    return out


def check_maquette(doc: AnnexPdf, m, columns: Optional[Sequence] = None) -> list[str]:
    """Every action has its row: N° and intitulé whole in their cells, each
    amount as expected, a blank amount blank; header on every page."""
    from calpae_xl.core.model import Column  # noqa: PLC0415
    columns = list(columns or Column)
    out = []
    pages = doc.maquette_pages
    if not pages:
        return ["aucune page de maquette (paysage, avec l'en-tête « Intitulé »)"]
    for p in pages:
        firsts = [t.extract()[0] for t in p.tables if t.extract()]
        if not any("Intitulé" in (c or "") for row in firsts for c in row):
            out.append(f"page {p.index + 1} : l'en-tête du tableau n'est pas en haut de la page")
    rows = maquette_rows(doc)
    index = _amount_columns(rows, columns)
    for a in m.actions:
        if not a.intitule.strip():
            continue
        cands = [r for r in rows
                 if any(norm(c) == norm(a.label) for c in r) and any(norm(c) == norm(a.intitule) for c in r)]
        if not cands:
            whole = any(norm(a.intitule) in norm(c) for r in rows for c in r)
            out.append(f"{a.label} : intitulé {'pas seul dans sa cellule' if whole else 'absent ou tronqué'} "
                       f"(« {a.intitule[:50]} »)")
            continue
        r = cands[0]
        for col in columns:
            i = index.get(col)
            cell = r[i] if i is not None and i < len(r) else "(colonne introuvable)"
            want = _amount(a.amount(col))
            if norm(cell) != norm(want):
                out.append(f"{a.label} : {col.label} imprimé « {cell} », attendu « {want} »")
    return out


def check_totals_set_apart(doc: AnnexPdf, labels: Sequence[str] = ("Sous-total", "Total")) -> list[str]:
    """The sub-total and total rows are bold and on a shaded background."""
    out = []
    found = {lab: False for lab in labels}
    for p in doc.maquette_pages:
        white = (None, (1,), (1, 1, 1), [1, 1, 1], 1)
        fills = [r for r in p.page.rects if r.get("fill") and r.get("non_stroking_color") not in white]
        for w in p.page.extract_words(extra_attrs=["fontname"]):
            for lab in labels:
                if w["text"].lower() == lab.lower():
                    found[lab] = True
                    if "bold" not in w["fontname"].lower():
                        out.append(f"page {p.index + 1} : « {lab} » n'est pas en gras")
                    if not any(r["x0"] <= w["x0"] and w["x1"] <= r["x1"]
                               and r["top"] <= w["top"] and w["bottom"] <= r["bottom"] for r in fills):
                        out.append(f"page {p.index + 1} : « {lab} » n'est pas sur un fond grisé")
    out += [f"ligne « {lab} » introuvable" for lab, ok in found.items() if not ok]
    return out


def check_rows_same_width(doc: AnnexPdf, labels: Sequence[str] = ("Sous-total", "Total")) -> list[str]:
    """On each maquette page, the header row, the sub-totals and the total
    span the whole table, and the table fits the page (nothing printed
    beyond its right edge)."""
    out = []
    for p in doc.maquette_pages:
        for t in p.tables:
            x0, _top, x1, _bottom = t.bbox
            if x0 < 0 or x1 > p.page.width + 0.5:
                out.append(f"page {p.index + 1} : le tableau dépasse la page ({x0:.0f}–{x1:.0f} pt)")
            texts = t.extract()
            for row, cells in zip(t.rows, texts, strict=True):
                first = norm(next((c for c in cells if c), ""))
                wanted = row is t.rows[0] or any(first.lower().startswith(norm(lab).lower()) for lab in labels)
                if wanted:
                    rx0, _, rx1, _ = row.bbox
                    if abs(rx0 - x0) > 1 or abs(rx1 - x1) > 1:
                        out.append(f"page {p.index + 1} : la ligne « {first[:30]} » ne couvre pas toute la largeur "
                                   f"du tableau ({rx0:.0f}–{rx1:.0f} pt pour {x0:.0f}–{x1:.0f} pt)")
    return out


# --------------------------------------------------------------------------- the fiches

def fiche_pages(doc: AnnexPdf, m) -> list[tuple[object, list[Page]]]:
    """(action, its pages): the title page is the first portrait page, after
    the previous fiche's, where the N° and the intitulé appear."""
    portrait = doc.portrait_pages
    actions = [a for a in m.actions if a.intitule.strip()]
    starts, cursor = [], 0
    for a in actions:
        k = next((i for i in range(cursor, len(portrait))
                  if norm(a.intitule) in norm(portrait[i].body_text)
                  and norm(a.label) in norm(portrait[i].body_text)), None)
        starts.append(k)
        if k is not None:
            cursor = k + 1
    out = []
    for n, (a, k) in enumerate(zip(actions, starts, strict=True)):
        if k is None:
            out.append((a, []))
            continue
        nxt = next((s for s in starts[n + 1:] if s is not None), None)
        end = nxt if nxt is not None else len(portrait)
        pages = portrait[k:end]
        pages = [p for p in pages if "Contrôles" not in p.text[:200]] or pages[:1]
        out.append((a, pages))
    return out


def check_fiches(doc: AnnexPdf, m, columns: Optional[Sequence] = None) -> list[str]:
    """Each fiche: found; its texts whole (in the page text or in a table
    cell); its amounts (``columns``: those the fiche shows) on its title's page."""
    from calpae_xl.core.model import Column  # noqa: PLC0415
    out = []
    for a, pages in fiche_pages(doc, m):
        if not pages:
            out.append(f"fiche {a.label} ({a.intitule[:40]}) introuvable")
            continue
        text = norm("".join(p.body_text for p in pages))
        cells = norm("|".join(c or "" for p in pages for r in p.rows for c in r))
        fi = a.fiche
        fields = {"description": fi.description, "date de mise en place": fi.date_mise_en_place,
                  "partenaires": fi.partenaires, "durée": fi.duree, "budget": fi.budget_commentaire,
                  "bilan": fi.bilan, "perspectives": fi.perspectives, "thème": a.theme}
        fields.update({f"indicateur « {i.libelle[:30]} »": i.libelle for i in a.indicateurs})
        fields.update({f"ventilation « {v.libelle[:30]} »": v.libelle for v in a.ventilation})
        for label, value in fields.items():
            v = norm(value)
            if v and v not in text and v not in cells:
                out.append(f"fiche {a.label} : texte « {label} » absent ou tronqué")
        for v in a.ventilation:
            if norm(_amount(v.montant)) not in cells:
                out.append(f"fiche {a.label} : montant de la ventilation « {v.libelle[:30]} » absent")
        title = norm(pages[0].text)
        for col in columns or Column:
            amount = a.amount(col)
            if amount is not None and norm(_amount(amount)) not in title:
                out.append(f"fiche {a.label} : {col.label} ({_amount(amount)}) pas sur la page du titre")
    return out


def check_findings(doc: AnnexPdf, findings: Sequence) -> list[str]:
    text = norm("".join(p.text for p in doc.pages))
    text += norm("".join(c or "" for p in doc.pages for r in p.rows for c in r))
    return [f"constat {f.code} absent ou tronqué" for f in findings if norm(f.message) not in text]


# --------------------------------------------------------------------------- all together

def run_all(path: str, m, *, draft_text: Optional[str] = None, findings: Optional[Sequence] = None,
            name: Optional[str] = None, fiches: bool = True) -> dict[str, list[str]]:
    with AnnexPdf(path) as doc:
        res = {
            "A4": check_a4(doc),
            "corps ≥ 8 pt": check_min_font(doc),
            "polices incorporées": check_fonts_embedded(path),
            "pas de surimpression": check_no_overprint(doc),
            "rien ne déborde des cellules": check_words_inside_cells(doc),
            "pied de page": check_footer(doc, name),
            "maquette (intitulés, montants, blancs)": check_maquette(doc, m),
            "sous-totaux et total en gras sur fond": check_totals_set_apart(doc),
        }
        if fiches:
            res["fiches (textes entiers, montants sur la page du titre)"] = check_fiches(doc, m)
        if draft_text:
            res["mention projet"] = check_mention(doc, draft_text)
        if findings is not None:
            res["contrôles"] = check_findings(doc, findings)
        res["_figures"] = [f"pages={len(doc.pages)}", f"corps min={doc.min_size()}",
                           f"corps maquette={doc.body_size(doc.maquette_pages)}",
                           f"corps fiches={doc.body_size(doc.portrait_pages)}"]
    return res
