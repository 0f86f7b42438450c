"""A real spreadsheet engine checks every formula the project writes: LibreOffice
headless recalculates the files (recalculation forced on load) and every
formula cell must equal the value Python computed, to the cent, with no error."""
import pathlib
import shutil
import subprocess
from decimal import Decimal

import openpyxl
import pytest

from calpae_xl.reports import libreoffice as lo
from calpae_xl.cli import main
from tests.helpers.annex import build_annex

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = [pytest.mark.libreoffice,
              pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) absent : .ci/run l'installe")]

ERRORS = ("#NAME?", "#REF!", "#VALUE!", "#DIV/0!", "#N/A", "#NUM!", "#NULL!", "Err:")


def recalc_with_libreoffice(src, tmp_path):
    env_arg = lo.profile(tmp_path / "lo-profile", recalc=True)
    out = tmp_path / "lo-out"
    out.mkdir(exist_ok=True)
    subprocess.run(lo.convert_command(SOFFICE, env_arg, "xlsx:Calc MS Excel 2007 XML", out, [str(src)]),
                   check=True, capture_output=True, timeout=180)
    return out / (src.stem + ".xlsx")


def assert_formulas_match(ours, theirs, allow_uncached=()):
    """Every formula cell of ours: LibreOffice's value == the cached value we wrote.
    ``allow_uncached``: sheets last saved by plain openpyxl in the test itself,
    whose untouched formulas carry no cached value (nothing of ours to check)."""
    f_wb = openpyxl.load_workbook(ours)
    v_ours = openpyxl.load_workbook(ours, data_only=True)
    v_lo = openpyxl.load_workbook(theirs, data_only=True)
    checked = 0
    for ws in f_wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                lo_value = v_lo[ws.title][c.coordinate].value
                if isinstance(lo_value, str):
                    assert not lo_value.startswith(ERRORS), f"{ws.title}!{c.coordinate} : {lo_value}"
                if c.data_type != "f":
                    continue
                ours_value = v_ours[ws.title][c.coordinate].value
                if ours_value in (None, "") and (lo_value in (None, "") or ws.title in allow_uncached):
                    continue
                assert ours_value is not None, f"{ws.title}!{c.coordinate} sans valeur enregistrée"
                assert lo_value is not None, f"{ws.title}!{c.coordinate} : LibreOffice ne calcule rien"
                if isinstance(ours_value, str):  # HYPERLINK and other text results
                    assert lo_value == ours_value, f"{ws.title}!{c.coordinate} = {c.value} : LibreOffice " \
                                                   f"{lo_value!r}, Python {ours_value!r}"
                else:
                    diff = abs(Decimal(str(lo_value)) - Decimal(str(ours_value)))
                    assert diff < Decimal("0.005"), f"{ws.title}!{c.coordinate} = {c.value} : LibreOffice " \
                                                    f"{lo_value}, Python {ours_value}"
                checked += 1
    return checked


def _libre_maquette(path):
    """The Loiret's actions, every other one in répartition « libre » with parts typed (CD ≥ État)."""
    from dataclasses import replace
    from calpae_xl.adapters.openpyxl_adapter import OpenpyxlWorkbook
    from calpae_xl.app.template import create
    from calpae_xl.core import SplitRule, load_example
    m = load_example()
    acts = []
    for i, a in enumerate(m.actions):
        if i % 2:
            etat = (a.part_etat or Decimal(0)) - Decimal("0.37")
            a = replace(a, regle=SplitRule.LIBRE, part_etat=etat, part_cd=etat + Decimal("1000.01"),
                        autres_financeurs=Decimal("123.45"), budget_global=None, budget_etat_cd=None)
        acts.append(a)
    wb = OpenpyxlWorkbook.new(str(path))
    create(wb, replace(m, actions=tuple(acts)), typed=False, fiches=False)
    wb.save(backup=False, replace=True)


