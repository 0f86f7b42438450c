"""A formula the officer typed in an input cell (issue: user formulas lost
their values): typed through LibreOffice, kept by « recalculer » with its
formula, its kind (an array formula stays one) and its value, and counted in
the totals — LibreOffice, recomputing the file, agrees to the cent."""
import datetime as dt
import json
import re
import shutil
import subprocess
import zipfile

import openpyxl
import pytest

from calpae_xl.adapters.xlsx.book import PackageWorkbook
from calpae_xl.app.session import run
from calpae_xl.cli import main
from calpae_xl.core.findings import Severity
from calpae_xl.excel import BUTTONS
from tests.helpers import lo_calc
from tests.helpers.officer import find_table

pytestmark = [pytest.mark.libreoffice,
              pytest.mark.skipif(lo_calc.soffice_path() is None, reason="LibreOffice (soffice) absent")]
M = "Maquette"


def _cell_xml(path, ref, sheet=M) -> str:
    """The XML of one cell of ``sheet`` (found by its name, whatever the order of the package's parts)."""
    with zipfile.ZipFile(path) as z:
        rid = re.search(rf'<sheet [^>]*name="{sheet}"[^>]*r:id="([^"]+)"', z.read("xl/workbook.xml").decode())[1]
        target = re.search(rf'Id="{rid}"[^>]*Target="/?(?:xl/)?([^"]+)"',
                           z.read("xl/_rels/workbook.xml.rels").decode())[1]
        m = re.search(rf'<c r="{ref}"(?:[^>]*/>|[^>]*>.*?</c>)', z.read("xl/" + target).decode())
    return m.group(0) if m else ""


@pytest.mark.parametrize("edit, kind", [
    (("set_formula", M, "F5", "=40000*2"), "plain"),
    (("set_array_formula", M, "F5", "=SUM({40000,40000})"), "array"),
])
def test_a_typed_formula_keeps_its_kind_and_value_and_counts(tmp_path, edit, kind):
    assert main(["exemple", str(tmp_path)]) == 0
    book = tmp_path / "loiret_2020.xlsx"
    with lo_calc.start_office(locale="fr-FR", timeout=120) as lo:
        lo.edit(str(book), [edit])
        assert main(["recalculer", str(book)]) == 1  # 4 000 € more for the State: over the credits, said
        xml = _cell_xml(book, "F5")
        assert ('t="array"' in xml) == (kind == "array") and "<v>80000</v>" in xml, xml
        cells = lo.recalc_and_read(str(book), [M])[M]
    # the formula kept, its value, the parts derived from it, the sub-total and total counting it
    assert cells["F5"].formula == edit[3] and cells["F5"].value == 80000
    assert (cells["G5"].value, cells["H5"].value, cells["I5"].value) == (80000, 40000, 40000)
    total_row = next(r for r in range(5, 60) if cells.get(f"D{r}") and cells[f"D{r}"].value == "TOTAL")
    assert cells[f"F{total_row}"].value == 3386702 + 8000  # 72 000 € → 80 000 € for action 1.1
    out = subprocess.run(["calpae-xl", "controler", str(book), "--format", "json"], capture_output=True, text=True)
    errors = {c["code"] for c in json.loads(out.stdout)["fichiers"][0]["constats"] if c["gravite"] == "erreur"}
    assert errors == {"ENVELOPPE_DEPASSE"}  # never MONTANT_MANQUANT nor FORMULE_SANS_VALEUR on the typed formula


