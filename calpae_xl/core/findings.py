"""Findings: what the checks and the reader say about a maquette.

A finding has a stable code (its gravité comes from the catalogue,
:mod:`calpae_xl.core.catalogue`), a French message and where it points.
Counting and labelling by gravité live here, once.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from enum import Enum
from typing import Iterable, Optional

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
    #: the action's place in the maquette (0-based): tells apart two actions that share a N°
    index: Optional[int] = None


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    where: Where = Where()
    action_label: Optional[str] = None  # the N° as written: "Action 4.2"

    def located(self, sheet: Optional[str], cell: Optional[str]) -> "Finding":
        return replace(self, where=replace(self.where, sheet=sheet, cell=cell))

    def as_dict(self) -> dict:
        """The JSON contract of ``calpae-xl controler --format json``."""
        return {
            "code": self.code,
            "gravite": self.severity.value,
            "bloc": self.where.bloc.value if self.where.bloc else None,
            "action": self.action_label,
            "feuille": self.where.sheet,
            "cellule": self.where.cell,
            "message": self.message,
        }


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Worst first; the order of the checks within a gravité."""
    return sorted(findings, key=lambda f: f.severity.rank)


def count_by_severity(findings: Iterable) -> dict[Severity, int]:
    """Counts per gravité, of findings or of their JSON dicts."""
    c = Counter(f["gravite"] if isinstance(f, dict) else f.severity.value for f in findings)
    return {s: c.get(s.value, 0) for s in Severity}


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity is Severity.ERREUR for f in findings)


def _n(k: int, one: str, many: str) -> str:
    return f"{k} {one if k <= 1 else many}"


def summary_line(findings: Iterable) -> str:
    """'1 erreur, 2 avertissements, 0 information' (findings or their JSON dicts)."""
    c = count_by_severity(findings)
    return ", ".join([_n(c[Severity.ERREUR], "erreur", "erreurs"),
                      _n(c[Severity.AVERTISSEMENT], "avertissement", "avertissements"),
                      _n(c[Severity.INFO], "information", "informations")])
