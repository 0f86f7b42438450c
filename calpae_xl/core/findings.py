"""Findings: what the checks and the reader say about a maquette.

A finding has a stable code (its gravité comes from the catalogue,
:mod:`calpae_xl.core.catalogue`), a French message and where it points.
Counting and labelling by gravité live here, once.

A finding also has an identity that survives the runs (:func:`finding_key`:
code, group, action N°, field — never a row number), by which the
Département's answer to it (a status and a justification, typed in the
Contrôles sheet) follows it from one run to the next.
"""
from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, replace
from enum import Enum
from typing import Iterable, Optional, Sequence

from .model import Bloc


class Severity(str, Enum):
    ERREUR = "erreur"
    AVERTISSEMENT = "avertissement"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def label(self) -> str:
        """As a column of the Contrôles sheet shows it."""
        return _LABEL[self]


_RANK = {Severity.ERREUR: 0, Severity.AVERTISSEMENT: 1, Severity.INFO: 2}
_LABEL = {Severity.ERREUR: "Erreur", Severity.AVERTISSEMENT: "Avertissement", Severity.INFO: "Info"}


@dataclass(frozen=True)
class Where:
    """Where a finding points: in the model (bloc, action, field) and, once read
    from a workbook, in the file (sheet, cell as A1)."""

    bloc: Optional[Bloc] = None
    action: Optional[str] = None  # normalized N°
    field: Optional[str] = None  # a Column value, "chorus", "intitule", a fiche field…
    sheet: Optional[str] = None
    cell: Optional[str] = None
    total: bool = False  # a sub-total (with bloc) or the total (without)
    annee: Optional[int] = None  # the year of a multi-year contract the finding is about (None: the maquette's)
    #: the action's place in the maquette (0-based): tells apart two actions that share a N°
    index: Optional[int] = None


class Status(str, Enum):
    """The Département's answer to a finding (the drop-down of the Contrôles sheet)."""

    A_CORRIGER = "à corriger"
    JUSTIFIE = "justifié"
    ACCEPTE = "accepté par l'État"

    @property
    def closes(self) -> bool:
        """A justified or accepted finding is no longer open."""
        return self is not Status.A_CORRIGER


STATUS_CHOICES = tuple(s.value for s in Status)


def parse_status(text: object) -> Optional[Status]:
    """The status a person typed, whatever its accents and case (« Justifie »,
    « ACCEPTÉE PAR L'ETAT », « a corriger »); None when it says none of them."""
    s = unicodedata.normalize("NFKD", str(text or ""))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower().strip()
    if not s:
        return None
    if s.startswith("justif"):
        return Status.JUSTIFIE
    if s.startswith("accept"):
        return Status.ACCEPTE
    if "corrig" in s:
        return Status.A_CORRIGER
    return None


@dataclass(frozen=True)
class Answer:
    """What the Département typed beside a finding: a status (None when the
    cell is empty), the status as typed when it is none of the three, and a
    justification. A justification without status counts as « justifié »."""

    status: Optional[Status] = None
    text: str = ""
    typed_status: str = ""  # a status cell holding something else than the three choices, kept as typed

    @property
    def effective(self) -> Optional[Status]:
        if self.status is not None:
            return self.status
        if self.text and not self.typed_status:
            return Status.JUSTIFIE
        return Status.A_CORRIGER if self.typed_status else None

    @property
    def empty(self) -> bool:
        return self.status is None and not self.text and not self.typed_status


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    where: Where = Where()
    action_label: Optional[str] = None  # the N° as written: "Action 4.2"
    key: str = ""  # the identity that survives the runs (:func:`with_keys`)
    answer: Optional[Answer] = None  # the Département's answer, carried from run to run

    def located(self, sheet: Optional[str], cell: Optional[str]) -> "Finding":
        return replace(self, where=replace(self.where, sheet=sheet, cell=cell))

    @property
    def status(self) -> Optional[Status]:
        return self.answer.effective if self.answer else None

    @property
    def open(self) -> bool:
        """Not justified nor accepted: still to be dealt with."""
        return self.status is None or not self.status.closes

    def as_dict(self) -> dict:
        """The JSON contract of ``calpae-xl controler --format json`` (see
        calpae_xl/data/rapport.schema.json)."""
        return {
            "code": self.code,
            "gravite": self.severity.value,
            "bloc": group_id(self.where.bloc),
            "action": self.action_label,
            "feuille": self.where.sheet,
            "cellule": self.where.cell,
            "message": self.message,
            "cle": self.key or finding_key(self),
            "statut": self.status.value if self.status else None,
            "reponse": (self.answer.text or None) if self.answer else None,
            "ouvert": self.open,
            "annee": self.where.annee,
        }


