"""Beyond one workbook: consolidation across départements and years, the
comparison of two versions, the annex as PDF."""
import shutil
from dataclasses import replace
from decimal import Decimal

import openpyxl
import pytest

from calpae_xl.cli import main
from calpae_xl.reports.compare import compare
from calpae_xl.core.model import Action, Column
from calpae_xl.core.rules import grand_total
from tests.helpers.samples import variant, write_variant
from tests.helpers.calpae import CALPAE, INITIATIVES, SOCLE  # noqa: F401

MODELS = {
    "loiret_2020.xlsx": variant(),
    "cher_2021.xlsx": variant(departement="Cher", annee=2021, scale=0.37),
    "loiret_2021.xlsx": variant(n_actions=27, annee=2021, scale=1.1),
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("departements")
    for name, m in MODELS.items():
        write_variant(str(d / name), m, fiches=False)
    (d / "casse.xlsx").write_bytes(b"PK\x03\x04 ceci n'est pas un classeur")
    return d


def test_consolidation_totals_are_the_sums_of_the_files(folder, tmp_path, capsys):
    target = tmp_path / "consolidation.xlsx"
    assert main(["consolider", str(folder), "-o", str(target), "--csv", str(tmp_path / "csv"),
                 "--processus", "2"]) == 2  # one file is unreadable: said, not hidden
    out = capsys.readouterr().out
    assert "casse.xlsx" in out and "illisible" in out
    assert "Totaux incomplets : 1 fichier(s) illisible(s) n'y sont pas comptés." in out
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames[:2] == ["Fichiers", "Actions"]
    want = {c: sum((grand_total(m)[c] for m in MODELS.values()), Decimal(0)) for c in
            (Column.PART_ETAT, Column.PART_CD, Column.REPORT, Column.AUTRES, Column.BUDGET_GLOBAL)}
    for sheet in ("Par bloc", "Par thème", "Par code Chorus", "Par département"):
        ws = wb[sheet]
        headers = [c.value for c in ws[1]]
        # the unreadable file is not in the sums, so the total says it is incomplete
        total = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == "TOTAL (incomplet)")
        lines = [r for r in ws.iter_rows(min_row=2, values_only=True) if not str(r[0]).startswith("TOTAL")]
        for c, v in want.items():
            j = headers.index(c.label)
            assert Decimal(str(total[j])).quantize(Decimal("0.01")) == v, (sheet, c)
            assert sum(Decimal(str(r[j] or 0)) for r in lines).quantize(Decimal("0.01")) == v, (sheet, c)
    actions = list(wb["Actions"].iter_rows(min_row=2, values_only=True))
    assert len(actions) == sum(len(m.actions) for m in MODELS.values())
    head = [c.value for c in wb["Fichiers"][1]]
    files = {r[0]: dict(zip(head, r, strict=True)) for r in wb["Fichiers"].iter_rows(min_row=2, values_only=True)}
    assert files["casse.xlsx"]["Lisible"] == "non" and "casse.xlsx" in files["casse.xlsx"]["Motif"]
    assert files["loiret_2020.xlsx"]["Enveloppe utilisée"] == pytest.approx(1.0000, abs=1e-4)  # 1 € over
    assert files["loiret_2020.xlsx"]["Erreurs"] >= 1  # its erreurs are counted
    assert wb["Par thème"]._charts, "a native chart of the parts by thème"
    csv = (tmp_path / "csv" / "par_bloc.csv").read_text(encoding="utf-8-sig")
    assert csv.splitlines()[0].startswith("Bloc;") and ",00" in csv


def _printed(tmp_path, name, m):
    path = tmp_path / name
    write_variant(str(path), m, fiches=False)
    return path


def test_comparison_reports_exactly_one_changed_amount_and_one_added_action(tmp_path, capsys):
    old = variant()
    a11 = old.actions[0]
    new_action = Action(INITIATIVES, "10", "Garage solidaire", theme=old.actions[-1].theme,
                        chorus=old.actions[-1].chorus, budget_global=Decimal(50000), budget_etat_cd=Decimal(50000),
                        part_etat=Decimal(25000), part_cd=Decimal(25000), libelle_numero="Action 10")
    new = replace(old, actions=(replace(a11, report=Decimal(1000)),) + old.actions[1:] + (new_action,))
    result = compare(old, new)
    assert [(d.kind, d.label, [c.column for c in d.amounts]) for d in result.changed] == [
        ("modifiée", "Action 1.1 (socle)", [Column.REPORT]),
        ("ajoutée", "Action 10 (initiatives locales)", [])]
    # the same through the command, on workbooks, with the sheet
    p_old, p_new = _printed(tmp_path, "avenant2.xlsx", old), _printed(tmp_path, "avenant3.xlsx", new)
    target = tmp_path / "ecarts.xlsx"
    assert main(["comparer", str(p_old), str(p_new), "-o", str(target)]) == 0
    out = capsys.readouterr().out
    assert "Report N-1 : 0,00\u00a0€ → 1\u00a0000,00\u00a0€ (+1\u00a0000,00\u00a0€)" in out
    assert "Action ajoutée : Action 10 (initiatives locales) — Garage solidaire" in out
    # under the title, the note and what each file is (two lines), the header row, then the changes
    rows = [r for r in openpyxl.load_workbook(target)["Écarts"].iter_rows(min_row=6, values_only=True)]
    natures = [r[0] for r in rows]
    assert natures == ["Montant modifié", "Action ajoutée", "Enveloppe"]
    assert rows[-1][8] == pytest.approx(25000)


def test_renumbered_and_retitled_actions_are_matched_not_added(tmp_path):
    old = variant()
    acts = list(old.actions)
    acts[1] = replace(acts[1], numero="1.9", libelle_numero="Action 1.9")  # renumbered, same intitulé
    acts[2] = replace(acts[2], intitule=acts[2].intitule + " (élargi)")  # retitled, same N°
    result = compare(old, replace(old, actions=tuple(acts)))
    kinds = [(d.kind, d.renumbered, d.retitled) for d in result.changed]
    assert kinds == [("modifiée", True, False), ("modifiée", False, True)]
    assert "Action renumérotée : Action 1.2 → Action 1.9" in "\n".join(result.lines())


def test_identical_files_compare_clean(tmp_path, capsys):
    p = _printed(tmp_path, "a.xlsx", variant())
    q = tmp_path / "b.xlsx"
    shutil.copy(p, q)
    assert main(["comparer", str(p), str(q)]) == 0
    assert "aucune différence" in capsys.readouterr().out


def test_pdf_of_the_annex_shows_the_totals_in_french(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    src = tmp_path / "loiret_2020.xlsx"
    assert main(["exemple", str(tmp_path)]) == 0
    target = tmp_path / "annexe.pdf"
    assert main(["pdf", str(src), "-o", str(target)]) == 0
    reader = pypdf.PdfReader(str(target))
    text = "\n".join(p.extract_text() for p in reader.pages)
    flat = " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())
    assert "1 201 409,00 €" in flat  # the total of the parts État, French format
    assert "3 386 702,00 €" in flat  # the total budget global
    assert "Action 4.2 : Mise en place d'une équipe" in flat  # the fiches follow the maquette
    assert "calpae_technique" not in flat and "Cellules en erreur" not in flat
    assert len(reader.pages) >= 22  # the maquette (2 pages) and the 20 fiches (some over two pages)
