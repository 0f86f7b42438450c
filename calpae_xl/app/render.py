"""What the commands print: findings as text, JSON or CSV, one summary line
per file, the exit status, and the maquette as a terminal table."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Sequence

from .. import __version__
from ..core.findings import Severity, count_answered, count_by_severity
from ..core.texts import csv_text, json_text
from .session import FileResult

#: the version of the JSON contract (calpae_xl/data/rapport.schema.json): the major changes when a field is
#: removed or changes meaning, the minor when fields are added
SCHEMA_VERSION = "1.0"


def tool_info() -> dict:
    return {"nom": "calpae-xl", "version": __version__}


def document(results: Sequence[FileResult]) -> dict:
    """The JSON document of ``controler`` / ``lot --format json`` (calpae_xl/data/rapport.schema.json)."""
    return {"nature": "controle", "version_schema": SCHEMA_VERSION, "outil": tool_info(),
            "fichiers": [r.as_json() for r in results]}


def render(results: Sequence[FileResult], fmt: str) -> str:
    if fmt == "json":
        return json_text(document(results))
    if fmt == "csv":  # every field is text: neutralised (never a formula in a spreadsheet)
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=";")
        w.writerow(["fichier", "lisible", "code", "gravite", "bloc", "action", "feuille", "cellule", "message",
                    "statut", "reponse", "cle"])
        for r in results:
            if not r.lisible:
                w.writerow([csv_text(v) for v in (r.fichier, "non", r.code or "ERREUR_INATTENDUE", "erreur", "", "",
                                                  "", "", r.erreur or "", "", "", "")])
            for c in r.constats:
                w.writerow([csv_text(v) for v in (r.fichier, "oui", c["code"], c["gravite"], c["bloc"] or "",
                                                  c["action"] or "", c["feuille"] or "", c["cellule"] or "",
                                                  c["message"], c["statut"] or "", c["reponse"] or "", c["cle"])])
        return buf.getvalue().rstrip("\n")
    lines = []
    for r in results:
        lines.append(f"== {r.fichier}")
        if not r.lisible:
            lines.append(f"   ÉCHEC [{r.code or 'ERREUR_INATTENDUE'}] : {r.erreur}")
            continue
        state = r.provenance.get("message_recu")
        if state:
            lines.append(f"   {state}")
        for c in r.constats:
            where = f"{c['feuille']}!{c['cellule']}" if c["feuille"] and c["cellule"] else (c["feuille"] or "")
            status = f"[{c['statut']}] " if c["statut"] else ""
            lines.append(f"   [{c['gravite']:<13}] {c['code']:<24} {where:<18} {status}{c['message']}")
            if c["reponse"]:
                lines.append(f"   {'':<15} {'':<24} {'':<18} Réponse : {c['reponse']}")
        lines.append("   " + summary(r))
    return "\n".join(lines)


def summary(r: FileResult) -> str:
    """One line per file: the counts by gravité and what was written."""
    if not r.lisible:
        return f"{r.fichier} : ÉCHEC [{r.code or 'ERREUR_INATTENDUE'}] — {r.erreur}"
    sev = count_by_severity(r.constats)
    parts = [f"{sev[Severity.ERREUR]} erreur(s)", f"{sev[Severity.AVERTISSEMENT]} avertissement(s)",
             f"{sev[Severity.INFO]} info(s)"]
    answered = count_answered(r.constats)
    if answered:
        parts.append(f"{answered} justifié(s)")
    if r.changements:
        parts.append(f"{r.changements} valeur(s) recalculée(s)")
    if r.fiches_creees:
        parts.append(f"{r.fiches_creees} fiche(s) créée(s)")
    if r.sortie and r.inchange:
        parts.append(f"{r.sortie} déjà à jour (rien à enregistrer)")
    elif r.sortie:
        parts.append(f"enregistré dans {r.sortie}")
    if r.sauvegarde:
        parts.append(f"version précédente : {r.sauvegarde}")
    return f"{Path(r.fichier).name} : " + ", ".join(parts)


def exit_status(results: Sequence[FileResult]) -> int:
    """0: no erreur left; 1: erreurs remain; 2: a file could not be read or written."""
    if any(not r.lisible for r in results):
        return 2
    return 1 if any(r.n_errors for r in results) else 0




def maquette_table(m) -> str:
    """The maquette as a table in the terminal: every action, sub-total and total."""
    from ..core.model import Column  # noqa: PLC0415
    from ..core.profile import groups_of  # noqa: PLC0415
    from ..core.money import format_eur  # noqa: PLC0415
    from ..core.rules import bloc_totals, grand_total  # noqa: PLC0415
    cols = (Column.BUDGET_GLOBAL, Column.PART_ETAT, Column.PART_CD, Column.REPORT, Column.AUTRES)
    head = f"{'Action':<26}" + "".join(f"{c.label[:18]:>20}" for c in cols)
    lines = [head, "-" * len(head)]
    subtotals = bloc_totals(m)
    for bloc in groups_of(m):
        if not m.bloc(bloc):
            continue
        for a in m.bloc(bloc):
            lines.append(f"{(bloc.court + ' ' + a.label)[:26]:<26}" +
                         "".join(f"{format_eur(a.amount(c)):>20}" for c in cols))
        t = subtotals[bloc]
        lines.append(f"{'Sous-total ' + bloc.value:<26}" + "".join(f"{format_eur(t[c]):>20}" for c in cols))
    t = grand_total(m)
    lines.append(f"{'TOTAL':<26}" + "".join(f"{format_eur(t[c]):>20}" for c in cols))
    return "\n".join(lines)
