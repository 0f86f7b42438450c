"""The reader says when it is unsure: the seed's annex, changed as files
really arrive (a header over two rows, a column missing or twice, an amount
merged over two actions, a formula without stored value, amounts below the
total, two maquettes, odd amounts). Each case: read right, or an error
finding naming what is wrong — never a partial read with a clean verdict."""
import datetime as dt
from decimal import Decimal

import openpyxl
import pytest

from calpae_xl.adapters.xlsx import PackageWorkbook
from calpae_xl.app.session import CONTROLER, RECALCULER, run
from calpae_xl.core import Severity, entry
from calpae_xl.core.model import Column
from tests.helpers.annex import HEADER_ROW, SHEET, build_annex

CREDITS = dict(credits=Decimal("1201409"), report=Decimal("414442"))
COL = {"numero": 4, "global": 6, "etat_cd": 7, "etat": 8, "cd": 9, "report": 10, "autres": 11}


def annex(tmp_path, edit=None, name="annexe.xlsx"):
    """The seed's annex as typed (see tests/helpers/annex.py), changed by ``edit(wb, ws, rows)``."""
    path = tmp_path / name
    rows = build_annex(str(path))
    if edit:
        wb = openpyxl.load_workbook(path)
        edit(wb, wb[SHEET], rows)
        wb.save(path)
    return path


def codes(path, ops=(CONTROLER,)) -> dict[str, list]:
    """code -> [(sheet, cell)] of every finding on the file."""
    out = run(PackageWorkbook.open(str(path)), list(ops), write=False, **CREDITS)
    found: dict[str, list] = {}
    for f in out.findings:
        found.setdefault(f.code, []).append((f.where.sheet, f.where.cell))
    return found


def two_row_header(wb, ws, rows):
    """"Participation" merged above "Etat" / "CD", as PDF-to-Excel exports give
    it; the other headers merged over the two rows."""
    for c in range(2, 12):
        if c not in (COL["etat"], COL["cd"]):
            ws.cell(HEADER_ROW - 1, c, ws.cell(HEADER_ROW, c).value)
            ws.cell(HEADER_ROW, c).value = None
            ws.merge_cells(start_row=HEADER_ROW - 1, start_column=c, end_row=HEADER_ROW, end_column=c)
    ws.cell(HEADER_ROW - 1, COL["etat"], "Participation")
    ws.merge_cells(start_row=HEADER_ROW - 1, start_column=COL["etat"], end_row=HEADER_ROW - 1, end_column=COL["cd"])
    ws.cell(HEADER_ROW, COL["etat"], "Etat")
    ws.cell(HEADER_ROW, COL["cd"], "CD")


def no_cd_column(wb, ws, rows):
    ws.cell(HEADER_ROW, COL["cd"], "Divers")


def cd_twice(wb, ws, rows):
    ws.cell(HEADER_ROW, 12, "Participation CD")


def merged_amount(wb, ws, rows):
    """The budget global of 1.1 merged over 1.1 and 1.2 (as a person merges two equal cells)."""
    r = rows[("socle", "Action 1.1")]
    ws.cell(r + 1, COL["global"]).value = None
    ws.merge_cells(start_row=r, start_column=COL["global"], end_row=r + 1, end_column=COL["global"])


def formula_without_value(wb, ws, rows):
    """A formula saved by a program (openpyxl): no stored result."""
    ws.cell(rows[("socle", "Action 1.1")], COL["global"], "=40000*2")


def rows_below_total(wb, ws, rows):
    r = rows["total"] + 2
    ws.cell(r, COL["numero"], "Action 10")
    ws.cell(r, COL["global"], 5000)


def second_maquette(wb, ws, rows):
    copy = wb.copy_worksheet(ws)
    copy.title = "Maquette 2021"


def odd_amounts(wb, ws, rows):
    ws.cell(rows[("socle", "Action 1.1")], COL["report"], 100.005)  # a fraction of a cent
    ws.cell(rows[("socle", "Action 1.2")], COL["autres"], 6e16)  # beyond any convention
    ws.cell(rows[("socle", "Action 1.3")], COL["report"], dt.datetime(2020, 5, 4))  # a date
    ws.cell(rows[("socle", "Action 2")], COL["autres"], "#DIV/0!")


