"""What the commands print: findings as text, JSON or CSV, one summary line
per file, the exit status, and the maquette as a terminal table."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Sequence

from ..core.findings import Severity, count_by_severity
from .session import FileResult


def render(results: Sequence[FileResult], fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"fichiers": [r.as_json() for r in results]}, ensure_ascii=False, indent=2)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=";")
        w.writerow(["fichier", "lisible", "code", "gravite", "bloc", "action", "feuille", "cellule", "message"])
        for r in results:
            if not r.lisible:
                w.writerow([r.fichier, "non", r.code or "ERREUR_INATTENDUE", "erreur", "", "", "", "", r.erreur])
            for c in r.constats:
                w.writerow([r.fichier, "oui", c["code"], c["gravite"], c["bloc"] or "", c["action"] or "",
                            c["feuille"] or "", c["cellule"] or "", c["message"]])
        return buf.getvalue().rstrip("\n")
    lines = []
    for r in results:
        lines.append(f"== {r.fichier}")
        if not r.lisible:
            lines.append(f"   ÉCHEC : {r.erreur}")
            continue
        for c in r.constats:
            lines.append(finding_line(c))
        lines.append("   " + summary(r))
    return "\n".join(lines)


def finding_line(c: dict) -> str:
    """One finding (its JSON dict) as a line of the text output."""
    where = f"{c['feuille']}!{c['cellule']}" if c["feuille"] and c["cellule"] else (c["feuille"] or "")
    return f"   [{c['gravite']:<13}] {c['code']:<24} {where:<18} {c['message']}"


def summary(r: FileResult) -> str:
    """One line per file: the counts by gravité and what was written."""
    if not r.lisible:
        return f"{r.fichier} : ÉCHEC — {r.erreur}"
    sev = count_by_severity(r.constats)
    parts = [f"{sev[Severity.ERREUR]} erreur(s)", f"{sev[Severity.AVERTISSEMENT]} avertissement(s)",
             f"{sev[Severity.INFO]} info(s)"]
    if r.changements:
        parts.append(f"{r.changements} valeur(s) recalculée(s)")
    if r.fiches_creees:
        parts.append(f"{r.fiches_creees} fiche(s) créée(s)")
    if r.sortie:
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
    from ..core.model import Bloc, Column  # noqa: PLC0415
    from ..core.money import format_eur  # noqa: PLC0415
    from ..core.rules import bloc_totals, grand_total  # noqa: PLC0415
    cols = (Column.BUDGET_GLOBAL, Column.PART_ETAT, Column.PART_CD, Column.REPORT, Column.AUTRES)
    head = f"{'Action':<26}" + "".join(f"{c.label[:18]:>20}" for c in cols)
    lines = [head, "-" * len(head)]
    subtotals = bloc_totals(m)
    for bloc in Bloc:
        for a in m.bloc(bloc):
            lines.append(f"{(('S ' if bloc is Bloc.SOCLE else 'IL ') + a.label)[:26]:<26}" +
                         "".join(f"{format_eur(a.amount(c)):>20}" for c in cols))
        t = subtotals[bloc]
        lines.append(f"{'Sous-total ' + bloc.value:<26}" + "".join(f"{format_eur(t[c]):>20}" for c in cols))
    t = grand_total(m)
    lines.append(f"{'TOTAL':<26}" + "".join(f"{format_eur(t[c]):>20}" for c in cols))
    return "\n".join(lines)
