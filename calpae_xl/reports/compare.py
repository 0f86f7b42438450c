"""What an avenant changed: two maquettes compared action by action.

Actions are matched sensibly, not only by N°: the same bloc and N° with a
close intitulé is the same action (retitled if the words changed); an
action whose N° changed but whose intitulé is the same (or very close) in
the same bloc is renumbered; what is left is added or removed. Amounts are
compared per column, with the difference.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Optional, Sequence, Union

from ..core.checks import absent as column_absent
from ..core.checks import blank_due, not_known
from ..core.findings import Finding, Severity, finding_key, group_id
from ..core.model import Action, Bloc, Column, Maquette
from ..core.profile import groups_of
from ..core.money import ABSENT, Unreadable, format_eur
from ..core.rules import COLUMNS, derive, derived_of, grand_total, inputs_of

SAME_TITLE = 0.6  # same N°: above this, the same action (possibly retitled)
RENUMBERED = 0.85  # another N°: above this, the same action renumbered

#: a part the rule computes from a blank or unreadable amount: no figure, whichever program saved the file last
#: (LibreOffice keeps what it computed from the blank as 0, the tool keeps no value; checks.not_known)
NOT_COMPUTED = Unreadable("non calculable", "non_calcule")


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
            return None if v is not None or blank_due(v, self.column) else Decimal(0)
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
        return f"{a.label} ({self.bloc.nom})"

    def describe(self) -> list[str]:
        """French lines, one per change."""
        if self.kind == "ajoutée":
            a = self.new
            v = _amounts(a)
            return [f"Action ajoutée : {self.label} — {a.intitule} — budget global "
                    f"{_eur(v[Column.BUDGET_GLOBAL])}, part État {_eur(v[Column.PART_ETAT])}, part CD "
                    f"{_eur(v[Column.PART_CD])}"]
        if self.kind == "supprimée":
            a = self.old
            return [f"Action supprimée : {self.label} — {a.intitule} — budget global "
                    f"{_eur(a.budget_global)}"]
        out = []
        if self.renumbered:
            out.append(f"Action renumérotée : {self.old.label} → {self.new.label} "
                       f"({self.bloc.nom}) — {self.new.intitule}")
        if self.retitled:
            out.append(f"Intitulé modifié : {self.label} : « {self.old.intitule} » → « {self.new.intitule} »")
        for ch in self.amounts:
            d = ch.difference
            diff = f" ({'+' if d is not None and d > 0 else ''}{format_eur(d)})" if d is not None else ""
            out.append(f"Montant modifié : {self.label}, {ch.column.label} : {_eur(ch.old)} → "
                       f"{_eur(ch.new)}{diff}")
        return out


@dataclass
class Comparison:
    old: Maquette
    new: Maquette
    actions: list[ActionDiff]
    annee: Optional[int] = None  # one year of two multi-year contracts: said before each line
    #: the amount columns not found in a file (side: "ancien", "nouveau" or both): said once, not compared
    absent: dict[Column, str] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return f"{self.annee} — " if self.annee else ""

    @property
    def changed(self) -> list[ActionDiff]:
        return [d for d in self.actions if d.kind != "modifiée" or d.renumbered or d.retitled or d.amounts]

    def envelope(self) -> tuple[Optional[Decimal], Optional[Decimal]]:
        """The sum of the parts État before and after; None for a side where a
        part État is unreadable or blank (the sum would be wrong)."""
        def total(m: Maquette) -> Optional[Decimal]:
            # a part État the spreadsheet computed from a blank or unreadable amount is no figure either: the
            # sum would depend on which program saved the file last
            if any(not isinstance(a.part_etat, Decimal) or not_known(a, Column.PART_ETAT) for a in m.actions):
                return None
            return grand_total(m)[Column.PART_ETAT]
        return total(self.old), total(self.new)

    def envelope_why(self) -> str:
        """Why the sum of the parts État is not given, side by side: a column
        not found is said as such, never as a blank or unreadable part."""
        before, after = self.envelope()
        reasons = []
        for m, value, side in ((self.old, before, "l'ancien fichier"), (self.new, after, "le nouveau fichier")):
            if value is not None:
                continue
            if any(column_absent(a, Column.PART_ETAT) for a in m.actions):
                why = f"colonne « {Column.PART_ETAT.label} » non trouvée"
            elif any(column_absent(a, c) for a in m.actions for c in inputs_of(a.regle)
                     if not_known(a, Column.PART_ETAT)):
                why = "une part État est calculée à partir d'une colonne non trouvée"
            else:
                why = "une part État est vide ou illisible, ou calculée à partir d'un montant vide ou illisible"
            reasons.append((side, why))
        if len(reasons) == 2 and reasons[0][1] == reasons[1][1]:
            return f"non calculable ({reasons[0][1]}, dans les deux fichiers)"
        return "non calculable (" + " ; ".join(f"{why}, dans {side}" for side, why in reasons) + ")"

    def lines(self) -> list[str]:
        return [self.prefix + line for line in self._lines()]

    def _lines(self) -> list[str]:
        out = [f"Colonne « {c.label} » non trouvée dans {SIDES[side]} : ses montants ne sont pas comparés"
               for c, side in self.absent.items()]
        for d in self.changed:
            out += d.describe()
        before, after = self.envelope()
        if before is None or after is None:
            shown = [format_eur(v) if v is not None else "non calculable" for v in (before, after)]
            out.append(f"Enveloppe (somme des parts État) : {shown[0]} → {shown[1]} — {self.envelope_why()}")
        else:
            out.append(f"Enveloppe (somme des parts État) : {format_eur(before)} → {format_eur(after)} "
                       f"({'+' if after > before else ''}{format_eur(after - before)})")
        for label, before, after in self.parameters():
            out.append(f"{label} : {format_eur(before)} → {format_eur(after)}")
        return out

    def parameters(self) -> list[tuple[str, Optional[Decimal], Optional[Decimal]]]:
        """The notified amounts (article 2) that changed: (label, before, after)."""
        out = []
        for label, attr in (("Crédits État notifiés", "credits_etat"), ("Report N-1 État notifié",
                                                                         "report_etat_notifie")):
            before, after = getattr(self.old, attr), getattr(self.new, attr)
            if before != after:
                out.append((label, before, after))
        return out

    def renumbered(self) -> dict[tuple[str, str], str]:
        """(group, old N°) -> new N° of the actions the avenant renumbered."""
        return {(group_id(d.bloc), d.old.numero): d.new.numero for d in self.actions
                if d.kind == "modifiée" and d.renumbered}


# --- findings: new, still open, resolved, justified ------------------------------------------------

NEW, STILL_OPEN, RESOLVED, JUSTIFIED = "nouveau", "toujours ouvert", "résolu", "justifié"
FINDING_KINDS = (NEW, STILL_OPEN, JUSTIFIED, RESOLVED)
KIND_LABELS = {NEW: "Constat nouveau", STILL_OPEN: "Constat toujours ouvert", RESOLVED: "Constat résolu",
               JUSTIFIED: "Constat justifié"}


@dataclass
class FindingDiff:
    kind: str
    finding: Finding  # the new version's, or the old one's for a resolved finding
    existed: bool = False  # a justified finding: was it there before?

    def describe(self) -> str:
        f = self.finding
        where = f" ({f.where.sheet}!{f.where.cell})" if f.where.sheet and f.where.cell else ""
        text = f"{KIND_LABELS[self.kind]} : [{f.severity.value}] {f.code} — {f.message}{where}"
        if self.kind == JUSTIFIED:
            answer = f.answer.text if f.answer and f.answer.text else ""
            text += f" — {f.status.value if f.status else ''}" + (f" : {answer}" if answer else "")
            text += "" if self.existed else " (nouveau)"
        return text


def _followed_key(f: Finding, renumbered: dict[tuple[str, str], str]) -> str:
    """An old finding's key in the new version's numbering (an action renumbered keeps its findings)."""
    base = finding_key(f)
    suffix = f.key[len(base):] if f.key.startswith(base) else ""
    moved = renumbered.get((group_id(f.where.bloc), f.where.action or ""))
    if moved is not None:
        base = finding_key(replace(f, where=replace(f.where, action=moved)))
    return base + suffix


def compare_findings(old: Sequence[Finding], new: Sequence[Finding], comparison: Optional["Comparison"] = None
                     ) -> list[FindingDiff]:
    """The findings of two versions (of one file, or two avenants), by identity:
    new, still open, justified (or accepted) in the new version, resolved."""
    renumbered = comparison.renumbered() if comparison else {}
    before = {_followed_key(f, renumbered): f for f in old}
    now = {f.key for f in new}
    out = []
    for f in new:
        if not f.open:
            out.append(FindingDiff(JUSTIFIED, f, f.key in before))
        else:
            out.append(FindingDiff(STILL_OPEN if f.key in before else NEW, f, f.key in before))
    out += [FindingDiff(RESOLVED, f, True) for k, f in before.items() if k not in now]
    order = {k: i for i, k in enumerate(FINDING_KINDS)}
    return sorted(out, key=lambda d: (order[d.kind], d.finding.severity.rank))


def finding_lines(diffs: Sequence[FindingDiff]) -> list[str]:
    """What the terminal shows: the counts, then each finding (the informations
    still open are only counted: they are in the workbook)."""
    counts = {k: sum(1 for d in diffs if d.kind == k) for k in FINDING_KINDS}
    plural = {NEW: "nouveaux", STILL_OPEN: "toujours ouverts", JUSTIFIED: "justifiés", RESOLVED: "résolus"}
    out = ["Constats : " + ", ".join(f"{counts[k]} {plural[k] if counts[k] > 1 else k}" for k in FINDING_KINDS) + "."]
    quiet = [d for d in diffs if d.kind == STILL_OPEN and d.finding.severity is Severity.INFO]
    out += [d.describe() for d in diffs if d not in quiet]
    if quiet:
        out.append(f"(et {len(quiet)} information(s) toujours ouverte(s), détaillées dans le classeur des écarts)")
    return out


def _amounts(a: Action) -> dict[Column, object]:
    """An action's amounts as compared: a part its rule computes from a blank
    or unreadable amount is NOT_COMPUTED, whatever value the file keeps there."""
    # (an input in a column not found is said once, for the whole file: the parts the spreadsheet computed from
    # it stand; a blank or unreadable input makes its action's derived parts « non calculable » all the same)
    found = replace(a, **{c.value: Decimal(0) for c in inputs_of(a.regle) if column_absent(a, c)})
    uncomputed = derived_of(a.regle) if derive(found) is None else ()
    return {c: NOT_COMPUTED if c in uncomputed else a.amount(c) for c in COLUMNS}


def _eur(v: object) -> str:
    return "non calculable" if v == NOT_COMPUTED else format_eur(v)


def _cell(v: object) -> object:
    """An amount in the comparison workbook: the number, or what the cell held when it is no number."""
    if v == NOT_COMPUTED:
        return "non calculable (calculé à partir d'un montant vide ou illisible)"
    if isinstance(v, Unreadable):
        return format_eur(v) if v.reason == ABSENT else f"« {v.raw} » (illisible)"
    return v


SIDES = {"ancien": "l'ancien fichier", "nouveau": "le nouveau fichier", "les deux": "les deux fichiers"}


def _absent(m: Maquette) -> set[Column]:
    """The amount columns the reader did not find in ``m`` (every action's amount there is « absent »)."""
    return {c for c in COLUMNS if m.actions and all(column_absent(a, c) for a in m.actions)}


def _amount_changes(old: Action, new: Action, skip: frozenset = frozenset()) -> list[AmountChange]:
    before, after = _amounts(old), _amounts(new)
    return [AmountChange(c, before[c], after[c]) for c in COLUMNS if c not in skip and before[c] != after[c]]


def compare_years(old: Sequence[Maquette], new: Sequence[Maquette]) -> list[Comparison]:
    """Two multi-year contracts (or two yearly maquettes), year by year: the
    years both have, each compared as two maquettes."""
    if len(old) == 1 and len(new) == 1:
        return [compare(old[0], new[0])]
    by_year = {m.annee: m for m in new}
    return [compare(m, by_year[m.annee], annee=m.annee) for m in old if m.annee in by_year]


def compare(old: Maquette, new: Maquette, annee: Optional[int] = None) -> Comparison:
    left = list(old.actions)
    right = list(new.actions)
    pairs: list[tuple[Action, Action]] = []
    gone, missing = _absent(old), _absent(new)
    absent = {c: "les deux" if c in gone and c in missing else "ancien" if c in gone else "nouveau"
              for c in COLUMNS if c in gone | missing}
    skip = frozenset(absent)

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
        return s if s >= SAME_TITLE or not _amount_changes(a, b, skip) else None

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
                                amounts=_amount_changes(a, b, skip)))
    diffs += [ActionDiff("supprimée", a.bloc, old=a) for a in left]
    diffs += [ActionDiff("ajoutée", b.bloc, new=b) for b in right]
    order = {a.key: i for i, a in enumerate(new.actions)}
    order_old = {a.key: i for i, a in enumerate(old.actions)}
    groups = list(groups_of(new))
    diffs.sort(key=lambda d: (groups.index(d.bloc) if d.bloc in groups else len(groups),
                              order.get(d.new.key, 10**6) if d.new else
                              order_old.get(d.old.key, 10**6)))
    return Comparison(old, new, diffs, annee, absent)