def test_a_date_typed_as_a_budget_stays_a_date_when_its_rule_changes(tmp_path, capsys):
    """Found by the campaign (seed 21052): the row's colours under « libre » gave the cell the € format, and
    the date typed there (« 15/03/2020 ») became a budget global of 43 905 €, counted by the next run."""
    assert main(["exemple", str(tmp_path)]) == 0
    book = tmp_path / "loiret_2020.xlsx"
    with lo_calc.start_office(locale="fr-FR", timeout=120) as lo:
        lo.edit(str(book), [("set_date", M, "F11", "2020-03-15")])
        assert main(["recalculer", str(book)]) == 1
        lo.edit(str(book), [("set_text", M, "L11", "libre")])
        assert main(["recalculer", str(book)]) == 1
    cell = openpyxl.load_workbook(book)[M]["F11"]
    assert cell.is_date and cell.value.date() == dt.date(2020, 3, 15)
    capsys.readouterr()
    state = book.read_bytes()
    assert main(["recalculer", str(book)]) == 1
    assert "déjà à jour" in capsys.readouterr().out and book.read_bytes() == state
    assert main(["controler", str(book)]) == 1
    assert "MONTANT_ILLISIBLE" in capsys.readouterr().out  # the date is said, never read as 43 905 €


def _errors(book) -> dict[str, set]:
    out = subprocess.run(["calpae-xl", "controler", str(book), "--format", "json"], capture_output=True, text=True)
    found: dict[str, set] = {}
    for c in json.loads(out.stdout)["fichiers"][0]["constats"]:
        if c["gravite"] == "erreur":
            found.setdefault(c["code"], set()).add(c["cellule"])
    return found


@pytest.mark.parametrize("edits, stale, upstream", [
    # a budget global typed as text, which Recalculer makes a number: LibreOffice had computed #VALUE! from it
    ([("set_text", M, "F5", "72 000 €"), ("set_formula", M, "K6", "=F5/10")], "K6", "F5"),
    # a part État typed over its formula, which Recalculer puts back (36 000 €): the saved value was from 999 €
    ([("set_number", M, "H5", 999), ("set_formula", M, "K6", "=H5*2")], "K6", "H5"),
])
def test_a_formula_reading_a_cell_recalculer_changes_is_never_read_with_its_stale_value(tmp_path, edits, stale,
                                                                                         upstream):
    """Found by the campaign (seed 31855): a formula of the person's reading a cell that Recalculer changes kept
    the value the spreadsheet had computed before (#VALUE!, or a figure from the old amount), and the tool
    checked that value while Excel, recomputing on opening, shows another. Now its saved value goes, journaled;
    the tool says FORMULE_SANS_VALEUR (never the old value, never « Aucune erreur ») until the spreadsheet
    saves the file again, and then checks what LibreOffice computed."""
    assert main(["exemple", str(tmp_path)]) == 0
    book = tmp_path / "loiret_2020.xlsx"
    with lo_calc.start_office(locale="fr-FR", timeout=120) as lo:
        lo.edit(str(book), edits)
        assert main(["recalculer", str(book)]) == 1
        xml = _cell_xml(book, stale)
        assert "<f>" in xml.replace('<f aca="false">', "<f>") and "<v>" not in xml and ' t="' not in xml, xml
        journal = [r for r in openpyxl.load_workbook(book)["Journal"].iter_rows(values_only=True) if r[4] == stale]
        assert len(journal) == 1 and "à recalculer" in journal[0][3], journal
        assert _errors(book).get("FORMULE_SANS_VALEUR") == {stale}
        before = book.read_bytes()
        assert main(["recalculer", str(book)]) == 1 and book.read_bytes() == before  # a second run: nothing
        cells = lo.recalc_and_read(str(book), [M])[M]
        lo.edit(str(book), [])  # the officer opens the file and saves it
    after = _errors(book)
    assert "FORMULE_SANS_VALEUR" not in after, after
    formula = next(e[3] for e in edits if e[2] == stale)
    assert cells[stale].formula == formula and isinstance(cells[stale].value, (int, float))
    assert openpyxl.load_workbook(book, data_only=True)[M][stale].value == cells[stale].value


