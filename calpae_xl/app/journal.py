"""The Journal: every value Recalculer changed, old -> new, with its cell;
and, beside it, the trace of the answered findings that disappeared (kept
from run to run)."""
from __future__ import annotations

from decimal import Decimal
from typing import Optional, Sequence

from ..core.money import DATE, ERROR, MERGED, NO_VALUE, SUB_CENT, TOO_LARGE, Unreadable
from ..core.rules import Change
from ..workbook import layout as L
from ..workbook.port import KEEP, Block, ClearContents, EnsureSheet, Grid, Op, SheetSetup, Text
from ..workbook.reader import ReadResult, text
from .blocks import after
from .printing import owned_looks
from .recalculer import TOOL_FORMULA, TYPED_OVER

#: one line of the trace: code, bloc, action, message, status, answer, date, key (as the sheet holds them)
TraceLine = tuple[str, str, str, str, str, str, str, str]


def read_trace(old: Optional[Grid]) -> list[TraceLine]:
    """The trace the Journal holds (its lines, oldest first)."""
    if old is None or text(old.get(L.JOURNAL_HEADER_ROW, L.JOURNAL_TRACE_COL)) != L.JOURNAL_TRACE_HEADERS[0]:
        return []
    width = len(L.JOURNAL_TRACE_HEADERS)
    out = []
    for r in range(L.JOURNAL_FIRST_ROW, old.n_rows + 1):
        line = tuple(text(old.get(r, L.JOURNAL_TRACE_COL + j)) for j in range(width))
        if any(line):
            out.append(line)
    return out


def plan_journal(read: ReadResult, changes: Sequence[Change], names: Sequence[str],
                 old: Optional[Grid] = None, carried: Sequence[list] = (), carried_note: str = "",
                 resolved: Sequence[TraceLine] = ()) -> list[Op]:
    """The journal of the last Recalculer that changed something (left as it
    is when nothing changed, so that a second run gives the same file), and
    the trace of answered findings that disappeared: ``resolved``, the lines
    this run adds to what the trace held. ``carried``: rows (ligne, colonne,
    ancienne, nouvelle, cellule) another command wrote before Recalculer
    (« suivant »), said first, with ``carried_note``."""
    sheet = read.sheet_of(L.JOURNAL)
    controles = read.sheet_of(L.CONTROLES)
    ops: list[Op] = []
    width = len(L.JOURNAL_HEADERS)
    if sheet not in names:
        ops += [EnsureSheet(sheet, before=after(controles, names) if controles in names else
                            after(read.table.sheet, names)),
                Block(sheet, L.JOURNAL_TITLE_ROW, 1, [[KEEP]], styles="title"),
                Block(sheet, L.JOURNAL_HEADER_ROW, 1, [[KEEP] * width], styles="header"),
                SheetSetup(sheet, widths=dict(enumerate(L.JOURNAL_WIDTHS, 1)), freeze=L.a1(L.JOURNAL_FIRST_ROW, 1))]
    if changes or carried or sheet not in names:
        note = (f"{len(changes)} valeur(s) modifiée(s) par « Recalculer ». Les saisies ne sont jamais modifiées, "
                "sauf les montants saisis en texte, convertis en nombres.")
        if carried:
            note = f"{carried_note} {note}".strip()
        rows: list[list] = [[Text(L.JOURNAL_TITLE)], [Text(note)], [], [Text(h) for h in L.JOURNAL_HEADERS]]
        rows += [list(r) for r in carried]
        tables = {view.table.annee: view.table for view in (read.years or [read])}
        for ch in changes:
            table = tables.get(ch.annee, read.table)
            if ch.numero is not None:
                row = table.action_rows[ch.index] if ch.index is not None else None
                what = f"{ch.what} ({ch.bloc.nom})"
            else:
                row = table.subtotal_rows.get(ch.bloc) if ch.bloc else table.total_row
                what = ch.what
            cell = table.cell(row, ch.column.value) if row else None
            column = ch.column.label + (f" {ch.annee}" if ch.annee else "")
            old_v = ch.old if isinstance(ch.old, Decimal) else Text(_shown(ch.old))
            new_v = Text(_shown_new(ch.new)) if isinstance(ch.new, Unreadable) else ch.new
            rows.append([Text(what), Text(column), old_v, new_v, Text(cell or "")])
        if old is not None and old.n_rows:
            ops.append(ClearContents(sheet, 1, 1, old.n_rows, min(max(old.n_cols, 1), L.JOURNAL_TRACE_COL - 1)))
        ops.append(Block(sheet, 1, 1, [r + [None] * (width - len(r)) for r in rows]))
        ops.append(Block(sheet, L.JOURNAL_FIRST_ROW, L.JOURNAL_OLD_COL, [[KEEP, KEEP]] * (len(carried) + len(changes)),
                         styles="eur"))
        ops += owned_looks(sheet, L.JOURNAL, L.JOURNAL_HEADER_ROW, rows[L.JOURNAL_HEADER_ROW:], old, L.JOURNAL_WIDTHS,
                           wrapped=(1, 2, L.JOURNAL_OLD_COL, L.JOURNAL_NEW_COL))
    if resolved:
        kept = read_trace(old)
        lines = kept + list(resolved)
        twidth = len(L.JOURNAL_TRACE_HEADERS)
        col = L.JOURNAL_TRACE_COL
        block: list[list] = [[Text(L.JOURNAL_TRACE_TITLE)], [Text(L.JOURNAL_TRACE_NOTE)], [],
                             [Text(h) for h in L.JOURNAL_TRACE_HEADERS]]
        block += [[Text(v) if v else None for v in line] for line in lines]
        if old is not None and old.n_rows and old.n_cols >= col:
            ops.append(ClearContents(sheet, 1, col, old.n_rows, old.n_cols))
        ops.append(Block(sheet, 1, col, [r + [None] * (twidth - len(r)) for r in block]))
        if not kept:  # the trace's first lines: its headers and widths
            ops += [Block(sheet, L.JOURNAL_TRACE_TITLE_ROW, col, [[KEEP]], styles="title"),
                    Block(sheet, L.JOURNAL_HEADER_ROW, col, [[KEEP] * twidth], styles="header"),
                    SheetSetup(sheet, widths={col + j: w for j, w in enumerate(L.JOURNAL_TRACE_WIDTHS)})]
    return ops