def rows(c: Union[Comparison, Sequence[Comparison]]) -> list[list]:
    """The comparison as a table: one line per change (a contract: year by
    year, the year before the nature of each line)."""
    if not isinstance(c, Comparison):
        out = [list(HEADERS)]
        for one in c:
            out += rows(one)[1:]
        return out
    table = _rows(c)
    return [table[0]] + [[c.prefix + r[0], *r[1:]] for r in table[1:]]


def _rows(c: Comparison) -> list[list]:
    out = [list(HEADERS)]
    for col, side in c.absent.items():
        out.append(["Colonne non trouvée", "", "", "", f"Non trouvée dans {SIDES[side]} : montants non comparés",
                    col.label, None, None, None])
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
                "Somme des parts État : " + c.envelope_why(),
                Column.PART_ETAT.label, before, after,
                after - before if before is not None and after is not None else None])
    for label, old_v, new_v in c.parameters():
        out.append(["Paramètre modifié", "", "", "", label, "Paramètres", old_v, new_v,
                    new_v - old_v if old_v is not None and new_v is not None else None])
    return out


FINDING_HEADERS = ("Évolution", "Gravité", "Code", "Bloc", "Action", "Message", "Statut", "Réponse / justification",
                   "Déjà présent", "Cellule", "Identifiant du constat")
