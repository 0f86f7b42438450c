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

from ..core.checks import blank_due, unknown_columns
from ..core.findings import Severity, count_answered, count_open_by_severity
from ..core.texts import csv_text
from ..core.model import Column
from ..workbook.layout import REPORT_MARKER

AMOUNTS = (Column.BUDGET_GLOBAL, Column.BUDGET_ETAT_CD, Column.PART_ETAT, Column.PART_CD, Column.REPORT,
           Column.AUTRES)
LABELS = {c: c.label for c in AMOUNTS}
PIVOT_AMOUNTS = (Column.PART_ETAT, Column.PART_CD, Column.REPORT, Column.AUTRES, Column.BUDGET_GLOBAL)
#: amounts blank where a figure is due, or unreadable: left out of the sums, and counted
UNCOUNTED = "Montants non comptés"
PROFILE = "Profil"
#: per amount column, whether an action's amount there was not counted (a hidden column of the pivots)
_UNSURE = {c: f"_non_compte_{c.value}" for c in AMOUNTS}


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
    erreurs: int = 0  # open (neither justified nor accepted), as the three next
    avertissements: int = 0
    infos: int = 0
    ignore: bool = False  # a report of calpae-xl itself (a previous consolidation): not a maquette
    chemin: str = ""  # relative to the consolidated folder
    code: Optional[str] = None  # the refusal's code of an unreadable file
    justifies: int = 0  # findings justified or accepted by the State
    constats: list[dict] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)  # :func:`calpae_xl.app.session.provenance`

    @property
    def avenant(self) -> str:
        return self.provenance.get("avenant") or ""

    @property
    def parts_etat(self) -> Optional[int]:
        """The file's sum of the parts État, in cents; None when the file was not
        read, or when a part État of it was not counted (the sum and the share of
        the envelope would be wrong figures: the line says what was not counted)."""
        if not self.lisible or self.ignore or any(Column.PART_ETAT.value in a["inconnus"] for a in self.actions):
            return None
        return sum(a[Column.PART_ETAT.value] or 0 for a in self.actions)

    @property
    def non_comptes(self) -> int:
        """Amount cells of the actions that are blank where a figure is due, or unreadable (or computed by the
        spreadsheet from one): not counted."""
        return sum(len(a["inconnus"]) for a in self.actions)

    @property
    def statut(self) -> str:
        """What the State reads first about a file."""
        if self.ignore:
            return "ignoré"
        if not self.lisible:
            return "illisible"
        if self.erreurs:
            return "erreurs à corriger"
        if any(c["gravite"] == Severity.ERREUR.value for c in self.constats):
            return "erreurs justifiées"
        return "sans erreur"


def read_file(path: str, base: Optional[str] = None) -> FileRecord:
    """Read one maquette and run the checks — never raises. ``base``: the
    consolidated folder, paths are given relative to it. A multi-year
    contract: its first year (:func:`read_records` gives them all)."""
    return read_records(path, base)[0]


def read_records(path: str, base: Optional[str] = None) -> list[FileRecord]:
    """One record per year of a file (a yearly convention: one) — never
    raises. A contract's findings go to the year they are about; those on
    the actions themselves or on the whole contract to its first year."""
    from ..adapters.xlsx import PackageWorkbook  # noqa: PLC0415
    from ..app.session import CONTROLER, failure, file_identity, provenance, run  # noqa: PLC0415
    rec = FileRecord(path, chemin=_relative(path, base))
    identity = dict(file_identity(path), chemin=rec.chemin)
    rec.provenance = provenance(path, None, identity)
    try:
        wb = PackageWorkbook.open(path)
        if REPORT_MARKER in wb.sheet_names():
            rec.ignore, rec.erreur = True, "rapport produit par calpae-xl (consolidation ou comparaison) : ignoré"
            return [rec]
        outcome = run(wb, [CONTROLER], write=False)
    except Exception as e:  # noqa: BLE001 - the boundary: one bad file never stops a consolidation
        rec.lisible = False
        rec.erreur, rec.code = failure(path, e)
        rec.erreur = rec.erreur.replace(str(path), rec.chemin)  # the folder's own path, not the machine's
        return [rec]
    rec.provenance = provenance(path, outcome, identity)
    years = outcome.years or [outcome.maquette]
    records = [rec] + [FileRecord(path, chemin=rec.chemin, provenance=rec.provenance) for _ in years[1:]]
    first_year = years[0].annee if len(years) > 1 else None
    for r, m in zip(records, years, strict=True):
        findings = outcome.findings if first_year is None else [
            f for f in outcome.findings if (f.where.annee or first_year) == m.annee]
        _fill(r, m, findings, path)
    return records


