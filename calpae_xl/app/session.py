"""The three operations — Recalculer, Contrôler, Générer les fiches — as one
session on a workbook, written once against the port, for Excel and batch
alike; and :func:`process_file`, the per-file session shared by the commands,
``lot`` and the reports.

A session reads the workbook, asks the core, and answers with a plan of
block writes (the plans live in :mod:`.recalculer`, :mod:`.controles`,
:mod:`.journal`, :mod:`.fiches`). Nothing here knows which engine applies it.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import stat
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Callable, Optional, Sequence

from .. import __version__
from ..core.checks import run_checks, run_contract_checks
from ..core.findings import Finding, Severity, is_open, sort_findings, with_answers, with_keys
from ..core.receipt import PROFILE, Receipt, describe, digest, make_receipt, state
from ..core.model import Column, Maquette, SplitRule
from ..core.profile import profile_of
from ..core.money import NO_VALUE, Unreadable
from ..core.rules import Change, derived_of, recalculate
from ..errors import CalpaeError
from ..workbook import layout as L
from ..workbook.port import ForgetValue, Formula, Grid, Workbook
from ..workbook.reader import read_workbook
from .controles import plan_controles, plan_highlights, read_answers
from .fiches import plan_fiche_links, plan_fiches
from .journal import TraceLine, plan_journal
from .recalculer import (STALE, input_fixes, keep_array_totals, kept_cells, plan_recalculer, stale_formulas,
                         typed_over)
from .template import plan_looks

RECALCULER, CONTROLER, FICHES = "recalculer", "controler", "fiches"


@dataclass
class Outcome:
    """What one run did: the maquette after it, the changes, the findings."""

    path: str
    maquette: Maquette
    changes: list[Change] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    fiches_created: list[str] = field(default_factory=list)
    wrote: bool = False
    #: the receipt the workbook held when read, and the fingerprint of what was read (computed when asked)
    receipt_before: Optional[Receipt] = None
    fingerprint_of: Optional[Callable[[], str]] = field(default=None, repr=False)
    _fingerprint: Optional[str] = field(default=None, repr=False)
    #: the receipt this run wrote (or kept: the same check of the same content keeps its date)
    receipt: Optional[Receipt] = None
    #: the answered findings that disappeared in this run (written to the Journal's trace)
    resolved: list[TraceLine] = field(default_factory=list)
    avenant: str = ""
    #: the convention profile the file was read with (its id)
    profil: str = PROFILE
    #: every year of a multi-year contract, as this run leaves it (the first is ``maquette``); [maquette] else
    years: list = field(default_factory=list)

    @property
    def fingerprint_before(self) -> str:
        if self._fingerprint is None and self.fingerprint_of is not None:
            self._fingerprint = self.fingerprint_of()
        return self._fingerprint or ""

    @property
    def receipt_state(self) -> str:
        """inchangé / modifié / sans reçu: the file as read against its last check."""
        return state(self.receipt_before, self.fingerprint_before)


def run(wb: Workbook, operations: Sequence[str], credits: Optional[Decimal] = None,
        report: Optional[Decimal] = None, write: bool = True, profile=None,
        carried: Sequence[list] = (), carried_note: str = "", today: Optional[str] = None,
        _earlier: Sequence[Change] = (), _first: Optional[tuple] = None, _pass: int = 1) -> Outcome:
    """Run the chosen operations on an open workbook, in the order recalculer,
    contrôler, fiches, and apply the resulting plan in one go. A multi-year
    maquette is recalculated and checked year by year (a group of columns
    each), then over the contract. ``carried``: Journal rows of what a command
    wrote before this run (« suivant »), journaled with Recalculer's changes.
    ``today``: the date of the check (ISO 8601; default: now). ``_earlier``,
    ``_first`` and ``_pass``: what a live engine's earlier passes changed, the
    file as first read (its receipt and fingerprint), and this pass's number
    (see :data:`LIVE_PASSES`)."""
    names = wb.sheet_names()
    read = read_workbook(names, wb.read_sheet, wb.path, credits, report, profile)
    ops: list = []
    years: list = []  # (the year's view, its maquette after this run)
    changes: list[Change] = []
    read_years = [view.maquette for view in read.years]  # as read (the receipt's « before »)
    # a table read in part (a column not found) is left as it is: a figure derived with 0 for the
    # missing column would move amounts on a guess (COLONNE_ABSENTE says why nothing is recalculated)
    recalculated = [v for v in read.years if RECALCULER in operations and v.table.complete]
    stale: dict[int, dict[tuple[int, int], Change]] = {id(v): {} for v in recalculated}
    plans: dict[int, tuple] = {}
    # a live engine recomputes by itself; at its last pass, a formula still stale is said to have no value
    live = bool(getattr(wb, "recalculates", False)) and write and _pass < LIVE_PASSES
    recompute = False  # a live engine must recompute formulas of the person's before the checks read them
    while recalculated:
        for view in recalculated:
            keep = kept_cells(view)
            fixes = input_fixes(view, keep)
            maquette, year_changes = keep_array_totals(view, *recalculate(view.maquette, keep))
            plans[id(view)] = (keep, fixes, maquette, year_changes, plan_recalculer(view, maquette, fixes, keep))
        # a formula of the person's reading a cell this plan changes — in its year's columns or in another
        # year's (one sheet) — keeps a stale saved value: it is read as the next reading will find it (no
        # value), and every year is planned again from there, until no other formula goes stale
        changed = set().union(*(view.changed for view in recalculated))
        if live:  # Excel recomputes them: it is asked to, below, and its values are read again
            recompute = any(stale_formulas(view.table, changed) for view in recalculated)
            break
        grew = False
        for view in recalculated:
            more = stale_formulas(view.table, changed) - set(stale[id(view)])
            if more:
                stale[id(view)].update(_forget_values(view, more))
                grew = True
        if not grew:
            break
    for view in read.years:
        maquette = view.maquette
        if id(view) in plans:
            keep, fixes, maquette, year_changes, year_ops = plans[id(view)]
            ops += year_ops
            if stale[id(view)]:
                ops.append(ForgetValue(view.table.sheet, sorted(stale[id(view)])))
            table = view.table  # a sub-total or total the table has no row for is not journaled: nothing is written
            year_changes = fixes + [ch for ch in year_changes if ch.numero is not None or (
                table.subtotal_rows.get(ch.bloc) if ch.bloc is not None else table.total_row)]
            year_changes += typed_over(view, year_changes, keep)
            # no figure claimed: none journaled
            year_changes = [ch for ch in year_changes if _cell_of(view, ch) not in view.unknown]
            year_changes += list(stale[id(view)].values())
            changes += [replace(ch, annee=table.annee) for ch in year_changes]
            maquette = _forget_unknown(view, maquette)
        years.append((view, maquette))
    first = _first or (read.receipt, lambda: digest(read_years, read.extra_chorus, read.findings), read_years)
    changes = _joined(_earlier, changes, first[2] if not recompute else (), years)
    if recompute:
        # a formula of the person's reads a cell this plan changes: Excel recomputes it once the plan is
        # written, and the checks must read what Excel then shows — never the value it had before (nor say
        # it has none, as a file's reader must): the plan is written, then the file read again
        wb.apply(ops)
        getattr(wb, "recompute", lambda: None)()  # Excel set to compute by hand (F9) does it now
        return run(wb, operations, credits, report, write, profile, carried, carried_note, today,
                   _earlier=changes, _first=first, _pass=_pass + 1)
    maquette = years[0][1]
    outcome = Outcome(wb.path, maquette, changes, receipt_before=first[0], avenant=read.avenant,
                      fingerprint_of=first[1], profil=profile_of(maquette).id, years=[m for _v, m in years])
    if FICHES in operations:  # first: findings can then point at the cells of the fiches it creates
        ops += plan_fiches(read, maquette, names, outcome.fiches_created, years)
    elif RECALCULER in operations and not getattr(wb, "recalculates", False):
        ops += plan_fiche_links(read, maquette, years)  # a file: its fiches' saved values follow the maquette
    findings = with_keys(sort_findings(read.findings + _checks(read, years)))
    old_controles = _old(wb, read.sheet_of(L.CONTROLES), names)
    answers = read_answers(old_controles)
    findings = outcome.findings = with_answers(findings, {k: row.answer for k, row in answers.items()})
    checking = RECALCULER in operations or CONTROLER in operations
    created = []  # the roles of the owned sheets this run creates
    receipt = None
    if checking:
        date = today or _now()
        present = {f.key for f in findings}
        outcome.resolved = [(row.code, row.bloc, row.action, row.message,
                             row.answer.effective.value if row.answer.effective else row.answer.typed_status,
                             row.answer.text, _shown_date(date), key)
                            for key, row in answers.items() if key not in present]
        ops += plan_looks(read, maquette, names, wb.read_sheet)
        ops += plan_controles(read, maquette, findings, names, old_controles)
        created.append(L.CONTROLES)
        if changes or carried or outcome.resolved:
            ops += plan_journal(read, changes, names, _old(wb, read.sheet_of(L.JOURNAL), names), carried, carried_note,
                                outcome.resolved)
            created.append(L.JOURNAL)
        # what this run leaves is what the checks read: the same content, unless Recalculer changed it
        after = digest([m for _v, m in years], read.extra_chorus, read.findings) if RECALCULER in operations \
            else outcome.fingerprint_before
        receipt = make_receipt(after, findings, __version__, date, profil=outcome.profil)
        if receipt.same_check(read.receipt):
            receipt = read.receipt  # the same check of the same content: its date stays (a second run changes nothing)
        outcome.receipt = receipt
    if checking or outcome.fiches_created:
        libre = [L.action_key(a.bloc, a.numero) for a in maquette.actions if a.regle is not SplitRule.PARITE] \
            if RECALCULER in operations else None
        ops += plan_highlights(read, findings, outcome.fiches_created, _old(wb, read.sheet_of(L.TECH), names),
                               names, created, libre, receipt)
    if write and ops:
        wb.apply(ops)
        outcome.wrote = True
    return outcome


#: how many times a live engine (Excel) may be asked to recompute formulas of the person's before the checks
#: read them: one pass suffices unless a formula of theirs feeds a cell Recalculer computes (its budget)
LIVE_PASSES = 4


def _joined(earlier: Sequence[Change], changes: list[Change], first: Sequence[Maquette] = (),
            years: Sequence[tuple] = ()) -> list[Change]:
    """The changes of a live engine's passes as one. Each cell Recalculer
    owns (the cells its rule computes, the sub-totals, the total) is journaled
    once, from what it showed before the click (``first``) to what Excel shows
    after the last pass (``years``): a cell Excel moved between the passes (a
    formula of the tool reading the person's) is said too, and none that came
    back. The other lines (an amount typed as text made a number) stay."""
    if not earlier:
        return changes
    key = lambda ch: (ch.annee, ch.bloc, ch.numero, ch.index, ch.column)  # noqa: E731
    out = {key(ch): ch for ch in earlier}
    for ch in changes:
        k = key(ch)
        out[k] = replace(ch, old=out[k].old) if k in out else ch

    def owned(ch: Change) -> None:
        k = key(ch)
        if k in out:
            out[k] = replace(out[k], new=ch.new)
        elif isinstance(ch.new, Decimal) and ch.old != ch.new:
            out[k] = ch

    for m0, (view, m1) in zip(first, years, strict=False):
        annee = view.table.annee
        for i, (a0, a1) in enumerate(zip(m0.actions, m1.actions, strict=False)):
            for col in derived_of(a1.regle):
                owned(Change(a1.bloc, a1.numero, col, a0.amount(col), a1.amount(col), a1.label, i, annee))
        totals = [(b, m0.sous_totaux_saisis.get(b, {}), m1.sous_totaux_saisis.get(b, {}))
                  for b in view.table.subtotal_rows]
        if view.table.total_row:
            totals.append((None, m0.total_saisi, m1.total_saisi))
        for bloc, was, now in totals:
            for col, v1 in now.items():
                owned(Change(bloc, None, col, was.get(col), v1, "", None, annee))
    return [ch for ch in out.values() if ch.old != ch.new]


#: what a finding says of the action itself, not of one year's figures: said once, with the first year
YEARLESS = {"NUMERO_MANQUANT", "NUMERO_EN_DOUBLE", "INTITULE_MANQUANT", "TEXTE_CARACTERES_INVALIDES", "TEXTE_TROP_LONG",
            "CHORUS_MANQUANT", "CHORUS_MALFORME", "CHORUS_INCONNU", "CHORUS_BLOC", "CHORUS_THEME",
            "INDICATEUR_ABSENT", "INDICATEUR_SANS_VALEUR", "REGLE_NON_PERMISE", "PARAMETRE_MANQUANT",
            "VENTILATION_ECART", "FICHE_ECART", "AUCUNE_ACTION"}


def _checks(read, years) -> list[Finding]:
    """The checks of each year (a multi-year maquette's findings say their
    year), then those over the contract."""
    if len(years) == 1:
        view, m = years[0]
        return view.locate(run_checks(m, read.extra_chorus))
    out: list[Finding] = []
    for i, (view, m) in enumerate(years):
        for f in view.locate(run_checks(m, read.extra_chorus)):
            if f.code in YEARLESS:
                if i == 0:
                    out.append(f)
            else:
                out.append(replace(f, message=f"{m.annee} — {f.message}", where=replace(f.where, annee=m.annee)))
    first = years[0][0]
    out += first.locate(run_contract_checks([m for _v, m in years]))
    return out


def _now() -> str:
    from ..core.receipt import now  # noqa: PLC0415
    return now()


def _shown_date(iso: str) -> str:
    """« 03/05/2024 » for the Journal."""
    try:
        return dt.datetime.fromisoformat(iso).strftime("%d/%m/%Y")
    except ValueError:
        return iso


def _forget_unknown(read, m: Maquette) -> Maquette:
    """The maquette as the file now says it: a computed cell written without
    value is unknown (checked as such now, as it will be read next time)."""
    from dataclasses import replace  # noqa: PLC0415
    if not read.unknown:
        return m
    table, actions = read.table, list(m.actions)
    written = getattr(table, "written", set())
    fields = {c: f for f, c in table.cols.items() if f in L.AMOUNT_FIELDS}
    for i, a in enumerate(actions):
        row = table.action_rows[i]
        # a cell this run writes as a formula without value (even one the model could not compute, an error
        # upstream): the next reading finds a formula without value there, and must find what this run checked
        upd = {fields[c]: Unreadable("(formule)", NO_VALUE) for (r, c) in read.unknown if r == row and c in fields
               and (r, c) in written}
        if upd:
            actions[i] = replace(a, **upd)
    # a sub-total or the total written without value (a row it sums is unknown) claims no figure either
    unknown = Unreadable("(formule)", NO_VALUE)
    subtotals = {b: dict(t) for b, t in m.sous_totaux_saisis.items()}
    total = dict(m.total_saisi)
    for bloc, row in table.subtotal_rows.items():
        for (r, c) in read.unknown:
            if r == row and c in fields:
                subtotals.setdefault(bloc, {})[Column(fields[c])] = unknown
    for (r, c) in read.unknown:
        if table.total_row and r == table.total_row and c in fields:
            total[Column(fields[c])] = unknown
    return replace(m, actions=tuple(actions), sous_totaux_saisis=subtotals, total_saisi=total)


def _forget_values(read, cells: set[tuple[int, int]]) -> dict[tuple[int, int], Change]:
    """The stale formulas read as the next reading will find them: a formula
    without value (FORMULE_SANS_VALEUR until the spreadsheet saves it again).
    Each is journaled: its old value, and why it goes."""
    table = read.table
    fields = {c: f for f, c in table.cols.items() if f in L.AMOUNT_FIELDS}
    actions = list(read.maquette.actions)
    out = {}
    for (r, c) in cells:
        raw = table.raw[(r, c)]
        table.raw[(r, c)] = Formula(raw.text, None)
        i = table.action_rows.index(r)
        a = actions[i]
        col = Column(fields[c])
        old = a.amount(col)
        actions[i] = replace(a, **{fields[c]: Unreadable("=" + raw.text, NO_VALUE)})
        out[(r, c)] = Change(a.bloc, a.numero, col, old, Unreadable("=" + raw.text, STALE), a.label, i)
    read.maquette = replace(read.maquette, actions=tuple(actions))
    return out


def _cell_of(read, ch: Change) -> Optional[tuple[int, int]]:
    """(row, column) of the cell a change is about."""
    table = read.table
    col = table.cols.get(ch.column.value)
    if ch.numero is not None:
        row = table.action_rows[ch.index] if ch.index is not None else None
    else:
        row = table.subtotal_rows.get(ch.bloc) if ch.bloc is not None else table.total_row
    return (row, col) if row and col else None


def _old(wb: Workbook, sheet: str, names: Sequence[str]) -> Optional[Grid]:
    """What a sheet the project owns holds now (its extent is overwritten)."""
    return wb.read_sheet(sheet) if sheet in names else None


# --- one file, never raising -------------------------------------------------------------

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
    inchange: bool = False  # the save found the file already as the run leaves it: nothing rewritten
    #: where the file comes from and what it is (:func:`provenance`)
    provenance: dict = field(default_factory=dict)

    @property
    def n_errors(self) -> int:
        """The erreurs still open (a justified or accepted one no longer stops the maquette)."""
        return sum(1 for c in self.constats if c["gravite"] == Severity.ERREUR.value and is_open(c))

    def as_json(self) -> dict:
        return {"fichier": self.fichier, "lisible": self.lisible, "erreur": self.erreur, "code": self.code,
                "provenance": self.provenance, "constats": self.constats}


def file_identity(path: str) -> dict:
    """Path, size and SHA-256 of a file as it is on the disk (None where it cannot be read, or is not a
    regular file)."""
    out: dict = {"chemin": str(path), "taille": None, "sha256": None}
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a pipe, a device, a folder: never opened (it could block)
            return out
        h = hashlib.sha256()
        size = 0
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
                size += len(chunk)
        out["taille"], out["sha256"] = size, h.hexdigest()
    except OSError:
        pass
    return out


def blob_identity(path: str, blob: bytes) -> dict:
    """Path, size and SHA-256 of the bytes a workbook was read from."""
    return {"chemin": str(path), "taille": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}


def provenance(path: str, outcome: Optional[Outcome] = None, identity: Optional[dict] = None) -> dict:
    """The provenance of a file: path, size, SHA-256 (of the file as read),
    the profile, the last check's receipt and whether the content is still
    the one it checked (« inchangé », « modifié », « sans reçu »)."""
    out = dict(identity or file_identity(path))
    receipt = outcome.receipt_before if outcome else None
    out.update({"profil": outcome.profil if outcome else None,
                "profil_du_dernier_controle": receipt.profil if receipt else None,
                "version_outil": receipt.version if receipt else None,
                "recu": receipt.as_dict() if receipt else None,
                "etat": outcome.receipt_state if outcome else None,
                "message_recu": describe(receipt, outcome.fingerprint_before) if outcome else None,
                "empreinte": outcome.fingerprint_before if outcome else None,
                "avenant": (outcome.avenant or None) if outcome else None})
    return out


def failure(path: str, exc: BaseException) -> tuple[str, str]:
    """(French message naming the file, code) of an exception met on ``path``:
    the one exception boundary's wording."""
    if isinstance(exc, CalpaeError):
        return exc.message, exc.code
    return (f"Erreur inattendue sur « {path} » : {type(exc).__name__} : {exc}. Le fichier n'a pas été modifié ; "
            "transmettez-le avec ce message à l'équipe calpae_xl.", "ERREUR_INATTENDUE")


def process_file(path: str, operations: Sequence[str], sortie: Optional[str] = None,
                 credits: Optional[Decimal] = None, report: Optional[Decimal] = None,
                 write: bool = True, backup: bool = True, base: Optional[str] = None,
                 force: bool = False, profile=None) -> FileResult:
    """Open, run the operations, save (through the save frame) — never raises.
    With ``sortie``, the copy goes to ``sortie/<path relative to base>``
    (``base``: the folder of a ``lot``, whose sub-folders are kept), else
    ``sortie/<name>``; an existing different copy is replaced only with
    ``force``. A command that writes holds the advisory lock of the file it
    reads and of the file it writes from before reading until after saving:
    two commands started together on one file run one after the other, and
    neither update is lost."""
    from ..adapters import saveframe  # noqa: PLC0415 - the batch adapter, imported when used
    from ..adapters.xlsx import PackageWorkbook  # noqa: PLC0415
    result = FileResult(path)
    result.provenance = provenance(path, None, file_identity(path))  # until the file is read
    try:
        target = str(Path(sortie) / (Path(path).relative_to(base) if base else Path(path).name)) \
            if sortie else path
        with saveframe.exclusive(path, target) if write else contextlib.nullcontext():
            wb = PackageWorkbook.open(path)
            identity = blob_identity(path, wb.blob)  # the bytes read, exactly
            result.provenance = provenance(path, None, identity)
            outcome = run(wb, operations, credits, report, write=write, profile=profile)
            result.provenance = provenance(path, outcome, identity)
            result.constats = [f.as_dict() for f in outcome.findings]
            result.changements = len(outcome.changes)
            result.fiches_creees = len(outcome.fiches_created)
            if write and outcome.wrote:
                if sortie:
                    saveframe.ensure_folder(os.path.dirname(target))
                result.sauvegarde = wb.save(target, backup=backup, force=force)
                result.sortie = target
                result.inchange = not wb.saved.changed
    except Exception as e:  # noqa: BLE001 - the boundary: one bad file never stops a batch
        result.lisible = False
        result.erreur, result.code = failure(path, e)
    return result
