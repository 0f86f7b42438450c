"""What a finance officer relies on when the tool writes into a workbook."""
import json

import openpyxl
import pytest

from calpae_xl.adapters.openpyxl_adapter import OpenpyxlWorkbook
from calpae_xl.cli import main
from calpae_xl.workbook.layout import TECH, TECH_ERR_COL, TECH_WARN_COL, highlight_formula
from tests.helpers.compare import diff, snapshot


@pytest.fixture
def loiret_printed(tmp_path):
    """The Loiret maquette as printed (before any Recalculer)."""
    path = tmp_path / "loiret.xlsx"
    assert main(["nouveau", str(path), "--exemple", "loiret-2020"]) == 0
    return path


def _ws(path, sheet="Maquette", data_only=False):
    return openpyxl.load_workbook(path, data_only=data_only)[sheet]


def _row_of(ws, label, bloc_word):
    for row in ws.iter_rows(min_row=5):
        if row[3].value == label and bloc_word in (row[0].value or ""):
            return row[0].row
    raise AssertionError(label)


def _highlighted(path):
    """(erreur keys, avertissement keys) listed in the technical sheet."""
    ws = _ws(path, TECH)
    col = lambda c: {ws.cell(r, c).value for r in range(2, ws.max_row + 1)} - {None}  # noqa: E731
    return col(TECH_ERR_COL), col(TECH_WARN_COL)


def _rules(ws):
    return [(str(cf.sqref), f) for cf in ws.conditional_formatting for r in cf.rules for f in r.formula]


def test_errors_are_highlighted_then_cleared_once_fixed(loiret_printed):
    from calpae_xl.app.session import CONTROLER, run
    r42 = _row_of(_ws(loiret_printed), "Action 4.2", "socle")
    wbk = OpenpyxlWorkbook.open(str(loiret_printed))
    run(wbk, [CONTROLER])  # the Contrôler button: writes the Contrôles sheet and the highlights
    wbk.save()
    errors, warnings = _highlighted(loiret_printed)
    assert f"Maquette!G{r42}" in errors and "Maquette!H27" in errors, errors  # 4.2 and the total
    assert _ws(loiret_printed, TECH).sheet_state == "hidden"
    # the maquette carries the two rules reading those lists, once
    rules = _rules(_ws(loiret_printed))
    assert [f for _, f in rules].count(highlight_formula("Maquette", TECH_ERR_COL)) == 1
    assert [f for _, f in rules].count(highlight_formula("Maquette", TECH_WARN_COL)) == 1
    # fixed by Recalculer: the maquette has no highlighted cell left, the rules stay once
    assert main(["recalculer", str(loiret_printed)]) == 0
    errors, warnings = _highlighted(loiret_printed)
    assert not any(k.startswith("Maquette!") for k in errors | warnings), (errors, warnings)
    assert _rules(_ws(loiret_printed)) == rules


def test_recalculer_twice_gives_the_same_file(loiret_printed, tmp_path):
    assert main(["recalculer", str(loiret_printed)]) == 0
    first = snapshot(loiret_printed, styles=True)
    journal = [c.value for c in _ws(loiret_printed, "Journal")["A"] if c.value]
    assert any("Action 4.2" in str(v) for v in journal)
    assert main(["recalculer", str(loiret_printed)]) == 0
    assert diff(first, snapshot(loiret_printed, styles=True)) == []


def test_sortie_leaves_the_input_untouched(loiret_printed, tmp_path):
    before = loiret_printed.read_bytes()
    out = tmp_path / "sortie"
    assert main(["recalculer", str(loiret_printed), "--sortie", str(out)]) == 0
    assert loiret_printed.read_bytes() == before
    assert (out / loiret_printed.name).exists()
    assert not list(loiret_printed.parent.glob("*.bak.*"))