@pytest.mark.parametrize("build", ["template", "loiret", "annex", "xlsm", "libre"])
def test_libreoffice_computes_what_python_computed(build, tmp_path):
    path = tmp_path / (f"{build}.xlsm" if build == "xlsm" else f"{build}.xlsx")
    if build == "libre":  # the libre rule's formulas (budgets from the typed parts)
        _libre_maquette(path)
        assert main(["recalculer", str(path)]) == 0  # 10 × 0,37 € less: ENVELOPPE_NON_CONSOMME, a warning
        libre = openpyxl.load_workbook(path)["Maquette"]
        assert sum(1 for r in libre.iter_rows(min_col=12, max_col=12, values_only=True) if r[0] == "libre") == 10
    elif build == "xlsm":  # the macro-enabled maquette as committed, after a batch run
        shutil.copy(pathlib.Path(__file__).resolve().parents[1] / "workbook" / "loiret_2020.xlsm", path)
        assert main(["lot", str(tmp_path), "--processus", "1"]) == 0
    elif build == "template":
        assert main(["nouveau", str(path)]) == 0
    elif build == "loiret":
        assert main(["nouveau", str(path), "--exemple", "loiret-2020"]) == 0
        assert main(["lot", str(tmp_path), "--processus", "1"]) == 0
    else:
        build_annex(str(path))
        assert main(["recalculer", str(path), "--credits-etat", "1201409", "--report-etat", "414442"]) == 0
        assert main(["fiches", str(path)]) == 0
    uncached = ("Notes du service",) if build == "annex" else ()  # the user's own =B3*2, saved by openpyxl
    checked = assert_formulas_match(path, recalc_with_libreoffice(path, tmp_path), uncached)
    assert checked >= 60


def test_odd_cents_split_the_same_way_in_libreoffice(tmp_path):
    """Parity with odd cents: the formula floors the State's half like split_half."""
    path = tmp_path / "cents.xlsx"
    assert main(["nouveau", str(path), "--lignes", "4"]) == 0
    wb = openpyxl.load_workbook(path)
    ws = wb["Maquette"]
    for i, (glob, rep) in enumerate([(100.03, 0), (0.58, 0), (1234.57, 0.02), (999999.99, 12.35)]):
        r = 5 + i
        ws.cell(r, 2, "4 - Insertion des allocataires du RSA")
        ws.cell(r, 3, "0304 50 19 19 07 - Garantie d'activité et insertion des BRSA")
        ws.cell(r, 4, f"Action {i + 1}")
        ws.cell(r, 5, f"Essai {i + 1}")
        ws.cell(r, 6, glob)
        ws.cell(r, 10, rep)
    wb.save(path)
    assert main(["recalculer", str(path)]) == 0
    # the blank template rows lost their cached values when this test saved with plain openpyxl
    assert assert_formulas_match(path, recalc_with_libreoffice(path, tmp_path), ("Maquette",)) >= 12
    v = openpyxl.load_workbook(path, data_only=True)["Maquette"]
    assert (v["H5"].value, v["I5"].value) == (pytest.approx(50.01), pytest.approx(50.02))


def test_highlight_rule_formula_finds_the_listed_cells(tmp_path):
    """The highlight rules are formulas read by the spreadsheet engine: the same
    expression, evaluated by LibreOffice for a listed and an unlisted cell."""
    from calpae_xl.workbook.layout import TECH, TECH_ERR_COL, highlight_formula
    path = tmp_path / "loiret.xlsx"
    assert main(["nouveau", str(path), "--exemple", "loiret-2020"]) == 0
    from calpae_xl.adapters.openpyxl_adapter import OpenpyxlWorkbook
    from calpae_xl.app.session import CONTROLER, run
    wbk = OpenpyxlWorkbook.open(str(path))
    run(wbk, [CONTROLER])
    wbk.save()
    wb = openpyxl.load_workbook(path)
    listed = {wb[TECH].cell(r, TECH_ERR_COL).value for r in range(2, wb[TECH].max_row + 1)}
    assert "Maquette!G11" in listed and "Maquette!F11" not in listed
    probe = wb.create_sheet("Sonde")
    rule = highlight_formula("Maquette", TECH_ERR_COL)
    for r, (row, col) in enumerate([(11, 7), (11, 6)], 1):  # G11 listed, F11 not
        probe.cell(r, 1, "=" + rule.replace("ADDRESS(ROW(),COLUMN(),4)", f"ADDRESS({row},{col},4)"))
    wb.save(path)
    lo = openpyxl.load_workbook(recalc_with_libreoffice(path, tmp_path), data_only=True)["Sonde"]
    assert (lo["A1"].value, lo["A2"].value) == (True, False)
