"""The acceptance of the State's review (slow): a region's folder — twelve
départements, two years, files answered (through LibreOffice for one, as a
person types), changed after their check (through LibreOffice), never
checked, one unreadable, one sent twice — gives a consolidation workbook, a
JSON that validates against the shipped schema and an HTML report checked in
a real browser; the département's answers survive its own runs and show up
on the State's side."""
import json
from pathlib import Path

import openpyxl
import pytest

from calpae_xl.app.session import CONTROLER, RECALCULER, process_file
from calpae_xl.cli import main
from tests.helpers import browser, lo_calc
from tests.helpers.region import DEPARTEMENTS, YEARS, controles_rows, make_region
from tests.helpers.review import check_html, check_json, check_workbook

ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
pytestmark = [pytest.mark.slow, pytest.mark.libreoffice, pytest.mark.chromium,
              pytest.mark.skipif(lo_calc.soffice_path() is None, reason="LibreOffice (soffice) absent"),
              pytest.mark.skipif(browser.chromium_path() is None, reason="chromium absent")]


def answers_in(path: Path) -> dict[str, tuple]:
    ws = openpyxl.load_workbook(path)["Contrôles"]
    return {key: (ws.cell(r, 7).value or "", ws.cell(r, 8).value) for key, r in controles_rows(path).items()}


def test_a_regions_folder_gives_the_states_reports(tmp_path, capsys):
    with lo_calc.start_office(locale="fr-FR", timeout=90) as calc:
        region = make_region(tmp_path / "Centre-Val de Loire", calc=calc)
        assert len({(i["departement"], i["annee"]) for i in region.files.values()}) == len(DEPARTEMENTS) * len(YEARS)
        # the answers typed through LibreOffice, then a Recalculer by the département: still there
        typed = next(iter(region.answered))
        path = region.folder / typed
        expected = {k: (s or "justifié", t) for k, (s, t) in region.answered[typed].items()}
        assert {k: v for k, v in answers_in(path).items() if k in expected} == expected
        for _ in range(2):  # the département's own runs
            assert process_file(str(path), [RECALCULER, CONTROLER], backup=False).lisible
            assert {k: v for k, v in answers_in(path).items() if k in expected} == expected
        # saved again by LibreOffice without a change: still the content that was checked
        before = path.read_bytes()
        calc.edit(str(path), [])
        assert path.read_bytes() != before  # rewritten by LibreOffice (its own XML, styles, cached values)
        capsys.readouterr()
        assert main(["controler", str(path)]) in (0, 1)
        assert "Inchangé depuis le contrôle du" in capsys.readouterr().out
    out = tmp_path / "rapports"
    status = main(["consolider", str(region.folder), "-o", str(out / "consolidation.xlsx"), "--json",
                   str(out / "consolidation.json"), "--html", str(out / "rapport.html")])
    assert status == 2  # the unreadable file
    check_workbook(region, out / "consolidation.xlsx")
    doc = json.loads((out / "consolidation.json").read_text("utf-8"))
    check_json(region, doc, out / "consolidation.xlsx")
    check_html(doc, out / "rapport.html", ARTEFACTS, "rapport_acceptation")
    # on the State's side, the answers typed through LibreOffice, as the JSON and the page say them
    entry = next(f for f in doc["fichiers"] if f["fichier"] == typed)
    said = {c["cle"]: (c["statut"], c["reponse"]) for c in entry["constats"] if c["reponse"]}
    assert said == expected
    page = browser.parse(browser.dump_dom(out / "rapport.html", "gravite=tout&statut=justifies"))
    shown = [tr for tr in browser.rows(page.by_id("table-constats")) if "hidden" not in tr.attrs]
    assert all(any(text in tr.text for tr in shown) for _s, text in expected.values())
