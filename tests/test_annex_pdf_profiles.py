"""The annex PDF of every convention: the CLS's (one maquette per year of the
contract, each fiche's budget year by year) and the RSA / France Travail's
(volets), read on the PDF itself as for the CALPAE (tests/helpers/pdf_checks.py)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytest.importorskip("reportlab")
pytest.importorskip("pdfplumber")

from calpae_xl.adapters.xlsx import PackageWorkbook  # noqa: E402
from calpae_xl.cli import main  # noqa: E402
from calpae_xl.core.model import Column  # noqa: E402
from calpae_xl.workbook.reader import read_workbook  # noqa: E402
from tests.helpers import pdf_checks as C  # noqa: E402

ARTEFACTS = Path(__file__).resolve().parent / "artefacts"


@pytest.fixture(scope="module")
def annexes(tmp_path_factory):
    """The CLS and RSA worked examples, their PDFs, and the models they were made from."""
    work = tmp_path_factory.mktemp("annexes")
    out = {}
    for profile, name in (("cls-2024-2027", "cls"), ("rsa-france-travail-2024", "rsa")):
        book = work / f"{name}.xlsx"
        assert main(["nouveau", str(book), "--profil", profile, "--exemple"]) == 0
        assert main(["pdf", str(book)]) == 0
        wb = PackageWorkbook.open(str(book))
        read = read_workbook(wb.sheet_names(), wb.read_sheet, str(book))
        out[name] = (work / f"{name}.pdf", [view.maquette for view in read.years])
    return out


def _render(pdf: Path, stem: str, first: int, last: int) -> None:
    ARTEFACTS.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", str(first), "-l", str(last), str(pdf),
                    str(ARTEFACTS / stem)], check=False, capture_output=True)


def test_the_cls_annex_has_each_year_of_the_contract(annexes):
    pdf, years = annexes["cls"]
    assert [m.annee for m in years] == [2024, 2025, 2026, 2027]
    with C.AnnexPdf(str(pdf)) as doc:
        maquette_pages = doc.maquette_pages
        # the convention's own name and word, never the CALPAE's
        assert all("Contrat local des solidarités (CLS) 2024-2027" in p.text for p in maquette_pages)
        assert not any("CALPAE" in p.text for p in doc.pages)
        headers = [r for p in maquette_pages for r in p.rows if any("Intitulé" in (c or "") for c in r)]
        assert len(headers) == 4 and all(C.norm(r[0]) == "Axe" for r in headers), headers
        # every header word whole (« Participatio / n » was printed once, in a column too narrow for it)
        for r in headers:
            cell = next(c for c in r if c and "financeurs" in c)
            assert cell.split() == "Participation d'autres financeurs le cas échéant".split(), cell
        # one maquette per year, each with that year's credits and each action's amounts of that year
        for m in years:
            pages = [p for p in maquette_pages if f"année {m.annee}" in p.text]
            assert len(pages) == 1, m.annee
            rows = [[c or "" for c in r] for r in pages[0].rows]
            for a in m.actions:
                row = next(r for r in rows if any(C.norm(c) == C.norm(a.label) for c in r))
                for col in (Column.BUDGET_GLOBAL, Column.PART_ETAT, Column.PART_CD):
                    assert C.norm(C._amount(a.amount(col))) in [C.norm(c) for c in row], (m.annee, a.label, col)
            assert C.norm(C._amount(m.credits_etat)) in C.norm(pages[0].text)
        # each fiche: its budget year by year, on its title's page
        first = years[0].actions[0]
        fiche = next(p for p in doc.portrait_pages if C.norm(first.intitule) in C.norm(p.text))
        table = next(r for r in fiche.rows if r and r[0] and "Participation État" in r[0])
        assert [C.norm(c) for c in table[1:]] == [C.norm(C._amount(m.find(first.bloc, first.numero).part_etat))
                                                  for m in years]
        problems = {"A4": C.check_a4(doc), "corps ≥ 8 pt": C.check_min_font(doc),
                    "pas de surimpression": C.check_no_overprint(doc),
                    "rien ne déborde": C.check_words_inside_cells(doc),
                    "pied de page": C.check_footer(doc, "Annexe financière — Val-de-Lumière")}
    assert {k: v for k, v in problems.items() if v} == {}
    assert "2024-2027" in doc.pages[0].text  # the footer names the contract's span
    _render(pdf, "annexe_cls", 1, 5)


def test_the_rsa_annex_prints_its_volets(annexes):
    pdf, years = annexes["rsa"]
    m = years[0]
    res = C.run_all(str(pdf), m)
    res.pop("_figures")
    assert {k: v for k, v in res.items() if v} == {}
    with C.AnnexPdf(str(pdf)) as doc:
        text = doc.pages[0].text
        assert "Convention pour l'insertion et l'emploi" in text and "CALPAE" not in text
        # volets without fungibility: each one's credits in the title block, and no report (the profile has none)
        for g in m.profile.groupes:
            assert C.norm(f"dont {g.label}") in C.norm(text) and "Report des crédits" not in text
        assert C.norm(C._amount(m.credits_groupes["volet1"])) in C.norm(text)
        headers = [r for p in doc.maquette_pages for r in p.rows if any("Intitulé" in (c or "") for c in r)]
        assert headers and all(C.norm(r[0]) == "Volet" for r in headers), headers
    _render(pdf, "annexe_rsa", 1, 2)
