"""What a person reads besides the annex: the help and the errors of the
command line in French (argparse's own words too), the CSV that opens in
Excel with its accents, a folder given where files are expected, the
terminal table at 80 and 120 columns, titles that follow « Paramètres »,
the Journal and the Contrôles in a finance officer's words, a renumbered
action that keeps its fiche, a duplicated N° whose findings point at their
own rows — and the page setups the workbook carries."""
from __future__ import annotations

import csv
import io
import shutil

import openpyxl
import pytest

from calpae_xl.adapters.xlsx import PackageWorkbook
from calpae_xl.app.render import maquette_table
from calpae_xl.app.session import CONTROLER, FICHES, RECALCULER, process_file, run
from calpae_xl.cli import main
from calpae_xl.core import load_example
from calpae_xl.core.model import Column
from calpae_xl.workbook import layout as L
from tests.helpers.samples import variant, write_variant

ENGLISH = ("usage:", "positional arguments", "optional arguments", "show this help", "error:", "invalid choice",
           "required", "unrecognized", "expected", "choose from", "invalid int")
COMMANDS = ("exemple", "nouveau", "recalculer", "controler", "fiches", "lot", "consolider", "comparer", "pdf",
            "codes")


# --------------------------------------------------------------------------- the command line, in French

@pytest.mark.parametrize("argv", [["--help"], *[[c, "--help"] for c in COMMANDS]])
def test_every_help_is_in_french(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("utilisation : calpae-xl") and "afficher cette aide et quitter" in out
    assert [w for w in ENGLISH if w in out.lower()] == []
    if argv[0] != "--help":  # every argument of a command says what it is
        assert "\n  FICHIER\n" not in out and "\n  DOSSIER\n" not in out


@pytest.mark.parametrize("argv", [[], ["frob"], ["lot"], ["controler", "x.xlsx", "--format", "xml"],
                                  ["nouveau", "x.xlsx", "--annee", "deux"], ["nouveau", "x.xlsx", "--annee"],
                                  ["codes", "--zz"], ["recalculer", "x.xlsx", "--credits-etat", "beaucoup"]])
def test_usage_errors_are_said_in_french(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "utilisation : calpae-xl" in err and " : erreur : " in err
    assert [w for w in ENGLISH if w in err.lower()] == []


def test_controler_csv_opens_in_excel_with_its_accents(tmp_path, capsysbinary):
    src = tmp_path / "tel_quel.xlsx"
    assert main(["nouveau", str(src), "--exemple", "loiret-2020"]) == 0
    capsysbinary.readouterr()
    assert main(["controler", str(src), "--format", "csv"]) == 1
    raw = capsysbinary.readouterr().out
    assert raw.startswith("\ufeff".encode("utf-8"))  # the BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["fichier", "lisible", "code", "gravité", "bloc", "action", "feuille", "cellule", "message",
                       "statut", "réponse", "clé"]
    messages = " ".join(r[rows[0].index("message")] for r in rows[1:])
    assert "État" in messages and "€" in messages and "diffère" in messages


@pytest.mark.parametrize("command, hint", [("controler", "lot"), ("recalculer", "lot"), ("fiches", "lot")])
def test_a_folder_given_for_files_suggests_lot(tmp_path, capsys, command, hint):
    assert main([command, str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "est un dossier" in err and f"calpae-xl {hint} {tmp_path}" in err


@pytest.mark.parametrize("width", [80, 120])
def test_the_terminal_table_fits_and_keeps_every_column(width):
    m = load_example("loiret-2020")
    table = maquette_table(m, width)
    assert max(len(line) for line in table.splitlines()) <= width
    words = " ".join(table.split())
    for c in Column:  # every column, its header whole (wrapped over lines, never cut)
        assert all(w in words for w in c.label.split()), c.label
    assert "Budget État +" in table and "TOTAL" in table
    for a in m.actions:
        assert a.label in table
    assert table.count("3\u00a0386\u00a0702,00") == 1  # the total budget global, once


# --------------------------------------------------------------------------- titles follow Paramètres

def _set(path, sheet, cells):
    wb = openpyxl.load_workbook(path)
    for ref, value in cells.items():
        wb[sheet][ref] = value
    wb.save(path)


def test_titles_follow_parametres_and_an_officers_own_title_is_kept(tmp_path):
    src = tmp_path / "vierge.xlsx"
    assert main(["nouveau", str(src)]) == 0
    wb = openpyxl.load_workbook(src)
    assert wb["Maquette"]["A1"].value == "Maquette financière CALPAE — Département"
    assert wb["Indicateurs"]["A1"].value == "Matrice des indicateurs (article 3 de l'avenant) — Département"
    labels = {c.value: c.row for c in wb["Paramètres"]["A"] if c.value}
    dep = L.a1(labels[L.PARAM_LABELS[L.P_DEPARTEMENT]], L.PARAM_VALUE_COL)
    year = L.a1(labels[L.PARAM_LABELS[L.P_ANNEE]], L.PARAM_VALUE_COL)
    _set(src, "Paramètres", {dep: "Cher", year: 2024})
    assert process_file(str(src), [RECALCULER, CONTROLER], backup=False).lisible
    wb = openpyxl.load_workbook(src)
    assert wb["Maquette"]["A1"].value == "Maquette financière CALPAE — Cher 2024"
    assert wb["Indicateurs"]["A1"].value == "Matrice des indicateurs (article 3 de l'avenant) — Cher 2024"
    assert wb["Contrôles"]["A1"].value == "Contrôles de la maquette — Cher 2024"
    _set(src, "Maquette", {"A1": "Annexe financière du Cher (avenant n°2)"})
    _set(src, "Paramètres", {dep: "Indre"})
    assert process_file(str(src), [RECALCULER, CONTROLER], backup=False).lisible
    wb = openpyxl.load_workbook(src)
    assert wb["Maquette"]["A1"].value == "Annexe financière du Cher (avenant n°2)"  # the officer's: kept
    assert wb["Indicateurs"]["A1"].value.endswith("— Indre 2024")


def test_a_title_without_year_never_ends_with_zero(tmp_path):
    src = tmp_path / "cher.xlsx"
    assert main(["nouveau", str(src), "--departement", "Cher"]) == 0
    wb = openpyxl.load_workbook(src)
    for sheet in ("Maquette", "Indicateurs"):
        assert wb[sheet]["A1"].value.endswith("— Cher"), wb[sheet]["A1"].value


# --------------------------------------------------------------------------- Journal and Contrôles in plain words

@pytest.fixture
def loiret(tmp_path):
    path = tmp_path / "loiret.xlsx"
    write_variant(str(path), variant(), fiches=True)
    return path


def _row_of(ws, label):
    return next(c.row for c in ws["D"] if c.value == label)


def test_an_error_value_replaced_is_said_as_a_french_excel_shows_it(loiret):
    wb = openpyxl.load_workbook(loiret)
    ws = wb["Maquette"]
    ws.cell(_row_of(ws, "Action 2"), L.template_col(Column.PART_ETAT.value)).value = "#VALUE!"
    wb.save(loiret)
    assert process_file(str(loiret), [RECALCULER, CONTROLER], backup=False).lisible
    journal = openpyxl.load_workbook(loiret)["Journal"]
    olds = [journal.cell(r, L.JOURNAL_OLD_COL).value for r in range(L.JOURNAL_FIRST_ROW, journal.max_row + 1)]
    assert "erreur de calcul #VALEUR! (le montant ne pouvait pas être calculé)" in olds
    assert not any("texte « #VALUE! »" in str(v) for v in olds)


def test_an_orphan_fiche_says_what_happened_and_what_to_do(loiret):
    wb = openpyxl.load_workbook(loiret)
    ws = wb["Maquette"]
    ws.delete_rows(_row_of(ws, "Action 7"))
    wb.save(loiret)
    out = run(PackageWorkbook.open(str(loiret)), [CONTROLER], write=False)
    orphan = next(f for f in out.findings if f.code == "FICHE_ORPHELINE")
    assert "« Fiche S 7 » est la fiche de l'action 7 (engagements du socle), qui n'est plus dans la maquette" \
        in orphan.message
    assert "supprimez la feuille" in orphan.message and "nouveau N°" in orphan.message


def test_a_renumbered_action_keeps_its_fiche_and_its_text(loiret):
    wb = openpyxl.load_workbook(loiret)
    ws = wb["Maquette"]
    ws.cell(_row_of(ws, "Action 6"), L.template_col(L.F_NUMERO)).value = "Action 6.1"
    fiche = wb["Fiche S 6"]
    row = next(c.row for c in fiche["A"] if c.value == L.FICHE_ROW_BY_KEY["description"].label)
    fiche.cell(row, 2).value = "Texte saisi par l'agent, à garder."
    wb.save(loiret)
    result = process_file(str(loiret), [RECALCULER, CONTROLER, FICHES], backup=False)
    codes = {c["code"] for c in result.constats}
    assert "FICHE_RENUMEROTEE" in codes and "FICHE_ORPHELINE" not in codes
    assert result.fiches_creees == 0  # no blank fiche beside the old one
    wb = openpyxl.load_workbook(loiret)
    assert "Fiche S 6.1" not in wb.sheetnames
    fiche = wb["Fiche S 6"]
    values = {fiche.cell(r, 1).value: fiche.cell(r, 2).value for r in range(1, fiche.max_row + 1)}
    assert values["Fiche action N°"] == "Action 6.1"
    assert values[L.FICHE_ROW_BY_KEY["description"].label] == "Texte saisi par l'agent, à garder."
    assert fiche["A1"].value.startswith("Fiche action — Action 6.1 — ")


def test_a_duplicated_numero_points_each_finding_at_its_own_row(loiret):
    wb = openpyxl.load_workbook(loiret)
    ws = wb["Maquette"]
    row5, row6 = _row_of(ws, "Action 5"), _row_of(ws, "Action 6")
    ws.cell(row5, L.template_col(L.F_NUMERO)).value = "Action 6"
    ws.cell(row6, L.template_col(Column.PART_ETAT.value)).value = 1  # parity broken on the second « Action 6 »
    ws.cell(row6, L.template_col(L.F_INTITULE)).value = ws.cell(row6, L.template_col(L.F_INTITULE)).value + " (bis)"
    wb.save(loiret)
    out = run(PackageWorkbook.open(str(loiret)), [CONTROLER], write=False)
    numero = L.col_letter(L.template_col(L.F_NUMERO))
    doubles = sorted(f.where.cell for f in out.findings if f.code == "NUMERO_EN_DOUBLE")
    assert doubles == sorted([f"{numero}{row5}", f"{numero}{row6}"])
    parity = [f.where.cell for f in out.findings if f.code == "PARITE_ROMPUE"]
    assert parity == [f"{L.col_letter(L.template_col(Column.PART_ETAT.value))}{row6}"]


# --------------------------------------------------------------------------- the page setups the workbook carries

def test_every_sheet_of_the_tool_carries_its_page_setup(tmp_path):
    assert main(["exemple", str(tmp_path)]) == 0
    path = tmp_path / "loiret_2020.xlsx"
    shutil.copy(path, tmp_path / "copie.xlsx")
    wb = openpyxl.load_workbook(path)
    total = _row_of(wb["Maquette"], L.TOTAL_LABEL)
    expected = {"Maquette": ("landscape", "$4:$4", f"'Maquette'!$A$1:$K${total}"),
                "Contrôles": ("landscape", "$4:$4", None), "Journal": ("portrait", "$4:$4", None),
                "Indicateurs": ("landscape", "$3:$3", None), "Paramètres": ("portrait", None, None),
                "Fiche S 4.2": ("portrait", None, None)}
    for name, (orientation, titles, area) in expected.items():
        ws = wb[name]
        assert ws.page_setup.orientation == orientation and ws.page_setup.paperSize in (9, "9"), name
        assert ws.print_title_rows == titles, name
        assert ws.print_area and (area is None or ws.print_area == area), name
        assert ws.oddFooter.center.text == L.PRINT_FOOTER, name
    assert wb["Fiche S 4.2"].print_area.endswith(f"$B${wb['Fiche S 4.2'].max_row}")  # labels and values only
    ws = wb["Maquette"]
    first = _row_of(ws, "Action 1.1")
    assert ws.row_dimensions[first].height >= 30  # its wrapped thème needs several lines
    ind = wb["Indicateurs"]
    formats = {ind.cell(r, c).number_format for r in range(L.IND_FIRST_ROW, ind.max_row + 1)
               for c in range(L.IND_FIRST_YEAR_COL, L.IND_FIRST_YEAR_COL + 6) if ind.cell(r, c).value is not None}
    assert formats and formats <= {L.IND_INT_FORMAT, L.IND_DEC_FORMAT}


@pytest.mark.parametrize("profil", ["calpae", "cls-2024-2027", "rsa-france-travail-2024"])
def test_the_parametres_titles_fit_the_printed_width(tmp_path, profil):
    """The title and the convention's name do not run past the printed columns (A:B, portrait): they are on
    two lines, each within the columns' width at its font size (a character of 11 pt is one unit of width)."""
    path = tmp_path / "p.xlsx"
    assert main(["nouveau", str(path), "--profil", profil]) == 0
    ws = openpyxl.load_workbook(path)["Paramètres"]
    assert ws.print_area.startswith("'Paramètres'!$A$1:$B$")
    room = sum(ws.column_dimensions[c].width for c in "AB")
    assert ws["A1"].value == "Paramètres de la convention" and ws["A2"].value.startswith(("Convention", "Contrat"))
    for ref in ("A1", "A2"):
        cell = ws[ref]
        assert len(cell.value) * (cell.font.sz or 11) / 11 <= room, (ref, cell.value, room)
    # the lists (thèmes, codes Chorus…): a text longer than its column wraps there, on a row tall enough
    wb = ws.parent
    lists = [c for dn in wb.defined_names.values() for title, ref in dn.destinations if title == "Paramètres"
             for row in ws[ref.replace("$", "")] for c in row if isinstance(c.value, str)]
    assert lists
    long = [c for c in lists if len(c.value) > 1.15 * ws.column_dimensions["A"].width]  # Calibri: 1.15 a unit
    assert long or profil != "calpae"  # the CALPAE thèmes run to 130 characters
    for c in long:
        assert c.alignment.wrap_text and ws.row_dimensions[c.row].height >= 28, (c.coordinate, c.value)


def test_the_consolidation_prints_with_widths_from_its_content(tmp_path):
    folder = tmp_path / "maquettes"
    assert main(["exemple", str(folder)]) == 0
    target = tmp_path / "consolidation.xlsx"
    assert main(["consolider", str(folder), "-o", str(target)]) == 0
    wb = openpyxl.load_workbook(target)
    for ws in (wb[n] for n in wb.sheetnames if n != L.REPORT_MARKER):
        assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$1:$1", ws.title
        assert ws.print_area, ws.title
    fichiers = wb["Fichiers"]
    assert fichiers.column_dimensions["A"].width >= len("loiret_2020.xlsx")  # the file name whole
    themes = wb["Par thème"]
    longest = max(len(str(c.value or "")) for c in themes["A"])
    assert longest > themes.column_dimensions["A"].width  # a thème longer than its (capped) column…
    assert themes["A2"].alignment.wrap_text  # …wraps, and its row is as tall as it needs
    assert any((d.height or 0) > 15 for d in themes.row_dimensions.values())
    # in a sheet where a text wraps, every cell of the body is at the top of its row, as that text
    for ws in (wb["Par thème"], wb["Actions"]):
        assert [c.coordinate for row in ws.iter_rows(min_row=2) for c in row
                if c.value is not None and c.alignment.vertical != "top"] == [], ws.title
    shutil.copy(folder / "loiret_2020.xlsx", tmp_path / "ancien.xlsx")
    ecarts = tmp_path / "ecarts.xlsx"
    assert main(["comparer", str(tmp_path / "ancien.xlsx"), str(folder / "loiret_2020.xlsx"), "-o", str(ecarts)]) == 0
    for ws in (ws for ws in openpyxl.load_workbook(ecarts).worksheets if ws.title != L.REPORT_MARKER):
        assert ws.page_setup.orientation == "landscape" and ws.print_title_rows and ws.print_area, ws.title


def test_a_second_run_writes_the_same_print_settings(tmp_path):
    """The print titles and areas are names of the workbook: a second run
    replaces each where it is (the file is then the same, byte for byte)."""
    import zipfile
    from tests.helpers.annex import build_annex
    path = tmp_path / "annexe.xlsx"
    build_annex(str(path))
    assert process_file(str(path), [RECALCULER, CONTROLER], backup=False).changements  # Journal written
    first = zipfile.ZipFile(path).read("xl/workbook.xml")
    assert b"_xlnm.Print_Area" in first
    assert not process_file(str(path), [RECALCULER, CONTROLER], backup=False).changements  # Journal left alone
    assert zipfile.ZipFile(path).read("xl/workbook.xml") == first


def test_the_look_a_person_gives_their_answers_is_kept(tmp_path):
    """The rows of « Contrôles » are set at the top at each run; the answer columns are the person's: a
    justification they wrapped, a status they centred stay so (found by review of the top alignment)."""
    from openpyxl.styles import Alignment  # noqa: PLC0415
    assert main(["exemple", str(tmp_path)]) == 0
    book = tmp_path / "loiret_2020.xlsx"
    wb = openpyxl.load_workbook(book)
    ws = wb[L.CONTROLES]
    r = L.CONTROLES_FIRST_ROW
    ws.cell(r, L.CONTROLES_ANSWER_COL).alignment = Alignment(wrap_text=True, horizontal="left")
    ws.cell(r, L.CONTROLES_STATUS_COL).alignment = Alignment(horizontal="center")
    wb.save(book)
    assert main(["recalculer", str(book), "--credits-etat", "1201409"]) in (0, 1)
    ws = openpyxl.load_workbook(book)[L.CONTROLES]
    answer, status = ws.cell(r, L.CONTROLES_ANSWER_COL).alignment, ws.cell(r, L.CONTROLES_STATUS_COL).alignment
    assert (answer.wrap_text, answer.horizontal, status.horizontal) == (True, "left", "center")
    assert ws.cell(r, 2).alignment.vertical == "top"  # the tool's own columns: at the top


@pytest.mark.parametrize("extra", [[], ["--exemple", "loiret-2020"]])
def test_a_new_workbook_holds_no_empty_text_cell(tmp_path, extra):
    """A styled blank cell is written without a type: never an empty inline string (<c t="inlineStr"/>),
    which is text of no character where the person sees a blank."""
    import re  # noqa: PLC0415
    import zipfile  # noqa: PLC0415
    path = tmp_path / "n.xlsx"
    assert main(["nouveau", str(path), *extra]) == 0
    with zipfile.ZipFile(path) as z:
        empty = [(name, m.group(0)) for name in z.namelist() if name.startswith("xl/worksheets/")
                 for m in re.finditer(r'<c [^>]*t="inlineStr"[^>]*?(?:/>|>.*?</c>)', z.read(name).decode())
                 if not re.sub(r"<[^>]+>", "", m.group(0))]
    assert empty == []