def _fill(rec: FileRecord, m, findings, path: str) -> None:
    """A record's figures: one maquette (one year) and its findings."""
    rec.departement = m.departement or Path(path).stem
    rec.annee = m.annee or 0
    rec.credits_etat = _cents(m.credits_etat)
    counts = count_open_by_severity(findings)
    rec.erreurs, rec.avertissements, rec.infos = (counts[s] for s in Severity)
    rec.justifies = count_answered(findings)
    rec.constats = [f.as_dict() for f in findings]
    for a in m.actions:
        # an amount the spreadsheet computed from an unreadable or blank input is not counted either, as when
        # the tool saved the file (it writes no value there): the totals do not depend on who saved it last
        unsure = unknown_columns(a)
        unknown = {c for c in AMOUNTS if c in unsure or blank_due(a.amount(c), c)}
        rec.actions.append({"inconnus": [c.value for c in AMOUNTS if c in unknown],
            "bloc": a.bloc.label, "theme": a.theme, "chorus": a.chorus.normalized if a.chorus else "",
            "chorus_libelle": a.chorus.libelle if a.chorus else "", "numero": a.label, "intitule": a.intitule,
            "regle": a.regle.value, **{c.value: None if c in unknown else _cents(a.amount(c)) for c in AMOUNTS}})


def _relative(path: str, base: Optional[str]) -> str:
    """The path as the State's folder shows it (relative to the folder, with « / »)."""
    if base:
        # where the file sits in the folder (a link there shows under its own name, wherever it leads)
        for where, root in ((os.path.abspath(path), os.path.abspath(base)),
                            (Path(path).resolve(), Path(base).resolve())):
            try:
                return Path(where).relative_to(root).as_posix()
            except ValueError:
                pass
    return Path(path).as_posix()


def duplicates(records: Sequence[FileRecord]) -> set[int]:
    """The indexes of the files that share a département, a year and an avenant
    with another file (an avenant not said matches any)."""
    groups: dict[tuple, list[int]] = {}
    for i, rec in enumerate(records):
        if rec.lisible and not rec.ignore and rec.departement and rec.annee:
            groups.setdefault((rec.departement.lower(), rec.annee), []).append(i)
    out: set[int] = set()
    for members in groups.values():
        for i in members:
            for j in members:
                a, b = records[i].avenant, records[j].avenant
                if i != j and (a == b or not a or not b):
                    out.add(i)
    return out


def not_counted(records: Sequence[FileRecord]) -> set[int]:
    """The duplicates left out of the totals: of the files that share a
    département, a year and an avenant, the first (in the folder's order) is
    counted, the others are not — a total never adds one maquette twice."""
    counted: list[tuple[str, int, str]] = []
    out: set[int] = set()
    for i, rec in enumerate(records):
        if not (rec.lisible and not rec.ignore and rec.departement and rec.annee):
            continue
        dep, year, av = rec.departement.lower(), rec.annee, rec.avenant
        if any(d == dep and y == year and (a == av or not a or not av) for d, y, a in counted):
            out.add(i)
        else:
            counted.append((dep, year, av))
    return out


# --- tables (pandas) ---------------------------------------------------------------------