def theme_totals(wb, ws, rows):
    """A "Total thème 4" line among the actions, as some annexes carry."""
    r = rows[("socle", "Action 4.1")]
    ws.cell(r, COL["numero"], "Total thème 4")  # replaces the action 4.1 (its amounts stay: a total's)
    ws.cell(r, 5).value = None


def hidden_row(wb, ws, rows):
    ws.row_dimensions[rows[("socle", "Action 2")]].hidden = True


def twin_sheets(wb, ws, rows):
    """A program wrote « notes » and « NOTES »: Excel would repair the file."""
    wb.create_sheet("notes")
    wb.create_sheet("notes2")._WorkbookChild__title = "NOTES"  # openpyxl itself would rename it « NOTES1 »


CASES = {
    # case: (edit, codes that must be there — with no other error)
    "en-tête sur deux lignes": (two_row_header, {"IDENTITE_ETAT_CD", "TOTAL_FAUX", "ENVELOPPE_DEPASSE"}),
    "colonne CD absente": (no_cd_column, {"COLONNE_ABSENTE"}),
    "colonne CD en double": (cd_twice, {"COLONNE_EN_DOUBLE"}),
    "montant fusionné sur deux actions": (merged_amount, {"MONTANT_FUSIONNE"}),
    "formule sans valeur": (formula_without_value, {"FORMULE_SANS_VALEUR"}),
    "lignes sous le total": (rows_below_total, {"LIGNES_APRES_TOTAL"}),
    "deux maquettes": (second_maquette, {"PLUSIEURS_MAQUETTES"}),
    "total d'un thème": (theme_totals, {"TOTAL_INTERMEDIAIRE", "SOUS_TOTAL_FAUX"}),
    "ligne masquée": (hidden_row, {"LIGNE_MASQUEE"}),
    "feuilles homonymes": (twin_sheets, {"FEUILLES_HOMONYMES"}),
    "montants étranges": (odd_amounts, {"MONTANT_SOUS_CENTIME", "MONTANT_DEMESURE", "MONTANT_ILLISIBLE"}),
}


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    return codes(annex(tmp_path_factory.mktemp("plain")))


@pytest.mark.parametrize("case", CASES)
def test_the_reader_says_what_it_is_unsure_of(case, tmp_path, plain):
    edit, expected = CASES[case]
    found = codes(annex(tmp_path, edit))
    assert expected <= set(found), (case, sorted(found))
    # never a clean verdict on a file read with doubts (a hidden row is read whole: said, not an error)
    # (nor a twin sheet name: the maquette is read whole; said, for Excel would repair the file)
    assert any(entry(c).severity is Severity.ERREUR for c in expected) or case in ("ligne masquée",
                                                                                   "feuilles homonymes")


def test_a_header_over_two_rows_reads_the_same_as_on_one(tmp_path, plain):
    """The seed's slips found the same way: the two-row header is no excuse for « Aucune erreur »."""
    assert codes(annex(tmp_path, two_row_header)) == plain


def test_a_merged_amount_is_counted_nowhere_and_never_written(tmp_path):
    path = annex(tmp_path, merged_amount)
    found = codes(path)
    assert sorted(c for _, c in found["MONTANT_FUSIONNE"]) == ["F6", "F7"]  # both actions told
    out = run(wb := PackageWorkbook.open(str(path)), [RECALCULER, CONTROLER], **CREDITS)
    wb.save()
    ws = openpyxl.load_workbook(path)[SHEET]
    assert ws["F7"].value is None and "F6:F7" in {str(m) for m in ws.merged_cells.ranges}
    assert not any(ch.column.value == "budget_global" and ch.numero in ("1.1", "1.2") for ch in out.changes)


def test_a_missing_column_is_never_a_clean_verdict(tmp_path):
    found = codes(annex(tmp_path, no_cd_column), (RECALCULER, CONTROLER))
    assert "COLONNE_ABSENTE" in found and found["COLONNE_ABSENTE"] == [(SHEET, "B5")]


SIMPLE_HEADERS = ["Bloc", "Thème", "Imputation Chorus", "Fiche action N°", "Intitulé de l'action", "Budget global",
                  "Budget Etat + CD", "Participation Etat", "Participation CD", "Report N-1", "Autres financeurs"]
C07, C10 = "0304 50 19 19 07", "0304 50 19 19 10"


