"""The annex PDF (``calpae-xl pdf``), looked at as a person reads it: every
intitulé and every fiche text whole, no two words printed over each other,
a real body size, the maquette's header, sub-totals and total across the
page, a fiche's amounts on its title's page, "page x / y", the draft mention
when errors remain — checked on the PDF itself (tests/helpers/pdf_checks.py),
whatever made it. Some pages are rendered to PNG under tests/artefacts/ to
be looked at."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip("reportlab")
pytest.importorskip("pdfplumber")

from calpae_xl.adapters.xlsx import PackageWorkbook  # noqa: E402
from calpae_xl.cli import main  # noqa: E402
from calpae_xl.core import load_example, run_checks  # noqa: E402
from calpae_xl.core.money import Unreadable  # noqa: E402
from calpae_xl.core.rules import totals  # noqa: E402
from calpae_xl.reports import annex_pdf  # noqa: E402
from calpae_xl.reports.annex_pdf import (DRAFT_TEXT, AnnexOptions, Group, amount_text,  # noqa: E402
                                         groups_from_maquette, write_annex_pdf)
from calpae_xl.workbook.reader import read_workbook  # noqa: E402
from tests.helpers import pdf_checks as C  # noqa: E402
from tests.helpers.annex_samples import hostile  # noqa: E402
from tests.helpers.samples import variant  # noqa: E402

ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
MENTION = "PROJET — erreurs non corrigées"


def _model(path):
    wb = PackageWorkbook.open(str(path))
    return read_workbook(wb.sheet_names(), wb.read_sheet, str(path)).maquette


# --------------------------------------------------------------------------- amounts and groups (no PDF)

def test_amounts_are_french_with_narrow_spaces():
    assert amount_text(Decimal("1201409")) == "1\u202f201\u202f409,00\u00a0€"
    assert amount_text(Decimal("0")) == "0,00\u00a0€"


def test_a_blank_amount_prints_nothing_and_an_unreadable_one_as_typed():
    assert amount_text(None) == ""
    assert amount_text(Unreadable("à voir")) == "« à voir »"


def test_groups_come_from_the_model():
    m = load_example("loiret-2020")
    groups = groups_from_maquette(m)
    assert [g.label for g in groups] == ["Engagements du socle", "Initiatives locales"]
    assert sum(len(g.actions) for g in groups) == len(m.actions)


# --------------------------------------------------------------------------- the command, on the Loiret workbooks

@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    """``calpae-xl exemple`` (recalculated: no error) then ``pdf``: the annex to sign."""
    folder = tmp_path_factory.mktemp("signe")
    assert main(["exemple", str(folder)]) == 0
    src = folder / "loiret_2020.xlsx"
    assert main(["pdf", str(src), "--avenant", "Avenant n°3"]) == 0
    with C.AnnexPdf(str(src.with_suffix(".pdf"))) as doc:
        yield _model(src), doc


@pytest.fixture(scope="module")
def draft(tmp_path_factory):
    """The annex as typed in 2020 (its errors remain), forced, with the Contrôles."""
    folder = tmp_path_factory.mktemp("projet")
    src = folder / "loiret_tel_quel.xlsx"
    assert main(["nouveau", str(src), "--exemple", "loiret-2020"]) == 0
    target = folder / "annexe projet.pdf"
    assert main(["pdf", str(src), "-o", str(target), "--forcer", "--controles"]) == 1
    m = _model(src)
    with C.AnnexPdf(str(target)) as doc:
        yield m, run_checks(m), doc


def test_every_page_is_a4_with_fonts_embedded(signed):
    doc = signed[1]
    assert C.check_a4(doc) == []
    assert C.check_fonts_embedded(doc.path) == []


def test_no_text_below_8_points(signed, draft):
    for doc in (signed[1], draft[2]):
        assert C.check_min_font(doc, 8.0) == []
        assert doc.body_size(doc.maquette_pages) >= 8.0


def test_no_two_words_overprint_and_nothing_runs_out_of_its_cell(signed, draft):
    for doc in (signed[1], draft[2]):
        assert C.check_no_overprint(doc) == []
        assert C.check_words_inside_cells(doc) == []


def test_every_intitule_whole_and_every_amount_as_in_the_workbook(signed, draft):
    assert C.check_maquette(signed[1], signed[0]) == []
    assert C.check_maquette(draft[2], draft[0]) == []


def test_header_subtotals_and_total_across_the_page_width_bold_and_shaded(signed):
    doc = signed[1]
    assert len(doc.maquette_pages) >= 2
    assert C.check_rows_same_width(doc) == []
    assert C.check_totals_set_apart(doc) == []
    for p in doc.maquette_pages:  # the header row on every page
        assert any("Intitulé" in (c or "") for t in p.tables for c in t.extract()[0])


def test_every_fiche_whole_on_its_own_pages_amounts_on_the_title_page(signed):
    m, doc = signed
    assert C.check_fiches(doc, m) == []
    starts = [pages[0].index for _, pages in C.fiche_pages(doc, m)]
    assert len(set(starts)) == len(m.actions) == 20


def test_bookmarks_title_and_language(signed):
    from pypdf import PdfReader
    reader = PdfReader(signed[1].path)
    titles = [o.title for o in reader.outline if not isinstance(o, list)]
    assert titles[:2] == ["Maquette financière", "Fiches actions"]
    assert len([o for o in reader.outline if isinstance(o, list)][0]) == 20  # one bookmark per fiche
    assert reader.metadata.title == "Annexe financière — Loiret — Avenant n°3 — 2020"
    assert reader.trailer["/Root"]["/Lang"] == "fr-FR"


def test_footer_page_x_of_y_and_document_name(signed):
    m, doc = signed
    assert C.check_footer(doc, AnnexOptions(avenant="Avenant n°3").name(m)) == []


def test_title_block_says_departement_avenant_year_and_envelope(signed):
    text = C.norm(signed[1].pages[0].text)
    for part in ("Annexefinancière", "Loiret", "Avenantn°3", "2020", "1201409,00€", "414442,00€"):
        assert part in text


def test_no_draft_mention_and_no_controles_when_final(signed):
    doc = signed[1]
    assert all(C.norm(MENTION).lower() not in C.norm(p.text).lower() for p in doc.pages)
    assert all("Contrôles de la maquette" not in p.text for p in doc.pages)


def test_forced_draft_says_so_on_every_page_and_lists_the_controles(draft):
    m, findings, doc = draft
    assert C.check_mention(doc, DRAFT_TEXT) == []
    assert MENTION.lower() in DRAFT_TEXT.lower()
    assert C.check_findings(doc, findings) == []


def test_errors_refuse_the_pdf_and_say_which(tmp_path, capsys):
    src = tmp_path / "tel_quel.xlsx"
    assert main(["nouveau", str(src), "--exemple", "loiret-2020"]) == 0
    capsys.readouterr()
    assert main(["pdf", str(src)]) == 1
    out = capsys.readouterr().out
    assert not src.with_suffix(".pdf").exists()
    assert "5 erreur(s)" in out and "TOTAL_FAUX" in out and "Maquette!H" in out and "--forcer" in out


def test_a_workbook_is_never_overwritten_by_the_pdf(tmp_path, capsys):
    src = tmp_path / "m.xlsx"
    assert main(["exemple", str(tmp_path)]) == 0
    shutil.copy(tmp_path / "loiret_2020.xlsx", src)
    before = src.read_bytes()
    capsys.readouterr()
    assert main(["pdf", str(src), "-o", str(src), "--force"]) == 2  # itself: never, whatever the option
    assert "[SORTIE_SUR_ENTREE]" in capsys.readouterr().err and src.read_bytes() == before
    other = tmp_path / "loiret_2020.xlsx"
    kept = other.read_bytes()
    assert main(["pdf", str(src), "-o", str(other), "--force"]) == 2  # another workbook: a PDF ends in .pdf
    assert "doit finir par .pdf" in capsys.readouterr().err and other.read_bytes() == kept


def test_the_empty_template_prints_without_zeros(tmp_path):
    src = tmp_path / "vierge.xlsx"
    assert main(["nouveau", str(src), "--departement", "Cher", "--annee", "2024"]) == 0
    assert main(["pdf", str(src)]) == 1  # a maquette with no action is no annex to transmit (AUCUNE_ACTION)
    assert not src.with_suffix(".pdf").exists()
    assert main(["pdf", str(src), "--forcer"]) == 1  # a blank form, printed on purpose (the error still said)
    with C.AnnexPdf(str(src.with_suffix(".pdf"))) as doc:
        text = doc.pages[0].text
        assert "Aucune action" in text and "Cher" in text and "2024" in text
        assert "0,00" not in text.replace("\u00a0", " ")  # unused template rows are not printed
        assert len(doc.pages) == 1


# --------------------------------------------------------------------------- size and hostile content

def test_many_actions(tmp_path):
    m = variant(80)
    path = tmp_path / "v80.pdf"
    write_annex_pdf(m, path, AnnexOptions(fiches=False))
    res = C.run_all(str(path), m, fiches=False)
    res.pop("_figures")
    assert {k: v for k, v in res.items() if v} == {}
    with C.AnnexPdf(str(path)) as doc:
        assert C.check_rows_same_width(doc) == []


def test_hostile_content_and_four_groups(tmp_path):
    m, groups = hostile()
    path = tmp_path / "hostile.pdf"
    findings = run_checks(m)
    write_annex_pdf(m, path, AnnexOptions(draft=True, findings=findings, group_header="Axe"), groups=groups)
    res = C.run_all(str(path), m, draft_text=DRAFT_TEXT, findings=findings)
    res.pop("_figures")
    assert {k: v for k, v in res.items() if v} == {}
    with C.AnnexPdf(str(path)) as doc:
        text = C.norm("".join(p.text for p in doc.maquette_pages))
        for g in groups:
            assert C.norm(g.subtotal_text) in text


def test_groups_of_any_number(tmp_path):
    m = load_example("loiret-2020")
    acts = list(m.actions)
    groups = [Group(f"Axe {i + 1}", acts[i::3], totals(acts[i::3])) for i in range(3)]
    path = tmp_path / "axes.pdf"
    write_annex_pdf(m, path, AnnexOptions(fiches=False, group_header="Axe"), groups=groups)
    with C.AnnexPdf(str(path)) as doc:
        text = C.norm("".join(p.text for p in doc.maquette_pages))
        assert all(f"Sous-totalAxe{i}" in text for i in (1, 2, 3))


def test_without_the_shipped_font_another_one_serves(monkeypatch, tmp_path):
    """The shipped DejaVu Sans Condensed removed and no system font: ReportLab's
    own Vera is used; it lacks U+202F, so amounts use U+00A0 and still never wrap."""
    monkeypatch.setattr(annex_pdf, "_FONT_DIRS", ())
    monkeypatch.setattr(annex_pdf, "_REGISTERED", {})
    fonts = annex_pdf.find_fonts("/nonexistent")
    assert "Vera" in fonts.source and fonts.nnbsp == "\u00a0"
    path = tmp_path / "vera.pdf"
    write_annex_pdf(load_example("loiret-2020"), path, AnnexOptions(fiches=False))
    with C.AnnexPdf(str(path)) as doc:
        assert C.check_no_overprint(doc) == [] and C.check_words_inside_cells(doc) == []


def test_the_shipped_font_is_used_and_its_licence_ships_with_it():
    fonts = annex_pdf.find_fonts()
    assert fonts.source.startswith("DejaVu Sans Condensed") and annex_pdf.SHIPPED_FONTS in fonts.source
    assert "Bitstream Vera" in (Path(annex_pdf.SHIPPED_FONTS) / "LICENSE-DejaVu.txt").read_text()


# --------------------------------------------------------------------------- the checks have teeth

def _canvas_pdf(path, draw):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas
    c = canvas.Canvas(str(path), pagesize=A4)
    draw(c)
    c.showPage()
    c.save()


def test_checks_see_overprint_overflow_and_small_type(tmp_path):
    path = tmp_path / "bad.pdf"

    def draw(c):
        c.setFont("Helvetica", 9)
        c.drawString(100, 700, "Coordination des sortants")
        c.drawString(104, 698, "Mise en place")  # over the line above
        c.rect(100, 600, 60, 20)
        c.rect(160, 600, 60, 20)
        c.drawString(103, 606, "Accompagnement-des-jeunes")  # runs out of its cell
        c.setFont("Helvetica", 6)
        c.drawString(100, 500, "tout petit")

    _canvas_pdf(path, draw)
    with C.AnnexPdf(str(path)) as doc:
        assert C.check_no_overprint(doc)
        assert C.check_words_inside_cells(doc)
        assert C.check_min_font(doc)
        assert C.check_fonts_embedded(str(path))  # Helvetica is not embedded
        assert C.check_footer(doc)


def test_checks_see_a_truncated_intitule_and_a_missing_fiche_text(tmp_path):
    m = load_example("loiret-2020")
    path = tmp_path / "a.pdf"
    printed = replace(m, actions=(replace(m.actions[0], intitule=m.actions[0].intitule[:12]),
                                  replace(m.actions[1], fiche=replace(m.actions[1].fiche, description="")),
                                  *m.actions[2:]))
    write_annex_pdf(printed, path, AnnexOptions())
    with C.AnnexPdf(str(path)) as doc:
        assert C.check_maquette(doc, m)
        assert any("description" in p for p in C.check_fiches(doc, m))


# --------------------------------------------------------------------------- renders to look at

@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) absent")
def test_pages_rendered_as_png_artefacts(signed, draft):
    """The first maquette pages, a fiche and the Contrôles, as images kept in
    tests/artefacts/ (git-ignored): what a reviewer looks at."""
    ARTEFACTS.mkdir(exist_ok=True)
    made = []
    for name, doc, pages in (("annexe", signed[1], [1, 2, 3]), ("annexe_projet", draft[2], [1, len(draft[2].pages)])):
        for n in pages:
            stem = ARTEFACTS / f"{name}_p{n:02d}"
            subprocess.run(["pdftoppm", "-r", "70", "-png", "-singlefile", "-f", str(n), "-l", str(n), doc.path,
                            str(stem)], check=True, timeout=60)
            made.append(stem.with_suffix(".png"))
    assert all(p.exists() and p.stat().st_size > 10_000 for p in made)


def test_a_failed_run_leaves_the_previous_pdf_whole_and_no_temporary_file(tmp_path, monkeypatch, capsys):
    assert main(["exemple", str(tmp_path)]) == 0
    src, target = tmp_path / "loiret_2020.xlsx", tmp_path / "annexe.pdf"
    target.write_bytes(b"%PDF-1.4 ancienne annexe")

    def broken(*_a, **_k):
        raise ValueError("mise en page impossible")
    monkeypatch.setattr(annex_pdf, "write_annex_pdf", broken)
    assert main(["pdf", str(src), "-o", str(target)]) == 2
    assert "n'a pas pu être produit" in capsys.readouterr().err
    assert target.read_bytes() == b"%PDF-1.4 ancienne annexe"
    monkeypatch.undo()
    capsys.readouterr()
    assert main(["pdf", str(src), "-o", str(target)]) == 2  # an existing, different PDF: only with --force
    assert "[FICHIER_EXISTANT]" in capsys.readouterr().err
    assert target.read_bytes() == b"%PDF-1.4 ancienne annexe"
    assert main(["pdf", str(src), "-o", str(target), "--force"]) == 0
    first = target.read_bytes()
    assert first.startswith(b"%PDF") and len(first) > 50_000
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".~calpae-")]
    capsys.readouterr()
    assert main(["pdf", str(src), "-o", str(target)]) == 0  # the same annex, byte for byte: left alone
    assert "déjà à jour" in capsys.readouterr().out and target.read_bytes() == first


def test_amounts_too_wide_for_the_page_are_said_in_french(tmp_path, capsys):
    """A 23-digit amount (a paste gone wrong), printed anyway (--forcer): no
    layout can hold it; the message says what to correct, in French, without
    a Python class name or wrong advice."""
    import openpyxl
    src = tmp_path / "d23.xlsx"
    assert main(["exemple", str(tmp_path / "ex")]) == 0
    wb = openpyxl.load_workbook(tmp_path / "ex" / "loiret_2020.xlsx")
    wb["Maquette"]["F6"] = "12345678901234567890123"  # as text, and as a number in an other financer
    wb["Maquette"]["K7"] = 1.23456789012346e+22
    wb.save(src)
    capsys.readouterr()
    assert main(["pdf", str(src), "--forcer"]) == 2
    err = capsys.readouterr().err
    assert "trop larges pour la page" in err and "MONTANT_DEMESURE" in err and "[PDF_ECHEC]" in err
    assert "Error" not in err and ".." not in err and "d23.xlsx" in err
    assert not src.with_suffix(".pdf").exists()
