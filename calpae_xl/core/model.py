"""The budget model of one convention year: the maquette financière and its fiches.

Pure data (frozen dataclasses); the rules live in :mod:`rules`, the checks in
:mod:`checks`. Identity of an action is (bloc, N°): the Loiret 2020 annex has
an "Action 4" in the socle and another in the initiatives locales.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Mapping, Optional

from .money import Amount


class Bloc(str, Enum):
    SOCLE = "socle"
    INITIATIVES = "initiatives"

    @property
    def label(self) -> str:
        return BLOC_LABELS[self]


BLOC_LABELS = {
    Bloc.SOCLE: "Engagements du socle",
    Bloc.INITIATIVES: "Initiatives locales",
}


class SplitRule(str, Enum):
    """How the parts État / CD of an action are obtained (a profile says which
    rules its groups allow, and each group's default)."""

    PARITE = "parité"  # derived: both halves of (global - autres - report), the odd cent to the CD
    CD_MAJORITAIRE = "CD au moins 50 %"  # parts typed; the CD's part is not below the State's
    ETAT_100 = "100 % État"  # derived: the State pays (global - autres - report), the CD nothing
    LIBRE = "libre"  # parts typed (the profile may require CD ≥ État, as the CALPAE does)

    @property
    def typed_parts(self) -> bool:
        """Whether the officer types the parts (else they are derived from the budget global)."""
        return self in (SplitRule.CD_MAJORITAIRE, SplitRule.LIBRE)


class Column(str, Enum):
    """The amount columns of the maquette, in the annex's order."""

    BUDGET_GLOBAL = "budget_global"
    BUDGET_ETAT_CD = "budget_etat_cd"
    PART_ETAT = "part_etat"
    PART_CD = "part_cd"
    REPORT = "report"
    AUTRES = "autres_financeurs"

    @property
    def label(self) -> str:
        return COLUMN_LABELS[self]


COLUMN_LABELS = {
    Column.BUDGET_GLOBAL: "Budget global de l'action",
    Column.BUDGET_ETAT_CD: "Budget État + CD",
    Column.PART_ETAT: "Participation État",
    Column.PART_CD: "Participation CD",
    Column.REPORT: "Report N-1",
    Column.AUTRES: "Participation d'autres financeurs",
}


@dataclass(frozen=True)
class Chorus:
    """An imputation Chorus: the code (e.g. '0304 50 19 19 07') and its label."""

    code: str
    libelle: str = ""

    @property
    def normalized(self) -> str:
        return normalize_chorus(self.code)

    @property
    def suffix(self) -> str:
        """The last group, which names the mesure ('10' = initiatives locales)."""
        digits = re.sub(r"\D", "", self.code)
        return digits[-2:] if len(digits) >= 2 else ""


def normalize_chorus(code: str) -> str:
    """'0304-50-19-19-07' and '030450191907' both become '0304 50 19 19 07'."""
    digits = re.sub(r"\D", "", code or "")
    if len(digits) != 12:
        return (code or "").strip()
    return f"{digits[:4]} {digits[4:6]} {digits[6:8]} {digits[8:10]} {digits[10:]}"


@dataclass(frozen=True)
class VentilationLine:
    """One line of the fiche's budget breakdown (e.g. '2 postes cat. A: 6 691 €')."""

    libelle: str
    montant: Decimal


@dataclass(frozen=True)
class IndicatorValue:
    annee: int
    cible: Optional[Decimal] = None
    resultat: Optional[Decimal] = None
    commentaire: str = ""

    @property
    def has_value(self) -> bool:
        return self.cible is not None or self.resultat is not None


@dataclass(frozen=True)
class Indicator:
    libelle: str
    unite: str = "nombre"
    valeurs: tuple[IndicatorValue, ...] = ()
    source: str = ""  # e.g. "article 3" for the indicators the avenant adds

    def value_for(self, annee: int) -> Optional[IndicatorValue]:
        for v in self.valeurs:
            if v.annee == annee:
                return v
        return None


@dataclass(frozen=True)
class FicheBudget:
    """The amounts a fiche action states in its text ("Part Etat = ...").

    ``report_etat`` is the State's share of the report that the fiche writes
    beside the part ("222 196 € + (376 942 € report 2019)").
    """

    part_etat: Optional[Decimal] = None
    report_etat: Optional[Decimal] = None
    part_cd: Optional[Decimal] = None
    report_cd: Optional[Decimal] = None
    autres: Optional[Decimal] = None
    budget_global: Optional[Decimal] = None


#: the narrative fields of a fiche action, in the order of the fiche sheet
FICHE_TEXT_FIELDS = ("description", "date_mise_en_place", "partenaires", "duree", "budget_commentaire", "bilan",
                     "perspectives")


@dataclass(frozen=True)
class Fiche:
    """The narrative of a fiche action (the user's text, kept as typed)."""

    description: str = ""
    date_mise_en_place: str = ""
    partenaires: str = ""
    duree: str = ""
    budget_commentaire: str = ""
    bilan: str = ""
    perspectives: str = ""
    budget: Optional[FicheBudget] = None


@dataclass(frozen=True)
class Action:
    bloc: Bloc
    numero: str  # normalized N°: "4.2"
    intitule: str
    theme: str = ""
    chorus: Optional[Chorus] = None
    budget_global: Amount = None
    budget_etat_cd: Amount = None
    part_etat: Amount = None
    part_cd: Amount = None
    report: Amount = None
    autres_financeurs: Amount = None
    regle: SplitRule = SplitRule.PARITE
    budget_execute: Optional[Decimal] = None
    periode_execution: str = ""
    fapi: Optional[bool] = None
    ventilation: tuple[VentilationLine, ...] = ()
    fiche: Fiche = field(default_factory=Fiche)
    indicateurs: tuple[Indicator, ...] = ()
    libelle_numero: str = ""  # the N° as written: "Action 4.2"

    @property
    def key(self) -> tuple[Bloc, str]:
        return (self.bloc, self.numero)

    @property
    def label(self) -> str:
        return self.libelle_numero or f"Action {self.numero}"

    def amount(self, column: Column) -> Amount:
        return getattr(self, column._value_)  # the plain attribute: Enum.value is a slow descriptor


Totals = Mapping[Column, Amount]


@dataclass(frozen=True)
class Maquette:
    """One convention year of one Département (an avenant's annex)."""

    departement: str
    annee: int
    actions: tuple[Action, ...] = ()
    credits_etat: Optional[Decimal] = None  # crédits notifiés (article 2)
    report_etat_notifie: Optional[Decimal] = None  # report N-1 notifié (article 2)
    regle_defaut: SplitRule = SplitRule.PARITE
    #: sub-totals and total as typed in the annex (None when not typed)
    sous_totaux_saisis: Mapping[Bloc, Totals] = field(default_factory=dict)
    total_saisi: Totals = field(default_factory=dict)

    def bloc(self, bloc: Bloc) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.bloc == bloc)

    def find(self, bloc: Bloc, numero: str) -> Optional[Action]:
        for a in self.actions:
            if a.key == (bloc, numero):
                return a
        return None


def normalize_numero(text: object) -> str:
    """'Action 4.2', 'action 4,2 ', 4.2 -> '4.2'; anything else is kept stripped."""
    if text is None:
        return ""
    s = str(text).strip()
    s = re.sub(r"^(fiche\s+)?action\s*(n\s*°|n°|no\.?)?\s*", "", s, flags=re.IGNORECASE)
    s = s.replace(",", ".").strip().rstrip(":").strip()
    return s


def theme_number(theme: str) -> Optional[str]:
    """'4 - Insertion des allocataires…' -> '4'; None when the thème has no number."""
    m = re.match(r"\s*(\d+)\s*[-–.)]", theme or "")
    return m.group(1) if m else None