def group_id(bloc) -> Optional[str]:
    """The stable identifier of a finding's group (bloc, axe, volet): its
    value ("socle"), whatever the kind of group."""
    if bloc is None:
        return None
    return str(getattr(bloc, "value", bloc))


def finding_key(f: Finding) -> str:
    """A finding's identity: code | group | action N° | field (« total: » for
    a sub-total or the total; « @2025 » for one year of a multi-year contract), and,
    for a finding that points at no action nor
    field (a hidden row, a column header, an orphan fiche), its sheet and
    cell. Never the row of an action: inserting a row above leaves it as it is."""
    w = f.where
    field = ("total:" if w.total else "") + (w.field or "") + (f"@{w.annee}" if w.annee else "")
    key = f"{f.code}|{group_id(w.bloc) or ''}|{w.action or ''}|{field}"
    if not w.action and not w.field and w.sheet:
        key += f"|{w.sheet}!{w.cell or ''}"
    return key


def with_keys(findings: Sequence[Finding]) -> list[Finding]:
    """The findings with their keys; a key met twice (two actions with the same
    N° in a group) gets « #2 », « #3 »… in the findings' order."""
    seen: Counter = Counter()
    out = []
    for f in findings:
        k = finding_key(f)
        seen[k] += 1
        out.append(replace(f, key=k if seen[k] == 1 else f"{k}#{seen[k]}"))
    return out


def with_answers(findings: Sequence[Finding], answers: dict[str, Answer]) -> list[Finding]:
    """The findings with the answers typed beside them (by key)."""
    return [replace(f, answer=answers[f.key]) if f.key in answers and not answers[f.key].empty else f
            for f in findings]


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Worst first; the order of the checks within a gravité."""
    return sorted(findings, key=lambda f: f.severity.rank)


def count_by_severity(findings: Iterable) -> dict[Severity, int]:
    """Counts per gravité, of findings or of their JSON dicts."""
    c = Counter(f["gravite"] if isinstance(f, dict) else f.severity.value for f in findings)
    return {s: c.get(s.value, 0) for s in Severity}


def is_open(f) -> bool:
    """A finding (or its JSON dict) neither justified nor accepted."""
    return f.get("ouvert", True) if isinstance(f, dict) else f.open


def count_open_by_severity(findings: Iterable) -> dict[Severity, int]:
    """Counts per gravité of the findings still open (justified ones left out)."""
    return count_by_severity(f for f in findings if is_open(f))


def count_answered(findings: Iterable) -> int:
    """How many findings are justified or accepted by the State."""
    return sum(1 for f in findings if not is_open(f))


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity is Severity.ERREUR for f in findings)


def has_open_errors(findings: Iterable) -> bool:
    return any(is_open(f) and (f["gravite"] if isinstance(f, dict) else f.severity.value) == Severity.ERREUR.value
               for f in findings)


def _n(k: int, one: str, many: str) -> str:
    return f"{k} {one if k <= 1 else many}"


def summary_line(findings: Iterable) -> str:
    """'1 erreur, 2 avertissements, 0 information' (findings or their JSON
    dicts), and how many of them are justified, when some are."""
    findings = list(findings)
    c = count_by_severity(findings)
    line = ", ".join([_n(c[Severity.ERREUR], "erreur", "erreurs"),
                      _n(c[Severity.AVERTISSEMENT], "avertissement", "avertissements"),
                      _n(c[Severity.INFO], "information", "informations")])
    answered = count_answered(findings)
    if answered:
        line += f" ; {_n(answered, 'constat justifié', 'constats justifiés')}"
    return line