def tables(records: Sequence[FileRecord]) -> dict[str, "object"]:
    """The consolidation's tables as pandas DataFrames, amounts in euros."""
    import pandas as pd  # noqa: PLC0415
    rows = []
    left_out = not_counted(records)
    for n, rec in enumerate(records):
        for a in rec.actions:
            rows.append({"Département": rec.departement, "Année": rec.annee,
                         "Fichier": rec.chemin or Path(rec.fichier).name,
                         "Bloc": a["bloc"], "Thème": a["theme"], "Code Chorus": a["chorus"],
                         "Libellé Chorus": a["chorus_libelle"], "N° de fiche": a["numero"],
                         "Intitulé": a["intitule"], "Répartition": a["regle"],
                         **{LABELS[c]: a[c.value] for c in AMOUNTS}, UNCOUNTED: len(a["inconnus"]),
                         **{_UNSURE[c]: int(c.value in a["inconnus"]) for c in AMOUNTS},
                         PROFILE: (rec.provenance or {}).get("profil") or "", "_double": n in left_out})
    cols = ["Département", "Année", "Fichier", "Bloc", "Thème", "Code Chorus", "Libellé Chorus", "N° de fiche",
            "Intitulé", "Répartition", *[LABELS[c] for c in AMOUNTS], UNCOUNTED]
    money_cols = [LABELS[c] for c in AMOUNTS]
    # exact sums, in cents, as Python integers (no int64: no overflow at any size)
    listed = pd.DataFrame(rows, columns=cols)
    listed[money_cols] = listed[money_cols].astype(object)
    # the totals count each maquette once: a duplicate's actions are listed (said so), not summed
    flags = [_UNSURE[c] for c in PIVOT_AMOUNTS]
    actions = pd.DataFrame([r for r in rows if not r["_double"]], columns=cols + flags + [PROFILE])
    # conventions of several kinds in one folder (CALPAE, CLS…): their blocs, thèmes and codes are not summed
    # together when they share a name; each line says its convention's profile
    mixed = len({r[PROFILE] for r in rows if not r["_double"]}) > 1
    actions[money_cols] = actions[money_cols].astype(object)
    listed[COUNTED] = ["non — fichier en double" if r["_double"] else "oui" for r in rows]
    pivot_cols = [LABELS[c] for c in PIVOT_AMOUNTS] + [UNCOUNTED]

    unread = any(not r.lisible and not r.ignore for r in records)

    def exact_sum(values) -> int:
        return sum(int(v) for v in values if v is not None and v == v)

    # a maquette read whole but holding no action (credits only, a blank template) is still a line of its
    # département: 0 € programmed is what it says, and the State sees the département in the totals
    no_action = [{"Département": r.departement, "Année": r.annee, **{c: 0 for c in pivot_cols + flags}}
                 for i, r in enumerate(records) if r.lisible and not r.ignore and not r.actions and i not in left_out]

    def pivot(keys: list[str], with_empty: bool = False):
        if mixed and not with_empty:
            keys = [PROFILE, *keys]
        frame = actions
        if with_empty and no_action:
            frame = pd.concat([actions.astype(object), pd.DataFrame(no_action, dtype=object)], ignore_index=True)
        if frame.empty:
            return pd.DataFrame(columns=keys + pivot_cols)
        groups = frame.fillna({k: "" for k in keys}).groupby(keys, dropna=False, sort=True)
        t = groups[pivot_cols + flags].agg(exact_sum).reset_index()
        # a line's cell sums every amount of its column, or shows none: a sum with an amount left out (0,00 €
        # for a département whose parts were all uncounted) is not its figure; the line says how many
        for c in PIVOT_AMOUNTS:
            t[LABELS[c]] = [None if n else v for v, n in zip(t[LABELS[c]], t[_UNSURE[c]], strict=True)]
        t = t.drop(columns=flags)
        total = {k: "" for k in keys}
        # a total missing amounts, or a whole file it could not read, says so on its own line
        total[keys[0]] = "TOTAL" if not exact_sum(frame[UNCOUNTED]) and not unread else "TOTAL (incomplet)"
        total.update({c: exact_sum(frame[c]) for c in pivot_cols})
        return pd.concat([t, pd.DataFrame([total])], ignore_index=True)

    twice = duplicates(records)
    summary = []
    for i, rec in enumerate(records):
        part_etat = rec.parts_etat
        prov = rec.provenance
        receipt = prov.get("recu") or {}
        summary.append({
            "Fichier": rec.chemin or Path(rec.fichier).name,
            "Lisible": "ignoré" if rec.ignore else "oui" if rec.lisible else "non",
            "Motif": rec.erreur, "Code": rec.code or "", "Département": rec.departement, "Année": rec.annee or None,
            "Avenant": rec.avenant, "Statut": rec.statut,
            "En double": ("oui — non compté dans les totaux" if i in left_out else "oui") if i in twice else "",
            "Actions": len(rec.actions), "Crédits État notifiés": rec.credits_etat,
            "Parts État (somme)": part_etat,
            "Enveloppe utilisée": (Decimal(part_etat) / rec.credits_etat if rec.credits_etat and part_etat is not None
                                   else None),
            UNCOUNTED: rec.non_comptes,
            "Erreurs": rec.erreurs, "Avertissements": rec.avertissements, "Informations": rec.infos,
            "Justifiés": rec.justifies,
            "Depuis le dernier contrôle": prov.get("etat") or "",
            "Date du dernier contrôle": receipt.get("date") or "",
            "Version de l'outil (contrôle)": prov.get("version_outil") or "",
            "Profil": prov.get("profil") or "",
            "Taille (octets)": prov.get("taille"), "SHA-256": prov.get("sha256") or ""})
    fichiers = pd.DataFrame(summary, columns=FILE_COLUMNS, dtype=object)
    constats = pd.DataFrame([{"Département": rec.departement, "Année": rec.annee or None,
                              "Fichier": rec.chemin or Path(rec.fichier).name, "Gravité": c["gravite"],
                              "Code": c["code"], "Bloc": c["bloc"] or "", "Action": c["action"] or "",
                              "Cellule": f"{c['feuille']}!{c['cellule']}" if c["feuille"] and c["cellule"] else
                              (c["feuille"] or ""), "Message": c["message"], "Statut": c["statut"] or "",
                              "Réponse": c["reponse"] or "", "Identifiant": c["cle"]}
                             for rec in records for c in rec.constats], columns=FINDING_COLUMNS, dtype=object)
    out = {"Fichiers": fichiers, "Actions": listed, "Constats": constats, "Par bloc": pivot(["Bloc"]),
           "Par thème": pivot(["Thème"]), "Par code Chorus": pivot(["Code Chorus", "Libellé Chorus"]),
           "Par département": pivot(["Département", "Année"], with_empty=True)}
    money = [LABELS[c] for c in AMOUNTS] + ["Crédits État notifiés", "Parts État (somme)"]
    for df in out.values():
        for c in money:
            if c in df.columns:
                df[c] = df[c].map(lambda v: None if v is None or v is pd.NA or v != v else Decimal(int(v)) / 100)
    if "Enveloppe utilisée" in fichiers.columns:  # a rate: rounded for display, not for sums
        fichiers["Enveloppe utilisée"] = fichiers["Enveloppe utilisée"].map(
            lambda v: v.quantize(Decimal("0.0001")) if isinstance(v, Decimal) else None)
    return out