def test_saved_totals_are_seen_by_programs_reading_values(loiret_printed):
    assert main(["recalculer", str(loiret_printed)]) == 0
    import pandas as pd
    df = pd.read_excel(loiret_printed, sheet_name="Maquette", header=3, engine="openpyxl")
    total = df[df["Fiche action N°"] == "TOTAL"].iloc[0]
    assert total["Participation État"] == pytest.approx(1201409.0)
    from python_calamine import CalamineWorkbook
    rows = CalamineWorkbook.from_path(str(loiret_printed)).get_sheet_by_name("Maquette").to_python()
    tot = next(r for r in rows if r[3] == "TOTAL")
    assert tot[7] == pytest.approx(1201409.0) and tot[5] == pytest.approx(3386702.0)
    ws = _ws(loiret_printed, data_only=True)
    assert ws.cell(_row_of(ws, "Action 4.2", "socle"), 8).value == pytest.approx(197904.5)


def test_fiche_text_survives_regeneration_and_numbers_follow_the_maquette(loiret_printed):
    assert main(["fiches", str(loiret_printed)]) == 1  # the printed figures still carry their erreurs
    wb = openpyxl.load_workbook(loiret_printed)
    fiche = wb["Fiche S 4.2"]
    desc_row = next(c.row for c in fiche["A"] if c.value == "Description de l'action")
    fiche.cell(desc_row, 2).value = "Texte saisi par la cheffe de service."
    ws = wb["Maquette"]
    r42 = _row_of(ws, "Action 4.2", "socle")
    ws.cell(r42, 6).value = 400000  # a new budget global
    ws.cell(r42, 5).value = "Équipe dédiée de référents professionnels"  # and a new intitulé
    wb.save(loiret_printed)
    assert main(["lot", str(loiret_printed.parent), "--processus", "1"]) == 1  # 4.2's new budget: envelope exceeded
    wb = openpyxl.load_workbook(loiret_printed, data_only=True)
    fiche = wb["Fiche S 4.2"]
    assert fiche.cell(desc_row, 2).value == "Texte saisi par la cheffe de service."
    values = {c.value: fiche.cell(c.row, 2).value for c in fiche["A"] if c.value}
    assert values["Part État"] == pytest.approx(200000)
    assert values["Budget global"] == pytest.approx(400000)
    assert fiche["A1"].value == "Fiche action — Action 4.2 — Équipe dédiée de référents professionnels"
    assert fiche["B1"].value is None
    assert values["Intitulé de l'action"] == "Équipe dédiée de référents professionnels"
    assert len([n for n in wb.sheetnames if n.startswith("Fiche ")]) == 20


def test_removed_action_keeps_its_fiche_and_says_so(loiret_printed, capsys):
    assert main(["recalculer", str(loiret_printed)]) == 0
    wb = openpyxl.load_workbook(loiret_printed)
    ws = wb["Maquette"]
    r = _row_of(ws, "Action 9", "Initiatives")
    for c in range(1, 13):
        ws.cell(r, c).value = None
    wb.save(loiret_printed)
    capsys.readouterr()
    main(["controler", str(loiret_printed), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    orphans = [c for c in doc["fichiers"][0]["constats"] if c["code"] == "FICHE_ORPHELINE"]
    assert len(orphans) == 1 and orphans[0]["feuille"] == "Fiche IL 9"
    main(["fiches", str(loiret_printed)])
    assert "Fiche IL 9" in openpyxl.load_workbook(loiret_printed).sheetnames


def test_user_text_beginning_with_equals_stays_text(loiret_printed):
    wb = openpyxl.load_workbook(loiret_printed)
    ws = wb["Maquette"]
    r = _row_of(ws, "Action 3", "Initiatives")
    ws.cell(r, 5).value = "=1+1 n'est pas une formule"
    ws.cell(r, 5).data_type = "s"
    wb.save(loiret_printed)
    assert main(["lot", str(loiret_printed.parent), "--processus", "1"]) == 0
    fiche = openpyxl.load_workbook(loiret_printed)["Fiche IL 3"]
    row = next(c.row for c in fiche["A"] if c.value == "Intitulé de l'action")
    cell = fiche.cell(row, 2)
    assert cell.value == "=1+1 n'est pas une formule" and cell.data_type == "s"


def test_contrôles_sheet_lists_findings_with_links(loiret_printed):
    assert main(["recalculer", str(loiret_printed)]) == 0
    ws = _ws(loiret_printed, "Contrôles")
    assert ws["A2"].value == "Aucune erreur : la maquette peut être transmise."
    assert "0 erreur" in ws["A3"].value and "1 avertissement" in ws["A3"].value
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=5)]
    codes = [r[1] for r in rows]
    assert "FICHE_ECART" in codes
    link = next(r for r in ws.iter_rows(min_row=5) if r[1].value == "FICHE_ECART")[5]
    assert link.value.startswith('=HYPERLINK("#\'Fiche IL 5.2\'!B')
    shown = _ws(loiret_printed, "Contrôles", data_only=True)[link.coordinate].value
    assert shown.startswith("Fiche IL 5.2!B")
    # a second run with fewer findings leaves no line of the first behind
    n_before = sum(1 for r in rows if r[0])
    assert main(["controler", str(loiret_printed)]) == 0  # read-only
    from calpae_xl.app.session import CONTROLER, run
    wbk = OpenpyxlWorkbook.open(str(loiret_printed))
    run(wbk, [CONTROLER])
    wbk.save()
    rows2 = [[c.value for c in r] for r in _ws(loiret_printed, "Contrôles").iter_rows(min_row=5)]
    assert sum(1 for r in rows2 if r[0]) == n_before


