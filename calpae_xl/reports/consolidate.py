"""Consolidation: every maquette of a folder (several Départements and years)
in one workbook, for the State's services.

Each file is read (never written) by :func:`read_file` in a worker process
(:func:`calpae_xl.batch.map_files`, as the batch does);
amounts travel as whole cents (exact) and become euros only in the output.
A file that cannot be read is listed in the summary with its reason, never
skipped in silence.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Optional, Sequence

from ..core.findings import Severity, count_by_severity
from ..core.texts import csv_text
from ..core.model import Column
from ..core.money import Unreadable
from ..workbook.layout import REPORT_MARKER

AMOUNTS = (Column.BUDGET_GLOBAL, Column.BUDGET_ETAT_CD, Column.PART_ETAT, Column.PART_CD, Column.REPORT,
           Column.AUTRES)
LABELS = {c: c.label for c in AMOUNTS}
PIVOT_AMOUNTS = (Column.PART_ETAT, Column.PART_CD, Column.REPORT, Column.AUTRES, Column.BUDGET_GLOBAL)
#: amounts blank where a figure is due, or unreadable: left out of the sums, and counted
UNCOUNTED = "Montants non comptés"


def _cents(v) -> Optional[int]:
    return int((v * 100).to_integral_value()) if isinstance(v, Decimal) else None


@dataclass
class FileRecord:
    """What one file gives the consolidation (picklable)."""

    fichier: str
    lisible: bool = True
    erreur: str = ""
    departement: str = ""
    annee: int = 0
    credits_etat: Optional[int] = None  # cents
    actions: list[dict] = field(default_factory=list)
    erreurs: int = 0
    avertissements: int = 0
    infos: int = 0
    non_comptes: int = 0  # amount cells of the actions that are blank where a figure is due, or unreadable
    ignore: bool = False  # a report of calpae-xl itself (a previous consolidation): not a maquette


def read_file(path: str) -> FileRecord:
    """Read one maquette and run the checks — never raises."""
    from ..adapters.xlsx import PackageWorkbook  # noqa: PLC0415
    from ..app.session import CONTROLER, failure, run  # noqa: PLC0415
    rec = FileRecord(path)
    try:
        wb = PackageWorkbook.open(path)
        if REPORT_MARKER in wb.sheet_names():
            rec.ignore, rec.erreur = True, "rapport produit par calpae-xl (consolidation ou comparaison) : ignoré"
            return rec
        outcome = run(wb, [CONTROLER], write=False)
    except Exception as e:  # noqa: BLE001 - the boundary: one bad file never stops a consolidation
        rec.lisible = False
        rec.erreur = failure(path, e)[0]
        return rec
    m = outcome.maquette
    rec.departement = m.departement or Path(path).stem
    rec.annee = m.annee or 0
    rec.credits_etat = _cents(m.credits_etat)
    counts = count_by_severity(outcome.findings)
    rec.erreurs, rec.avertissements, rec.infos = (counts[s] for s in Severity)
    for a in m.actions:
        missing = sum(1 for c in AMOUNTS if isinstance(a.amount(c), Unreadable) or (
            a.amount(c) is None and c not in (Column.REPORT, Column.AUTRES)))
        rec.non_comptes += missing
        rec.actions.append({"non_comptes": missing,
            "bloc": a.bloc.label, "theme": a.theme, "chorus": a.chorus.normalized if a.chorus else "",
            "chorus_libelle": a.chorus.libelle if a.chorus else "", "numero": a.label, "intitule": a.intitule,
            "regle": a.regle.value, **{c.value: _cents(a.amount(c)) for c in AMOUNTS}})
    return rec


# --- tables (pandas) ---------------------------------------------------------------------

def tables(records: Sequence[FileRecord]) -> dict[str, "object"]:
    """The consolidation's tables as pandas DataFrames, amounts in euros."""
    import pandas as pd  # noqa: PLC0415
    rows = []
    for rec in records:
        for a in rec.actions:
            rows.append({"Département": rec.departement, "Année": rec.annee, "Fichier": Path(rec.fichier).name,
                         "Bloc": a["bloc"], "Thème": a["theme"], "Code Chorus": a["chorus"],
                         "Libellé Chorus": a["chorus_libelle"], "N° de fiche": a["numero"],
                         "Intitulé": a["intitule"], "Répartition": a["regle"],
                         **{LABELS[c]: a[c.value] for c in AMOUNTS}, UNCOUNTED: a["non_comptes"]})
    cols = ["Département", "Année", "Fichier", "Bloc", "Thème", "Code Chorus", "Libellé Chorus", "N° de fiche",
            "Intitulé", "Répartition", *[LABELS[c] for c in AMOUNTS], UNCOUNTED]
    actions = pd.DataFrame(rows, columns=cols)
    money_cols = [LABELS[c] for c in AMOUNTS]
    # exact sums, in cents, as Python integers (no int64: no overflow at any size)
    actions[money_cols] = actions[money_cols].astype(object)
    pivot_cols = [LABELS[c] for c in PIVOT_AMOUNTS] + [UNCOUNTED]

    def exact_sum(values) -> int:
        return sum(int(v) for v in values if v is not None and v == v)

    def pivot(keys: list[str]):
        if actions.empty:
            return pd.DataFrame(columns=keys + pivot_cols)
        groups = actions.fillna({k: "" for k in keys}).groupby(keys, dropna=False, sort=True)
        t = groups[pivot_cols].agg(exact_sum).reset_index()
        total = {k: "" for k in keys}
        # a total missing amounts says so on its own line, not only in a column
        total[keys[0]] = "TOTAL" if not exact_sum(actions[UNCOUNTED]) else "TOTAL (incomplet)"
        total.update({c: exact_sum(actions[c]) for c in pivot_cols})
        return pd.concat([t, pd.DataFrame([total])], ignore_index=True)

    seen: dict[tuple, int] = {}
    for rec in records:
        if rec.lisible and not rec.ignore and rec.departement and rec.annee:
            seen[(rec.departement.lower(), rec.annee)] = seen.get((rec.departement.lower(), rec.annee), 0) + 1
    summary = []
    for rec in records:
        part_etat = sum(a[Column.PART_ETAT.value] or 0 for a in rec.actions)
        twice = seen.get((rec.departement.lower(), rec.annee), 0) > 1
        summary.append({
            "Fichier": Path(rec.fichier).name,
            "Lisible": "ignoré" if rec.ignore else "oui" if rec.lisible else "non",
            "Motif": rec.erreur, "Département": rec.departement, "Année": rec.annee or None,
            "En double": "oui" if twice else "",
            "Actions": len(rec.actions), "Crédits État notifiés": rec.credits_etat,
            "Parts État (somme)": part_etat if rec.lisible and not rec.ignore else None,
            "Enveloppe utilisée": (Decimal(part_etat) / rec.credits_etat if rec.credits_etat else None),
            UNCOUNTED: rec.non_comptes,
            "Erreurs": rec.erreurs, "Avertissements": rec.avertissements, "Informations": rec.infos})
    fichiers = pd.DataFrame(summary)
    out = {"Fichiers": fichiers, "Actions": actions, "Par bloc": pivot(["Bloc"]),
           "Par thème": pivot(["Thème"]), "Par code Chorus": pivot(["Code Chorus", "Libellé Chorus"]),
           "Par département": pivot(["Département", "Année"])}
    money = [LABELS[c] for c in AMOUNTS] + ["Crédits État notifiés", "Parts État (somme)"]
    for df in out.values():
        for c in money:
            if c in df.columns:
                df[c] = df[c].map(lambda v: None if v is None or v is pd.NA or v != v else Decimal(int(v)) / 100)
    if "Enveloppe utilisée" in fichiers.columns:  # a rate: rounded for display, not for sums
        fichiers["Enveloppe utilisée"] = fichiers["Enveloppe utilisée"].map(
            lambda v: v.quantize(Decimal("0.0001")) if isinstance(v, Decimal) else None)
    return out