# --- the JSON document (calpae_xl/data/rapport.schema.json) -----------------------------------------

def _euros(v) -> Optional[str]:
    """An amount of the JSON: euros with two decimals, as text (never a float)."""
    if v is None or not isinstance(v, Decimal):
        return None
    return f"{v:.2f}"


def _plain(v):
    """A key of a total line as JSON holds it (numpy's integers become Python's; blanks, None)."""
    if v is None or v == "" or (isinstance(v, float) and v != v):
        return None
    return v.item() if hasattr(v, "item") else v


def _total_rows(df, keys: dict[str, str]) -> tuple[list[dict], dict]:
    """The lines of a pivot frame (keys: JSON name -> column) and its TOTAL line."""
    lines, total = [], {}
    for row in df.to_dict("records"):
        amounts = {c.value: _euros(row.get(LABELS[c])) for c in PIVOT_AMOUNTS}
        amounts["montants_non_comptes"] = int(row.get(UNCOUNTED) or 0)
        first = row.get(df.columns[0])
        if isinstance(first, str) and first.startswith("TOTAL"):
            total = {"complet": first == "TOTAL", **amounts}
            continue
        lines.append({**{k: _plain(row.get(col)) for k, col in keys.items()}, **amounts})
    return lines, total


def document(records: Sequence[FileRecord], frames: dict, folder: str) -> dict:
    """The consolidation as a JSON document: one entry per file (provenance,
    status, envelope, counts, findings with their answers) and the totals.
    No date of its own: the same folder gives the same document (so that the
    save frame finds it « déjà à jour »); each file's check has its date."""
    twice = duplicates(records)
    left_out = not_counted(records)
    files = []
    for i, rec in enumerate(records):
        part = rec.parts_etat
        rate = (Decimal(part) / rec.credits_etat).quantize(Decimal("0.0001")) if part is not None and \
            rec.credits_etat else None
        files.append({
            "fichier": rec.chemin or Path(rec.fichier).name, "lisible": rec.lisible, "ignore": rec.ignore,
            "erreur": rec.erreur or None, "code": rec.code, "statut": rec.statut,
            "departement": rec.departement or None, "annee": rec.annee or None, "avenant": rec.avenant or None,
            "en_double": i in twice, "compte_dans_totaux": i not in left_out and rec.lisible and not rec.ignore,
            "actions": len(rec.actions),
            "credits_etat": _euros(Decimal(rec.credits_etat) / 100) if rec.credits_etat is not None else None,
            "parts_etat": _euros(Decimal(part) / 100) if part is not None else None,
            "enveloppe_utilisee": str(rate) if rate is not None else None,
            "montants_non_comptes": rec.non_comptes,
            "comptes": {"erreur": rec.erreurs, "avertissement": rec.avertissements, "info": rec.infos,
                        "justifies": rec.justifies},
            "provenance": rec.provenance, "constats": rec.constats})
    totals = {}
    for name, frame, keys in (("par_bloc", "Par bloc", {"bloc": "Bloc"}),
                              ("par_theme", "Par thème", {"theme": "Thème"}),
                              ("par_code_chorus", "Par code Chorus", {"code_chorus": "Code Chorus",
                                                                      "libelle_chorus": "Libellé Chorus"}),
                              ("par_departement", "Par département", {"departement": "Département",
                                                                      "annee": "Année"})):
        if PROFILE in frames[frame].columns:
            keys = {"profil": PROFILE, **keys}
        lines, total = _total_rows(frames[frame], keys)
        totals[name] = lines
        totals.setdefault("total", total)
    if not totals["total"]:
        totals["total"] = {"complet": True, **{c.value: "0.00" for c in PIVOT_AMOUNTS}, "montants_non_comptes": 0}
    from ..app.render import SCHEMA_VERSION, tool_info  # noqa: PLC0415
    return {"nature": "consolidation", "version_schema": SCHEMA_VERSION, "outil": tool_info(),
            "dossier": Path(folder).resolve().name or str(folder), "fichiers": files,
            "totaux": totals}