def test_exit_status_and_bad_files_in_a_list(loiret_printed, tmp_path, capsys):
    bad = tmp_path / "pas_un_classeur.xlsx"
    bad.write_text("ceci n'est pas un classeur")
    assert main(["controler", str(loiret_printed)]) == 1  # printed figures carry erreurs
    capsys.readouterr()
    assert main(["controler", str(bad), str(loiret_printed), "--format", "json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert [f["lisible"] for f in doc["fichiers"]] == [False, True]
    assert "pas_un_classeur.xlsx" in doc["fichiers"][0]["erreur"]
    assert doc["fichiers"][1]["constats"]
    with pytest.raises(SystemExit) as e:
        main(["controler", str(loiret_printed), "--credits-etat", "1.234"])
    assert e.value.code == 2


def test_lot_processes_a_folder_with_a_broken_file(tmp_path, capsys):
    folder = tmp_path / "lot"
    folder.mkdir()
    for i in range(3):
        assert main(["nouveau", str(folder / f"dep{i}.xlsx"), "--exemple", "loiret-2020"]) == 0
    (folder / "casse.xlsx").write_bytes(b"PK\x03\x04 tronque")
    capsys.readouterr()
    assert main(["lot", str(folder), "--processus", "2", "--format", "csv"]) == 2
    out = capsys.readouterr().out
    assert "casse.xlsx;non;ZIP_ABIME" in out  # the refusal's own code
    for i in range(3):
        names = openpyxl.load_workbook(folder / f"dep{i}.xlsx").sheetnames
        assert sum(n.startswith("Fiche ") for n in names) == 20


def test_lot_with_sortie_keeps_sub_folders_and_same_names_never_overwrite(tmp_path, capsys):
    """Two départements' files may share a name in their own folders: the
    copies keep the folders; named twice on the command line, nothing is
    written and the message says why."""
    from tests.helpers.samples import variant, write_variant
    for dep in ("Cher", "Indre"):
        (tmp_path / "in" / dep).mkdir(parents=True)
        write_variant(str(tmp_path / "in" / dep / "maquette.xlsx"), variant(departement=dep), fiches=False)
    assert main(["lot", str(tmp_path / "in"), "--sortie", str(tmp_path / "out"), "--processus", "1"]) == 0
    for dep in ("Cher", "Indre"):
        title = openpyxl.load_workbook(tmp_path / "out" / dep / "maquette.xlsx")["Maquette"]["A1"].value
        assert dep in title
    capsys.readouterr()
    files = [str(tmp_path / "in" / dep / "maquette.xlsx") for dep in ("Cher", "Indre")]
    assert main(["recalculer", *files, "--sortie", str(tmp_path / "plat")]) == 2
    assert "s'écraseraient" in capsys.readouterr().err and not (tmp_path / "plat").exists()


def test_a_new_file_gets_the_usual_permissions(tmp_path):
    """The atomic save goes through a private temporary file (mode 0600): a new
    workbook must still be readable by the colleagues the umask allows."""
    import os
    path = tmp_path / "nouvelle.xlsx"
    assert main(["nouveau", str(path)]) == 0
    mask = os.umask(0)
    os.umask(mask)
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o666 & ~mask)
