"""The Loiret 2020 annex as printed: the checks find exactly its real slips."""
from collections import Counter
from decimal import Decimal as D

from calpae_xl.core import Column, Severity, recalculate, run_checks
from calpae_xl.core.rules import bloc_totals, grand_total, report_etat_total, totals_by
from tests.helpers.calpae import CALPAE, INITIATIVES, SOCLE  # noqa: F401


def _errors(findings):
    return [f for f in findings if f.severity is Severity.ERREUR]


def test_reference_has_twenty_actions_in_two_blocs(loiret):
    assert len(loiret.actions) == 20
    assert len(loiret.bloc(SOCLE)) == 10 and len(loiret.bloc(INITIATIVES)) == 10
    assert len({a.key for a in loiret.actions}) == 20
    assert loiret.credits_etat == D("1201409") and loiret.report_etat_notifie == D("414442")
    # 4.1, 4.2 and 5 share code 07 (merged cells of the annex)
    codes = {a.numero: a.chorus.suffix for a in loiret.bloc(SOCLE)}
    assert codes["4.1"] == codes["4.2"] == codes["5"] == "07"
    assert {a.chorus.suffix for a in loiret.bloc(INITIATIVES)} == {"10"}


def test_printed_figures_break_exactly_the_known_slips(loiret):
    findings = run_checks(loiret)
    errors = _errors(findings)
    by_code = Counter(f.code for f in errors)
    assert by_code == {"IDENTITE_ETAT_CD": 2, "TOTAL_FAUX": 2, "ENVELOPPE_DEPASSE": 1}
    identity = {(f.where.bloc, f.where.action) for f in errors if f.code == "IDENTITE_ETAT_CD"}
    assert identity == {(SOCLE, "4.2"), (INITIATIVES, "4")}
    assert all("1,00\u00a0€" in f.message for f in errors if f.code == "IDENTITE_ETAT_CD")
    totals = [f for f in errors if f.code == "TOTAL_FAUX"]
    assert {f.where.field for f in totals} == {Column.PART_ETAT.value, Column.PART_CD.value}
    assert all("1\u00a0201\u00a0409,00" in f.message and "1\u00a0201\u00a0410,00" in f.message for f in totals)
    env = next(f for f in errors if f.code == "ENVELOPPE_DEPASSE")
    assert "de 1,00\u00a0€" in env.message
    # no erreur on any other action
    assert {f.where.action for f in errors if f.where.action} == {"4.2", "4"}


def test_fiche_5_2_report_disagrees_with_annex(loiret):
    fiche = [f for f in run_checks(loiret) if f.code == "FICHE_ECART"]
    assert len(fiche) == 1
    f = fiche[0]
    assert (f.where.bloc, f.where.action, f.severity) == (INITIATIVES, "5.2", Severity.AVERTISSEMENT)
    assert "25\u00a0000,00" in f.message and "ne porte pas" in f.message


def test_parity_repairs_the_annex(loiret):
    fixed, changes = recalculate(loiret)
    assert fixed.find(SOCLE, "4.2").part_etat == D("197904.50")
    assert fixed.find(SOCLE, "4.2").part_cd == D("197904.50")
    assert fixed.find(INITIATIVES, "4").part_etat == D("35812.50")
    assert grand_total(fixed)[Column.PART_ETAT] == D("1201409.00") == fixed.credits_etat
    assert report_etat_total(fixed) == D("414442.00")
    assert _errors(run_checks(fixed)) == []
    changed = {(c.bloc, c.numero, c.column) for c in changes if c.numero}
    assert changed == {(SOCLE, "4.2", Column.PART_ETAT), (SOCLE, "4.2", Column.PART_CD),
                       (INITIATIVES, "4", Column.PART_ETAT), (INITIATIVES, "4", Column.PART_CD)}
    old_new = {(c.numero, c.column): (c.old, c.new) for c in changes if c.numero}
    assert old_new[("4.2", Column.PART_ETAT)] == (D("197905"), D("197904.50"))
    # inputs never change
    for before, after in zip(loiret.actions, fixed.actions, strict=True):
        assert (before.budget_global, before.report, before.autres_financeurs) == \
               (after.budget_global, after.report, after.autres_financeurs)


def test_totals_by_bloc_theme_and_chorus(loiret):
    fixed, _ = recalculate(loiret)
    bt = bloc_totals(fixed)
    assert bt[SOCLE][Column.BUDGET_GLOBAL] == D("2166461")
    assert bt[INITIATIVES][Column.AUTRES] == D("155000")
    assert grand_total(fixed)[Column.REPORT] == D("828884")
    chorus = totals_by(fixed, lambda a: a.chorus.normalized)
    assert chorus["0304 50 19 19 07"][Column.BUDGET_GLOBAL] == D("56470") + D("395809") + D("60000")
    assert chorus["0304 50 19 19 10"][Column.BUDGET_GLOBAL] == D("1220241")
    themes = totals_by(fixed, lambda a: a.theme)
    assert sum((t[Column.PART_ETAT] for t in themes.values()), D(0)) == D("1201409")
