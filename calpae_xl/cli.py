"""The ``calpae-xl`` command: the parser and thin commands; the work is in
:mod:`calpae_xl.app` (sessions, rendering) and :mod:`calpae_xl.reports`.

Exit status: 0 when no finding of gravité « erreur » remains, 1 when one does,
2 when a file could not be read or written or the usage is wrong. One bad
file in a list or a batch is reported and the others are still processed.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Optional, Sequence

from . import __version__
from .app.batch import WORKBOOK_SUFFIXES, find_workbooks, map_files
from .app.render import exit_status, maquette_table, render, summary
from .app.session import CONTROLER, FICHES, RECALCULER, process_file
from .core.money import AmountError, parse_amount
from .core.serialize import EXAMPLES
from .errors import CalpaeError, MissingExtra

EXAMPLE_FILE = "loiret_2020.xlsx"


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


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


# --- commands ------------------------------------------------------------------------------

def cmd_exemple(args) -> int:
    from .app.template import write_example  # noqa: PLC0415
    folder = Path(args.dossier)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / EXAMPLE_FILE
    write_example(str(target))
    result = process_file(str(target), [RECALCULER, CONTROLER, FICHES], backup=False)
    print(f"Maquette du Loiret 2020 (avenant n°3) : {target}")
    if result.lisible:
        from .adapters.xlsx import PackageWorkbook  # noqa: PLC0415
        from .workbook.reader import read_workbook  # noqa: PLC0415
        wb = PackageWorkbook.open(str(target))
        print(maquette_table(read_workbook(wb.sheet_names(), wb.read_sheet, str(target)).maquette))
        print()
    print(render([result], "texte"))
    return exit_status([result])


def cmd_nouveau(args) -> int:
    target = Path(args.fichier)
    if target.suffix.lower() not in WORKBOOK_SUFFIXES:
        return _fail(f"« {target} » : le nom doit finir par .xlsx (ou .xlsm pour le classeur à boutons).")
    if target.exists() and not args.force:
        return _fail(f"« {target} » existe déjà : choisissez un autre nom ou ajoutez --force.")
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix.lower() == ".xlsm":  # the macro-enabled maquette, with its three buttons
        from .build_xlsm import build  # noqa: PLC0415
        build(str(target), args.exemple, args.departement or "", args.annee or 0, args.lignes)
        what = f"Maquette {args.exemple} recalculée, contrôlée, avec ses fiches" if args.exemple else "Maquette vierge"
        print(f"{what}, à macros (boutons Recalculer, Contrôler, Générer les fiches) : {target}")
        return 0
    from .app.template import write_example, write_template  # noqa: PLC0415
    if args.exemple:
        write_example(str(target), args.exemple)
        print(f"Maquette {args.exemple} (montants tels qu'imprimés) créée : {target}")
    else:
        write_template(str(target), args.departement or "", args.annee or 0, args.lignes)
        print(f"Maquette vierge créée : {target}")
    return 0


def _emit(text: str, fmt: str) -> None:
    """What a command prints. CSV opens in Excel as it is: UTF-8 with a BOM
    (the accents), ';' between the fields (the csv module's CRLF lines)."""
    if fmt != "csv":
        print(text)
        return
    data = ("\ufeff" + text + "\r\n").encode("utf-8")
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a stream without bytes (some embedders): the text as it is
        print(text)
        return
    sys.stdout.flush()
    buffer.write(data)
    buffer.flush()


def _folders_given(files: Sequence[str], write: bool) -> bool:
    """A folder given where files are expected: said, with the command that
    takes a folder (lot). True when there was one."""
    folders = [f for f in files if Path(f).is_dir()]
    for f in folders:
        if write:
            hint = f"pour traiter tous ses classeurs, utilisez « calpae-xl lot {f} »"
        else:
            hint = (f"pour contrôler tous ses classeurs, utilisez « calpae-xl lot {f} --sortie DOSSIER » (lot "
                    "recalcule, contrôle et génère les fiches ; avec --sortie, vos fichiers ne sont pas modifiés)")
        print(f"« {f} » est un dossier : {hint}.", file=sys.stderr)
    return bool(folders)


def cmd_ops(args, operations, write=True) -> int:
    if _folders_given(args.fichiers, write):
        return 2
    twice = _same_names(args.fichiers) if write and getattr(args, "sortie", None) else []
    if twice:
        return _fail("Ces fichiers portent le même nom et s'écraseraient dans « " + args.sortie + " » : " +
                     ", ".join(twice) + ". Traitez-les séparément ou utilisez « lot » sur leur dossier.")
    results = _run_files(args.fichiers, operations, args, write=write)
    fmt = getattr(args, "format", "texte") or "texte"
    _emit(render(results, fmt), fmt)
    if getattr(args, "format", "texte") == "texte" and len(results) > 1:
        print("\n".join(summary(r) for r in results))
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
            print(summary(r))
        ok = sum(1 for r in results if r.lisible)
        print(f"{len(results)} fichier(s) : {ok} traité(s), {len(results) - ok} en échec, "
              f"{sum(1 for r in results if r.n_errors)} avec des erreurs.")
    else:
        _emit(render(results, args.format), args.format)
    return exit_status(results)


def cmd_consolider(args) -> int:
    from .reports.consolidate import read_file, tables, write_csv, write_workbook  # noqa: PLC0415
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
    ignored = [r for r in records if r.ignore]
    n_actions = sum(len(r.actions) for r in records)
    print(f"{len(records)} fichier(s), {len(records) - len(unreadable) - len(ignored)} lu(s), {n_actions} action(s) : "
          f"{target}")
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
    if args.csv:
        for path in write_csv(frames, args.csv):
            print(f"  {path}")
    if uncounted and not unreadable:
        print("Totaux incomplets : des montants vides ou illisibles n'y sont pas comptés (voir la colonne "
              "« Montants non comptés »).")
    return 2 if unreadable else 1 if uncounted else 0


def cmd_comparer(args) -> int:
    from .adapters.xlsx import PackageWorkbook  # noqa: PLC0415
    from .reports.compare import compare, write_workbook  # noqa: PLC0415
    from .workbook.reader import read_workbook  # noqa: PLC0415
    maquettes = []
    for path in (args.ancien, args.nouveau):
        wb = PackageWorkbook.open(path)
        maquettes.append(read_workbook(wb.sheet_names(), wb.read_sheet, path).maquette)
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
    """The annex as a PDF: refused while errors remain, unless --forcer."""
    from .app.render import finding_line  # noqa: PLC0415
    from .reports.pdf import annex_pdf  # noqa: PLC0415
    out = annex_pdf(args.fichier, args.sortie, avenant=args.avenant or "", controles=args.controles,
                    forcer=args.forcer, credits=args.credits_etat, report=args.report_etat)
    errors = out.errors
    if out.target is None:
        print(f"« {args.fichier} » : {len(errors)} erreur(s) à corriger avant d'imprimer l'annexe :")
        for f in errors:
            print(finding_line(f.as_dict()))
        print("Le PDF n'a pas été produit. Corrigez ces erreurs (« calpae-xl recalculer » en règle la plupart), "
              "ou ajoutez --forcer pour un projet marqué « PROJET — erreurs non corrigées » sur chaque page.")
        return 1
    print(f"PDF de l'annexe écrit : {out.target} ({out.pages} page{'s' if out.pages > 1 else ''})")
    if out.draft:
        print(f"Attention : {len(errors)} erreur(s) non corrigée(s) ; chaque page porte la mention "
              "« PROJET — erreurs non corrigées » :")
        for f in errors:
            print(finding_line(f.as_dict()))
        return 1
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


# --- the parser, in French ----------------------------------------------------------------

#: argparse's own error messages, in French (its English wording, 3.10 to 3.13)
_FRENCH_ERRORS = tuple((re.compile(a), b) for a, b in (
    (r"^the following arguments are required: (.*)$", r"il manque : \1"),
    (r"^unrecognized arguments: (.*)$", r"arguments non reconnus : \1"),
    (r"^argument (.+?): invalid choice: (.*?) \(choose from (.*)\)$", r"« \1 » : \2 n'est pas un choix possible "
                                                                      r"(choisissez parmi \3)"),
    (r"^argument (.+?): invalid int value: (.*)$", r"« \1 » : \2 n'est pas un nombre entier"),
    (r"^argument (.+?): invalid (\w+) value: (.*)$", r"« \1 » : valeur invalide : \3"),
    (r"^argument (.+?): expected one argument$", r"« \1 » : une valeur est attendue après l'option"),
    (r"^argument (.+?): expected at least one argument$", r"« \1 » : au moins une valeur est attendue"),
    (r"^argument (.+?): expected at most one argument$", r"« \1 » : une valeur au plus est attendue"),
    (r"^argument (.+?): not allowed with argument (.*)$", r"« \1 » ne peut pas être donné avec « \2 »"),
    (r"^argument (.+?): ignored explicit argument (.*)$", r"« \1 » : valeur ignorée : \2"),
    (r"^ambiguous option: (.*?) could match (.*)$", r"option ambiguë : \1 peut désigner \2"),
    (r"^one of the arguments (.*) is required$", r"l'un de ces arguments est obligatoire : \1"),
    (r"^argument (.+?): (.*)$", r"« \1 » : \2"),  # the project's own messages (montants) are French already
))


def french_error(message: str) -> str:
    for pattern, replacement in _FRENCH_ERRORS:
        if pattern.match(message):
            return pattern.sub(replacement, message, count=1)
    return message


class FrenchHelpFormatter(argparse.HelpFormatter):
    """argparse's help, with its own words in French."""

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "utilisation : " if prefix is None else prefix)