MONEY = tuple(LABELS.values()) + ("Crédits État notifiés", "Parts État (somme)")
COUNTED = "Compté dans les totaux"
FILE_COLUMNS = ["Fichier", "Lisible", "Motif", "Code", "Département", "Année", "Avenant", "En double", "Statut",
                "Actions", "Crédits État notifiés", "Parts État (somme)", "Enveloppe utilisée", UNCOUNTED, "Erreurs",
                "Avertissements", "Informations", "Justifiés", "Depuis le dernier contrôle",
                "Date du dernier contrôle", "Version de l'outil (contrôle)", "Profil", "Taille (octets)", "SHA-256"]
FINDING_COLUMNS = ["Département", "Année", "Fichier", "Gravité", "Code", "Bloc", "Action", "Cellule", "Message",
                   "Statut", "Réponse", "Identifiant"]
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
        # its categories: the thèmes (after the « Profil » column of a folder of several profiles)
        ops.append(BarChart(CHART_SHEET, "Parts État et CD par thème", headers.index("Thème") + 1,
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


CSV_NAMES = {"Fichiers": "fichiers", "Actions": "actions", "Constats": "constats", "Par bloc": "par_bloc",
             "Par thème": "par_theme",
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
            # its tables (and any sheet a later version adds: « Constats » since the answers)
            return set(CSV_NAMES) - {"Constats"} <= set(sheet_xml_paths(z))
    except Exception:  # noqa: BLE001 - anything unreadable is not ours
        return False
