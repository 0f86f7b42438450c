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
import re
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
from .core.texts import json_text, shown
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


#: what --force says it does with the workbook it replaces (the save frame keeps it)
_KEPT = " (l'ancien classeur est gardé sous NOM.bak.xlsx)"


def _xlsx_name(target: str) -> bool:
    """A report workbook's name: « rapport/ » or « rapport.txt » would be a workbook nothing opens."""
    return Path(target).suffix.lower() == ".xlsx" and not target.endswith(("/", os.sep))


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


# --- commands ------------------------------------------------------------------------------

def _write_text(text: str, path: str) -> None:
    """A text report (JSON, HTML) produced at ``path`` (the save frame places it)."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def _written(target, written: saveframe.Written) -> str:
    if not written.changed:
        return f"{target} (déjà à jour : fichier inchangé)"
    return f"{target}" + (f" (version précédente : {written.backup})" if written.backup else "")


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
    print(f"{what} : {_written(target, written)}" if written.changed else
          f"{what.replace(' créée', '')} : {target} déjà à jour (fichier inchangé)")
    return 0


def _checks_said(outcome, trace: str) -> None:
    """The last line of a command that built a workbook: its checks, and where its figures are traced."""
    findings = outcome.findings if outcome else []
    errors = sum(1 for f in findings if f.severity.value == "erreur")
    print(f"  Contrôles : {errors} erreur(s), {len(findings) - errors} autre(s) constat(s) (feuille « Contrôles »). "
          + trace)


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
        saved = getattr(result.workbook, "saved", None)
        print(f"Maquette {result.annee} préparée depuis « {source} » : "
              + (_written(target, saved) if isinstance(saved, saveframe.Written) else str(target)))
    for line in summary_lines(result):
        print(line)
    _checks_said(result.outcome, "Chaque report est tracé dans la feuille « Journal », l'exécution dans « Suivi de "
                                 "l'exécution ».")
    return 0


def cmd_convertir(args) -> int:
    """A CALPAE maquette as a new workbook of another convention (CLS 2024-2027), through a mapping."""
    from .adapters.xlsx import PackageWorkbook  # noqa: PLC0415
    from .app.convertir import convert, default_name, mapping_for, summary_lines  # noqa: PLC0415
    source = args.fichier
    mapping = mapping_for(args.correspondance, args.vers)  # a bad mapping: refused before reading anything
    target = args.sortie or default_name(source, args.vers)
    if Path(target).suffix.lower() not in WORKBOOK_SUFFIXES:
        return _fail(f"« {target} » : le nom doit finir par .xlsx ou .xlsm.")
    saveframe.check_output(target, inputs=[source])
    with saveframe.staging(target) as work:
        staged = os.path.join(work, "converti" + Path(target).suffix.lower())
        result = convert(PackageWorkbook.open(source), staged, mapping, args.annee)
        result.workbook.save(staged, backup=False, replace=True)  # made whole here, then placed by the save frame
        saveframe.ensure_folder(str(Path(target).parent) or ".")
        written = saveframe.write(target, partial(shutil.copyfile, staged), inputs=[source], force=args.force,
                                  verify=saveframe.verify_package())
    print(f"Maquette {mapping.target.intitule} préparée depuis « {source} » : {_written(target, written)}")
    for line in summary_lines(result):
        print(line)
    _checks_said(result.outcome, "Chaque action convertie et chaque montant non repris sont tracés dans la feuille "
                                 "« Journal ».")
    return 0


def cmd_profils(args) -> int:
    """The shipped profiles (id, intitulé, years), and how to use one's own."""
    from .core.profile import shipped  # noqa: PLC0415
    profiles = list(shipped().values())
    if args.format == "json":
        from .app.render import SCHEMA_VERSION, tool_info  # noqa: PLC0415
        print(json.dumps({"nature": "profils", "version_schema": SCHEMA_VERSION, "outil": tool_info(),
                          "profils": [p.as_dict() for p in profiles]}, ensure_ascii=False, indent=2))
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