class FrenchParser(argparse.ArgumentParser):
    """An ArgumentParser that speaks French: usage, section titles, -h, and
    its error messages (``calpae-xl : erreur : …``, exit status 2)."""

    def __init__(self, *args, add_help: bool = True, **kwargs):
        kwargs.setdefault("formatter_class", FrenchHelpFormatter)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "arguments "  # argparse adds ":" (French typography: « arguments : »)
        self._optionals.title = "options "
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                              help="afficher cette aide et quitter")

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog} : erreur : {french_error(message)}\n")


def build_parser() -> argparse.ArgumentParser:
    p = FrenchParser(prog="calpae-xl", description="Maquette financière CALPAE : recalcul, contrôles, fiches "
                     "actions, annexe en PDF. « calpae-xl COMMANDE -h » : l'aide d'une commande.")
    p.add_argument("--version", action="version", version=f"calpae-xl {__version__}",
                   help="afficher la version et quitter")
    sub = p.add_subparsers(dest="commande", required=True, metavar="COMMANDE")

    e = sub.add_parser("exemple", help="la maquette du Loiret 2020 (avenant n°3), recalculée, contrôlée, avec ses "
                                       "fiches")
    e.add_argument("dossier", nargs="?", default="exemple", metavar="DOSSIER",
                   help="dossier de sortie (défaut : ./exemple)")
    e.set_defaults(func=cmd_exemple)

    n = sub.add_parser("nouveau", help="créer une maquette vierge ou d'exemple")
    n.add_argument("fichier", metavar="FICHIER", help="le classeur à créer (.xlsx, ou .xlsm pour le classeur à "
                                                     "boutons)")
    n.add_argument("--exemple", choices=sorted(EXAMPLES), help="partir d'un exemple intégré")
    n.add_argument("--departement", default="", metavar="NOM", help="le Département (feuille « Paramètres »)")
    n.add_argument("--annee", type=int, default=0, metavar="AAAA", help="l'année de la convention")
    n.add_argument("--lignes", type=int, default=10, metavar="N", help="lignes vides par bloc (défaut : 10)")
    n.add_argument("--force", action="store_true", help="remplacer un fichier existant")
    n.set_defaults(func=cmd_nouveau)

    def envelope(sp):
        sp.add_argument("--credits-etat", type=_amount, metavar="MONTANT", help="crédits État notifiés")
        sp.add_argument("--report-etat", type=_amount, metavar="MONTANT", help="report N-1 État notifié")

    r = sub.add_parser("recalculer", help="appliquer les règles de répartition, les totaux, et contrôler")
    r.add_argument("fichiers", nargs="+", metavar="FICHIER", help="un ou plusieurs classeurs .xlsx ou .xlsm")
    r.add_argument("--sortie", metavar="DOSSIER", help="écrire DOSSIER/<même nom> au lieu de modifier le fichier")
    envelope(r)
    r.set_defaults(func=lambda a: cmd_ops(a, [RECALCULER, CONTROLER]))

    c = sub.add_parser("controler", help="lister les incohérences (ne modifie pas le fichier)")
    c.add_argument("fichiers", nargs="+", metavar="FICHIER", help="un ou plusieurs classeurs .xlsx ou .xlsm")
    c.add_argument("--format", choices=("texte", "json", "csv"), default="texte",
                   help="texte (défaut), json, ou csv (s'ouvre dans Excel : « ; », virgule décimale, accents)")
    envelope(c)
    c.set_defaults(func=lambda a: cmd_ops(a, [CONTROLER], write=False))

    f = sub.add_parser("fiches", help="créer ou rafraîchir une feuille par action")
    f.add_argument("fichiers", nargs="+", metavar="FICHIER", help="un ou plusieurs classeurs .xlsx ou .xlsm")
    f.add_argument("--sortie", metavar="DOSSIER", help="écrire DOSSIER/<même nom> au lieu de modifier le fichier")
    f.set_defaults(func=lambda a: cmd_ops(a, [FICHES]))

    lot = sub.add_parser("lot", help="recalculer + contrôler + fiches sur chaque classeur d'un dossier")
    lot.add_argument("dossier", metavar="DOSSIER", help="le dossier des classeurs (sous-dossiers compris)")
    lot.add_argument("--sortie", metavar="DOSSIER", help="écrire les classeurs dans ce dossier au lieu de les modifier")
    lot.add_argument("--format", choices=("texte", "json", "csv"), default="texte",
                     help="texte (défaut), json, ou csv (s'ouvre dans Excel)")
    lot.add_argument("--processus", type=int, default=0, metavar="N", help="nombre de processus (défaut : un par cœur)")
    envelope(lot)
    lot.set_defaults(func=cmd_lot)

    co = sub.add_parser("consolider", help="toutes les maquettes d'un dossier (départements, années) en un classeur")
    co.add_argument("dossier", metavar="DOSSIER", help="le dossier des maquettes")
    co.add_argument("-o", "--sortie", default="consolidation.xlsx", metavar="FICHIER.xlsx",
                    help="le classeur de la consolidation (défaut : consolidation.xlsx)")
    co.add_argument("--csv", metavar="DOSSIER", help="écrire aussi les tableaux en CSV dans ce dossier")
    co.add_argument("--processus", type=int, default=0, metavar="N", help="nombre de processus (défaut : un par cœur)")
    co.set_defaults(func=cmd_consolider)

    cp = sub.add_parser("comparer", help="ce qu'un avenant a changé : actions, montants, enveloppe")
    cp.add_argument("ancien", metavar="ANCIEN", help="la maquette de référence (l'avenant précédent)")
    cp.add_argument("nouveau", metavar="NOUVEAU", help="la nouvelle maquette")
    cp.add_argument("-o", "--sortie", metavar="ECARTS.xlsx", help="écrire aussi les écarts dans un classeur")
    cp.set_defaults(func=cmd_comparer)

    pd_ = sub.add_parser("pdf", help="l'annexe à signer en PDF : la maquette et les fiches actions (refusée tant "
                                     "que des erreurs restent, sauf --forcer)",
                         description="L'annexe à signer, en PDF (A4) : la maquette financière et les fiches actions, "
                                     "construites depuis le classeur (qui n'est pas modifié).",
                         epilog="Code de sortie : 0 PDF écrit, aucune erreur ; 1 des erreurs restent (PDF refusé, "
                                "ou écrit avec la mention « PROJET » si --forcer) ; 2 classeur illisible ou PDF "
                                "impossible à écrire.")
    pd_.add_argument("fichier", metavar="FICHIER", help="le classeur de la maquette (.xlsx ou .xlsm)")
    pd_.add_argument("-o", "--sortie", metavar="FICHIER.pdf", help="défaut : même nom que le classeur, en .pdf")
    pd_.add_argument("--avenant", metavar="TEXTE", help="l'avenant, tel qu'il s'écrit en tête (« Avenant n°3 »)")
    pd_.add_argument("--controles", action="store_true", help="ajouter la liste des constats (Contrôles) à la fin")
    pd_.add_argument("--forcer", action="store_true",
                     help="produire le PDF malgré les erreurs : chaque page porte alors la mention « PROJET — "
                          "erreurs non corrigées »")
    envelope(pd_)
    pd_.set_defaults(func=cmd_pdf)

    cd = sub.add_parser("codes", help="le catalogue des constats et des refus, avec ce qu'il faut faire")
    cd.add_argument("--format", choices=("texte", "json"), default="texte", help="texte (défaut) ou json")
    cd.set_defaults(func=cmd_codes)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)  # a usage error exits with status 2
    try:
        return args.func(args)
    except (CalpaeError, MissingExtra) as e:  # the one boundary of a command: a French message, exit 2
        return _fail(e.message)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
