"""What the commands print: findings as text, JSON or CSV, one summary line
per file, the exit status, and the maquette as a terminal table."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Optional, Sequence

from .. import __version__
from ..core.findings import Severity, count_answered, count_by_severity
from ..core.texts import csv_text, json_text
from .session import FileResult

#: the version of the JSON contract (calpae_xl/data/rapport.schema.json): the major changes when a field is
#: removed or changes meaning, the minor when fields are added
SCHEMA_VERSION = "1.1"  # 1.1: « profil » on the totals lines of a folder of several profiles


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
        w.writerow(["fichier", "lisible", "code", "gravité", "bloc", "action", "feuille", "cellule", "message",
                    "statut", "réponse", "clé"])
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
        if state:  # what the file was when read: a command that writes says so
            lines.append(f"   {'Avant ce passage : ' + state[:1].lower() + state[1:] if r.sortie else state}")
        for c in r.constats:
            lines.append(finding_line(c))
        lines.append("   " + summary(r))
    return "\n".join(lines)


def finding_line(c: dict) -> str:
    """One finding (its JSON dict) as a line of the text output."""
    where = f"{c['feuille']}!{c['cellule']}" if c["feuille"] and c["cellule"] else (c["feuille"] or "")
    status = f"[{c['statut']}] " if c.get("statut") else ""
    line = f"   [{c['gravite']:<13}] {c['code']:<24} {where:<18} {status}{c['message']}"
    if c.get("reponse"):
        line += f"\n   {'':<15} {'':<24} {'':<18} Réponse : {c['reponse']}"
    return line


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


def maquette_table(m, width: Optional[int] = None) -> str:
    """The maquette as a table in the terminal: every action, sub-total and
    total, every amount column. Headers wrap over several lines (words never
    cut); when the columns are wider than the terminal (``width``, default:
    the terminal's), the amount columns are shown in panels, each with the
    action column, as wide tables are in pandas: no column is dropped."""
    import math  # noqa: PLC0415
    import shutil  # noqa: PLC0415
    import textwrap  # noqa: PLC0415
    from ..core.model import Column  # noqa: PLC0415
    from ..core.money import format_eur  # noqa: PLC0415
    from ..core.profile import groups_of  # noqa: PLC0415
    from ..core.rules import bloc_totals, grand_total  # noqa: PLC0415
    width = width or shutil.get_terminal_size((120, 24)).columns
    subtotals = bloc_totals(m)
    rows: list[tuple[str, object]] = []  # (label, amount getter)
    groups = [g for g in groups_of(m) if m.bloc(g)]
    for bloc in groups:
        rows += [(f"{bloc.court} {a.label}", a.amount) for a in m.bloc(bloc)]
        rows.append((f"Sous-total {bloc.court}", subtotals[bloc].get))
    rows.append(("TOTAL", grand_total(m).get))
    cols = list(Column)
    cells = [[format_eur(get(c)) for c in cols] for _label, get in rows]
    head = "Action"
    w_label = max(len(head), *(len(label) for label, _ in rows))
    w_amount = max(len(v) for r in cells for v in r)
    w_amount = max(w_amount, *(len(word) for c in cols for word in c.label.split()))
    per_panel = max(1, (width - w_label) // (w_amount + 2))
    n_panels = math.ceil(len(cols) / per_panel)
    per_panel = math.ceil(len(cols) / n_panels)
    legend = " ; ".join(f"{g.court} : {g.label.lower() if g.value in ('socle', 'initiatives') else g.label}"
                        for g in groups) + " ; — : montant non renseigné."
    out: list[str] = []
    for p in range(n_panels):
        idx = list(range(p * per_panel, min(len(cols), (p + 1) * per_panel)))
        headers = [textwrap.wrap(cols[i].label, w_amount) for i in idx]
        depth = max(len(h) for h in headers)
        if n_panels > 1:
            out.append(f"Montants, colonnes {idx[0] + 1} à {idx[-1] + 1} sur {len(cols)} :")
        for k in range(depth):
            line = f"{head if k == depth - 1 else '':<{w_label}}"
            for h in headers:
                line += "  " + f"{h[k - (depth - len(h))] if k >= depth - len(h) else '':>{w_amount}}"
            out.append(line)
        out.append("-" * (w_label + len(idx) * (w_amount + 2)))
        for (label, _get), row in zip(rows, cells, strict=True):
            out.append(f"{label:<{w_label}}" + "".join(f"  {row[i]:>{w_amount}}" for i in idx))
        out.append("")
    out.append(legend)
    return "\n".join(out)