def _emit(text: str, fmt: str) -> None:
    """What a command prints. CSV opens in Excel as it is: UTF-8 with a BOM
    (the accents), ';' between the fields (the csv module's CRLF lines)."""
    if fmt != "csv":
        print(text)
        return
    data = ("\ufeff" + text + "\r\n").encode("utf-8")  # UTF-8 whatever the terminal's encoding
    stream = sys.stdout
    buffer = getattr(stream, "buffer", None)
    if buffer is None or getattr(stream, "gone", False):  # no bytes (some embedders), or the reader left
        print(text)
        return
    stream.flush()
    try:
        buffer.write(data)
        buffer.flush()
    except BrokenPipeError:  # as _Stdout does: the reader left, the command finishes its work
        getattr(stream, "_leave", lambda: None)()
    except OSError as e:
        raise _OutputLost(os_reason(e)) from None


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
    outputs = _inside(files, args.sortie, args.dossier) if args.sortie else []
    if outputs:  # the copies an earlier « lot --sortie » left there are its outputs, not maquettes to copy again
        files = [f for f in files if f not in outputs]
        print(f"{len(outputs)} classeur(s) du dossier de sortie « {args.sortie} » non relu(s) (les copies d'un lot "
              "précédent).", file=sys.stderr)
        if not files:
            return _fail(f"Aucun classeur .xlsx ou .xlsm dans « {args.dossier} » hors du dossier de sortie.")
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


def _inside(files: Sequence[str], sortie: str, dossier: str) -> list[str]:
    """The files below the output folder, when it is a sub-folder of the folder read."""
    out, top = os.path.realpath(sortie), os.path.realpath(dossier)
    if out == top or not out.startswith(top + os.sep):
        return []
    return [f for f in files if (where := os.path.realpath(os.path.dirname(f))) == out
            or where.startswith(out + os.sep)]


def cmd_consolider(args) -> int:
    from .reports.consolidate import (csv_paths, document, is_consolidation, read_records,  # noqa: PLC0415
                                      tables, write_csv, write_workbook)
    target = str(args.sortie)
    if not _xlsx_name(target):
        return _fail(f"« {target} » : le nom du classeur de consolidation doit finir par .xlsx.")
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
    per_file = map_files(partial(read_records, base=args.dossier), files, args.processus or os.cpu_count() or 1,
                         sys.stderr.isatty(), "Consolidation")
    records = [r for recs in per_file for r in recs]  # a multi-year contract: one record per year
    frames = tables(records)
    outputs = [saveframe.Output(target, partial(write_workbook, frames), saveframe.verify_package(len(frames) + 1))]
    csvs = csv_paths(frames, args.csv) if args.csv else {}
    outputs += [saveframe.Output(path, partial(write_csv, frames[name])) for name, path in csvs.items()]
    doc = document(records, frames, args.dossier) if (args.json or args.html) else None
    texts = []  # the JSON and the page, written with the rest (or not at all)
    if args.json and args.json != "-":
        texts.append((args.json, json_text(doc) + "\n"))
    if args.html:
        from .reports.html import render as render_html  # noqa: PLC0415
        texts.append((args.html, render_html(doc, base=args.dossier, page=args.html)))
    outputs += [saveframe.Output(path, partial(_write_text, text)) for path, text in texts]
    saveframe.ensure_folder(str(Path(target).parent))
    for path, _text in texts:
        saveframe.ensure_folder(str(Path(path).parent))
    written = saveframe.write_all(outputs, inputs=files, force=args.force)
    if args.json == "-":
        print(json_text(doc))
    unreadable = [r for r in records if not r.lisible]
    ignored = [r for r in records if r.ignore]
    n_actions = sum(len(r.actions) for r in records)
    out = sys.stderr if args.json == "-" else sys.stdout  # the JSON alone on the standard output
    years = sum(len(recs) for recs in per_file if len(recs) > 1)
    contracts = f" (dont {years} année(s) de contrats pluriannuels)" if years else ""
    lines = f"{len(records)} ligne(s) département × année{contracts}, " if years else ""
    print(f"{len(per_file)} fichier(s), {len(per_file) - len(unreadable) - len(ignored)} lu(s), {lines}"
          f"{n_actions} action(s) : {_written(target, written[0])}", file=out)
    for r in unreadable:
        print(f"  illisible : {r.erreur}", file=out)
    for r in ignored:
        print(f"  ignoré : {r.fichier} ({r.erreur})", file=out)
    doubles = frames["Fichiers"]
    for _, row in doubles[doubles["En double"].astype(str).str.startswith("oui")].iterrows():
        avenant = f", avenant {row['Avenant']}" if row["Avenant"] else ""
        counted = "non compté dans les totaux" if "non compté" in row["En double"] else "compté dans les totaux"
        print(f"  en double : {row['Fichier']} ({row['Département']} {row['Année']}{avenant}) : {counted}", file=out)
    for r in records:
        if r.lisible and not r.ignore and r.provenance.get("etat") == "modifié":
            print(f"  modifié depuis son dernier contrôle : {r.chemin}", file=out)
    uncounted = [r for r in records if r.non_comptes]
    for r in uncounted:
        print(f"  {r.fichier} : {r.non_comptes} montant(s) vide(s), illisible(s) ou calculé(s) à partir d'un "
              "montant vide ou illisible, non compté(s) dans les totaux", file=out)
    for path, w in zip(list(csvs.values()) + [p for p, _t in texts], written[1:], strict=True):
        print(f"  {_written(path, w)}", file=out)
    if unreadable:
        print(f"Totaux incomplets : {len(unreadable)} fichier(s) illisible(s) n'y sont pas comptés.", file=out)
    elif uncounted:
        print("Totaux incomplets : des montants vides, illisibles ou calculés à partir de tels montants n'y sont "
              "pas comptés (voir la colonne « Montants non comptés »).", file=out)
    return 2 if unreadable else 1 if uncounted else 0