def test_a_formula_of_one_year_reading_another_years_changed_cell_is_never_read_stale(tmp_path):
    """A contract over several years (CLS, one group of columns per year): a 2025 report reading a 2024 part
    État typed over (999 €, put back to its formula by Recalculer) loses its stale value too (review of seed
    31855's fix: each year looked at its own changes only, and the 2025 figures were checked from 1 998 €)."""
    book = tmp_path / "cls.xlsx"
    assert main(["nouveau", str(book), "--exemple", "cls-exemple"]) == 0
    with lo_calc.start_office(locale="fr-FR", timeout=120) as lo:
        lo.edit(str(book), [("set_number", M, "H5", 999), ("set_formula", M, "P5", "=H5*2")])
        assert main(["recalculer", str(book)]) == 1
        xml = _cell_xml(book, "P5")
        assert "<v>" not in xml and "H5*2" in xml, xml
        assert _errors(book).get("FORMULE_SANS_VALEUR") == {"P5"}
        cells = lo.recalc_and_read(str(book), [M])[M]
    assert cells["P5"].value == 200000  # what Excel shows: twice the part État put back (100 000 €)


class _LiveCalc:
    """Excel as the buttons see it (xlwings): every plan written is recomputed
    at once — here LibreOffice recalculates the file after each plan."""

    recalculates = True

    def __init__(self, path, lo):
        self.path, self.lo, self.plans = str(path), lo, 0
        self._wb = PackageWorkbook.open(self.path)

    def sheet_names(self):
        return self._wb.sheet_names()

    def read_sheet(self, sheet):
        return self._wb.read_sheet(sheet)

    def apply(self, ops):
        self._wb.apply(ops)
        self._wb.save(backup=False)
        with self.lo.open(self.path) as doc:
            doc.recalc()
            doc.save()
        self.plans += 1
        self._wb = PackageWorkbook.open(self.path)


def test_in_live_excel_a_formula_reading_a_changed_cell_is_checked_as_excel_recomputes_it(tmp_path):
    """Review of seed 31855's fix: in Excel (the Recalculer button) the person's formula is recomputed live,
    yet the tool said FORMULE_SANS_VALEUR (« Ouvrez et enregistrez… ») about it. Now the plan is written, Excel
    recomputes, and the checks read what it shows: the verdict of a file saved after the same run."""
    assert main(["exemple", str(tmp_path)]) == 0
    book, twin = tmp_path / "loiret_2020.xlsx", tmp_path / "fichier.xlsx"
    with lo_calc.start_office(locale="fr-FR", timeout=120) as lo:
        lo.edit(str(book), [("set_number", M, "H5", 999), ("set_formula", M, "K6", "=H5*2")])
        shutil.copy(book, twin)
        before = openpyxl.load_workbook(book, data_only=True)[M]
        live = _LiveCalc(book, lo)
        outcome = run(live, BUTTONS["Recalculer"], today="2024-05-03T10:00:00+02:00")
        assert live.plans == 2  # the recalculation, Excel recomputes K6, then the checks and the rest
        assert main(["recalculer", str(twin)]) == 1
        lo.edit(str(twin), [])  # the file path: the officer opens and saves, the spreadsheet recomputes K6
    errors: dict[str, set] = {}
    for f in outcome.findings:
        if f.severity is Severity.ERREUR:
            errors.setdefault(f.code, set()).add(f.where.cell)
    assert "FORMULE_SANS_VALEUR" not in errors and errors == _errors(twin), (errors, _errors(twin))
    assert openpyxl.load_workbook(book, data_only=True)[M]["K6"].value == 72000  # twice the part put back
    journal = [r for r in openpyxl.load_workbook(book)["Journal"].iter_rows(values_only=True) if r[4] in ("H5", "K6")]
    assert [r[4] for r in journal] == ["H5"] and "à recalculer" not in str(journal), journal
    old = {(ch.bloc, ch.numero, ch.index, ch.column): ch.old for ch in outcome.changes}
    assert len(old) == len(outcome.changes)  # a cell changed by both passes is journaled once
    # the Journal says what the workbook shows: each line's new value, and every cell Recalculer owns (its rule's
    # cells, the sub-totals and the total) that moved — Excel moved G6:I6 between the passes (they read K6)
    after = openpyxl.load_workbook(book, data_only=True)[M]
    lines = {r[4]: r[3] for r in openpyxl.load_workbook(book, data_only=True)["Journal"].iter_rows(values_only=True)
             if r[4] and re.fullmatch(r"[A-Z]+[0-9]+", str(r[4]))}
    table = find_table(book)
    derived = {"parité": ("etat_cd", "etat", "cd"), "libre": ("global", "etat_cd")}
    owned = {ws_ref for r in table.actions for k in derived[table.rules[r]]
             for ws_ref in [f"{openpyxl.utils.get_column_letter(table.cols[k])}{r}"]}
    owned |= {f"{openpyxl.utils.get_column_letter(table.cols[k])}{r}" for r in table.totals
              for k in ("global", "etat_cd", "etat", "cd", "report", "autres")}
    moved = {ref for ref in owned if before[ref].value != after[ref].value}
    assert {"G6", "H6", "I6"} <= moved and moved <= set(lines), (moved - set(lines))
    assert all(after[ref].value == v for ref, v in lines.items() if isinstance(v, (int, float))), \
        {ref: (v, after[ref].value) for ref, v in lines.items() if isinstance(v, (int, float))}


