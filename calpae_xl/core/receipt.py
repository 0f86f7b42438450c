"""The check receipt: what a check saw, kept in the workbook.

When the tool checks a maquette and writes to it, it leaves a receipt: the
tool's version, the profile of the convention, the date, the counts by
gravité and a fingerprint (SHA-256) of what the checks read — the maquette,
the fiches, the Paramètres and the Indicateurs as the model holds them,
canonical: independent of the tool's own sheets (Contrôles, Journal, the
technical sheet), of styles, of the order of the sheets and of how a number
was typed (35812,5 and 35 812,50 € are the same amount). A later check of the
same file recomputes the fingerprint and says whether the content is the one
that was checked (« inchangé depuis le contrôle du … ») or not.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Iterable, Optional, Sequence, Union

from .findings import Finding, Severity, count_answered, count_by_severity
from .model import Maquette
from .money import NO_VALUE, Unreadable
from .serialize import maquette_to_dict

#: the convention profile the checks apply (later, one per kind of convention)
PROFILE = "calpae"
TOOL = "calpae-xl"
#: the version of the canonical form: a change of it makes every fingerprint differ, so it is said
DIGEST_VERSION = "1"

UNCHANGED, MODIFIED, NO_RECEIPT = "inchangé", "modifié", "sans reçu"
_FINGERPRINT = re.compile(r"sha256:[0-9a-f]{64}")


def _canonical(v) -> Optional[str]:
    """An amount whatever its typing: '35812.5' for 35812,50; unreadable text kept, marked."""
    if v is None:
        return None
    if isinstance(v, Unreadable):  # a formula without value is only that (its text follows the rows)
        return f"?{v.reason}" if v.reason == NO_VALUE else f"?{v.reason}:{v.raw}"
    if isinstance(v, Decimal):
        return "0" if v == 0 else format(v.normalize(), "f")
    return str(v)


def digest(m: Union[Maquette, Sequence[Maquette]], extra_chorus: Iterable[str] = (),
           reading: Sequence[Finding] = ()) -> str:
    """The fingerprint of what the checks read: the model (actions, fiches,
    indicators, Paramètres; each year of a multi-year contract), the
    Département's own Chorus codes, and what the reading itself found (a
    hidden row, a column not found…: the layout's findings, by code and place)."""
    years = [m] if isinstance(m, Maquette) else list(m)
    model = maquette_to_dict(years[0], _canonical) if len(years) == 1 else [
        maquette_to_dict(y, _canonical) for y in years]
    doc = {"forme": DIGEST_VERSION, "maquette": model,
           "referentiel": sorted(set(extra_chorus)),
           "lecture": sorted(f"{f.code}|{f.where.sheet or ''}|{f.where.cell or ''}|{f.where.field or ''}"
                             for f in reading)}
    text = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Receipt:
    """One check, as the workbook keeps it (« clé=valeur » lines)."""

    version: str
    profil: str
    date: str  # ISO 8601, local time with its offset, to the second
    empreinte: str
    erreurs: int = 0
    avertissements: int = 0
    infos: int = 0
    justifies: int = 0
    outil: str = TOOL
    extra: dict = field(default_factory=dict, compare=False)  # keys of a later version, kept

    KEYS = ("outil", "version", "profil", "date", "empreinte", "erreurs", "avertissements", "infos", "justifies")

    def lines(self) -> list[str]:
        return [f"{k}={getattr(self, k)}" for k in self.KEYS]

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> Optional["Receipt"]:
        """The receipt read back; None when there is none or it is unusable."""
        d: dict[str, str] = {}
        for line in lines:
            k, sep, v = str(line or "").partition("=")
            if sep:
                d[k.strip()] = v.strip()
        if not _FINGERPRINT.fullmatch(d.get("empreinte", "")) or not d.get("date"):
            return None  # none, or one that is not ours (typed over): no receipt to rely on

        def n(k: str) -> int:
            try:
                return int(d.get(k, "0"))
            except ValueError:
                return 0
        return cls(d.get("version", ""), d.get("profil", ""), d["date"], d["empreinte"], n("erreurs"),
                   n("avertissements"), n("infos"), n("justifies"), d.get("outil", TOOL),
                   {k: v for k, v in d.items() if k not in cls.KEYS})

    def same_check(self, other: Optional["Receipt"]) -> bool:
        """The same result of the same checks on the same content (the date aside)."""
        return other is not None and replace(self, date=other.date) == other

    @property
    def shown_date(self) -> str:
        """« 03/05/2024 à 10:12 » (the date as written when it cannot be read)."""
        try:
            d = dt.datetime.fromisoformat(self.date)
        except ValueError:
            return self.date
        return d.strftime("%d/%m/%Y à %H:%M")

    def as_dict(self) -> dict:
        return {"outil": self.outil, "version": self.version, "profil": self.profil, "date": self.date,
                "empreinte": self.empreinte, "comptes": {"erreur": self.erreurs, "avertissement": self.avertissements,
                                                          "info": self.infos, "justifies": self.justifies}}


def now() -> str:
    """The date of a check: local time with its offset, to the second."""
    return dt.datetime.now().astimezone().replace(microsecond=0).isoformat()


def make_receipt(fingerprint: str, findings: Sequence[Finding], version: str, date: Optional[str] = None,
                 profil: str = PROFILE) -> Receipt:
    c = count_by_severity(findings)
    return Receipt(version, profil, date or now(), fingerprint, c[Severity.ERREUR], c[Severity.AVERTISSEMENT],
                   c[Severity.INFO], count_answered(findings))


def state(receipt: Optional[Receipt], fingerprint: str) -> str:
    """inchangé / modifié / sans reçu: the content now against the last check's."""
    if receipt is None:
        return NO_RECEIPT
    return UNCHANGED if receipt.empreinte == fingerprint else MODIFIED


def describe(receipt: Optional[Receipt], fingerprint: str) -> str:
    """What the State reads about a received file, in one sentence."""
    s = state(receipt, fingerprint)
    if receipt is None:
        return "Aucun reçu de contrôle dans le fichier : il n'a jamais été contrôlé et enregistré par calpae-xl."
    who = f"{receipt.outil} {receipt.version}, profil {receipt.profil}"
    counts = (f"{receipt.erreurs} erreur(s), {receipt.avertissements} avertissement(s), {receipt.infos} info(s), "
              f"{receipt.justifies} justifié(s)")
    if s == UNCHANGED:
        return f"Inchangé depuis le contrôle du {receipt.shown_date} ({who} : {counts})."
    return (f"Modifié depuis le contrôle du {receipt.shown_date} ({who}) : le contenu contrôlé n'est plus celui du "
            "fichier.")