def cmd_comparer(args) -> int:
    from .adapters.xlsx import PackageWorkbook  # noqa: PLC0415
    from .app.session import run  # noqa: PLC0415
    from .core.receipt import describe  # noqa: PLC0415
    from .reports.compare import compare_findings, compare_years, finding_lines, write_workbook  # noqa: PLC0415
    inputs = [args.ancien, args.nouveau]
    if args.sortie and not _xlsx_name(str(args.sortie)):
        return _fail(f"« {args.sortie} » : le nom du classeur des écarts doit finir par .xlsx.")
    if args.sortie:
        saveframe.check_output(args.sortie, inputs=inputs)  # before reading: never over A or B
    outcomes = [run(PackageWorkbook.open(path), [CONTROLER], write=False, profile=_profile(args)) for path in inputs]
    olds, news = (o.years or [o.maquette] for o in outcomes)
    results = compare_years(olds, news)  # a contract: year by year
    findings = compare_findings(outcomes[0].findings, outcomes[1].findings, results[0] if results else None)
    notes = [f"« {Path(path).name} » : {describe(o.receipt_before, o.fingerprint_before)}"
             for path, o in zip(inputs, outcomes, strict=True)]
    print(f"Écarts entre « {args.ancien} » et « {args.nouveau} » :")
    for note in notes:
        print(f"  {note}")
    alone = sorted({m.annee for m in olds} ^ {m.annee for m in news}) if len(olds) + len(news) > 2 else []
    for year in alone:
        print(f"  {year} : année présente dans un seul des deux classeurs, non comparée.")
    if not any(r.changed for r in results):  # a column not compared: the sentence says where it looked
        print("  aucune différence entre les actions" + (" dans les colonnes comparées." if any(
            r.absent for r in results) else "."))
    for line in [line for r in results for line in r.lines()] + finding_lines(findings):
        print(f"  {line}")
    if args.sortie:
        saveframe.ensure_folder(str(Path(args.sortie).parent))
        written = saveframe.write(args.sortie, partial(write_workbook, results, old_name=Path(args.ancien).name,
                                                       new_name=Path(args.nouveau).name, findings=findings,
                                                       notes=notes),
                                  inputs=inputs, force=args.force, verify=saveframe.verify_package(3))
        print(f"Écarts écrits dans {_written(args.sortie, written)}")
    return 0


