"""Invariants that must hold for any input (Hypothesis)."""
from decimal import Decimal as D

from hypothesis import given, settings, strategies as st

from calpae_xl.core import (Action, Chorus, Column, Maquette, Severity, SplitRule, Unreadable, entry, recalculate,
                            run_checks)
from calpae_xl.core.checks import CHECKS, has_errors
from calpae_xl.core.money import amount_from_cell, split_half
from calpae_xl.core.rules import COLUMNS, derive, totals
from tests.helpers.calpae import CALPAE, INITIATIVES, SOCLE  # noqa: F401

cents = st.integers(min_value=0, max_value=10**11).map(lambda c: D(c) / 100)
signed_cents = st.integers(min_value=-10**11, max_value=10**11).map(lambda c: D(c) / 100)
amounts = st.one_of(st.none(), cents, signed_cents,
                    st.text(max_size=12).map(Unreadable), st.sampled_from([Unreadable("n.c."), D(0)]))


@given(signed_cents)
def test_parity_split_adds_up_to_the_cent(amount):
    etat, cd = split_half(amount)
    assert etat + cd == amount
    assert etat == etat.quantize(D("0.01")) and cd == cd.quantize(D("0.01"))
    assert D(0) <= cd - etat <= D("0.01")


@st.composite
def actions(draw, free_amounts=False):
    bloc = draw(st.sampled_from(list(CALPAE.groupes)))
    kw = {c.value: draw(amounts if free_amounts else st.one_of(st.none(), cents)) for c in Column}
    return Action(
        bloc=bloc, numero=draw(st.sampled_from(["1", "1.1", "2", "4.2", "", "x"])),
        intitule=draw(st.text(max_size=20)),
        theme=draw(st.sampled_from(["", "4 - Insertion", "Initiatives locales", "9 -"])),
        chorus=draw(st.one_of(st.none(), st.builds(Chorus, st.sampled_from(
            ["0304 50 19 19 07", "0304 50 19 19 10", "12", "", "0304-50-19-19-99"])))),
        regle=draw(st.sampled_from(list(SplitRule))),
        budget_execute=draw(st.one_of(st.none(), cents)), **kw)


@st.composite
def maquettes(draw, free_amounts=False):
    acts = tuple(draw(st.lists(actions(free_amounts), max_size=8)))
    typed = draw(st.dictionaries(st.sampled_from(list(Column)), amounts, max_size=3)) if free_amounts else {}
    return Maquette("Test", 2020, acts, credits_etat=draw(st.one_of(st.none(), cents)),
                    report_etat_notifie=draw(st.one_of(st.none(), cents)), total_saisi=typed,
                    sous_totaux_saisis={SOCLE: typed}, profile=CALPAE)


@given(st.lists(actions(), max_size=10), st.lists(actions(), max_size=10))
def test_totals_are_additive(left, right):
    a, b, ab = totals(left), totals(right), totals(left + right)
    assert all(ab[c] == a[c] + b[c] for c in COLUMNS)


@settings(max_examples=200)
@given(maquettes())
def test_recalculating_twice_changes_nothing_the_second_time(m):
    once, _ = recalculate(m)
    twice, changes = recalculate(once)
    assert changes == []
    assert twice == once


@settings(max_examples=200)
@given(maquettes())
def test_recalculated_actions_satisfy_both_identities(m):
    fixed, _ = recalculate(m)
    for a in fixed.actions:
        if derive(a) is None:  # driving amount missing: reported as MONTANT_MANQUANT, nothing derived
            continue
        report = a.report or D(0)
        assert a.budget_etat_cd == (a.part_etat or D(0)) + (a.part_cd or D(0)) + report
        assert a.budget_global == a.budget_etat_cd + (a.autres_financeurs or D(0))
    underivable = {a.key for a in fixed.actions if derive(a) is None}
    for f in run_checks(fixed):
        assert f.code not in {"SOUS_TOTAL_FAUX", "TOTAL_FAUX"}
        if f.code in {"IDENTITE_ETAT_CD", "IDENTITE_GLOBAL"}:
            assert (f.where.bloc, f.where.action) in underivable


#: what Recalculer repairs on an action whose split can be derived
REPAIRED = {"IDENTITE_ETAT_CD", "IDENTITE_GLOBAL", "PARITE_ROMPUE", "A_RECALCULER"}


@settings(max_examples=300)
@given(maquettes(free_amounts=True))
def test_no_input_makes_a_check_raise_and_recalculer_repairs_what_it_can(m):
    for check in CHECKS:
        list(check(m))  # each check on its own: no safety net
    fixed, _ = recalculate(m)
    findings = run_checks(fixed)
    assert "CONTROLE_IMPOSSIBLE" not in {f.code for f in findings}
    # keys whose every action (a N° may repeat) has a derivable parity split
    derivable = {a.key for a in fixed.actions} - {a.key for a in fixed.actions
                                                  if derive(a) is None or a.regle is not SplitRule.PARITE}
    for f in findings:
        assert f.severity is entry(f.code).severity
        if f.code in REPAIRED:
            assert (f.where.bloc, f.where.action) not in derivable, f
        assert f.code not in {"SOUS_TOTAL_FAUX", "TOTAL_FAUX"}  # Recalculer rewrites the totals
    assert has_errors(findings) == any(f.severity is Severity.ERREUR for f in findings)


@given(st.one_of(st.none(), st.integers(), st.floats(allow_nan=True), st.text(), st.booleans(), st.decimals()))
def test_any_cell_value_becomes_an_amount_or_unreadable(value):
    out = amount_from_cell(value)
    assert out is None or isinstance(out, (D, Unreadable))
