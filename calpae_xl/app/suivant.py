"""« suivant »: the following year's maquette from this year's.

A yearly convention (CALPAE, RSA / France Travail): a new workbook for the
next year — the same actions, fiches' text and indicators, the report column
computed from the credits this year did not consume, every carried figure in
its Journal, and the « Suivi de l'exécution » sheet with this year's
execution added to the years before. A multi-year contract (CLS 2024-2027):
the same workbook, its next column year receives the reports, and « Année de
la convention » moves on (journaled). A report cell the officer already
typed with another figure is never replaced: it is listed.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Optional

from ..core.carry import Carry, YearExecution, carries, follow_up, next_year
from ..core.model import Column
from ..core.money import format_eur
from ..core.rules import report_etat
from ..errors import CalpaeError
from ..workbook import layout as L
from ..workbook.a1 import split_ref
from ..workbook.port import Block, ClearContents, Grid, Op, Text, Workbook
from ..workbook.reader import ReadResult, named, read_parametres, read_workbook
from .session import CONTROLER, FICHES, RECALCULER, Outcome, run


@dataclass
class NextYear:
    """What « suivant » did."""

    source: str
    target: str
    annee: int  # the year prepared
    carries: list[Carry] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # report cells already typed otherwise: left as they are
    outcome: Optional[Outcome] = None
    n_written: Optional[int] = None  # report cells written (a contract's next year: the empty ones only)

    @property
    def computed(self) -> list[Carry]:
        return [c for c in self.carries if c.report is not None]

    @property
    def not_computed(self) -> list[Carry]:
        return [c for c in self.carries if c.report is None]


def next_name(path: str, annee: int) -> str:
    """loiret_2020.xlsx -> loiret_2021.xlsx; a name without the year gets it added."""
    p = Path(path)
    stem, n = re.subn(rf"(?<!\d){annee}(?!\d)", str(annee + 1), p.stem)
    return str(p.with_name((stem if n else f"{p.stem}_{annee + 1}") + p.suffix))


# --- the follow-up sheet ------------------------------------------------------------------------

def _old_follow_up(grid: Optional[Grid], replaced: set[int]) -> list[list]:
    """The lines of earlier years a workbook's follow-up sheet holds (those of
    ``replaced`` years are written anew)."""
    if grid is None:
        return []
    out = []
    for r in range(L.SUIVI_FIRST_ROW, grid.n_rows + 1):
        row = [grid.get(r, c) for c in range(1, len(L.SUIVI_HEADERS) + 1)]
        year = row[0]
        if year in (None, ""):
            continue
        try:
            if int(float(str(year))) in replaced:
                continue
        except ValueError:
            pass
        out.append(row)
    return out


def _line(x: YearExecution) -> list:
    return [x.annee, x.groupe, x.numero, x.intitule, x.budget_global, x.part_etat, x.part_cd,
            x.budget_execute, x.taux, x.execute_etat, x.non_consomme_etat, x.report_suivant, x.note]


def plan_follow_up(sheet: str, lines: list[YearExecution], old: Optional[Grid], source: str,
                   existing: Optional[Grid] = None) -> list[Op]:
    """The « Suivi de l'exécution » sheet: every year « suivant » went through,
    one line per action (its budget, execution, rate, and what it gave the next
    year). ``old``: the sheet the earlier years are read from; ``existing``:
    what the sheet written to holds now (emptied first)."""
    from ..reports.tables import table_ops  # noqa: PLC0415 - the project's table sheet, as the reports write it
    years = {x.annee for x in lines}
    rows = _old_follow_up(old, years) + [_line(x) for x in lines]
    rows.sort(key=lambda r: (str(r[0]),))
    note = (f"Écrit par « calpae-xl suivant » depuis « {source} » : taux = budget exécuté / budget global ; exécuté "
            "État = budget exécuté × part État / budget global (au plus la part État) ; non consommé État = "
            "part État − "
            "exécuté État ; "
            "report l'année suivante = non consommé État ×2 (sa moitié État), ou ×1 pour une action « 100 % État ».")
    ops: list[Op] = []
    if existing is not None and existing.n_rows:
        ops.append(ClearContents(sheet, 1, 1, existing.n_rows, max(existing.n_cols, len(L.SUIVI_HEADERS))))
    eur = [L.SUIVI_HEADERS[c - 1] for c in L.SUIVI_EUR_COLS]
    ops += table_ops(sheet, L.SUIVI_HEADERS, rows, money=eur, percent=(L.SUIVI_HEADERS[L.SUIVI_TAUX_COL - 1],),
                     before_rows=[[L.SUIVI_TITLE], [note], []])
    return ops


def _journal_rows(read: ReadResult, year_view: ReadResult, carried: list[Carry], annee: int) -> list[list]:
    table = year_view.table
    rows = []
    for c in carried:
        if c.report is None:
            continue
        row = table.action_rows[c.index] if c.index < len(table.action_rows) else None
        cell = table.cell(row, Column.REPORT.value) if row else None
        rows.append([Text(f"Action {c.action.numero} ({c.action.bloc.nom}) — {c.why}"),
                     Text(f"{Column.REPORT.label} {annee}"), Text("(vide)"), c.report, Text(cell or "")])
    return rows


# --- a yearly convention: a new workbook -------------------------------------------------------------

def _source(wb: Workbook, profile=None) -> ReadResult:
    return read_workbook(wb.sheet_names(), wb.read_sheet, wb.path, profile=profile)


def prepare_next_year(source_wb: Workbook, staged: str, profile=None) -> NextYear:
    """The following year's workbook of a yearly convention, made whole at
    ``staged`` (the caller places it through the save frame)."""
    from ..adapters.openpyxl_adapter import OpenpyxlWorkbook  # noqa: PLC0415
    from ..adapters.xlsx import PackageWorkbook  # noqa: PLC0415
    from .template import create  # noqa: PLC0415
    read = _source(source_wb, profile)
    m = read.maquette
    if not m.annee:
        raise CalpaeError(source_wb.path, "l'année de la convention n'est pas renseignée (feuille « Paramètres ») : "
                                          "l'année suivante ne peut pas être préparée", "ANNEE_SUIVANTE_IMPOSSIBLE")
    new, carried = next_year(m)
    if staged.lower().endswith(".xlsm"):
        from ..build_xlsm import build  # noqa: PLC0415
        build(staged, None, years=[new])
    else:
        wb = OpenpyxlWorkbook.new(staged)
        create(wb, [new], typed=True)
        wb.save(backup=False, replace=True)
    wb = PackageWorkbook.open(staged)
    fresh = _source(wb, m.profile)
    old_suivi = source_wb.read_sheet(read.owned[L.SUIVI]) if read.owned.get(L.SUIVI) in source_wb.sheet_names() \
        else None
    sheet = fresh.sheet_of(L.SUIVI)
    wb.apply(plan_follow_up(sheet, follow_up(m), old_suivi, os.path.basename(source_wb.path)))
    rows = _journal_rows(fresh, fresh, carried, new.annee)
    note = (f"{len(rows)} report(s) calculé(s) par « suivant » depuis « {os.path.basename(source_wb.path)} » "
            f"({m.annee}) ; les montants {new.annee} sont à saisir.")
    outcome = run(wb, [RECALCULER, CONTROLER, FICHES], carried=rows, carried_note=note)
    result = NextYear(source_wb.path, staged, new.annee, carried, outcome=outcome)
    result.workbook = wb  # type: ignore[attr-defined] - saved by the caller
    return result


# --- a multi-year contract: the next column year -------------------------------------------------------

def _current_year(wb: Workbook, read: ReadResult) -> tuple[int, Optional[str], Optional[int]]:
    """(the year « Paramètres » says is under way, the Paramètres sheet, the row of that year)."""
    years = [v.maquette.annee for v in read.years]
    sheet = named(wb.sheet_names(), L.PARAMETRES)
    if sheet is None:
        return years[0], None, None
    params, _codes, rows = read_parametres(wb.read_sheet(sheet))
    try:
        y = int(float(str(params.get(L.P_ANNEE))))
    except (TypeError, ValueError):
        y = years[0]
    return (y if y in years else years[0]), sheet, rows.get("@" + L.P_ANNEE)


def carry_in_contract(wb: Workbook, profile=None) -> NextYear:
    """The next column year of a multi-year contract, in the workbook itself."""
    read = _source(wb, profile)
    years = [v.maquette.annee for v in read.years]
    y, param_sheet, param_row = _current_year(wb, read)
    if y == years[-1]:
        raise CalpaeError(wb.path, f"le contrat se termine en {years[-1]} : il n'a pas d'année après {y}",
                          "ANNEE_SUIVANTE_IMPOSSIBLE")
    i = years.index(y)
    this, after = read.years[i], read.years[i + 1]
    carried = carries(this.maquette)
    ops: list[Op] = []
    kept: list[str] = []
    written: list[Carry] = []
    for c in carried:
        if c.report is None or c.index >= len(after.maquette.actions):
            continue
        row = after.table.action_rows[c.index]
        cell = after.table.cell(row, Column.REPORT.value)
        current = after.maquette.actions[c.index].report
        if current is None:
            r, col = split_ref(cell)
            ops.append(Block(after.table.sheet, r, col, [[c.report]]))
            written.append(c)
        elif current != c.report:
            kept.append(f"Action {c.action.numero} ({c.action.bloc.nom}) : {cell} vaut "
                        f"{format_eur(current)}, le calcul donne {format_eur(c.report)} — laissé tel quel")
    journal = _journal_rows(read, after, written, y + 1)
    if param_sheet and param_row:
        ops.append(Block(param_sheet, param_row, L.PARAM_VALUE_COL, [[y + 1]]))
        journal.append([Text(f"Année de la convention (feuille « {param_sheet} ») : l'année en cours devient "
                             f"{y + 1}"), Text("Année"), y, y + 1, Text(L.a1(param_row, L.PARAM_VALUE_COL))])
    old_suivi = wb.read_sheet(read.sheet_of(L.SUIVI)) if read.sheet_of(L.SUIVI) in wb.sheet_names() else None
    ops += plan_follow_up(read.sheet_of(L.SUIVI), follow_up(this.maquette), old_suivi, os.path.basename(wb.path),
                          old_suivi)
    wb.apply(ops)
    note = (f"{len(written)} report(s) {y + 1} calculé(s) par « suivant » depuis l'exécution {y}.")
    outcome = run(wb, [RECALCULER, CONTROLER], profile=profile, carried=journal, carried_note=note)
    return NextYear(wb.path, wb.path, y + 1, carried, kept, outcome=outcome, n_written=len(written))


def is_multi_year(read: ReadResult) -> bool:
    return len(read.years) > 1


def summary_lines(result: NextYear) -> list[str]:
    """What the command prints after the file line."""
    total = sum((c.report for c in result.computed), Decimal(0))
    out = [f"  {len(result.computed)} report(s) calculé(s) depuis l'exécution (total {format_eur(total)})"
           + (f", {result.n_written} écrit(s) dans des cellules vides" if result.n_written is not None else "")]
    etat = sum((report_etat(replace(c.action, report=c.report)) for c in result.computed), Decimal(0))
    if result.computed:
        out.append(f"  Part État de ces reports : {format_eur(etat)}, à rapprocher du report notifié {result.annee} "
                   "(feuille « Paramètres »).")
    for c in result.not_computed:
        out.append(f"  Action {c.action.numero} ({c.action.bloc.nom}) : {c.why}")
    for k in result.kept:
        out.append(f"  {k}")
    return out

