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
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Optional, Sequence

from ..core.checks import run_checks
from ..core.findings import Finding, Severity, sort_findings
from ..core.model import Column, Maquette, SplitRule
from ..core.money import NO_VALUE, Unreadable
from ..core.rules import Change, recalculate
from ..errors import CalpaeError
from ..workbook import layout as L
from ..workbook.port import Grid, Workbook
from ..workbook.reader import read_workbook
from .controles import plan_controles, plan_highlights
from .fiches import plan_fiche_links, plan_fiches
from .journal import plan_journal
from .recalculer import input_fixes, kept_cells, plan_recalculer, typed_over
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


def run(wb: Workbook, operations: Sequence[str], credits: Optional[Decimal] = None,
        report: Optional[Decimal] = None, write: bool = True) -> Outcome:
    """Run the chosen operations on an open workbook, in the order recalculer,
    contrôler, fiches, and apply the resulting plan in one go."""
    names = wb.sheet_names()
    read = read_workbook(names, wb.read_sheet, wb.path, credits, report)
    maquette, changes, ops = read.maquette, [], []
    if RECALCULER in operations:
        keep = kept_cells(read)
        fixes = input_fixes(read, keep)
        maquette, changes = recalculate(read.maquette, keep)
        ops += plan_recalculer(read, maquette, fixes, keep)
        table = read.table  # a sub-total or total the table has no row for is not journaled: nothing is written
        changes = fixes + [ch for ch in changes if ch.numero is not None or (
            table.subtotal_rows.get(ch.bloc) if ch.bloc is not None else table.total_row)]
        changes += typed_over(read, changes, keep)
        changes = [ch for ch in changes if _cell_of(read, ch) not in read.unknown]  # no figure claimed: none journaled
        maquette = _forget_unknown(read, maquette)
    outcome = Outcome(wb.path, maquette, changes)
    if FICHES in operations:  # first: findings can then point at the cells of the fiches it creates
        ops += plan_fiches(read, maquette, names, outcome.fiches_created)
    elif RECALCULER in operations and not getattr(wb, "recalculates", False):
        ops += plan_fiche_links(read, maquette)  # a file: its fiches' saved values follow the maquette
    findings = outcome.findings = sort_findings(read.findings + read.locate(run_checks(maquette, read.extra_chorus)))
    checking = RECALCULER in operations or CONTROLER in operations
    created = []  # the roles of the owned sheets this run creates
    if checking:
        ops += plan_looks(read, maquette, names, wb.read_sheet)
        ops += plan_controles(read, maquette, findings, names, _old(wb, read.sheet_of(L.CONTROLES), names))
        created.append(L.CONTROLES)
        if changes:
            ops += plan_journal(read, changes, names, _old(wb, read.sheet_of(L.JOURNAL), names))
            created.append(L.JOURNAL)
    if checking or outcome.fiches_created:
        libre = [L.action_key(a.bloc, a.numero) for a in maquette.actions if a.regle is not SplitRule.PARITE] \
            if RECALCULER in operations else None
        ops += plan_highlights(read, findings, outcome.fiches_created, _old(wb, read.sheet_of(L.TECH), names),
                               names, created, libre)
    if write and ops:
        wb.apply(ops)
        outcome.wrote = True
    return outcome


def _forget_unknown(read, m: Maquette) -> Maquette:
    """The maquette as the file now says it: a computed cell written without
    value is unknown (checked as such now, as it will be read next time)."""
    from dataclasses import replace  # noqa: PLC0415
    if not read.unknown:
        return m
    table, actions = read.table, list(m.actions)
    fields = {c: f for f, c in table.cols.items() if f in L.AMOUNT_FIELDS}
    for i, a in enumerate(actions):
        row = table.action_rows[i]
        upd = {fields[c]: Unreadable("(formule)", NO_VALUE) for (r, c) in read.unknown if r == row and c in fields
               and not isinstance(a.amount(Column(fields[c])), Unreadable)}
        if upd:
            actions[i] = replace(a, **upd)
    return replace(m, actions=tuple(actions))


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

    @property
    def n_errors(self) -> int:
        return sum(1 for c in self.constats if c["gravite"] == Severity.ERREUR.value)

    def as_json(self) -> dict:
        return {"fichier": self.fichier, "lisible": self.lisible, "erreur": self.erreur, "code": self.code,
                "constats": self.constats}


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
                 force: bool = False) -> FileResult:
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
    try:
        target = str(Path(sortie) / (Path(path).relative_to(base) if base else Path(path).name)) \
            if sortie else path
        with saveframe.exclusive(path, target) if write else contextlib.nullcontext():
            wb = PackageWorkbook.open(path)
            outcome = run(wb, operations, credits, report, write=write)
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
