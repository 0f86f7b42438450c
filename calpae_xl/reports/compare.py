"""What an avenant changed: two maquettes compared action by action.

Actions are matched sensibly, not only by N°: the same bloc and N° with a
close intitulé is the same action (retitled if the words changed); an
action whose N° changed but whose intitulé is the same (or very close) in
the same bloc is renumbered; what is left is added or removed. Amounts are
compared per column, with the difference.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Optional

from ..core.model import Action, Bloc, Column, Maquette
from ..core.money import Unreadable, format_eur
from ..core.rules import COLUMNS, grand_total

SAME_TITLE = 0.6  # same N°: above this, the same action (possibly retitled)
RENUMBERED = 0.85  # another N°: above this, the same action renumbered


def _similarity(a: str, b: str) -> float:
    norm = lambda s: " ".join((s or "").lower().split())  # noqa: E731
    return difflib.SequenceMatcher(None, norm(a), norm(b)).ratio()


@dataclass
class AmountChange:
    column: Column
    old: object
    new: object

    @property
    def difference(self) -> Optional[Decimal]:
        """new − old; None when a side is unreadable, or blank where a figure is
        due (a blank report or autres financeurs counts as 0, as in the annex)."""
        def value(v):
            if isinstance(v, Decimal):
                return v
            if v is None and self.column in (Column.REPORT, Column.AUTRES):
                return Decimal(0)
            return None
        o, n = value(self.old), value(self.new)
        return None if o is None or n is None else n - o


@dataclass
class ActionDiff:
    kind: str  # "ajoutée", "supprimée", "modifiée"
    bloc: Bloc
    old: Optional[Action] = None
    new: Optional[Action] = None
    renumbered: bool = False
    retitled: bool = False
    amounts: list[AmountChange] = field(default_factory=list)

    @property
    def label(self) -> str:
        a = self.new or self.old
        return f"{a.label} ({'socle' if self.bloc is Bloc.SOCLE else 'initiatives locales'})"

    def describe(self) -> list[str]:
        """French lines, one per change."""
        if self.kind == "ajoutée":
            a = self.new
            return [f"Action ajoutée : {self.label} — {a.intitule} — budget global {format_eur(a.budget_global)}, "
                    f"part État {format_eur(a.part_etat)}, part CD {format_eur(a.part_cd)}"]
        if self.kind == "supprimée":
            a = self.old
            return [f"Action supprimée : {self.label} — {a.intitule} — budget global "
                    f"{format_eur(a.budget_global)}"]
        out = []
        if self.renumbered:
            out.append(f"Action renumérotée : {self.old.label} → {self.new.label} "
                       f"({'socle' if self.bloc is Bloc.SOCLE else 'initiatives locales'}) — {self.new.intitule}")
        if self.retitled:
            out.append(f"Intitulé modifié : {self.label} : « {self.old.intitule} » → « {self.new.intitule} »")
        for ch in self.amounts:
            d = ch.difference
            diff = f" ({'+' if d is not None and d > 0 else ''}{format_eur(d)})" if d is not None else ""
            out.append(f"Montant modifié : {self.label}, {ch.column.label} : {format_eur(ch.old)} → "
                       f"{format_eur(ch.new)}{diff}")
        return out


@dataclass
class Comparison:
    old: Maquette
    new: Maquette
    actions: list[ActionDiff]

    @property
    def changed(self) -> list[ActionDiff]:
        return [d for d in self.actions if d.kind != "modifiée" or d.renumbered or d.retitled or d.amounts]

    def envelope(self) -> tuple[Optional[Decimal], Optional[Decimal]]:
        """The sum of the parts État before and after; None for a side where a
        part État is unreadable or blank (the sum would be wrong)."""
        def total(m: Maquette) -> Optional[Decimal]:
            if any(not isinstance(a.part_etat, Decimal) for a in m.actions):
                return None
            return grand_total(m)[Column.PART_ETAT]
        return total(self.old), total(self.new)

    def lines(self) -> list[str]:
        out = []
        for d in self.changed:
            out += d.describe()
        before, after = self.envelope()
        if before is None or after is None:
            out.append(f"Enveloppe (somme des parts État) : {_sum_or_why(before)} → {_sum_or_why(after)}")
        else:
            out.append(f"Enveloppe (somme des parts État) : {format_eur(before)} → {format_eur(after)} "
                       f"({'+' if after > before else ''}{format_eur(after - before)})")
        if self.old.credits_etat != self.new.credits_etat:
            out.append(f"Crédits État notifiés : {format_eur(self.old.credits_etat)} → "
                       f"{format_eur(self.new.credits_etat)}")
        return out


def _cell(v: object) -> object:
    """An amount in the comparison workbook: the number, or what the cell held when it is no number."""
    if isinstance(v, Unreadable):
        return f"« {v.raw} » (illisible)"
    return v


def _sum_or_why(total: Optional[Decimal]) -> str:
    return format_eur(total) if total is not None else "non calculable (une part État est vide ou illisible)"


def _amount_changes(old: Action, new: Action) -> list[AmountChange]:
    return [AmountChange(c, old.amount(c), new.amount(c)) for c in COLUMNS if old.amount(c) != new.amount(c)]


def compare(old: Maquette, new: Maquette) -> Comparison:
    left = list(old.actions)
    right = list(new.actions)
    pairs: list[tuple[Action, Action]] = []

    def take(match) -> None:
        for a in list(left):
            candidates = [(match(a, b), i) for i, b in enumerate(right)]
            candidates = [(s, i) for s, i in candidates if s is not None]
            if candidates:
                s, i = max(candidates)
                pairs.append((a, right.pop(i)))
                left.remove(a)

    def same_slot(a: Action, b: Action) -> Optional[float]:
        """1. same bloc and N°, close intitulé (or the same amounts: only the words changed)."""
        if a.key != b.key:
            return None
        s = _similarity(a.intitule, b.intitule)
        return s if s >= SAME_TITLE or not _amount_changes(a, b) else None

    def renumbered(a: Action, b: Action) -> Optional[float]:
        """2. same bloc, another N°, the same (or nearly the same) intitulé."""
        if a.bloc is not b.bloc:
            return None
        s = _similarity(a.intitule, b.intitule)
        return s if s >= RENUMBERED else None

    take(same_slot)
    take(renumbered)
    # 3. same bloc and N° left on both sides: the same slot, retitled
    take(lambda a, b: 1.0 if a.key == b.key else None)
    diffs = []
    for a, b in pairs:
        diffs.append(ActionDiff("modifiée", b.bloc, a, b, renumbered=a.numero != b.numero,
                                retitled=" ".join(a.intitule.split()) != " ".join(b.intitule.split()),
                                amounts=_amount_changes(a, b)))
    diffs += [ActionDiff("supprimée", a.bloc, old=a) for a in left]
    diffs += [ActionDiff("ajoutée", b.bloc, new=b) for b in right]
    order = {a.key: i for i, a in enumerate(new.actions)}
    order_old = {a.key: i for i, a in enumerate(old.actions)}
    diffs.sort(key=lambda d: (d.bloc is not Bloc.SOCLE, order.get(d.new.key, 10**6) if d.new else
                              order_old.get(d.old.key, 10**6)))
    return Comparison(old, new, diffs)


def rows(c: Comparison) -> list[list]:
    """The comparison as a table: one line per change."""
    out = [list(HEADERS)]
    for d in c.changed:
        base = [d.bloc.label, d.old.label if d.old else "", d.new.label if d.new else "",
                (d.new or d.old).intitule]
        if d.kind in ("ajoutée", "supprimée"):
            a = d.new or d.old
            g = a.budget_global if isinstance(a.budget_global, Decimal) else None
            out.append([f"Action {d.kind}", *base, Column.BUDGET_GLOBAL.label,
                        g if d.kind == "supprimée" else None, g if d.kind == "ajoutée" else None,
                        (g if d.kind == "ajoutée" else -g) if g is not None else None])
            continue
        if d.renumbered:
            out.append(["Action renumérotée", *base, "", None, None, None])
        if d.retitled:
            out.append(["Intitulé modifié", *base, "Intitulé", d.old.intitule, d.new.intitule, None])
        for ch in d.amounts:
            out.append(["Montant modifié", *base, ch.column.label, _cell(ch.old), _cell(ch.new), ch.difference])
    before, after = c.envelope()
    out.append(["Enveloppe", "", "", "", "Somme des parts État" if before is not None and after is not None else
                "Somme des parts État : non calculable (une part État est vide ou illisible)",
                Column.PART_ETAT.label, before, after,
                after - before if before is not None and after is not None else None])
    return out


HEADERS = ("Nature", "Bloc", "N° ancien", "N° nouveau", "Intitulé", "Colonne", "Ancienne valeur",
           "Nouvelle valeur", "Écart")
SHEET = "Écarts"


def plan(c: Comparison, old_name: str, new_name: str) -> list:
    """The comparison workbook as a plan (one sheet, « Écarts »)."""
    from .tables import marker_ops, table_ops  # noqa: PLC0415
    table = rows(c)
    note = f"{len(c.changed)} action(s) concernée(s)." if c.changed else "Aucune différence entre les actions."
    return table_ops(SHEET, table[0], table[1:], money=HEADERS[6:], before_rows=[
        [f"Écarts entre « {old_name} » et « {new_name} »"], [note]]) + marker_ops()


def write_workbook(c: Comparison, path: str, old_name: str, new_name: str) -> None:
    """Write the comparison workbook at ``path`` (the save frame places it)."""
    from ..adapters.openpyxl_adapter import OpenpyxlWorkbook  # noqa: PLC0415
    wb = OpenpyxlWorkbook.new(path)
    wb.apply(plan(c, old_name, new_name))
    wb.save(backup=False, replace=True)
