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

from .core.checks import Severity
from .core.model import Column
from .errors import CalpaeError

AMOUNTS = (Column.BUDGET_GLOBAL, Column.BUDGET_ETAT_CD, Column.PART_ETAT, Column.PART_CD, Column.REPORT,
           Column.AUTRES)
LABELS = {c: c.label for c in AMOUNTS}
PIVOT_AMOUNTS = (Column.PART_ETAT, Column.PART_CD, Column.REPORT, Column.AUTRES, Column.BUDGET_GLOBAL)


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


def read_file(path: str) -> FileRecord:
    """Read one maquette and run the checks — never raises."""
    from .adapters.package_adapter import PackageWorkbook  # noqa: PLC0415
    from .operations import CONTROLER, run  # noqa: PLC0415
    rec = FileRecord(path)
    try:
        wb = PackageWorkbook.open(path)
        outcome = run(wb, [CONTROLER], write=False)
    except CalpaeError as e:
        rec.lisible, rec.erreur = False, e.message
        return rec
    except Exception as e:  # noqa: BLE001 - one bad file never stops a consolidation
        rec.lisible, rec.erreur = False, f"Erreur inattendue sur « {path} » : {type(e).__name__} : {e}"
        return rec
    m = outcome.maquette
    rec.departement = m.departement or Path(path).stem
    rec.annee = m.annee or 0
    rec.credits_etat = _cents(m.credits_etat)
    for f in outcome.findings:
        if f.severity is Severity.ERREUR:
            rec.erreurs += 1
        elif f.severity is Severity.AVERTISSEMENT:
            rec.avertissements += 1
        else:
            rec.infos += 1
    for a in m.actions:
        rec.actions.append({
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
                         **{LABELS[c]: a[c.value] for c in AMOUNTS}})
    cols = ["Département", "Année", "Fichier", "Bloc", "Thème", "Code Chorus", "Libellé Chorus", "N° de fiche",
            "Intitulé", "Répartition", *[LABELS[c] for c in AMOUNTS]]
    actions = pd.DataFrame(rows, columns=cols)
    cents = actions[[LABELS[c] for c in AMOUNTS]].astype("Int64")  # exact sums, in cents
    actions[[LABELS[c] for c in AMOUNTS]] = cents
    pivot_cols = [LABELS[c] for c in PIVOT_AMOUNTS]

    def pivot(keys: list[str]):
        if actions.empty:
            return pd.DataFrame(columns=keys + pivot_cols)
        t = actions.groupby(keys, dropna=False, sort=True)[pivot_cols].sum(min_count=0).reset_index()
        total = {k: "" for k in keys}
        total[keys[0]] = "TOTAL"
        total.update({c: actions[c].sum() for c in pivot_cols})
        return pd.concat([t, pd.DataFrame([total])], ignore_index=True)

    summary = []
    for rec in records:
        part_etat = sum(a[Column.PART_ETAT.value] or 0 for a in rec.actions)
        summary.append({
            "Fichier": Path(rec.fichier).name, "Lisible": "oui" if rec.lisible else "non",
            "Motif": rec.erreur, "Département": rec.departement, "Année": rec.annee or None,
            "Actions": len(rec.actions), "Crédits État notifiés": rec.credits_etat,
            "Parts État (somme)": part_etat if rec.lisible else None,
            "Enveloppe utilisée": (part_etat / rec.credits_etat if rec.credits_etat else None),
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
    return out


def write_workbook(frames: dict, target: str) -> None:
    """The consolidation workbook: one sheet per table, euro formats, and a
    native bar chart of the parts État and CD by thème."""
    import pandas as pd  # noqa: PLC0415
    from openpyxl.chart import BarChart, Reference  # noqa: PLC0415
    from openpyxl.styles import Font, PatternFill  # noqa: PLC0415
    from . import layout as L  # noqa: PLC0415
    tmp = Path(target).with_name(".~calpae-" + Path(target).name)
    with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
        for name, df in frames.items():
            df.to_excel(xw, sheet_name=name, index=False)
        wb = xw.book
        money = set(LABELS.values()) | {"Crédits État notifiés", "Parts État (somme)"}
        for ws in wb.worksheets:
            headers = [c.value for c in ws[1]]
            for j, h in enumerate(headers, 1):
                ws.cell(1, j).font = Font(bold=True, color=L.HEADER_FONT)
                ws.cell(1, j).fill = PatternFill("solid", start_color=L.HEADER_FILL, end_color=L.HEADER_FILL)
                width = 18 if h in money else min(60, max(10, len(str(h)) + 2))
                ws.column_dimensions[L.col_letter(j)].width = width
                fmt = L.EUR_FORMAT if h in money else L.PERCENT_FORMAT if h == "Enveloppe utilisée" else None
                if fmt:
                    for r in range(2, ws.max_row + 1):
                        ws.cell(r, j).number_format = fmt
            ws.freeze_panes = "A2"
            for r in range(2, ws.max_row + 1):
                if ws.cell(r, 1).value == "TOTAL":
                    for c in ws[r]:
                        c.font = Font(bold=True)
        ws = wb["Par thème"]
        n = ws.max_row - 1  # without the TOTAL line
        if n >= 1:
            headers = [c.value for c in ws[1]]
            chart = BarChart()
            chart.type = "bar"
            chart.title = "Parts État et CD par thème"
            chart.y_axis.title = "€"
            chart.y_axis.numFmt = '#,##0 "€"'
            for label in (Column.PART_ETAT.label, Column.PART_CD.label):
                col = headers.index(label) + 1
                chart.add_data(Reference(ws, min_col=col, min_row=1, max_row=n), titles_from_data=True)
            chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n))
            chart.height, chart.width = 12, 26
            ws.add_chart(chart, f"{L.col_letter(len(headers) + 2)}2")
    os.replace(tmp, target)


def write_csv(frames: dict, folder: str) -> list[str]:
    """The same tables as CSV, as French Excel opens them (';', decimal comma, UTF-8 with BOM)."""
    os.makedirs(folder, exist_ok=True)
    out = []
    names = {"Fichiers": "fichiers", "Actions": "actions", "Par bloc": "par_bloc", "Par thème": "par_theme",
             "Par code Chorus": "par_chorus", "Par département": "par_departement"}
    for name, df in frames.items():
        path = os.path.join(folder, names[name] + ".csv")
        df = df.copy()
        for c in df.columns:  # amounts are Decimal: written with the decimal comma here
            if df[c].map(lambda v: isinstance(v, Decimal)).any():
                df[c] = df[c].map(lambda v: f"{v:.2f}".replace(".", ",") if isinstance(v, Decimal) else v)
        df.to_csv(path, sep=";", decimal=",", index=False, encoding="utf-8-sig")
        out.append(path)
    return out
