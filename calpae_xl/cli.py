"""The ``calpae-xl`` command: the parser and thin commands; the work is in
:mod:`calpae_xl.app` (sessions, rendering) and :mod:`calpae_xl.reports`.

Exit status: 0 when no finding of gravité « erreur » remains, 1 when one does,
2 when a file could not be read or written or the usage is wrong. One bad
file in a list or a batch is reported and the others are still processed.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import traceback
from collections import Counter
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Optional, Sequence

from . import __version__
from .adapters import saveframe
from .app.batch import WORKBOOK_SUFFIXES, find_workbooks, map_files
from .app.render import exit_status, maquette_table, render, summary
from .app.session import CONTROLER, FICHES, RECALCULER, process_file
from .core.money import AmountError, parse_amount
from .core.profile import ProfileError
from .core.serialize import EXAMPLES
from .core.texts import shown
from .errors import CalpaeError, MissingExtra, UnwritableFile, os_reason

EXAMPLE_FILE = "loiret_2020.xlsx"


def _amount(text: str) -> Decimal:
    try:
        v = parse_amount(text)
    except AmountError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if v is None:
        raise argparse.ArgumentTypeError("montant vide")
    return v


def _profile(args):
    """The profile --profil names (None: each workbook's own, from « Paramètres »)."""
    from .core.profile import resolve  # noqa: PLC0415
    return resolve(args.profil) if getattr(args, "profil", None) else None


def _run_files(files: Sequence[str], operations, args, write=True, jobs: int = 1, progress=False,
               base: Optional[str] = None):
    return map_files(partial(process_file, operations=operations, sortie=getattr(args, "sortie", None),
                             credits=getattr(args, "credits_etat", None), report=getattr(args, "report_etat", None),
                             write=write, base=base, force=getattr(args, "force", False), profile=_profile(args)),
                     files, jobs, progress)


def _same_names(files: Sequence[str]) -> list[str]:
    """Names given twice: their copies would overwrite each other in one --sortie folder."""
    return sorted(n for n, k in Counter(Path(f).name for f in files).items() if k > 1)


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


# --- commands ------------------------------------------------------------------------------

def _written(target, written: saveframe.Written) -> str:
    return f"{target}" if written.changed else f"{target} (déjà à jour : fichier inchangé)"


def _example_of(args) -> str:
    """The worked example of the profile --profil names (the Loiret 2020 by default)."""
    p = _profile(args)
    if p is None:
        return "loiret-2020"
    if not p.exemple or p.exemple not in EXAMPLES:
        raise CalpaeError(args.profil, f"le profil « {p.id} » n'a pas d'exemple intégré (exemples : "
                                       f"{', '.join(sorted(EXAMPLES))})", "PROFIL_INVALIDE")
    return p.exemple


def _example_title(name: str) -> str:
    from .core.serialize import load_years  # noqa: PLC0415
    if name == "loiret-2020":
        return "Maquette du Loiret 2020 (avenant n°3)"
    years = load_years(name)
    p = years[0].profile
    span = f"{years[0].annee}-{years[-1].annee}" if len(years) > 1 else str(years[0].annee)
    invented = "" if "invent" in years[0].departement else " (département inventé)"
    return f"Exemple {p.intitule if p else name} — {years[0].departement} {span}{invented}"


def cmd_exemple(args) -> int:
    from .adapters.xlsx import PackageWorkbook  # noqa: PLC0415
    from .app.template import write_example  # noqa: PLC0415
    from .workbook.reader import read_workbook  # noqa: PLC0415
    name = _example_of(args)
    folder = Path(args.dossier)
    saveframe.ensure_folder(str(folder))
    file_name = EXAMPLE_FILE if name == "loiret-2020" else EXAMPLES[name].replace(".json", ".xlsx")
    target = folder / file_name
    saveframe.check_output(str(target))  # before the work: a folder, a read-only or open file there
    with saveframe.staging(str(target)) as work:
        staged = os.path.join(work, file_name)  # made whole here, then placed by the save frame
        write_example(staged, name)
        result = process_file(staged, [RECALCULER, CONTROLER, FICHES], backup=False)
        if not result.lisible:
            raise UnwritableFile(str(target), result.erreur or "l'exemple n'a pas pu être produit")
        wb = PackageWorkbook.open(staged)
        read = read_workbook(wb.sheet_names(), wb.read_sheet, staged)
        tables = [maquette_table(v.maquette) for v in read.years] if len(read.years) > 1 else \
            [maquette_table(read.maquette)]
        written = saveframe.write(str(target), partial(shutil.copyfile, staged), force=args.force,
                                  verify=saveframe.verify_package())
    result.fichier = str(target)
    result.sortie = str(target) if written.changed else None
    print(f"{_example_title(name)} : {_written(target, written)}")
    for table in tables:
        print(table)
    print()
    print(render([result], "texte"))
    return exit_status([result])


def cmd_nouveau(args) -> int:
    target = Path(args.fichier)
    if target.suffix.lower() not in WORKBOOK_SUFFIXES:
        return _fail(f"« {target} » : le nom doit finir par .xlsx (ou .xlsm pour le classeur à boutons).")
    profile = _profile(args)
    example = args.exemple
    if example == "":  # --exemple alone: the profile's own worked example
        example = _example_of(args)
    elif example and profile is not None:
        from .core.serialize import load_years  # noqa: PLC0415
        own = load_years(example)[0].profile
        if own is not None and own.id != profile.id:
            return _fail(f"L'exemple « {example} » est une maquette du profil « {own.id} », pas « {profile.id} » : "
                         "donnez --exemple seul pour l'exemple du profil.")
    saveframe.check_output(str(target))  # before the work
    with saveframe.staging(str(target)) as work:
        staged = os.path.join(work, "maquette" + target.suffix.lower())
        kind = profile.intitule if profile is not None and not example else ""
        if target.suffix.lower() == ".xlsm":  # the macro-enabled maquette, with its three buttons
            from .build_xlsm import build  # noqa: PLC0415
            build(staged, example, args.departement or "", args.annee or 0, args.lignes, profile)
            what = (f"Maquette {example} recalculée, contrôlée, avec ses fiches" if example
                    else "Maquette vierge" + (f" ({kind})" if kind else "")) + \
                ", à macros (boutons Recalculer, Contrôler, Générer les fiches)"
        else:
            from .app.template import write_example, write_template  # noqa: PLC0415
            if example:
                write_example(staged, example)
                what = f"Maquette {example} (" + ("montants tels qu'imprimés" if example == "loiret-2020" else
                                                  "département inventé") + ") créée"
            else:
                write_template(staged, args.departement or "", args.annee or 0, args.lignes, profile)
                what = "Maquette vierge" + (f" ({kind})" if kind else "") + " créée"
        saveframe.ensure_folder(str(target.parent))
        written = saveframe.write(str(target), partial(shutil.copyfile, staged), force=args.force,
                                  verify=saveframe.verify_package())
    print(f"{what} : {target}" if written.changed else
          f"{what.replace(' créée', '')} : {target} déjà à jour (fichier inchangé)")
    return 0


def cmd_suivant(args) -> int:
    """The following year: a new workbook (yearly convention) or the next column year (multi-year contract)."""
    from .adapters.xlsx import PackageWorkbook  # noqa: PLC0415
    from .app.suivant import carry_in_contract, next_name, prepare_next_year, summary_lines  # noqa: PLC0415
    from .workbook.reader import read_workbook  # noqa: PLC0415
    source = args.fichier
    profile = _profile(args)
    wb = PackageWorkbook.open(source)
    read = read_workbook(wb.sheet_names(), wb.read_sheet, source, profile=profile)
    if len(read.years) > 1:  # a multi-year contract: the same workbook, its next year
        target = args.sortie or source
        if args.sortie:
            saveframe.check_output(target, inputs=[source])
        with saveframe.exclusive(source, target):
            wb = PackageWorkbook.open(source)
            result = carry_in_contract(wb, profile)
            wb.save(target, backup=True, force=args.force)
        print(f"Contrat {read.years[0].maquette.annee}-{read.years[-1].maquette.annee} : année {result.annee} "
              f"préparée dans {target}" + (f" (version précédente : {wb.saved.backup})"
                                           if getattr(wb.saved, "backup", None) else ""))
    else:
        if not read.maquette.annee:
            return _fail(f"« {source} » : l'année de la convention n'est pas renseignée (feuille « Paramètres ») : "
                         "l'année suivante ne peut pas être préparée. [ANNEE_SUIVANTE_IMPOSSIBLE]")
        target = args.sortie or next_name(source, read.maquette.annee)
        if Path(target).suffix.lower() not in WORKBOOK_SUFFIXES:
            return _fail(f"« {target} » : le nom doit finir par .xlsx ou .xlsm.")
        saveframe.check_output(target, inputs=[source])
        if Path(target).exists() and not args.force:  # the next year may be under way there: never replaced unasked
            return _fail(shown(f"« {target} » : ce fichier existe déjà ; choisissez un autre nom (-o), ou ajoutez "
                               "--force pour le remplacer. [FICHIER_EXISTANT]"))
        with saveframe.staging(target) as work:
            staged = os.path.join(work, "suivant" + Path(target).suffix.lower())
            result = prepare_next_year(wb, staged, profile)
            saveframe.ensure_folder(str(Path(target).parent) or ".")
            result.workbook.save(target, backup=True, replace=True, force=args.force)
        print(f"Maquette {result.annee} préparée depuis « {source} » : {target}")
    for line in summary_lines(result):
        print(line)
    findings = result.outcome.findings if result.outcome else []
    errors = sum(1 for f in findings if f.severity.value == "erreur")
    print(f"  Contrôles : {errors} erreur(s), {len(findings) - errors} autre(s) constat(s) (feuille « Contrôles »). "
          "Chaque report est tracé dans la feuille « Journal », l'exécution dans « Suivi de l'exécution ».")
    return 0


def cmd_profils(args) -> int:
    """The shipped profiles (id, intitulé, years), and how to use one's own."""
    from .core.profile import shipped  # noqa: PLC0415
    profiles = list(shipped().values())
    if args.format == "json":
        print(json.dumps({"profils": [p.as_dict() for p in profiles]}, ensure_ascii=False, indent=2))
        return 0
    for p in profiles:
        years = f"{p.annees[0]}-{p.annees[1]}"
        print(f"{p.id} — {p.intitule} ({years}{', pluriannuel' if p.pluriannuel else ''}, version {p.version})")
        print(f"    {p.words.capitalize()} : " + " ; ".join(g.label for g in p.groupes))
        if p.exemple:
            print(f"    Exemple : calpae-xl nouveau maquette.xlsx --profil {p.id} --exemple")
    print()
    print("Votre propre convention : --profil FICHIER.toml (voir le README, « Écrire son profil »).")
    return 0


def cmd_ops(args, operations, write=True) -> int:
    twice = _same_names(args.fichiers) if write and getattr(args, "sortie", None) else []
    if twice:
        return _fail("Ces fichiers portent le même nom et s'écraseraient dans « " + args.sortie + " » : " +
                     ", ".join(twice) + ". Traitez-les séparément ou utilisez « lot » sur leur dossier.")
    results = _run_files(args.fichiers, operations, args, write=write)
    print(render(results, getattr(args, "format", "texte") or "texte"))
    if getattr(args, "format", "texte") == "texte" and len(results) > 1:
        print("\n".join(summary(r) for r in results))
    return exit_status(results)


def _folder_workbooks(folder: str) -> Optional[list[str]]:
    """The workbooks of a folder given on the command line; None (said on
    stderr) when it is not a folder or holds none."""
    if not Path(folder).is_dir():
        print(f"« {folder} » n'est pas un dossier.", file=sys.stderr)
        return None
    files = find_workbooks(folder)
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
            print(summary(r))
        ok = sum(1 for r in results if r.lisible)
        print(f"{len(results)} fichier(s) : {ok} traité(s), {len(results) - ok} en échec, "
              f"{sum(1 for r in results if r.n_errors)} avec des erreurs.")
    else:
        print(render(results, args.format))
    return exit_status(results)


def cmd_consolider(args) -> int:
    from .reports.consolidate import csv_paths, is_consolidation, read_file, tables, write_csv, write_workbook  # noqa: PLC0415,E501
    target = str(args.sortie)
    saveframe.check_output(target)  # before reading every file: a folder, a read-only or open file there
    if args.csv:
        saveframe.ensure_folder(args.csv)
    files = _folder_workbooks(args.dossier)
    if files is None:
        return 2
    # an earlier consolidation in the folder is not read; any other workbook there is an input
    files = [f for f in files if not (saveframe.same_file(f, target) and is_consolidation(f))]
    saveframe.check_output(target, inputs=files)
    if not files:
        return _fail(f"Aucune maquette à consolider dans « {args.dossier} ».")
    records = map_files(read_file, files, args.processus or os.cpu_count() or 1, sys.stderr.isatty(),
                        "Consolidation")
    frames = tables(records)
    outputs = [saveframe.Output(target, partial(write_workbook, frames), saveframe.verify_package(len(frames) + 1))]
    csvs = csv_paths(frames, args.csv) if args.csv else {}
    outputs += [saveframe.Output(path, partial(write_csv, frames[name])) for name, path in csvs.items()]
    saveframe.ensure_folder(str(Path(target).parent))
    written = saveframe.write_all(outputs, inputs=files, force=args.force)
    unreadable = [r for r in records if not r.lisible]
    ignored = [r for r in records if r.ignore]
    n_actions = sum(len(r.actions) for r in records)
    print(f"{len(records)} fichier(s), {len(records) - len(unreadable) - len(ignored)} lu(s), {n_actions} action(s) : "
          f"{_written(target, written[0])}")
    for r in unreadable:
        print(f"  illisible : {r.erreur}")
    for r in ignored:
        print(f"  ignoré : {r.fichier} ({r.erreur})")
    doubles = frames["Fichiers"]
    for _, row in doubles[doubles["En double"] == "oui"].iterrows():
        print(f"  en double : {row['Fichier']} ({row['Département']} {row['Année']})")
    uncounted = [r for r in records if r.non_comptes]
    for r in uncounted:
        print(f"  {r.fichier} : {r.non_comptes} montant(s) vide(s) ou illisible(s) non compté(s) dans les totaux")
    for path, w in zip(csvs.values(), written[1:], strict=True):
        print(f"  {_written(path, w)}")
    if uncounted and not unreadable:
        print("Totaux incomplets : des montants vides ou illisibles n'y sont pas comptés (voir la colonne "
              "« Montants non comptés »).")
    return 2 if unreadable else 1 if uncounted else 0


def cmd_comparer(args) -> int:
    from .adapters.xlsx import PackageWorkbook  # noqa: PLC0415
    from .reports.compare import compare, write_workbook  # noqa: PLC0415
    from .workbook.reader import read_workbook  # noqa: PLC0415
    inputs = [args.ancien, args.nouveau]
    if args.sortie:
        saveframe.check_output(args.sortie, inputs=inputs)  # before reading: never over A or B
    maquettes = []
    for path in inputs:
        wb = PackageWorkbook.open(path)
        maquettes.append(read_workbook(wb.sheet_names(), wb.read_sheet, path, profile=_profile(args)).maquette)
    result = compare(*maquettes)
    print(f"Écarts entre « {args.ancien} » et « {args.nouveau} » :")
    if not result.changed:
        print("  aucune différence entre les actions.")
    for line in result.lines():
        print(f"  {line}")
    if args.sortie:
        saveframe.ensure_folder(str(Path(args.sortie).parent))
        written = saveframe.write(args.sortie, partial(write_workbook, result, old_name=Path(args.ancien).name,
                                                       new_name=Path(args.nouveau).name),
                                  inputs=inputs, force=args.force, verify=saveframe.verify_package(2))
        print(f"Écarts écrits dans {_written(args.sortie, written)}")
    return 0


def cmd_pdf(args) -> int:
    from .reports.pdf import to_pdf  # noqa: PLC0415
    target = to_pdf(args.fichier, args.sortie, args.controles, force=args.force)
    print(f"PDF de l'annexe écrit : {target}")
    return 0


def cmd_codes(args) -> int:
    """The catalogue of codes, for users (and for tools, in JSON)."""
    from .core.catalogue import CATALOGUE, CONSTAT  # noqa: PLC0415
    entries = list(CATALOGUE.values())
    if args.format == "json":
        print(json.dumps({"codes": [e.as_dict() for e in entries]}, ensure_ascii=False, indent=2))
        return 0
    for title, kind in (("Constats sur la maquette (feuille Contrôles)", CONSTAT),
                        ("Refus d'un fichier (code de sortie 2)", "fichier")):
        print(title)
        print("=" * len(title))
        for e in entries:
            if e.kind == kind:
                print(f"{e.code} — {e.titre} ({e.severity.value})")
                print(f"    {e.explication}")
                print(f"    Que faire : {e.que_faire}")
        print()
    return 0


# --- the parser --------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="calpae-xl", description="Maquette financière CALPAE : recalcul, contrôles, "
                                "fiches actions.")
    p.add_argument("--version", action="version", version=f"calpae-xl {__version__}")
    sub = p.add_subparsers(dest="commande", required=True, metavar="COMMANDE")

    def profil(sp, text="la convention à appliquer (défaut : celle que nomme la feuille « Paramètres »)"):
        sp.add_argument("--profil", metavar="PROFIL", help=text + " ; un identifiant (calpae-xl profils) ou un "
                                                                   "fichier .toml")

    e = sub.add_parser("exemple", help="la maquette du Loiret 2020 (avenant n°3), recalculée, contrôlée, avec ses "
                                       "fiches")
    e.add_argument("dossier", nargs="?", default="exemple", help="dossier de sortie (défaut : ./exemple)")
    e.add_argument("--force", action="store_true", help="remplacer un exemple que vous avez modifié")
    e.add_argument("--profil", metavar="PROFIL", help="l'exemple d'un autre profil (calpae-xl profils les liste)")
    e.set_defaults(func=cmd_exemple)

    n = sub.add_parser("nouveau", help="créer une maquette vierge ou d'exemple")
    n.add_argument("fichier")
    n.add_argument("--exemple", nargs="?", const="", choices=sorted(EXAMPLES) + [""], metavar="EXEMPLE",
                   help="partir d'un exemple intégré (seul : celui du profil ; "
                        f"exemples : {', '.join(sorted(EXAMPLES))})")
    n.add_argument("--departement", default="")
    n.add_argument("--annee", type=int, default=0)
    n.add_argument("--lignes", type=int, default=10, help="lignes vides par bloc (défaut : 10)")
    n.add_argument("--force", action="store_true", help="remplacer un fichier existant")
    profil(n, "la convention de la maquette (défaut : calpae)")
    n.set_defaults(func=cmd_nouveau)

    def envelope(sp):
        sp.add_argument("--credits-etat", type=_amount, metavar="MONTANT", help="crédits État notifiés")
        sp.add_argument("--report-etat", type=_amount, metavar="MONTANT", help="report N-1 État notifié")

    r = sub.add_parser("recalculer", help="appliquer les règles de répartition, les totaux, et contrôler")
    r.add_argument("fichiers", nargs="+", metavar="FICHIER")
    r.add_argument("--sortie", metavar="DOSSIER", help="écrire DOSSIER/<même nom> au lieu de modifier le fichier")
    r.add_argument("--force", action="store_true", help="remplacer une copie existante différente dans --sortie")
    envelope(r)
    profil(r)
    r.set_defaults(func=lambda a: cmd_ops(a, [RECALCULER, CONTROLER]))

    c = sub.add_parser("controler", help="lister les incohérences (ne modifie pas le fichier)")
    c.add_argument("fichiers", nargs="+", metavar="FICHIER")
    c.add_argument("--format", choices=("texte", "json", "csv"), default="texte")
    envelope(c)
    profil(c)
    c.set_defaults(func=lambda a: cmd_ops(a, [CONTROLER], write=False))

    f = sub.add_parser("fiches", help="créer ou rafraîchir une feuille par action")
    f.add_argument("fichiers", nargs="+", metavar="FICHIER")
    f.add_argument("--sortie", metavar="DOSSIER")
    f.add_argument("--force", action="store_true", help="remplacer une copie existante différente dans --sortie")
    profil(f)
    f.set_defaults(func=lambda a: cmd_ops(a, [FICHES]))

    lot = sub.add_parser("lot", help="recalculer + contrôler + fiches sur chaque classeur d'un dossier")
    lot.add_argument("dossier")
    lot.add_argument("--sortie", metavar="DOSSIER")
    lot.add_argument("--force", action="store_true", help="remplacer les copies existantes différentes dans --sortie")
    lot.add_argument("--format", choices=("texte", "json", "csv"), default="texte")
    lot.add_argument("--processus", type=int, default=0, help="nombre de processus (défaut : un par cœur)")
    envelope(lot)
    profil(lot)
    lot.set_defaults(func=cmd_lot)

    co = sub.add_parser("consolider", help="toutes les maquettes d'un dossier (départements, années) en un classeur")
    co.add_argument("dossier")
    co.add_argument("-o", "--sortie", default="consolidation.xlsx", metavar="FICHIER.xlsx")
    co.add_argument("--csv", metavar="DOSSIER", help="écrire aussi les tableaux en CSV dans ce dossier")
    co.add_argument("--force", action="store_true", help="remplacer des fichiers de sortie existants")
    co.add_argument("--processus", type=int, default=0, help="nombre de processus (défaut : un par cœur)")
    co.set_defaults(func=cmd_consolider)

    cp = sub.add_parser("comparer", help="ce qu'un avenant a changé : actions, montants, enveloppe")
    cp.add_argument("ancien")
    cp.add_argument("nouveau")
    cp.add_argument("-o", "--sortie", metavar="ECARTS.xlsx", help="écrire aussi les écarts dans un classeur")
    cp.add_argument("--force", action="store_true", help="remplacer un fichier de sortie existant")
    profil(cp)
    cp.set_defaults(func=cmd_comparer)

    pd_ = sub.add_parser("pdf", help="la maquette et les fiches en PDF (par LibreOffice)")
    pd_.add_argument("fichier")
    pd_.add_argument("-o", "--sortie", metavar="FICHIER.pdf", help="défaut : même nom, extension .pdf")
    pd_.add_argument("--controles", action="store_true", help="inclure la feuille Contrôles")
    pd_.add_argument("--force", action="store_true", help="remplacer un PDF existant")
    pd_.set_defaults(func=cmd_pdf)

    sv = sub.add_parser("suivant", help="préparer l'année suivante : actions et fiches reprises, reports calculés "
                                        "depuis l'exécution")
    sv.add_argument("fichier")
    sv.add_argument("-o", "--sortie", metavar="FICHIER", help="défaut : le nom avec l'année suivante (ou le même "
                                                              "classeur pour un contrat pluriannuel)")
    sv.add_argument("--force", action="store_true", help="remplacer un fichier de sortie existant")
    profil(sv)
    sv.set_defaults(func=cmd_suivant)

    pr = sub.add_parser("profils", help="les conventions que l'outil connaît (CALPAE, CLS, RSA / France Travail)")
    pr.add_argument("--format", choices=("texte", "json"), default="texte")
    pr.set_defaults(func=cmd_profils)

    cd = sub.add_parser("codes", help="le catalogue des constats et des refus, avec ce qu'il faut faire")
    cd.add_argument("--format", choices=("texte", "json"), default="texte")
    cd.set_defaults(func=cmd_codes)
    return p


