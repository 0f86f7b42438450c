"""The workbook prints well by itself: what the tool wrote, printed by
LibreOffice (``soffice --convert-to pdf``, every sheet with the page setup
the tool gave it), looked at as a person reads it — the Maquette legible,
one page wide, its header on every page; every intitulé and every fiche text
whole; no two words printed over each other; a fiche's amounts on its
title's page, even when its texts are long; the Contrôles messages whole.
Some pages are rendered to PNG under tests/artefacts/."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

pytest.importorskip("pdfplumber")

from calpae_xl.adapters.xlsx import PackageWorkbook  # noqa: E402
from calpae_xl.app.session import CONTROLER, FICHES, RECALCULER, process_file  # noqa: E402
from calpae_xl.cli import main  # noqa: E402
from calpae_xl.core.model import Column  # noqa: E402
from calpae_xl.reports import libreoffice as lo  # noqa: E402
from calpae_xl.workbook import layout as L  # noqa: E402
from calpae_xl.workbook.reader import read_workbook  # noqa: E402
from tests.helpers import pdf_checks as C  # noqa: E402
from tests.helpers.samples import variant, write_variant  # noqa: E402

SOFFICE = lo.soffice()
pytestmark = [pytest.mark.libreoffice,
              pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) absent : .ci/run l'installe")]
ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
#: the amounts a fiche sheet shows (it has no Budget État + CD row)
FICHE_COLUMNS = (Column.PART_ETAT, Column.PART_CD, Column.REPORT, Column.AUTRES, Column.BUDGET_GLOBAL)
LONG = ("L'action accompagne les jeunes majeurs sortant de l'aide sociale à l'enfance vers le logement, la "
        "formation et l'emploi, avec un référent unique et un suivi mensuel. ")


def _model(path):
    wb = PackageWorkbook.open(str(path))
    return read_workbook(wb.sheet_names(), wb.read_sheet, str(path)).maquette


def _long_texts(path):
    """A variant whose first fiche has long texts above its amounts (they
    would fall on a second page at the width's scale) and after them."""
    m = variant(departement="Cher", annee=2022)
    a = m.actions[0]
    a = replace(a, intitule=a.intitule + " : " + "parcours renforcé et coordonné " * 5,
                fiche=replace(a.fiche, description=LONG * 12, partenaires=("Missions locales, bailleurs sociaux, "
                              "associations d'insertion, " * 30).strip(), bilan=LONG * 8, perspectives=LONG * 4))
    write_variant(str(path), replace(m, actions=(a, *m.actions[1:])), fiches=True)
    assert process_file(str(path), [RECALCULER, CONTROLER, FICHES], backup=False).lisible


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """The Loiret example as ``exemple`` leaves it, and the variant with long
    texts, printed by LibreOffice in one run."""
    folder = tmp_path_factory.mktemp("impression")
    assert main(["exemple", str(folder)]) == 0
    loiret, longs = folder / "loiret_2020.xlsx", folder / "textes_longs.xlsx"
    _long_texts(longs)
    out = folder / "pdf"
    proc = lo.convert(SOFFICE, lo.profile(folder / "profil", french=True), "pdf:calc_pdf_Export", out,
                      [str(loiret), str(longs)], timeout=240)
    assert proc.returncode == 0, proc.stderr
    docs = {name: C.AnnexPdf(str(out / f"{path.stem}.pdf")) for name, path in (("loiret", loiret),
                                                                                 ("longs", longs))}
    yield {"loiret": (_model(loiret), docs["loiret"], loiret), "longs": (_model(longs), docs["longs"], longs)}
    for d in docs.values():
        d.close()


def test_the_maquette_prints_legibly_one_page_wide_header_on_every_page(printed):
    _m, doc, _ = printed["loiret"]
    pages = doc.maquette_pages
    assert len(pages) >= 2 and all(p.landscape for p in pages)
    assert doc.body_size(pages) >= 7.0  # LibreOffice's own print of a spreadsheet: 7 pt and more
    for p in pages:
        header = C.norm(p.rows[0]) if p.rows else ""
        assert "Bloc" in header and "échéant" in header, f"page {p.index + 1} : en-tête absent ou coupé"
    assert C.check_rows_same_width(doc) == []
    assert [p.index + 1 for p in doc.pages if "###" in p.text] == []  # every amount fits its column, totals too


def test_every_intitule_whole_and_every_amount_printed(printed):
    m, doc, _ = printed["loiret"]
    assert C.check_maquette(doc, m) == []


def test_no_two_words_overprint_and_nothing_runs_out_of_its_cell(printed):
    for name in ("loiret", "longs"):
        m, doc, _ = printed[name]
        assert C.check_no_overprint(doc) == [], name
        # the maquette and the first fiches (the long one among them)
        fiches = [p for _a, pages in C.fiche_pages(doc, m)[:3] for p in pages]
        assert C.check_words_inside_cells(doc, pages=doc.maquette_pages + fiches) == [], name


def test_every_fiche_text_whole_and_its_amounts_on_its_title_page(printed):
    for name in ("loiret", "longs"):
        m, doc, _ = printed[name]
        assert C.check_fiches(doc, m, FICHE_COLUMNS) == [], name


def test_a_fiche_with_long_texts_is_printed_smaller_to_keep_its_amounts_on_the_title_page(printed):
    m, _doc, path = printed["longs"]
    ws = openpyxl.load_workbook(path)[f"{L.FICHE_PREFIX} S {m.actions[0].numero}"]
    assert ws.page_setup.scale and ws.page_setup.scale < 75  # below the width's own scale


def test_the_controles_messages_print_whole(printed):
    _m, doc, path = printed["loiret"]
    ws = openpyxl.load_workbook(path, data_only=True)[L.CONTROLES]
    messages = [ws.cell(r, 5).value for r in range(L.CONTROLES_FIRST_ROW, ws.max_row + 1) if ws.cell(r, 5).value]
    assert messages
    # read within the column « Message » (the codes beside a message sit on its first line)
    cells = C.norm("|".join(_column_text(p, "Message") for p in doc.pages))
    assert [msg for msg in messages if C.norm(msg) not in cells] == []


def test_each_row_of_the_controles_and_journal_reads_from_its_top(printed):
    """A message that wraps starts at the top of its row: its code, action and cell sit there too, not at
    the bottom, level with the next row's message."""
    wb = openpyxl.load_workbook(printed["loiret"][2])
    for sheet, first in ((L.CONTROLES, L.CONTROLES_FIRST_ROW), (L.JOURNAL, L.JOURNAL_FIRST_ROW)):
        ws = wb[sheet]
        cells = [c for row in ws.iter_rows(min_row=first) for c in row if c.value is not None]
        assert len(cells) > 40
        assert [c.coordinate for c in cells if c.alignment.vertical != "top"] == [], sheet


def _column_text(page, header: str) -> str:
    """The text printed under ``header`` on ``page``, between the edges of that header's cell."""
    for t in page.tables:
        head = t.extract()[0] if t.rows else []
        if header in head and t.rows[0].cells[head.index(header)]:
            x0, top, x1, _ = t.rows[0].cells[head.index(header)]
            return page.page.crop((x0, top, x1, page.page.height)).extract_text() or ""
    return ""


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) absent")
def test_pages_rendered_as_png_artefacts(printed):
    ARTEFACTS.mkdir(exist_ok=True)
    doc = printed["loiret"][1]
    wanted = {"maquette": doc.maquette_pages[0].index + 1,
              "fiche": C.fiche_pages(doc, printed["loiret"][0])[0][1][0].index + 1}
    longs = printed["longs"]
    wanted_longs = {"fiche_longue": C.fiche_pages(longs[1], longs[0])[0][1][0].index + 1}
    made = []
    for source, pages in ((doc, wanted), (longs[1], wanted_longs)):
        for name, n in pages.items():
            stem = ARTEFACTS / f"classeur_{name}"
            subprocess.run(["pdftoppm", "-r", "70", "-png", "-singlefile", "-f", str(n), "-l", str(n), source.path,
                            str(stem)], check=True, timeout=60)
            made.append(stem.with_suffix(".png"))
    assert all(p.stat().st_size > 10_000 for p in made)