FINDING_SHEET = "Constats"


def finding_rows(diffs: Sequence[FindingDiff]) -> list[list]:
    out = []
    for d in diffs:
        f = d.finding
        out.append([d.kind, f.severity.value, f.code, f.where.bloc.label if f.where.bloc else "",
                    f.action_label or "", f.message, f.status.value if f.status else "",
                    f.answer.text if f.answer and f.answer.text else "", "oui" if d.existed else "non",
                    f"{f.where.sheet}!{f.where.cell}" if f.where.sheet and f.where.cell else (f.where.sheet or ""),
                    f.key])
    return out


HEADERS = ("Nature", "Bloc", "N° ancien", "N° nouveau", "Intitulé", "Colonne", "Ancienne valeur",
           "Nouvelle valeur", "Écart")
SHEET = "Écarts"


def plan(c: Union[Comparison, Sequence[Comparison]], old_name: str, new_name: str,
         findings: Optional[Sequence[FindingDiff]] = None, notes: Sequence[str] = ()) -> list:
    """The comparison workbook as a plan: « Écarts » (actions, amounts,
    envelope, notified parameters) and, with ``findings``, « Constats »
    (new, still open, justified, resolved). ``notes``: lines under the title
    (what each file is: unchanged since its check or not)."""
    from .tables import marker_ops, table_ops  # noqa: PLC0415
    table = rows(c)
    each = [c] if isinstance(c, Comparison) else list(c)
    changed = sum(len(one.changed) for one in each)
    note = f"{changed} action(s) concernée(s)." if changed else "Aucune différence entre les actions" + (
        " dans les colonnes comparées." if any(one.absent for one in each) else ".")
    title = f"Écarts entre « {old_name} » et « {new_name} »"
    ops = table_ops(SHEET, table[0], table[1:], money=HEADERS[6:], before_rows=[
        [title], [note], *[[n] for n in notes]])
    if findings is not None:
        lines = finding_lines(findings)
        ops += table_ops(FINDING_SHEET, FINDING_HEADERS, finding_rows(findings), before_rows=[[title], [lines[0]]])
    return ops + marker_ops()


def write_workbook(c: Union[Comparison, Sequence[Comparison]], path: str, old_name: str, new_name: str,
                   findings: Optional[Sequence[FindingDiff]] = None, notes: Sequence[str] = ()) -> None:
    """Write the comparison workbook at ``path`` (the save frame places it)."""
    from ..adapters.openpyxl_adapter import OpenpyxlWorkbook  # noqa: PLC0415
    wb = OpenpyxlWorkbook.new(path)
    wb.apply(plan(c, old_name, new_name, findings, notes))
    wb.save(backup=False, replace=True)
