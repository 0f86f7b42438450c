"""The seed's annex as a user has it, read in place, recalculated, controlled."""
import json
from decimal import Decimal as D

import openpyxl
import pytest

from calpae_xl.adapters.openpyxl_adapter import OpenpyxlWorkbook
from calpae_xl.cli import main
from calpae_xl.workbook.reader import read_workbook
from tests.helpers.annex import COMMENT, SHEET, build_annex
from tests.helpers.calpae import CALPAE, INITIATIVES, SOCLE  # noqa: F401


@pytest.fixture
def annex(tmp_path):
    path = tmp_path / "annexe_loiret.xlsx"
    rows = build_annex(str(path))
    return path, rows


def test_reads_twenty_actions_with_blocs_codes_and_amounts(annex):
    path, rows = annex
    wb = OpenpyxlWorkbook.open(str(path))
    read = read_workbook(wb.sheet_names(), wb.read_sheet, str(path))
    m = read.maquette
    assert len(m.actions) == 20
    assert [a.bloc for a in m.actions] == [SOCLE] * 10 + [INITIATIVES] * 10
    assert m.find(SOCLE, "4.2").chorus.normalized == "0304 50 19 19 07"
    assert m.find(SOCLE, "5").chorus.normalized == "0304 50 19 19 07"  # merged over 4.1, 4.2 and 5
    assert m.find(SOCLE, "1.3").theme.startswith("1 - Prévenir")
    assert m.find(SOCLE, "1.3").report == D("753884")
    assert m.find(INITIATIVES, "4").part_etat == D("35813")
    assert m.find(INITIATIVES, "3").autres_financeurs == D("155000")
    assert {a.chorus.suffix for a in m.bloc(INITIATIVES)} == {"10"}
    assert read.table.sheet == SHEET and read.table.total_row == rows["total"]


def test_findings_point_at_the_right_cells(annex, capsys):
    path, rows = annex
    code = main(["controler", str(path), "--format", "json", "--credits-etat", "1201409", "--report-etat", "414442"])
    assert code == 1
    doc = json.loads(capsys.readouterr().out)
    constats = doc["fichiers"][0]["constats"]
    errors = {(c["code"], c["action"], c["feuille"], c["cellule"]) for c in constats if c["gravite"] == "erreur"}
    r42, r4, rt = rows[("socle", "Action 4.2")], rows[("initiatives", "Action 4")], rows["total"]
    assert errors == {
        ("IDENTITE_ETAT_CD", "Action 4.2", SHEET, f"G{r42}"),
        ("IDENTITE_ETAT_CD", "Action 4", SHEET, f"G{r4}"),
        ("TOTAL_FAUX", None, SHEET, f"H{rt}"),
        ("TOTAL_FAUX", None, SHEET, f"I{rt}"),
        ("ENVELOPPE_DEPASSE", None, SHEET, f"H{rt}"),
    }
    bloc_of = {c["action"]: c["bloc"] for c in constats if c["code"] == "IDENTITE_ETAT_CD"}
    assert bloc_of == {"Action 4.2": "socle", "Action 4": "initiatives"}


def test_recalculer_in_place_repairs_and_keeps_user_content(annex, capsys):
    path, rows = annex
    code = main(["recalculer", str(path), "--credits-etat", "1201409", "--report-etat", "414442"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert (path.parent / "annexe_loiret.bak.xlsx").exists()
    wb = openpyxl.load_workbook(path, data_only=True)
    ws = wb[SHEET]
    rt = rows["total"]
    assert ws[f"H{rt}"].value == pytest.approx(1201409.00)
    assert ws[f"G{rows[('socle', 'Action 4.2')]}"].value == 395809
    assert ws[f"H{rows[('socle', 'Action 4.2')]}"].value == pytest.approx(197904.5)
    assert ws[f"L{rows[('socle', 'Action 4.2')]}"].value == COMMENT
    assert ws[f"L{rows[('socle', 'Action 4.2')]}"].fill.start_color.rgb.endswith("CCFFCC")
    assert ws["A1"].value == "MAQUETTE FINANCIERE"
    notes = wb["Notes du service"]
    assert notes["A1"].value.startswith("Réunion") and notes["B3"].value == 42
    assert openpyxl.load_workbook(path)["Notes du service"]["C3"].value == "=B3*2"
    formulas = openpyxl.load_workbook(path)[SHEET]
    assert formulas[f"H{rt}"].value.startswith("=SUM(")
    # the table stayed where it was
    assert formulas[f"D{rows[('initiatives', 'Action 4')]}"].value == "Action 4"
    # no erreur remains
    assert main(["controler", str(path), "--credits-etat", "1201409", "--report-etat", "414442"]) == 0
    # then the fiches: 20 distinct sheets although N° repeat across blocs
    assert main(["fiches", str(path)]) == 0
    names = openpyxl.load_workbook(path).sheetnames
    fiches = [n for n in names if n.startswith("Fiche ")]
    assert len(fiches) == 20 and len(set(fiches)) == 20
    assert all(len(n) <= 31 for n in fiches)