#: the error values as a French Excel shows them (the file holds the English ones)
FRENCH_ERRORS = {"#VALUE!": "#VALEUR!", "#NAME?": "#NOM?", "#NULL!": "#NUL!", "#NUM!": "#NOMBRE!",
                 "#N/A": "#N/A", "#DIV/0!": "#DIV/0!", "#REF!": "#REF!"}


def _shown_new(new: Unreadable) -> str:
    """A new value that is no number: a formula of the person's whose saved value went (STALE)."""
    return f"formule {new.raw} gardée, à recalculer : elle lit une cellule modifiée ici"


def _shown(old: object) -> str:
    """An old value that was not a number, as the Journal says it to a finance officer."""
    if old is None:
        return "(vide)"
    if isinstance(old, Unreadable):
        if old.reason == TYPED_OVER:
            return f"valeur saisie « {old.raw} », remplacée par la formule (cellule calculée)"
        if old.reason == TOOL_FORMULA:
            return f"formule de l'outil « {old.raw} » (règle de répartition changée), remplacée par sa valeur"
        if old.reason == NO_VALUE:
            return f"formule sans valeur enregistrée « {old.raw} »"
        if old.reason == MERGED:
            return f"cellule fusionnée ({old.raw})"
        if old.reason == ERROR:
            shown = FRENCH_ERRORS.get(old.raw.strip().upper(), old.raw)
            return f"erreur de calcul {shown} (le montant ne pouvait pas être calculé)"
        if old.reason == DATE:
            return f"date « {old.raw} » au lieu d'un montant"
        if old.reason == SUB_CENT:
            return f"montant « {old.raw} » (plus de deux décimales)"
        if old.reason == TOO_LARGE:
            return f"montant démesuré « {old.raw} »"
        return f"saisi en texte « {old.raw} »"
    return str(old)
