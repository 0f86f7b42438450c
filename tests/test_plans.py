"""The plans, on an in-memory workbook behind the port (no file, no engine):
what each operation writes, where, and that a second run writes the same."""
from dataclasses import replace
from decimal import Decimal as D

from calpae_xl.app.session import CONTROLER, FICHES, RECALCULER, run
from calpae_xl.app.template import plan_new_workbook
from calpae_xl.core import load_example
from calpae_xl.core.model import Action, Chorus, Column, Maquette, SplitRule
from calpae_xl.workbook import layout as L
from calpae_xl.workbook.port import Formula
from tests.helpers.memory import MemoryWorkbook
from tests.helpers.calpae import CALPAE, INITIATIVES, SOCLE  # noqa: F401

COL = {f: L.template_col(f) for f in L.TEMPLATE_FIELDS}
FIRST = L.MAQUETTE_FIRST_ROW


def new_book(m: Maquette, typed: bool = True) -> MemoryWorkbook:
    wb = MemoryWorkbook()
    wb.apply(plan_new_workbook(m, empty_rows=0, typed=typed))
    return wb


def row_of(wb: MemoryWorkbook, label: str, occurrence: int = 0) -> int:
    rows = sorted(r for (r, c), v in wb.sheets[L.MAQUETTE].items()
                  if c == COL[L.F_NUMERO] and wb.value(L.MAQUETTE, r, c) == label)
    return rows[occurrence]


def test_recalculer_writes_formulas_with_their_values_and_a_journal():
    wb = new_book(load_example())
    out = run(wb, [RECALCULER, CONTROLER])
    r42 = row_of(wb, "Action 4.2")
    cell = wb.sheets[L.MAQUETTE][(r42, COL[Column.PART_ETAT.value])]
    assert isinstance(cell, Formula) and cell.text.startswith("INT(ROUND(")
    assert cell.cached == D("197904.50")
    total = wb.sheets[L.MAQUETTE][(row_of(wb, L.TOTAL_LABEL), COL[Column.PART_ETAT.value])]
    assert isinstance(total, Formula) and total.text.startswith("SUM(") and total.cached == D("1201409.00")
    assert wb.value(L.CONTROLES, L.CONTROLES_VERDICT_ROW, 1) == L.VERDICT_OK
    assert [f.code for f in out.findings if f.severity.value == "erreur"] == []
    # the Journal: one line per change, its cell given
    journal = [wb.value(L.JOURNAL, r, 5) for r in range(L.JOURNAL_FIRST_ROW, L.JOURNAL_FIRST_ROW + len(out.changes))]
    assert f"{L.col_letter(COL[Column.PART_ETAT.value])}{r42}" in journal
    assert len(out.changes) == len(journal) and all(journal)


def test_a_second_run_writes_the_same_cells():
    wb = new_book(load_example())
    run(wb, [RECALCULER, CONTROLER, FICHES])
    before = {s: dict(c) for s, c in wb.sheets.items()}
    out = run(wb, [RECALCULER, CONTROLER, FICHES])
    assert out.changes == [] and out.fiches_created == []
    assert {s: dict(c) for s, c in wb.sheets.items()} == before


def _libre(**kw) -> Action:
    base = dict(bloc=SOCLE, numero="1", libelle_numero="Action 1", intitule="Essai libre",
                theme="4 - Insertion", chorus=Chorus("0304 50 19 19 07"), regle=SplitRule.LIBRE,
                part_etat=D("40"), part_cd=D("60"), report=D("10"), autres_financeurs=D("5"))
    base.update(kw)
    return Action(**base)


def test_the_libre_rule_derives_the_budgets_from_the_typed_parts():
    m = Maquette("Essai", 2020, (_libre(),), credits_etat=D("40"), report_etat_notifie=D("5"))
    wb = new_book(m, typed=False)  # the template writes the libre row's formulas itself
    out = run(wb, [RECALCULER, CONTROLER])
    r = row_of(wb, "Action 1")
    ecd = wb.sheets[L.MAQUETTE][(r, COL[Column.BUDGET_ETAT_CD.value])]
    glob = wb.sheets[L.MAQUETTE][(r, COL[Column.BUDGET_GLOBAL.value])]
    a = L.col_letter
    assert ecd == Formula(f"{a(COL['part_etat'])}{r}+{a(COL['part_cd'])}{r}+{a(COL['report'])}{r}", D("110"))
    assert glob == Formula(f"{a(COL['budget_etat_cd'])}{r}+{a(COL['autres_financeurs'])}{r}", D("115"))
    for col, typed in ((Column.PART_ETAT, D("40")), (Column.PART_CD, D("60")), (Column.REPORT, D("10"))):
        assert wb.sheets[L.MAQUETTE][(r, COL[col.value])] == typed  # inputs untouched
    assert out.maquette.actions[0].regle is SplitRule.LIBRE  # read back from the Répartition column
    assert {f.code for f in out.findings} <= {"INDICATEUR_ABSENT"}


def test_the_libre_rule_is_read_from_the_repartition_column():
    m = Maquette("Essai", 2020, (_libre(part_etat=D("70"), part_cd=D("30")),))
    wb = new_book(m, typed=False)
    out = run(wb, [CONTROLER], write=False)
    assert [f.code for f in out.findings if f.code == "CD_INFERIEUR_ETAT"] == ["CD_INFERIEUR_ETAT"]
    # the same row read as parité (the Répartition cell retyped) is a broken parity instead
    r = row_of(wb, "Action 1")
    wb.sheets[L.MAQUETTE][(r, COL[L.F_REGLE])] = "parité"
    codes = {f.code for f in run(wb, [CONTROLER], write=False).findings}
    assert "PARITE_ROMPUE" in codes and "CD_INFERIEUR_ETAT" not in codes


def test_the_reader_leaves_the_grids_it_is_given_as_they_were():
    m = load_example()
    wb = new_book(m)
    grid = wb.read_sheet(L.MAQUETTE)
    grid.merged.append((FIRST, COL[L.F_THEME], FIRST + 2, COL[L.F_THEME]))
    snapshot = [list(r) for r in grid.values]
    from calpae_xl.workbook.reader import read_table
    read_table(grid, L.MAQUETTE)
    assert grid.values == snapshot


def test_fiches_then_a_renamed_sheet_is_still_found():
    wb = new_book(replace(load_example(), actions=load_example().actions[:2]))
    out = run(wb, [FICHES])
    assert out.fiches_created == ["Fiche S 1.1", "Fiche S 1.2"]
    wb.sheets = {("Ma fiche" if k == "Fiche S 1.1" else k): v for k, v in wb.sheets.items()}
    again = run(wb, [FICHES])
    assert again.fiches_created == [] and "Fiche S 1.1" not in wb.sheets