MONEY = tuple(LABELS.values()) + ("Crédits État notifiés", "Parts État (somme)")
CHART_SHEET = "Par thème"


def plan(frames: dict) -> list:
    """The consolidation workbook as a plan: one sheet per table, euro
    formats, TOTAL lines set apart, and a native bar chart of the parts État
    and CD by thème."""
    from ..workbook import layout as L  # noqa: PLC0415
    from ..workbook.port import BarChart  # noqa: PLC0415
    from .tables import marker_ops, table_ops  # noqa: PLC0415
    ops: list = []
    for name, df in frames.items():
        headers = [str(c) for c in df.columns]
        rows = df.astype(object).values.tolist()
        ops += table_ops(name, headers, rows, money=MONEY, percent=("Enveloppe utilisée",),
                         bold_first_col=("TOTAL", "TOTAL (incomplet)"))
    ops += marker_ops()
    themes = frames.get(CHART_SHEET)
    if themes is not None and len(themes) > 1:  # without the TOTAL line
        headers = list(themes.columns)
        n = len(themes) - 1
        ops.append(BarChart(CHART_SHEET, "Parts État et CD par thème", 1,
                            [headers.index(Column.PART_ETAT.label) + 1, headers.index(Column.PART_CD.label) + 1],
                            header_row=1, first_row=2, last_row=n + 1,
                            anchor=f"{L.col_letter(len(headers) + 2)}2"))
    return ops


