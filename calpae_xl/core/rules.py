"""The split rules, the totals, and Recalculer.

The two identities of the maquette (annexe financière of the avenant):

* Budget État + CD = part État + part CD + report N-1;
* Budget global = Budget État + CD + autres financeurs.

Split "parité" (convention, § 2.3: co-financement à parts égales): part État =
part CD = (budget global − autres financeurs − report) / 2 at the cent, and
the report is shared equally too (the State's report is half the column).
Split "100 % État" (a volet the State finances alone): part État = budget
global − autres financeurs − report, part CD = 0. Splits "libre" and "CD au
moins 50 %": the parts are entered (the latter, and "libre" where the
profile says so, require the CD's part not below the State's).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Iterable, Optional

from .model import Action, Bloc, Column, Maquette, SplitRule
from .money import ZERO, Amount, Unreadable, split_half, value_or_zero

COLUMNS = tuple(Column)


@dataclass(frozen=True)
class Change:
    """One value Recalculer changed (old -> new), so that nothing changes silently.
    ``numero`` is None for a sub-total (with its bloc) or for the total."""

    bloc: Optional[Bloc]
    numero: Optional[str]
    column: Column
    old: Amount
    new: Decimal
    label: str = ""
    index: Optional[int] = None  # the action's position in the maquette (a N° may repeat)

    @property
    def what(self) -> str:
        if self.numero is not None:
            return self.label or f"Action {self.numero}"
        if self.bloc is not None:
            return f"Sous-total {self.bloc.label}"
        return "Total"


def report_etat(action: Action) -> Decimal:
    """The State's share of an action's report N-1 (half of the column)."""
    return split_half(value_or_zero(action.report))[0] if _readable(action.report) else ZERO


def _readable(amount: Amount) -> bool:
    return not isinstance(amount, Unreadable)


def inputs_of(rule: SplitRule) -> tuple[Column, ...]:
    """The columns a user types under a rule; the others are derived."""
    if not rule.typed_parts:
        return (Column.BUDGET_GLOBAL, Column.REPORT, Column.AUTRES)
    return (Column.PART_ETAT, Column.PART_CD, Column.REPORT, Column.AUTRES)


def drivers_of(rule: SplitRule) -> tuple[Column, ...]:
    """The typed columns a rule cannot do without (a blank one is MONTANT_MANQUANT)."""
    if not rule.typed_parts:
        return (Column.BUDGET_GLOBAL,)
    return (Column.PART_ETAT, Column.PART_CD)


def derived_of(rule: SplitRule) -> tuple[Column, ...]:
    return tuple(c for c in COLUMNS if c not in inputs_of(rule))


def derive(action: Action) -> Optional[dict[Column, Decimal]]:
    """The derived columns of one action under its rule, or None when an input
    is unreadable or the driving amount is missing (the checks say which)."""
    inputs = {c: action.amount(c) for c in inputs_of(action.regle)}
    if any(isinstance(v, Unreadable) for v in inputs.values()):
        return None
    report = value_or_zero(action.report)
    autres = value_or_zero(action.autres_financeurs)
    if not action.regle.typed_parts:
        if action.budget_global is None:
            return None
        etat_cd = value_or_zero(action.budget_global) - autres
        if action.regle is SplitRule.ETAT_100:
            return {Column.BUDGET_ETAT_CD: etat_cd, Column.PART_ETAT: etat_cd - report, Column.PART_CD: ZERO}
        part_etat, part_cd = split_half(etat_cd - report)
        return {Column.BUDGET_ETAT_CD: etat_cd, Column.PART_ETAT: part_etat, Column.PART_CD: part_cd}
    if action.part_etat is None and action.part_cd is None:
        return None
    etat_cd = value_or_zero(action.part_etat) + value_or_zero(action.part_cd) + report
    return {Column.BUDGET_ETAT_CD: etat_cd, Column.BUDGET_GLOBAL: etat_cd + autres}


def column_sum(actions: Iterable[Action], column: Column) -> Decimal:
    """Sum of a column over readable cells (blank = 0). Unreadable cells are
    left out here and reported by the checks."""
    return sum((value_or_zero(a.amount(column)) for a in actions if _readable(a.amount(column))), ZERO)


def totals(actions: Iterable[Action]) -> dict[Column, Decimal]:
    actions = tuple(actions)
    return {c: column_sum(actions, c) for c in COLUMNS}


def bloc_totals(maquette: Maquette) -> dict[Bloc, dict[Column, Decimal]]:
    """The sub-total of each bloc (one pass over the actions)."""
    groups: dict[Bloc, list[Action]] = {b: [] for b in Bloc}
    for a in maquette.actions:
        groups[a.bloc].append(a)
    return {b: totals(acts) for b, acts in groups.items()}


def grand_total(maquette: Maquette) -> dict[Column, Decimal]:
    return totals(maquette.actions)


def totals_by(maquette: Maquette, key) -> dict[str, dict[Column, Decimal]]:
    """Totals per group, in order of first appearance (key: Action -> str)."""
    groups: dict[str, list[Action]] = {}
    for a in maquette.actions:
        groups.setdefault(key(a), []).append(a)
    return {k: totals(v) for k, v in groups.items()}



def report_etat_total(maquette: Maquette) -> Decimal:
    return sum((report_etat(a) for a in maquette.actions), ZERO)


def recalculate(maquette: Maquette, keep: frozenset = frozenset()) -> tuple[Maquette, list[Change]]:
    """Recalculer: apply each action's split rule, then the sub-totals and the
    total. Inputs are never touched; every derived value that changes is
    returned as a :class:`Change` (old -> new). ``keep``: (action index,
    Column) pairs left as they are although derived (a budget typed under
    « libre », a merged cell): the checks then compare them. Idempotent."""
    changes: list[Change] = []
    actions = []
    for i, a in enumerate(maquette.actions):
        derived = derive(a)
        if derived:
            updates = {}
            for col, new in derived.items():
                if (i, col) in keep:
                    continue
                old = a.amount(col)
                if old != new or not isinstance(old, Decimal):
                    changes.append(Change(a.bloc, a.numero, col, old, new, a.label, i))
                    updates[col.value] = new
            a = replace(a, **updates) if updates else a
        actions.append(a)
    result = replace(maquette, actions=tuple(actions))
    sub = {}
    for bloc, tot in bloc_totals(result).items():
        typed = maquette.sous_totaux_saisis.get(bloc, {})
        if not result.bloc(bloc) and not typed:
            continue
        sub[bloc] = tot
        changes.extend(_total_changes(bloc, typed, tot))
    grand = grand_total(result)
    changes.extend(_total_changes(None, maquette.total_saisi, grand))
    return replace(result, sous_totaux_saisis=sub, total_saisi=grand), changes


def _total_changes(bloc, typed, computed) -> list[Change]:
    out = []
    for col in COLUMNS:
        old = typed.get(col)
        new = computed[col]
        if old != new or not isinstance(old, Decimal):
            out.append(Change(bloc, None, col, old, new))
    return out