def test_an_array_formula_over_several_cells_is_read_kept_and_made_stale_as_one(tmp_path):
    """Review of seed 31855's fix: only the first cell of an array formula over several cells holds the
    formula in the file; the others were read as typed numbers, so they kept a stale value (and Recalculer
    could write into one, which breaks the array). Now each cell of it is read as the formula: stale together,
    never written, and LibreOffice recomputes the whole array."""
    assert main(["exemple", str(tmp_path)]) == 0
    book = tmp_path / "loiret_2020.xlsx"
    with lo_calc.start_office(locale="fr-FR", timeout=120) as lo:
        lo.edit(str(book), [("set_number", M, "H5", 999), ("set_array_formula", M, "K7:K8", "=H5:H6/100"),
                            ("set_array_formula", M, "H9:H10", "=F9:F10/2")])
        before = {ref: _cell_xml(book, ref) for ref in ("H9", "H10")}
        assert main(["recalculer", str(book)]) == 1
        assert 't="array"' in _cell_xml(book, "K7") and 'ref="K7:K8"' in _cell_xml(book, "K7")
        assert all("<v>" not in _cell_xml(book, ref) for ref in ("K7", "K8"))
        assert {ref: _cell_xml(book, ref) for ref in ("H9", "H10")} == before  # never written into
        assert _errors(book).get("FORMULE_SANS_VALEUR") == {"K7", "K8"}
        lo.edit(str(book), [])  # the officer opens and saves: the array is recomputed
        cells = lo.recalc_and_read(str(book), [M])[M]
    assert "FORMULE_SANS_VALEUR" not in _errors(book)
    assert cells["K7"].value == 360 and cells["K8"].value == cells["H6"].value / 100
    assert openpyxl.load_workbook(book, data_only=True)[M]["K7"].value == 360


def test_an_array_formula_on_a_sub_total_row_is_kept_and_its_value_checked(tmp_path):
    """Review: Recalculer did not write the sub-total cells holding the person's array formula (a write would
    break it), yet checked and journaled them as if it had (« 5,00 → 706 288,50 ») while the file kept 5: the
    value shown is the one checked, and said wrong."""
    assert main(["exemple", str(tmp_path)]) == 0
    book = tmp_path / "loiret_2020.xlsx"
    with lo_calc.start_office(locale="fr-FR", timeout=120) as lo:
        lo.edit(str(book), [("set_array_formula", M, "H15:I15", "=H5:I5*0+5")])
    before = {ref: _cell_xml(book, ref) for ref in ("H15", "I15")}
    journal = list(openpyxl.load_workbook(book)["Journal"].iter_rows(values_only=True))  # the example's own
    assert main(["recalculer", str(book)]) == 1
    assert {ref: _cell_xml(book, ref) for ref in ("H15", "I15")} == before
    assert list(openpyxl.load_workbook(book)["Journal"].iter_rows(values_only=True)) == journal  # nothing said
    errors = _errors(book)
    assert {"H15", "I15"} <= errors.get("SOUS_TOTAL_FAUX", set()), errors
    state = book.read_bytes()
    assert main(["recalculer", str(book)]) == 1 and book.read_bytes() == state  # a second run: nothing