def write_workbook(frames: dict, path: str) -> None:
    """Write the consolidation workbook at ``path`` (the save frame places it)."""
    from ..adapters.openpyxl_adapter import OpenpyxlWorkbook  # noqa: PLC0415
    wb = OpenpyxlWorkbook.new(path)
    wb.apply(plan(frames))
    wb.save(backup=False, replace=True)


CSV_NAMES = {"Fichiers": "fichiers", "Actions": "actions", "Par bloc": "par_bloc", "Par thème": "par_theme",
             "Par code Chorus": "par_chorus", "Par département": "par_departement"}


def _csv_value(v):
    """Amounts (Decimal) with the decimal comma, numbers as they are; texts
    neutralised (never a formula when the CSV is opened in a spreadsheet)."""
    if isinstance(v, Decimal):
        return f"{v:.2f}".replace(".", ",")
    if isinstance(v, str):
        return csv_text(v)
    return v


def write_csv(df, path: str) -> None:
    """One table as CSV, as French Excel opens it (';', decimal comma, UTF-8 with BOM)."""
    df = df.copy()
    for c in df.columns:
        df[c] = df[c].map(_csv_value).astype(object)
    df.columns = [csv_text(str(c)) for c in df.columns]
    df.to_csv(path, sep=";", decimal=",", index=False, encoding="utf-8-sig")


def csv_paths(frames: dict, folder: str) -> dict[str, str]:
    """Table name -> the CSV file written for it in ``folder``."""
    return {name: os.path.join(folder, CSV_NAMES[name] + ".csv") for name in frames}


def is_consolidation(path: str) -> bool:
    """A consolidation this command wrote (its sheets are the consolidation's
    tables): not a maquette to read, and an output it may replace."""
    import zipfile  # noqa: PLC0415

    from ..adapters import gate  # noqa: PLC0415
    from ..adapters.ooxml import sheet_xml_paths  # noqa: PLC0415
    if gate.check(path) is not None:  # a hostile file is never parsed
        return False
    try:
        with zipfile.ZipFile(path) as z:
            return set(CSV_NAMES) <= set(sheet_xml_paths(z))  # its tables (and any sheet a later version adds)
    except Exception:  # noqa: BLE001 - anything unreadable is not ours
        return False
