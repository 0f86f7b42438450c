"""The ``calpae-xl`` command: thin, everything it does is in the operations.

Exit status: 0 when no finding of gravité « erreur » remains, 1 when one does,
2 when a file could not be read or written or the usage is wrong. One bad
file in a list or a batch is reported and the others are still processed.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from decimal import Decimal
from pathlib import Path
from typing import Optional, Sequence

from . import __version__
from .batch import WORKBOOK_SUFFIXES, find_workbooks, map_files
from .core.checks import Severity
from .core.money import AmountError, format_eur, parse_amount
from .core.serialize import EXAMPLES, load_example
from .errors import CalpaeError
from .operations import CONTROLER, FICHES, RECALCULER

EXAMPLE_FILE = "loiret_2020.xlsx"


@dataclass
class FileResult:
    """What happened to one file (picklable: batches run in other processes)."""

    fichier: str
    lisible: bool = True
    erreur: Optional[str] = None
    code: Optional[str] = None  # the refusal's code when the file could not be read or written
    constats: list[dict] = field(default_factory=list)
    changements: int = 0
    fiches_creees: int = 0
    sortie: Optional[str] = None
    sauvegarde: Optional[str] = None

    @property
    def n_errors(self) -> int:
        return sum(1 for c in self.constats if c["gravite"] == "erreur")

    def as_json(self) -> dict:
        return {"fichier": self.fichier, "lisible": self.lisible, "erreur": self.erreur, "code": self.code,
                "constats": self.constats}


def process_file(path: str, operations: Sequence[str], sortie: Optional[str] = None,
                 credits: Optional[Decimal] = None, report: Optional[Decimal] = None,
                 write: bool = True, backup: bool = True, base: Optional[str] = None) -> FileResult:
    """Open, run the operations, save (atomically) — never raises. With
    ``sortie``, the copy goes to ``sortie/<path relative to base>`` (``base``:
    the folder of a ``lot``, whose sub-folders are kept), else ``sortie/<name>``."""
    from .adapters.package_adapter import PackageWorkbook  # noqa: PLC0415
    from .operations import run  # noqa: PLC0415
    result = FileResult(path)
    try:
        wb = PackageWorkbook.open(path)
        outcome = run(wb, operations, credits, report, write=write)
        result.constats = [f.as_dict() for f in outcome.findings]
        result.changements = len(outcome.changes)
        result.fiches_creees = len(outcome.fiches_created)
        if write and outcome.wrote:
            target = str(Path(sortie) / (Path(path).relative_to(base) if base else Path(path).name)) \
                if sortie else path
            if sortie:
                os.makedirs(os.path.dirname(target), exist_ok=True)
            result.sauvegarde = wb.save(target, backup=backup)
            result.sortie = target
    except CalpaeError as e:
        result.lisible, result.erreur, result.code = False, e.message, e.code
    except Exception as e:  # noqa: BLE001 - last boundary: one bad file never stops a batch
        result.lisible, result.erreur = False, f"Erreur inattendue sur « {path} » : {type(e).__name__} : {e}"
        result.code = "ERREUR_INATTENDUE"
    return result


# --- output ----------------------------------------------------------------------------

def render(results: Sequence[FileResult], fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"fichiers": [r.as_json() for r in results]}, ensure_ascii=False, indent=2)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=";")
        w.writerow(["fichier", "lisible", "code", "gravite", "bloc", "action", "feuille", "cellule", "message"])
        for r in results:
            if not r.lisible:
                w.writerow([r.fichier, "non", "FICHIER_ILLISIBLE", "erreur", "", "", "", "", r.erreur])
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
            where = f"{c['feuille']}!{c['cellule']}" if c["feuille"] and c["cellule"] else (c["feuille"] or "")
            lines.append(f"   [{c['gravite']:<13}] {c['code']:<24} {where:<18} {c['message']}")
        lines.append("   " + _summary(r))
    return "\n".join(lines)


def _summary(r: FileResult) -> str:
    if not r.lisible:
        return f"{r.fichier} : ÉCHEC — {r.erreur}"
    sev = {s: sum(1 for c in r.constats if c["gravite"] == s.value) for s in Severity}
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
    if any(not r.lisible for r in results):
        return 2
    return 1 if any(r.n_errors for r in results) else 0


# --- commands ---------------------------------------------------------------------------

def _amount(text: str) -> Decimal:
    try:
        v = parse_amount(text)
    except AmountError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if v is None:
        raise argparse.ArgumentTypeError("montant vide")
    return v


def _run_files(files: Sequence[str], operations, args, write=True, jobs: int = 1, progress=False,
               base: Optional[str] = None):
    return map_files(partial(process_file, operations=operations, sortie=getattr(args, "sortie", None),
                             credits=getattr(args, "credits_etat", None), report=getattr(args, "report_etat", None),
                             write=write, base=base), files, jobs, progress)


def _same_names(files: Sequence[str]) -> list[str]:
    """Names given twice: their copies would overwrite each other in one --sortie folder."""
    return sorted(n for n, k in Counter(Path(f).name for f in files).items() if k > 1)


def cmd_exemple(args) -> int:
    folder = Path(args.dossier)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / EXAMPLE_FILE
    build_example(str(target))
    result = process_file(str(target), [RECALCULER, CONTROLER, FICHES], backup=False)
    print(f"Maquette du Loiret 2020 (avenant n°3) : {target}")
    if result.lisible:
        _print_example_summary(str(target))
    print(render([result], "texte"))
    return exit_status([result])


def build_example(target: str, name: str = "loiret-2020", empty_rows: int = 0) -> None:
    """The embedded default as a workbook: figures as printed, fiches included."""
    from .adapters.openpyxl_adapter import OpenpyxlWorkbook  # noqa: PLC0415
    from .template import create  # noqa: PLC0415
    wb = OpenpyxlWorkbook.new(target)
    create(wb, load_example(name), empty_rows=empty_rows, typed=True)
    wb.save(backup=False, replace=True)


def build_template(target: str, departement: str = "", annee: int = 0, empty_rows: int = 10) -> None:
    from .adapters.openpyxl_adapter import OpenpyxlWorkbook  # noqa: PLC0415
    from .core.model import Maquette  # noqa: PLC0415
    from .template import create  # noqa: PLC0415
    wb = OpenpyxlWorkbook.new(target)
    create(wb, Maquette(departement, annee), empty_rows=empty_rows, typed=False)
    wb.save(backup=False, replace=True)


def _print_example_summary(path: str) -> None:
    """The recalculated maquette as a table in the terminal."""
    from .adapters.package_adapter import PackageWorkbook  # noqa: PLC0415
    from .core.model import Bloc, Column  # noqa: PLC0415
    from .core.rules import bloc_totals, grand_total  # noqa: PLC0415
    from .reader import read_workbook  # noqa: PLC0415
    wb = PackageWorkbook.open(path)
    m = read_workbook(wb.sheet_names(), wb.read_sheet, path).maquette
    cols = (Column.BUDGET_GLOBAL, Column.PART_ETAT, Column.PART_CD, Column.REPORT, Column.AUTRES)
    head = f"{'Action':<26}" + "".join(f"{c.label[:18]:>20}" for c in cols)
    print(head)
    print("-" * len(head))
    for bloc in Bloc:
        for a in m.bloc(bloc):
            print(f"{(('S ' if bloc is Bloc.SOCLE else 'IL ') + a.label)[:26]:<26}" +
                  "".join(f"{format_eur(a.amount(c)):>20}" for c in cols))
        t = bloc_totals(m)[bloc]
        print(f"{'Sous-total ' + bloc.value:<26}" + "".join(f"{format_eur(t[c]):>20}" for c in cols))
    t = grand_total(m)
    print(f"{'TOTAL':<26}" + "".join(f"{format_eur(t[c]):>20}" for c in cols))
    print()


def cmd_nouveau(args) -> int:
    target = Path(args.fichier)
    if target.suffix.lower() not in WORKBOOK_SUFFIXES:
        print(f"« {target} » : le nom doit finir par .xlsx (ou .xlsm pour le classeur à boutons).", file=sys.stderr)
        return 2
    if target.exists() and not args.force:
        print(f"« {target} » existe déjà : choisissez un autre nom ou ajoutez --force.", file=sys.stderr)
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix.lower() == ".xlsm":  # the macro-enabled maquette, with its three buttons
        from .build_xlsm import build  # noqa: PLC0415
        from .errors import MissingExtra  # noqa: PLC0415
        try:
            build(str(target), args.exemple, args.departement or "", args.annee or 0, args.lignes)
        except MissingExtra as e:
            print(e.message, file=sys.stderr)
            return 2
        what = f"Maquette {args.exemple} recalculée, contrôlée, avec ses fiches" if args.exemple else "Maquette vierge"
        print(f"{what}, à macros (boutons Recalculer, Contrôler, Générer les fiches) : {target}")
        return 0
    if args.exemple:
        build_example(str(target), args.exemple)
        print(f"Maquette {args.exemple} (montants tels qu'imprimés) créée : {target}")
    else:
        build_template(str(target), args.departement or "", args.annee or 0, args.lignes)
        print(f"Maquette vierge créée : {target}")
    return 0


def cmd_ops(args, operations, write=True) -> int:
    twice = _same_names(args.fichiers) if write and getattr(args, "sortie", None) else []
    if twice:
        print("Ces fichiers portent le même nom et s'écraseraient dans « " + args.sortie + " » : " +
              ", ".join(twice) + ". Traitez-les séparément ou utilisez « lot » sur leur dossier.", file=sys.stderr)
        return 2
    results = _run_files(args.fichiers, operations, args, write=write)
    print(render(results, getattr(args, "format", "texte") or "texte"))
    if getattr(args, "format", "texte") == "texte" and len(results) > 1:
        print("\n".join(_summary(r) for r in results))
    return exit_status(results)


def _folder_workbooks(folder: str, exclude: Optional[Path] = None) -> Optional[list[str]]:
    """The workbooks of a folder given on the command line; None (said on
    stderr) when it is not a folder or holds none."""
    if not Path(folder).is_dir():
        print(f"« {folder} » n'est pas un dossier.", file=sys.stderr)
        return None
    files = [f for f in find_workbooks(folder) if exclude is None or Path(f).resolve() != exclude.resolve()]
    if not files:
        print(f"Aucun classeur .xlsx ou .xlsm dans « {folder} ».", file=sys.stderr)
        return None
    return files


def cmd_lot(args) -> int:
    files = _folder_workbooks(args.dossier)
    if files is None:
        return 2
    jobs = args.processus or os.cpu_count() or 1
    results = _run_files(files, [RECALCULER, CONTROLER, FICHES], args, jobs=jobs,
                         progress=sys.stderr.isatty() and args.format == "texte", base=args.dossier)
    if args.format == "texte":
        for r in results:
            print(_summary(r))
        ok = sum(1 for r in results if r.lisible)
        print(f"{len(results)} fichier(s) : {ok} traité(s), {len(results) - ok} en échec, "
              f"{sum(1 for r in results if r.n_errors)} avec des erreurs.")
    else:
        print(render(results, args.format))
    return exit_status(results)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="calpae-xl", description="Maquette financière CALPAE : recalcul, contrôles, "
                                "fiches actions.")
    p.add_argument("--version", action="version", version=f"calpae-xl {__version__}")
    sub = p.add_subparsers(dest="commande", required=True, metavar="COMMANDE")

    e = sub.add_parser("exemple", help="la maquette du Loiret 2020 (avenant n°3), recalculée, contrôlée, avec ses fiches")
    e.add_argument("dossier", nargs="?", default="exemple", help="dossier de sortie (défaut : ./exemple)")
    e.set_defaults(func=cmd_exemple)

    n = sub.add_parser("nouveau", help="créer une maquette vierge ou d'exemple")
    n.add_argument("fichier")
    n.add_argument("--exemple", choices=sorted(EXAMPLES), help="partir d'un exemple intégré")
    n.add_argument("--departement", default="")
    n.add_argument("--annee", type=int, default=0)
    n.add_argument("--lignes", type=int, default=10, help="lignes vides par bloc (défaut : 10)")
    n.add_argument("--force", action="store_true", help="remplacer un fichier existant")
    n.set_defaults(func=cmd_nouveau)

    def envelope(sp):
        sp.add_argument("--credits-etat", type=_amount, metavar="MONTANT", help="crédits État notifiés")
        sp.add_argument("--report-etat", type=_amount, metavar="MONTANT", help="report N-1 État notifié")

    r = sub.add_parser("recalculer", help="appliquer les règles de répartition, les totaux, et contrôler")
    r.add_argument("fichiers", nargs="+", metavar="FICHIER")
    r.add_argument("--sortie", metavar="DOSSIER", help="écrire DOSSIER/<même nom> au lieu de modifier le fichier")
    envelope(r)
    r.set_defaults(func=lambda a: cmd_ops(a, [RECALCULER, CONTROLER]))

    c = sub.add_parser("controler", help="lister les incohérences (ne modifie pas le fichier)")
    c.add_argument("fichiers", nargs="+", metavar="FICHIER")
    c.add_argument("--format", choices=("texte", "json", "csv"), default="texte")
    envelope(c)
    c.set_defaults(func=lambda a: cmd_ops(a, [CONTROLER], write=False))

    f = sub.add_parser("fiches", help="créer ou rafraîchir une feuille par action")
    f.add_argument("fichiers", nargs="+", metavar="FICHIER")
    f.add_argument("--sortie", metavar="DOSSIER")
    f.set_defaults(func=lambda a: cmd_ops(a, [FICHES]))

    lot = sub.add_parser("lot", help="recalculer + contrôler + fiches sur chaque classeur d'un dossier")
    lot.add_argument("dossier")
    lot.add_argument("--sortie", metavar="DOSSIER")
    lot.add_argument("--format", choices=("texte", "json", "csv"), default="texte")
    lot.add_argument("--processus", type=int, default=0, help="nombre de processus (défaut : un par cœur)")
    envelope(lot)
    lot.set_defaults(func=cmd_lot)

    co = sub.add_parser("consolider", help="toutes les maquettes d'un dossier (départements, années) en un classeur")
    co.add_argument("dossier")
    co.add_argument("-o", "--sortie", default="consolidation.xlsx", metavar="FICHIER.xlsx")
    co.add_argument("--csv", metavar="DOSSIER", help="écrire aussi les tableaux en CSV dans ce dossier")
    co.add_argument("--processus", type=int, default=0, help="nombre de processus (défaut : un par cœur)")
    co.set_defaults(func=cmd_consolider)

    cp = sub.add_parser("comparer", help="ce qu'un avenant a changé : actions, montants, enveloppe")
    cp.add_argument("ancien")
    cp.add_argument("nouveau")
    cp.add_argument("-o", "--sortie", metavar="ECARTS.xlsx", help="écrire aussi les écarts dans un classeur")
    cp.set_defaults(func=cmd_comparer)

    pd_ = sub.add_parser("pdf", help="la maquette et les fiches en PDF (par LibreOffice)")
    pd_.add_argument("fichier")
    pd_.add_argument("-o", "--sortie", metavar="FICHIER.pdf", help="défaut : même nom, extension .pdf")
    pd_.add_argument("--controles", action="store_true", help="inclure la feuille Contrôles")
    pd_.set_defaults(func=cmd_pdf)
    return p


def cmd_consolider(args) -> int:
    from .consolidate import read_file, tables, write_csv, write_workbook  # noqa: PLC0415
    target = Path(args.sortie)
    files = _folder_workbooks(args.dossier, exclude=target)
    if files is None:
        return 2
    records = map_files(read_file, files, args.processus or os.cpu_count() or 1, sys.stderr.isatty(),
                        "Consolidation")
    frames = tables(records)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_workbook(frames, str(target))
    unreadable = [r for r in records if not r.lisible]
    n_actions = sum(len(r.actions) for r in records)
    print(f"{len(records)} fichier(s), {len(records) - len(unreadable)} lu(s), {n_actions} action(s) : {target}")
    for r in unreadable:
        print(f"  illisible : {r.erreur}")
    if args.csv:
        for path in write_csv(frames, args.csv):
            print(f"  {path}")
    return 2 if unreadable else 0


def cmd_comparer(args) -> int:
    from .adapters.package_adapter import PackageWorkbook  # noqa: PLC0415
    from .compare import compare, write_workbook  # noqa: PLC0415
    from .reader import read_workbook  # noqa: PLC0415
    maquettes = []
    for path in (args.ancien, args.nouveau):
        try:
            wb = PackageWorkbook.open(path)
            maquettes.append(read_workbook(wb.sheet_names(), wb.read_sheet, path).maquette)
        except CalpaeError as e:
            print(e.message, file=sys.stderr)
            return 2
    result = compare(*maquettes)
    print(f"Écarts entre « {args.ancien} » et « {args.nouveau} » :")
    if not result.changed:
        print("  aucune différence entre les actions.")
    for line in result.lines():
        print(f"  {line}")
    if args.sortie:
        write_workbook(result, args.sortie, Path(args.ancien).name, Path(args.nouveau).name)
        print(f"Écarts écrits dans {args.sortie}")
    return 0


def cmd_pdf(args) -> int:
    from .pdf import to_pdf  # noqa: PLC0415
    try:
        target = to_pdf(args.fichier, args.sortie, args.controles)
    except CalpaeError as e:
        print(e.message, file=sys.stderr)
        return 2
    print(f"PDF de l'annexe écrit : {target}")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)  # a usage error exits with status 2
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
