"""The Journal: every value Recalculer changed, old -> new, with its cell."""
from __future__ import annotations

from decimal import Decimal
from typing import Optional, Sequence

from ..core.model import Bloc
from ..core.money import Unreadable
from ..core.rules import Change
from ..workbook import layout as L
from ..workbook.port import KEEP, Block, EnsureSheet, Grid, Op, SheetSetup, Text
from ..workbook.reader import ReadResult
from .blocks import after, owned_blocks


def plan_journal(read: ReadResult, changes: Sequence[Change], names: Sequence[str],
                 old: Optional[Grid] = None) -> list[Op]:
    """The journal of the last Recalculer that changed something (left as it
    is when nothing changed, so that a second run gives the same file)."""
    cells = {}
    for i, a in enumerate(read.maquette.actions):
        cells.setdefault((a.bloc, a.numero), read.table.action_rows[i])
    rows: list[list] = [[Text("Journal du dernier recalcul ayant modifié des valeurs")],
                        [Text(f"{len(changes)} valeur(s) modifiée(s) par « Recalculer ». Les saisies ne sont "
                              "jamais modifiées, sauf les montants saisis en texte, convertis en nombres.")],
                        [], [Text(h) for h in L.JOURNAL_HEADERS]]
    for ch in changes:
        if ch.numero is not None:
            row = cells.get((ch.bloc, ch.numero))
            what = f"{ch.what} ({'socle' if ch.bloc is Bloc.SOCLE else 'initiatives locales'})"
        else:
            row = read.table.subtotal_rows.get(ch.bloc) if ch.bloc else read.table.total_row
            what = ch.what
        cell = read.table.cell(row, ch.column.value) if row else None
        old_v = ch.old if isinstance(ch.old, Decimal) else Text("texte « " + ch.old.raw + " »") if isinstance(
            ch.old, Unreadable) else Text("(vide)")
        rows.append([Text(what), Text(ch.column.label), old_v, ch.new, Text(cell or "")])
    width = len(L.JOURNAL_HEADERS)
    ops: list[Op] = []
    if L.JOURNAL not in names:
        ops += [EnsureSheet(L.JOURNAL, before=after(L.CONTROLES, names) if L.CONTROLES in names else
                            after(read.table.sheet, names)),
                Block(L.JOURNAL, L.JOURNAL_TITLE_ROW, 1, [[KEEP]], styles="title"),
                Block(L.JOURNAL, L.JOURNAL_HEADER_ROW, 1, [[KEEP] * width], styles="header"),
                SheetSetup(L.JOURNAL, widths=dict(enumerate(L.JOURNAL_WIDTHS, 1)), freeze=L.a1(L.JOURNAL_FIRST_ROW, 1))]
    ops += owned_blocks(L.JOURNAL, rows, old, width)
    ops.append(Block(L.JOURNAL, L.JOURNAL_FIRST_ROW, L.JOURNAL_OLD_COL, [[KEEP, KEEP]] * len(changes), styles="eur"))
    return ops