def cmd_pdf(args) -> int:
    """The annex as a PDF: refused while errors remain, unless --forcer."""
    from .app.render import finding_line  # noqa: PLC0415
    from .reports.pdf import annex_pdf  # noqa: PLC0415
    out = annex_pdf(args.fichier, args.sortie, avenant=args.avenant or "", controles=args.controles,
                    forcer=args.forcer, credits=args.credits_etat, report=args.report_etat, force=args.force,
                    profile=_profile(args))
    errors = out.errors
    if out.target is None:
        print(f"« {args.fichier} » : {len(errors)} erreur(s) à corriger avant d'imprimer l'annexe :")
        for f in errors:
            print(finding_line(f.as_dict()))
        print("Le PDF n'a pas été produit. Corrigez ces erreurs (« calpae-xl recalculer » en règle la plupart), "
              "ou ajoutez --forcer pour un projet marqué « PROJET — erreurs non corrigées » sur chaque page.")
        return 1
    pages = f"{out.pages} page{'s' if out.pages > 1 else ''}"
    print(f"PDF de l'annexe écrit : {_written(out.target, out.written)} ({pages})")
    if out.draft:
        print(f"Attention : {len(errors)} erreur(s) non corrigée(s) ; chaque page porte la mention "
              "« PROJET — erreurs non corrigées » :")
        for f in errors:
            print(finding_line(f.as_dict()))
        return 1
    return 0


def cmd_paquet_lite(args) -> int:
    """What an xlwings Lite workbook needs: the wheel, requirements.txt, main.py, the workbooks with buttons."""
    from .build_lite import PLACEHOLDER_URL, WHEEL, LiteBuildError, build  # noqa: PLC0415
    try:
        written = build(args.dossier, args.url, wheel=not args.sans_paquet, force=args.force)
    except LiteBuildError as e:
        return _fail(f"paquet-lite : {e}")
    print(f"Pour xlwings Lite, dans « {args.dossier} » :")
    for w in written:
        if w.kept:
            print(f"  {w.path} (conservé : modifié depuis ; --force pour le remplacer, la version actuelle "
                  "étant gardée en NOM.bak.xlsx)")
        else:
            print(f"  {_written(w.path, w)}")
    requirements = Path(args.dossier) / "requirements.txt"
    if PLACEHOLDER_URL in requirements.read_text(encoding="utf-8"):
        print(f"requirements.txt nomme {WHEEL} à une adresse à remplacer : publiez le paquet sur un serveur "
              "web que les postes atteignent, puis relancez avec --url ADRESSE (voir README, « xlwings Lite »).")
    return 0


