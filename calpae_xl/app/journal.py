"""The Journal: every value Recalculer changed, old -> new, with its cell."""
from __future__ import annotations

from decimal import Decimal
from typing import Optional, Sequence

from ..core.model import Bloc
from ..core.money import DATE, ERROR, MERGED, NO_VALUE, SUB_CENT, TOO_LARGE, Unreadable
from ..core.rules import Change
from ..workbook import layout as L
from ..workbook.port import KEEP, Block, EnsureSheet, Grid, Op, SheetSetup, Text
from ..workbook.reader import ReadResult
from .blocks import after, owned_blocks
from .printing import owned_looks
from .recalculer import TOOL_FORMULA, TYPED_OVER


def plan_journal(read: ReadResult, changes: Sequence[Change], names: Sequence[str],
                 old: Optional[Grid] = None) -> list[Op]:
    """The journal of the last Recalculer that changed something (left as it
    is when nothing changed, so that a second run gives the same file)."""
    sheet = read.sheet_of(L.JOURNAL)
    controles = read.sheet_of(L.CONTROLES)
    rows: list[list] = [[Text(L.JOURNAL_TITLE)],
                        [Text(f"{len(changes)} valeur(s) modifiée(s) par « Recalculer ». Les saisies ne sont "
                              "jamais modifiées, sauf les montants saisis en texte, convertis en nombres.")],
                        [], [Text(h) for h in L.JOURNAL_HEADERS]]
    for ch in changes:
        if ch.numero is not None:
            row = read.table.action_rows[ch.index] if ch.index is not None else None
            what = f"{ch.what} ({'socle' if ch.bloc is Bloc.SOCLE else 'initiatives locales'})"
        else:
            row = read.table.subtotal_rows.get(ch.bloc) if ch.bloc else read.table.total_row
            what = ch.what
        cell = read.table.cell(row, ch.column.value) if row else None
        old_v = ch.old if isinstance(ch.old, Decimal) else Text(_shown(ch.old))
        rows.append([Text(what), Text(ch.column.label), old_v, ch.new, Text(cell or "")])
    width = len(L.JOURNAL_HEADERS)
    ops: list[Op] = []
    if sheet not in names:
        ops += [EnsureSheet(sheet, before=after(controles, names) if controles in names else
                            after(read.table.sheet, names)),
                Block(sheet, L.JOURNAL_TITLE_ROW, 1, [[KEEP]], styles="title"),
                Block(sheet, L.JOURNAL_HEADER_ROW, 1, [[KEEP] * width], styles="header"),
                SheetSetup(sheet, widths=dict(enumerate(L.JOURNAL_WIDTHS, 1)), freeze=L.a1(L.JOURNAL_FIRST_ROW, 1))]
    ops += owned_blocks(sheet, rows, old, width)
    ops.append(Block(sheet, L.JOURNAL_FIRST_ROW, L.JOURNAL_OLD_COL, [[KEEP, KEEP]] * len(changes), styles="eur"))
    ops += owned_looks(sheet, L.JOURNAL, L.JOURNAL_HEADER_ROW, rows[L.JOURNAL_HEADER_ROW:], old, L.JOURNAL_WIDTHS,
                       wrapped=(1, 2, L.JOURNAL_OLD_COL))
    return ops


#: the error values as a French Excel shows them (the file holds the English ones)
FRENCH_ERRORS = {"#VALUE!": "#VALEUR!", "#NAME?": "#NOM?", "#NULL!": "#NUL!", "#NUM!": "#NOMBRE!",
                 "#N/A": "#N/A", "#DIV/0!": "#DIV/0!", "#REF!": "#REF!"}


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
