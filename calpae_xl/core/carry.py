"""From one year to the next: what a maquette carries into the following one.

The credits a year did not consume come back as the next year's report N-1
(CALPAE avenants, article 2: « report N-1 »; contrats locaux des solidarités:
the contract's years within « montants annuels plafonds constants »): per
action, at the cent, the State's unconsumed share is part État − budget
exécuté État (the State's share of the execution, in proportion of its share of
the budget global),
and the report column is built from it by the action's split rule (the State's
half under parité, all of it under « 100 % État »). An action whose execution
is not known gets no report: it is said, never taken as zero.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Optional

from .checks import executed_etat
from .model import Action, Fiche, Maquette
from .money import ZERO, format_eur
from .rules import report_column_for


@dataclass(frozen=True)
class YearExecution:
    """One action's year, as the execution follow-up lists it."""

    annee: int
    groupe: str
    numero: str
    intitule: str
    budget_global: Optional[Decimal]
    part_etat: Optional[Decimal]
    part_cd: Optional[Decimal]
    budget_execute: Optional[Decimal]
    execute_etat: Optional[Decimal]
    non_consomme_etat: Optional[Decimal]
    report_suivant: Optional[Decimal]  # the report column it gives the next year (None: not computed)
    note: str = ""

    @property
    def taux(self) -> Optional[Decimal]:
        """Budget exécuté / budget global (None when either is unknown or the budget is 0)."""
        if self.budget_execute is None or not self.budget_global:
            return None
        return (self.budget_execute / self.budget_global).quantize(Decimal("0.0001"))


@dataclass(frozen=True)
class Carry:
    """The report one action of the next year receives, and why."""

    index: int  # the action's position in the maquette
    action: Action
    report: Optional[Decimal]  # None: not computed (execution unknown, amounts unreadable)
    why: str


def _dec(v) -> Optional[Decimal]:
    return v if isinstance(v, Decimal) else None


def carry_of(a: Action, annee: int) -> tuple[Optional[Decimal], str, YearExecution]:
    """The report column the action gives the next year, the explanation, and its line of follow-up."""
    part_etat, spent = _dec(a.part_etat), executed_etat(a)
    report: Optional[Decimal] = None
    left: Optional[Decimal] = None
    if part_etat is None:
        why = f"part État {annee} vide ou illisible : report non calculé"
    elif spent is None:
        why = f"budget exécuté {annee} non renseigné (fiche) : report non calculé"
    else:
        left = max(part_etat - spent, ZERO)  # executed_etat never exceeds the part État
        report = report_column_for(left, a.regle)
        rule = "100 % État : la colonne entière" if a.regle.value == "100 % État" else \
            f"{a.regle.value} : part État ×2"
        why = (f"part État {annee} {format_eur(part_etat)} − exécuté État {format_eur(spent)} = "
               f"{format_eur(left)} non consommés ; colonne report ({rule}) = {format_eur(report)}")
    line = YearExecution(annee, a.bloc.label, a.numero, a.intitule, _dec(a.budget_global), part_etat,
                         _dec(a.part_cd), a.budget_execute, spent, left, report,
                         "" if report is not None else why)
    return report, why, line


def follow_up(m: Maquette) -> list[YearExecution]:
    """The year's execution, one line per action."""
    return [carry_of(a, m.annee)[2] for a in m.actions]


def carries(m: Maquette) -> list[Carry]:
    """What each action of ``m`` gives the following year."""
    out = []
    for i, a in enumerate(m.actions):
        report, why, _line = carry_of(a, m.annee)
        out.append(Carry(i, a, report, why))
    return out


def next_year(m: Maquette) -> tuple[Maquette, list[Carry]]:
    """The following year's maquette of a yearly convention: the same
    actions, thèmes, imputations, rules, fiches' text and indicators; no
    amount but the report (the new avenant's amounts are typed by the
    officer; the envelope is notified by the State)."""
    new_year = m.annee + 1 if m.annee else 0
    out = carries(m)
    actions = []
    for c in out:
        a = c.action
        fiche = replace(a.fiche, budget=None) if isinstance(a.fiche, Fiche) else a.fiche
        actions.append(replace(a, budget_global=None, budget_etat_cd=None, part_etat=None, part_cd=None,
                               report=c.report, autres_financeurs=None, budget_execute=None,
                               periode_execution="", ventilation=(), fiche=fiche))
    new = replace(m, annee=new_year, actions=tuple(actions), credits_etat=None, report_etat_notifie=None,
                  credits_groupes={}, sous_totaux_saisis={}, total_saisi={})
    return new, out