def cmd_codes(args) -> int:
    """The catalogue of codes, for users (and for tools, in JSON)."""
    from .core.catalogue import CATALOGUE, CONSTAT  # noqa: PLC0415
    entries = list(CATALOGUE.values())
    if args.format == "json":
        from .app.render import SCHEMA_VERSION, tool_info  # noqa: PLC0415
        print(json.dumps({"nature": "codes", "version_schema": SCHEMA_VERSION, "outil": tool_info(),
                          "codes": [e.as_dict() for e in entries]}, ensure_ascii=False, indent=2))
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

    def profil(sp, text="la convention à appliquer (défaut : celle que nomme la feuille « Paramètres »)"):
        sp.add_argument("--profil", metavar="PROFIL", help=text + " ; un identifiant (calpae-xl profils) ou un "
                                                                   "fichier .toml")

    e = sub.add_parser("exemple", help="la maquette du Loiret 2020 (avenant n°3), recalculée, contrôlée, avec ses "
                                       "fiches")
    e.add_argument("dossier", nargs="?", default="exemple", metavar="DOSSIER",
                   help="dossier de sortie (défaut : ./exemple)")
    e.add_argument("--force", action="store_true", help="remplacer un exemple que vous avez modifié" + _KEPT)
    e.add_argument("--profil", metavar="PROFIL", help="l'exemple d'un autre profil (calpae-xl profils les liste)")
    e.set_defaults(func=cmd_exemple)

    n = sub.add_parser("nouveau", help="créer une maquette vierge ou d'exemple")
    n.add_argument("fichier", metavar="FICHIER", help="le classeur à créer (.xlsx, ou .xlsm pour le classeur à "
                                                     "boutons)")
    n.add_argument("--exemple", nargs="?", const="", choices=sorted(EXAMPLES) + [""], metavar="EXEMPLE",
                   help="partir d'un exemple intégré (seul : celui du profil ; "
                        f"exemples : {', '.join(sorted(EXAMPLES))})")
    n.add_argument("--departement", default="", metavar="NOM", help="le Département (feuille « Paramètres »)")
    n.add_argument("--annee", type=int, default=0, metavar="AAAA", help="l'année de la convention")
    n.add_argument("--lignes", type=int, default=10, metavar="N", help="lignes vides par bloc (défaut : 10)")
    n.add_argument("--force", action="store_true", help="remplacer un fichier existant" + _KEPT)
    profil(n, "la convention de la maquette (défaut : calpae)")
    n.set_defaults(func=cmd_nouveau)

    def envelope(sp):
        sp.add_argument("--credits-etat", type=_amount, metavar="MONTANT", help="crédits État notifiés")
        sp.add_argument("--report-etat", type=_amount, metavar="MONTANT", help="report N-1 État notifié")

    r = sub.add_parser("recalculer", help="appliquer les règles de répartition, les totaux, et contrôler")
    r.add_argument("fichiers", nargs="+", metavar="FICHIER", help="un ou plusieurs classeurs .xlsx ou .xlsm")
    r.add_argument("--sortie", metavar="DOSSIER", help="écrire DOSSIER/<même nom> au lieu de modifier le fichier")
    r.add_argument("--force", action="store_true", help="remplacer une copie différente dans --sortie" + _KEPT)
    envelope(r)
    profil(r)
    r.set_defaults(func=lambda a: cmd_ops(a, [RECALCULER, CONTROLER]))

    c = sub.add_parser("controler", help="lister les incohérences (ne modifie pas le fichier)")
    c.add_argument("fichiers", nargs="+", metavar="FICHIER", help="un ou plusieurs classeurs .xlsx ou .xlsm")
    c.add_argument("--format", choices=("texte", "json", "csv"), default="texte",
                   help="texte (défaut), json, ou csv (s'ouvre dans Excel : « ; », virgule décimale, accents)")
    envelope(c)
    profil(c)
    c.set_defaults(func=lambda a: cmd_ops(a, [CONTROLER], write=False))

    f = sub.add_parser("fiches", help="créer ou rafraîchir une feuille par action")
    f.add_argument("fichiers", nargs="+", metavar="FICHIER", help="un ou plusieurs classeurs .xlsx ou .xlsm")
    f.add_argument("--sortie", metavar="DOSSIER", help="écrire DOSSIER/<même nom> au lieu de modifier le fichier")
    f.add_argument("--force", action="store_true", help="remplacer une copie différente dans --sortie" + _KEPT)
    profil(f)
    f.set_defaults(func=lambda a: cmd_ops(a, [FICHES]))

    lot = sub.add_parser("lot", help="recalculer + contrôler + fiches sur chaque classeur d'un dossier")
    lot.add_argument("dossier", metavar="DOSSIER", help="le dossier des classeurs (sous-dossiers compris)")
    lot.add_argument("--sortie", metavar="DOSSIER", help="écrire les classeurs dans ce dossier au lieu de les modifier")
    lot.add_argument("--force", action="store_true", help="remplacer les copies différentes dans --sortie" + _KEPT)
    lot.add_argument("--format", choices=("texte", "json", "csv"), default="texte",
                     help="texte (défaut), json, ou csv (s'ouvre dans Excel)")
    lot.add_argument("--processus", type=int, default=0, metavar="N", help="nombre de processus (défaut : un par cœur)")
    envelope(lot)
    profil(lot)
    lot.set_defaults(func=cmd_lot)

    co = sub.add_parser("consolider", help="toutes les maquettes d'un dossier (départements, années) en un classeur")
    co.add_argument("dossier", metavar="DOSSIER", help="le dossier des maquettes")
    co.add_argument("-o", "--sortie", default="consolidation.xlsx", metavar="FICHIER.xlsx",
                    help="le classeur de la consolidation (défaut : consolidation.xlsx)")
    co.add_argument("--csv", metavar="DOSSIER", help="écrire aussi les tableaux en CSV dans ce dossier")
    co.add_argument("--json", metavar="FICHIER.json", help="écrire aussi la consolidation en JSON (« - » : sur la "
                    "sortie standard)")
    co.add_argument("--html", metavar="FICHIER.html", help="écrire aussi le rapport à ouvrir dans un navigateur")
    co.add_argument("--force", action="store_true", help="remplacer des fichiers de sortie existants" + _KEPT)
    co.add_argument("--processus", type=int, default=0, metavar="N", help="nombre de processus (défaut : un par cœur)")
    co.set_defaults(func=cmd_consolider)

    cp = sub.add_parser("comparer", help="ce qu'un avenant a changé : actions, montants, enveloppe")
    cp.add_argument("ancien", metavar="ANCIEN", help="la maquette de référence (l'avenant précédent)")
    cp.add_argument("nouveau", metavar="NOUVEAU", help="la nouvelle maquette")
    cp.add_argument("-o", "--sortie", metavar="ECARTS.xlsx", help="écrire aussi les écarts dans un classeur")
    cp.add_argument("--force", action="store_true", help="remplacer un fichier de sortie existant" + _KEPT)
    profil(cp)
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
    pd_.add_argument("--force", action="store_true", help="remplacer un PDF existant différent (sans --force, il "
                                                         "n'est jamais écrasé)")
    envelope(pd_)
    profil(pd_)
    pd_.set_defaults(func=cmd_pdf)

    sv = sub.add_parser("suivant", help="préparer l'année suivante : actions et fiches reprises, reports calculés "
                                        "depuis l'exécution")
    sv.add_argument("fichier", metavar="FICHIER", help="la maquette de l'année (.xlsx ou .xlsm), ou le classeur du "
                                                      "contrat pluriannuel")
    sv.add_argument("-o", "--sortie", metavar="FICHIER", help="défaut : le nom avec l'année suivante (ou le même "
                                                              "classeur pour un contrat pluriannuel)")
    sv.add_argument("--force", action="store_true", help="remplacer un fichier de sortie existant" + _KEPT)
    profil(sv)
    sv.set_defaults(func=cmd_suivant)

    cv = sub.add_parser("convertir", help="une maquette CALPAE en maquette de contrat local des solidarités "
                                          "(nouveau classeur), par une correspondance des thèmes vers les axes")
    cv.add_argument("fichier", metavar="FICHIER", help="la maquette CALPAE à convertir (.xlsx ou .xlsm) ; elle "
                                                      "n'est pas modifiée")
    cv.add_argument("--vers", default="cls-2024-2027", choices=["cls-2024-2027"], help="la convention d'arrivée")
    cv.add_argument("--correspondance", metavar="FICHIER.toml", help="votre correspondance des thèmes vers les "
                                                                     "axes (défaut : celle livrée)")
    cv.add_argument("-o", "--sortie", metavar="FICHIER", help="défaut : le nom suivi de _cls-2024-2027")
    cv.add_argument("--annee", type=int, metavar="ANNEE", help="l'année du contrat qui reçoit les montants "
                                                               "(défaut : la première, 2024)")
    cv.add_argument("--force", action="store_true", help="remplacer un fichier de sortie existant" + _KEPT)
    cv.set_defaults(func=cmd_convertir)

    pr = sub.add_parser("profils", help="les conventions que l'outil connaît (CALPAE, CLS, RSA / France Travail)")
    pr.add_argument("--format", choices=("texte", "json"), default="texte",
                    help="texte (défaut) ou json (identifiant, intitulé, années, groupes)")
    pr.set_defaults(func=cmd_profils)

    pl = sub.add_parser("paquet-lite", help="pour xlwings Lite : le paquet du projet, requirements.txt, main.py et "
                                            "les classeurs à boutons")
    pl.add_argument("dossier", metavar="DOSSIER", help="le dossier où écrire le paquet et les classeurs")
    pl.add_argument("--url", metavar="ADRESSE", help="adresse (dossier web) où le paquet .whl sera publié")
    pl.add_argument("--sans-paquet", action="store_true", help="sans construire le paquet .whl (classeurs, main.py, "
                                                               "requirements.txt)")
    pl.add_argument("--force", action="store_true", help="remplacer les classeurs du dossier modifiés depuis (la "
                                                        "version précédente est gardée en NOM.bak.xlsx)")
    pl.set_defaults(func=cmd_paquet_lite)

    cd = sub.add_parser("codes", help="le catalogue des constats et des refus, avec ce qu'il faut faire")
    cd.add_argument("--format", choices=("texte", "json"), default="texte", help="texte (défaut) ou json")
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