def simple(tmp_path, rows, name="simple.xlsx"):
    """A small maquette typed from scratch: one row per list (None: a blank cell)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Annexe"
    ws.append(SIMPLE_HEADERS)
    for r in rows:
        ws.append(r)
    wb.save(tmp_path / name)
    return tmp_path / name


@pytest.mark.parametrize("label", ["TOTAL SOCLE", "Sous-total du socle", "Total thème 4"])
def test_total_lines_of_a_bloc_or_a_theme_never_stop_the_reading(tmp_path, label):
    path = simple(tmp_path, [
        ["Engagements du socle", "4 - Insertion", C07, "Action 1", "A", 100000, 100000, 50000, 50000],
        [None, None, None, label, None, 100000, 100000, 50000, 50000],
        ["Initiatives locales (hors socle)", "Initiatives locales", C10, "Action 2", "B", 20000, 20000, 10000, 10000],
        [None, None, None, "TOTAL", None, 120000, 120000, 60000, 60000]])
    out = run(PackageWorkbook.open(str(path)), [CONTROLER], write=False, credits=Decimal(60000), report=Decimal(0))
    assert [(a.numero, a.bloc.value) for a in out.maquette.actions] == [("1", "socle"), ("2", "initiatives")]
    errors = [f.code for f in out.findings if f.severity is Severity.ERREUR]
    assert errors == [], errors


@pytest.mark.parametrize("column", ["global", "etat_cd", "etat", "cd", "report", "autres"])
def test_a_missing_amount_column_is_never_read_as_zeros(column, tmp_path, plain, capsys):
    """A column whose header is not recognised is not a column of zeros: the
    checks that need it are not made (COLONNE_ABSENTE says so), so no finding
    is invented from it, and the consolidation does not count it."""
    from calpae_xl.reports.consolidate import read_file  # noqa: PLC0415

    def rename(wb, ws, rows):
        ws.cell(HEADER_ROW, COL[column], "Divers")

    path = annex(tmp_path, rename)
    found = codes(path)
    assert "COLONNE_ABSENTE" in found
    said = {(c, cell) for c, cells in plain.items() for cell in cells}
    invented = {(c, cell) for c, cells in found.items() for cell in cells if (c, cell) not in said
                and c not in ("COLONNE_ABSENTE", "CONTROLE_INCOMPLET") and entry(c).severity is not Severity.INFO}
    assert not invented, (column, sorted(invented))
    # what Recalculer would write: nothing (a formula with 0 for the missing column would move figures)
    out = run(PackageWorkbook.open(str(path)), [RECALCULER, CONTROLER], write=False, **CREDITS)
    assert not out.changes, [(ch.numero, ch.column.value) for ch in out.changes]
    rec = read_file(str(path))
    assert rec.non_comptes >= len(rec.actions) > 0  # the column's amounts: not counted, said so
    # the comparison with the file as it was says the column was not found, not an amount of « »
    from calpae_xl.reports.compare import compare  # noqa: PLC0415
    before = run(PackageWorkbook.open(str(annex(tmp_path, name="avant.xlsx"))), [CONTROLER], write=False).maquette
    comparison = compare(before, run(PackageWorkbook.open(str(path)), [CONTROLER], write=False).maquette)
    lines = comparison.lines()
    label = {"global": Column.BUDGET_GLOBAL, "etat_cd": Column.BUDGET_ETAT_CD, "etat": Column.PART_ETAT,
             "cd": Column.PART_CD, "report": Column.REPORT, "autres": Column.AUTRES}[column].label
    assert [line for line in lines if "non trouvée" in line and not line.startswith("Enveloppe")] == [
        f"Colonne « {label} » non trouvée dans le nouveau fichier : ses montants ne sont pas comparés"], lines
    # (once, not once per action; the envelope, when it cannot be given, says the column is why)
    envelope = next(line for line in lines if line.startswith("Enveloppe"))
    assert "non calculable" not in envelope or "colonne" in envelope, envelope
    from calpae_xl.reports.compare import rows  # noqa: PLC0415
    assert [r for r in rows(comparison) if label in r and r[0] != "Enveloppe"] == [
        ["Colonne non trouvée", "", "", "", "Non trouvée dans le nouveau fichier : montants non comparés", label,
         None, None, None]]
    # « no difference » is said of the columns compared only, in the text and in the workbook
    from calpae_xl.cli import main  # noqa: PLC0415
    capsys.readouterr()
    ecarts = tmp_path / "ecarts" / "e.xlsx"
    main(["comparer", str(tmp_path / "avant.xlsx"), str(path), "-o", str(ecarts)])
    out = capsys.readouterr().out
    assert "aucune différence entre les actions dans les colonnes comparées." in out and \
        f"Colonne « {label} » non trouvée" in out, out
    notes = [r[0] for r in openpyxl.load_workbook(ecarts)["Écarts"].iter_rows(max_row=3, values_only=True)]
    assert "Aucune différence entre les actions dans les colonnes comparées." in notes, notes
    # consolidated with the file as it was: the totals say they are incomplete (exit 1), never complete
    from calpae_xl.cli import main  # noqa: PLC0415
    capsys.readouterr()
    assert main(["consolider", str(tmp_path), "-o", str(tmp_path / "conso" / "c.xlsx"),
                 "--html", str(tmp_path / "conso" / "c.html")]) == 1
    said = capsys.readouterr()
    assert "Totaux incomplets : des montants vides, illisibles ou calculés à partir de tels montants n'y sont " \
           "pas comptés" in said.out + said.err
    par_bloc = openpyxl.load_workbook(tmp_path / "conso" / "c.xlsx")["Par bloc"]
    rows = list(par_bloc.iter_rows(values_only=True))
    assert rows[-1][0] == "TOTAL (incomplet)" and rows[-1][rows[0].index("Montants non comptés")] == rec.non_comptes
    # the page says it too, on the lines whose sums miss amounts, and how many
    page = (tmp_path / "conso" / "c.html").read_text(encoding="utf-8")
    for table in ("table-par-bloc", "table-par-theme", "table-par-departement"):
        html = page[page.index(f'<table id="{table}"'):]
        html = html[:html.index("</table>")]
        assert "<th>Montants non comptés</th>" in html, table
        total = html[html.index('<tr class="total">'):]
        assert "TOTAL (incomplet)" in total and f'data-non-comptes="{rec.non_comptes}"' in total, table


def test_an_array_formula_whose_other_cells_the_file_does_not_hold_is_no_blank(tmp_path):
    """Review: openpyxl (and other programs) write an array formula over several cells in its first cell only.
    Its other cells were read as blank — an autres financeurs read as 0 while Excel shows a figure. Every cell of
    it is a formula without value (FORMULE_SANS_VALEUR), never a blank, and Recalculer writes none of them."""
    from openpyxl.worksheet.formula import ArrayFormula  # noqa: PLC0415

    def array(wb, ws, rows):
        r = rows[("socle", "Action 1.2")]
        ws.cell(r, COL["autres"]).value = ArrayFormula(f"K{r}:K{r + 1}", f"=H{r}:H{r + 1}/100")
        ws.cell(r + 1, COL["autres"]).value = None

    path = annex(tmp_path, array)
    found = codes(path)
    assert sorted(cell for _s, cell in found["FORMULE_SANS_VALEUR"]) == ["K7", "K8"], found["FORMULE_SANS_VALEUR"]
    out = run(PackageWorkbook.open(str(path)), [RECALCULER, CONTROLER], write=False, **CREDITS)
    assert not [ch for ch in out.changes if ch.index in (1, 2) and ch.column is Column.AUTRES]


def test_overlapping_array_formulas_are_refused_not_read_for_ever(tmp_path):
    """Review: a few thousand array formulas each claiming the whole sheet made reading quadratic (minutes for a
    small file). Arrays cannot overlap: such a file is refused, by both readers, with a message naming it."""
    from openpyxl.worksheet.formula import ArrayFormula  # noqa: PLC0415
    from calpae_xl.adapters.openpyxl_adapter import OpenpyxlWorkbook  # noqa: PLC0415
    from calpae_xl.errors import UnreadableFile  # noqa: PLC0415
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in range(1, 3001):
        ws.cell(r, 1).value = ArrayFormula("A1:ALL99999", "=1")
        ws.cell(r, 2).value = r
    path = tmp_path / "matrices.xlsx"
    wb.save(path)
    for reader in (PackageWorkbook, OpenpyxlWorkbook):
        with pytest.raises(UnreadableFile) as e:
            book = reader.open(str(path))
            book.read_sheet(book.sheet_names()[0])
        assert e.value.code == "FEUILLE_DEMESUREE" and "matrices.xlsx" in str(e.value), (reader, e.value)
