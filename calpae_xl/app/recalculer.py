"""Recalculer's plan: the derived cells of each action as live formulas (with
the value Python computed as their cached value), the sub-totals and the
total. Inputs are written back as they were, except amounts typed as text,
which become numbers (journaled)."""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

from ..core.model import Action, Bloc, Column, Maquette, SplitRule
from ..core.money import Unreadable
from ..core.rules import COLUMNS, Change, derive, inputs_of
from ..workbook import layout as L
from ..workbook.port import Block, Formula, Op
from ..workbook.reader import ReadResult, TableLayout
from .blocks import runs, sum_formula


def text_amounts(read: ReadResult) -> list[Change]:
    """Input amounts typed as text ("35 813 €") are rewritten as numbers, so that
    the formulas work in Excel; each one is journaled."""
    out = []
    for i, a in enumerate(read.maquette.actions):
        row = read.table.action_rows[i]
        for col in inputs_of(a.regle):
            c = read.table.cols.get(col.value)
            raw = read.raw_amounts.get((row, c)) if c else None
            v = a.amount(col)
            if isinstance(raw, str) and isinstance(v, Decimal):
                out.append(Change(a.bloc, a.numero, col, Unreadable(raw), v, a.label))
    return out


def _refs(table: TableLayout, row: int) -> dict[str, Optional[str]]:
    return {f: table.cell(row, f) for f in L.AMOUNT_FIELDS}


def derived_formulas(action: Action, refs: dict[str, Optional[str]]) -> dict[Column, str]:
    """The live formulas of an action's derived cells under its rule. They
    compute exactly what :func:`calpae_xl.core.rules.derive` computes (the
    State's half is floored at the cent, like ``split_half``)."""
    g, ecd, pe, pc, rep, aut = (refs.get(c.value) for c in COLUMNS)
    rep_t, aut_t = rep or "0", aut or "0"
    out: dict[Column, str] = {}
    if action.regle is SplitRule.PARITE:
        base_ecd = f"{g}-{aut_t}" if aut else f"{g}"
        if ecd:
            out[Column.BUDGET_ETAT_CD] = base_ecd
        ecd_t = ecd or f"({base_ecd})"
        if pe:
            out[Column.PART_ETAT] = f"INT(ROUND(({ecd_t}-{rep_t})*50,6))/100"
        if pc:
            out[Column.PART_CD] = f"{ecd_t}-{rep_t}-{pe}" if pe else f"({ecd_t}-{rep_t})/2"
    else:
        sum_parts = f"{pe or 0}+{pc or 0}+{rep_t}"
        if ecd:
            out[Column.BUDGET_ETAT_CD] = sum_parts
        if g:
            out[Column.BUDGET_GLOBAL] = f"{ecd}+{aut_t}" if ecd else f"{sum_parts}+{aut_t}"
    return out


def plan_recalculer(read: ReadResult, m: Maquette, text_fixes: list[Change]) -> list[Op]:
    """Blocks for the amount columns: one per run of action rows and span of
    adjacent amount columns, plus the sub-total and total rows. Inputs are
    written back as they were (numbers for text amounts), derived cells get
    their formula with the value Python computed."""
    table = read.table
    grid_cols = sorted((c, f) for f, c in table.cols.items() if f in L.AMOUNT_FIELDS)
    if not grid_cols:
        return []
    field_of = dict(grid_cols)
    spans = [[(c, field_of[c]) for c in range(a, b + 1)] for a, b in runs(field_of)]
    original = read.raw_amounts
    fixed_cells = {(ch.bloc, ch.numero, ch.column) for ch in text_fixes}
    cells: dict[tuple[int, int], object] = {}
    for i, a in enumerate(m.actions):
        row = table.action_rows[i]
        formulas = derived_formulas(a, _refs(table, row)) if derive(a) is not None else {}
        for c, f in grid_cols:
            col = Column(f)
            if col in formulas:
                cells[(row, c)] = Formula(formulas[col], a.amount(col))
            elif (a.bloc, a.numero, col) in fixed_cells:
                cells[(row, c)] = a.amount(col)
            else:
                cells[(row, c)] = original.get((row, c))
    ops: list[Block] = []
    for start, end in runs(table.action_rows):
        for span in spans:
            ops.append(Block(table.sheet, start, span[0][0],
                             [[cells[(r, c)] for c, _ in span] for r in range(start, end + 1)]))
    rows_of = {b: [table.action_rows[i] for i, a in enumerate(m.actions) if a.bloc is b] for b in Bloc}
    total_rows: list[tuple[int, list[int], dict]] = [
        (row, rows_of[b], m.sous_totaux_saisis.get(b, {})) for b, row in table.subtotal_rows.items()]
    if table.total_row:
        total_rows.append((table.total_row, list(table.action_rows), m.total_saisi))
    for row, rows, values in total_rows:
        for span in spans:
            ops.append(Block(table.sheet, row, span[0][0],
                             [[Formula(sum_formula(c, rows), values.get(Column(f))) for c, f in span]]))
    # top to bottom: an engine can then join the rows into one write
    return sorted(ops, key=lambda b: (b.col, b.row))