# --- the one boundary ------------------------------------------------------------------------

class _OutputLost(Exception):
    """stdout itself cannot be written (a full disk behind ``> fichier``)."""


class _Stdout:
    """stdout that outlives its reader (``calpae-xl controler … | head -1``):
    once the pipe is closed, the rest is dropped and the command finishes
    its work, with its own exit status and no traceback. Any other failure
    to write it stops the command with a message about the output itself."""

    def __init__(self, stream):
        self._stream = stream
        self.gone = False

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._leave()
            except OSError as e:
                self._leave()
                raise _OutputLost(os_reason(e)) from None
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._leave()
            except OSError as e:
                self._leave()
                raise _OutputLost(os_reason(e)) from None

    def _leave(self) -> None:
        self.gone = True
        try:  # what is still buffered goes nowhere, even when Python flushes at exit
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, io.UnsupportedOperation):
            pass

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _readable_streams() -> None:
    """Any terminal encoding (cp1252, ASCII…) and any file name: a character
    the terminal cannot show becomes « ? », never an error."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="replace")
        except (AttributeError, ValueError, io.UnsupportedOperation):
            pass


def _named(args) -> str:
    """The files a command was given, to name them in an unexpected failure."""
    names = [getattr(args, k, None) for k in ("fichier", "dossier", "ancien", "nouveau", "sortie", "csv")]
    names += list(getattr(args, "fichiers", None) or [])
    return ", ".join(f"« {n} »" for n in names if n) or "la commande"


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The command line. Every failure, of any command (reading, writing,
    a defect of the tool), ends here: a French message naming the file on
    stderr and exit status 2, never a traceback (``CALPAE_DEBUG=1`` shows it)."""
    _readable_streams()
    args = build_parser().parse_args(argv)  # a usage error exits with status 2
    real_stdout = sys.stdout
    if real_stdout is not None:  # None: started with stdout closed, and print() writes nothing
        sys.stdout = _Stdout(real_stdout)
    try:
        status = args.func(args)
        if sys.stdout is not None:
            sys.stdout.flush()
        return status
    except _OutputLost as e:
        return _fail(f"Impossible d'écrire la sortie de la commande : {e}. Les fichiers déjà enregistrés le sont "
                     "entièrement. [ENREGISTREMENT_IMPOSSIBLE]")
    except CalpaeError as e:  # the code, which « calpae-xl codes » explains, in brackets
        return _fail(shown(f"{e.message} [{e.code}]"))
    except ProfileError as e:
        return _fail(shown(f"{e} [PROFIL_INVALIDE]"))
    except MissingExtra as e:
        return _fail(e.message)
    except KeyboardInterrupt:
        return _fail("Interrompu : les fichiers déjà enregistrés le sont entièrement, les autres n'ont pas été "
                     "modifiés.")
    except OSError as e:
        _debug()
        where = f"« {os.fsdecode(e.filename)} »" if e.filename else _named(args)
        return _fail(shown(f"Impossible de lire ou d'écrire {where} : {os_reason(e)}. [ENREGISTREMENT_IMPOSSIBLE]"))
    except Exception as e:  # noqa: BLE001 - the boundary: a defect of the tool is still a French message
        _debug()
        return _fail(shown(f"Erreur inattendue ({type(e).__name__} : {str(e)[:300]}) en traitant {_named(args)}. "
                           "Transmettez ce message et le fichier à l'équipe calpae_xl. [ERREUR_INATTENDUE]"))
    finally:
        sys.stdout = real_stdout


def _debug() -> None:
    if os.environ.get("CALPAE_DEBUG"):
        traceback.print_exc()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
