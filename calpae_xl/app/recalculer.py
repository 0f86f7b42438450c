"""Recalculer's plan: the derived cells of each action as live formulas (with
the value Python computed as their cached value), the sub-totals and the
total. Nothing else is written: a cell the officer typed (a number, a date,
an error, a formula of theirs with its value) is left exactly as it is, with
two journaled exceptions — an amount typed as text becomes a number (so that
the formulas work), and a formula the tool wrote for another rule, left in
a cell that is now typed, becomes its value (it would otherwise make a
circular reference)."""
from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from typing import Optional

from ..core.model import Action, Column, Maquette, SplitRule
from ..core.profile import groups_of
from ..core.money import DATE, FLOAT_NOISE, Unreadable
from ..core.rules import COLUMNS, Change, derive, derived_of, inputs_of
from ..workbook import layout as L
from ..workbook.a1 import col_index
from ..workbook.port import KEEP, Block, Formula, Op
from ..workbook.reader import ReadResult, TableLayout
from .blocks import runs, sum_formula

#: the formula the tool wrote in a cell, left there once the cell became typed
TOOL_FORMULA = "formule_outil"
#: a value typed in a computed cell, which Recalculer replaces by its formula
TYPED_OVER = "saisie_remplacee"
#: a formula of the person's whose saved value goes: it reads a cell Recalculer changed
STALE = "valeur_perimee"


def _refs(table: TableLayout, row: int, unavailable=()) -> dict[str, Optional[str]]:
    """The A1 reference of each amount column of ``row``; None for a column
    absent from the table or whose cell cannot be referred to (merged)."""
    out = {f: table.cell(row, f) for f in L.AMOUNT_FIELDS}
    for col in unavailable:
        out[col.value] = None
    return out


def derived_formulas(action: Action, refs: dict[str, Optional[str]], rule: Optional[SplitRule] = None) \
        -> dict[Column, str]:
    """The live formulas of an action's derived cells under its rule (or
    ``rule``). They compute exactly what :func:`calpae_xl.core.rules.derive`
    computes: the State's half is floored at the cent, like ``split_half``,
    and the CD gets the rest."""
    g, ecd, pe, pc, rep, aut = (refs.get(c.value) for c in COLUMNS)
    rep_t, aut_t = rep or "0", aut or "0"
    out: dict[Column, str] = {}
    rule = rule or action.regle
    if not rule.typed_parts:
        base_ecd = f"{g}-{aut_t}" if aut else f"{g}"
        if ecd:
            out[Column.BUDGET_ETAT_CD] = base_ecd
        ecd_t = ecd or f"({base_ecd})"
        if rule is SplitRule.ETAT_100:
            if pe:
                out[Column.PART_ETAT] = f"{ecd_t}-{rep_t}"
            if pc:
                out[Column.PART_CD] = "0"
            return out
        half = f"INT(ROUND(({ecd_t}-{rep_t})*50,6))/100"
        if pe:
            out[Column.PART_ETAT] = half
        if pc:
            out[Column.PART_CD] = f"{ecd_t}-{rep_t}-{pe}" if pe else f"{ecd_t}-{rep_t}-{half}"
    else:
        sum_parts = f"{pe or 0}+{pc or 0}+{rep_t}"
        if ecd:
            out[Column.BUDGET_ETAT_CD] = sum_parts
        if g:
            out[Column.BUDGET_GLOBAL] = f"{ecd}+{aut_t}" if ecd else f"{sum_parts}+{aut_t}"
    return out


def _tool_formula(action: Action, table: TableLayout, row: int, col: Column, raw: object) -> bool:
    """Whether ``raw`` is a formula the tool writes in that cell, under either rule."""
    if not isinstance(raw, Formula):
        return False
    refs = _refs(table, row)
    return any(derived_formulas(action, refs, rule).get(col) == raw.text for rule in SplitRule)


def kept_cells(read: ReadResult) -> frozenset:
    """(action index, Column) of the derived cells Recalculer must not write:
    merged ones (whose action is unknown), those of an array formula over
    several cells (a write into one breaks it), and under « libre » the budgets the
    officer typed or computed with a formula of their own (they are checked
    against the parts, not overwritten)."""
    table, out = read.table, set()
    for i, a in enumerate(read.maquette.actions):
        row = table.action_rows[i]
        for col in derived_of(a.regle):
            c = table.cols.get(col.value)
            if c is None:
                continue
            raw = table.raw.get((row, c))
            if (row, c) in table.merged or (row, c) in table.arrays:
                out.add((i, col))
            elif a.regle.typed_parts and table.formulas_known and raw not in (None, "") \
                    and not _tool_formula(a, table, row, col, raw):
                out.add((i, col))
    return frozenset(out)


def input_fixes(read: ReadResult, keep: frozenset = frozenset()) -> list[Change]:
    """The typed cells Recalculer rewrites, each journaled: amounts typed as
    text ("35 813 €") become numbers — in the typed columns, and in the
    computed ones it does not write (a spreadsheet's SUM leaves text out: the
    totals would not be what the rows say); a formula of the tool's left in a
    cell that the action's rule makes typed becomes its value."""
    table, out = read.table, []
    for i, a in enumerate(read.maquette.actions):
        row = table.action_rows[i]
        derivable = derive(a) is not None
        for col in COLUMNS:
            c = table.cols.get(col.value)
            if c is None or (row, c) in table.merged or (row, c) in table.arrays:
                continue
            typed = col in inputs_of(a.regle)
            if not typed and derivable and (i, col) not in keep:
                continue  # its formula replaces it (journaled by typed_over)
            raw = table.raw.get((row, c))
            v = a.amount(col)
            if isinstance(raw, str) and isinstance(v, Decimal):
                out.append(Change(a.bloc, a.numero, col, Unreadable(raw), v, a.label, i))
            elif typed and _tool_formula(a, table, row, col, raw) and isinstance(v, Decimal):
                out.append(Change(a.bloc, a.numero, col, Unreadable("=" + raw.text, TOOL_FORMULA), v, a.label, i))
    return out


def keep_array_totals(read: ReadResult, m: Maquette, changes: list[Change]) -> tuple[Maquette, list[Change]]:
    """A sub-total or total cell inside an array formula of the person's is
    never written (a write would break the array): the maquette keeps the value
    read there, which the checks compare with its rows (SOUS_TOTAL_FAUX,
    TOTAL_FAUX), and no change is journaled for it (review: the Journal said
    « 5,00 → 706 288,50 » and the file kept 5)."""
    table = read.table
    fields = {c: Column(f) for f, c in table.cols.items() if f in L.AMOUNT_FIELDS}
    rows = [(b, r) for b, r in table.subtotal_rows.items()] + ([(None, table.total_row)] if table.total_row else [])
    locked = {(b, fields[c]) for b, r in rows for c in fields if (r, c) in table.arrays}
    if not locked:
        return m, changes
    read_m = read.maquette
    subtotals = {b: dict(v) for b, v in m.sous_totaux_saisis.items()}
    total = dict(m.total_saisi)
    for b, col in locked:
        if b is None:
            total[col] = read_m.total_saisi.get(col)
        else:
            subtotals.setdefault(b, {})[col] = read_m.sous_totaux_saisis.get(b, {}).get(col)
    kept = [ch for ch in changes if not (ch.numero is None and (ch.bloc, ch.column) in locked)]
    return replace(m, sous_totaux_saisis=subtotals, total_saisi=total), kept


def typed_over(read: ReadResult, changes: list[Change], keep: frozenset) -> list[Change]:
    """The computed cells where the officer typed a value that Recalculer
    replaces by its formula although the amount is the same: journaled too
    (a change of value is journaled by the recalculation itself)."""
    table, out = read.table, []
    if not table.formulas_known:  # values only: a formula's value cannot be told from a typed one
        return out
    changed = {(ch.index, ch.column) for ch in changes}
    for i, a in enumerate(read.maquette.actions):
        if derive(a) is None:
            continue
        row = table.action_rows[i]
        for col in derived_of(a.regle):
            c = table.cols.get(col.value)
            if c is None or (i, col) in keep or (i, col) in changed:
                continue
            raw = table.raw.get((row, c))
            if raw not in (None, "") and not isinstance(raw, Formula):
                out.append(Change(a.bloc, a.numero, col, Unreadable(str(raw), TYPED_OVER), a.amount(col), a.label, i))
    return out


def plan_recalculer(read: ReadResult, m: Maquette, fixes: list[Change], keep: frozenset) -> list[Op]:
    """Blocks of the cells Recalculer writes — derived formulas, the input
    fixes, the sub-total and total rows — grouped into rectangles; and, in
    the project's template (it has a Répartition column), the colours of
    each row's amount cells following its rule (typed: yellow, computed: grey),
    for the rows in « libre » and those the last run coloured so (the others
    have the template's colours already: no write in the common case)."""
    table = read.table
    amount_cols = {f: c for f, c in table.cols.items() if f in L.AMOUNT_FIELDS}
    if not amount_cols:
        return []
    cells: dict[tuple[int, int], object] = {}
    styles: dict[int, tuple] = {}
    # cells whose spreadsheet value Python does not know (text, errors, a formula of a row it cannot derive):
    # a formula depending on one gets no cached value — never a figure the spreadsheet would not show
    unknown: set[tuple[int, int]] = set()
    for i, a in enumerate(m.actions):
        row = table.action_rows[i]
        kept = {col for (j, col) in keep if j == i}
        unknown |= {(row, c) for f, c in amount_cols.items() if isinstance(a.amount(Column(f)), Unreadable)}
        formulas = derived_formulas(a, _refs(table, row, kept))
        if derive(a) is not None:
            for col, text in formulas.items():
                if col not in kept:
                    cells[(row, amount_cols[col.value])] = Formula(text, a.amount(col))
        else:  # an input unreadable or missing: the derived formulas stay, their old values go
            for col, text in formulas.items():
                c = amount_cols[col.value]
                raw = table.raw.get((row, c))
                if col not in kept and isinstance(raw, Formula) and raw.cached is not None:
                    cells[(row, c)] = Formula(text, None)
                    unknown.add((row, c))
        if a.regle is SplitRule.PARITE and L.action_key(a.bloc, a.numero) not in read.libre_styled:
            continue
        derived = set(derived_of(a.regle)) - kept
        styles[row] = tuple(_amount_style(Column(f) in derived, a.amount(Column(f))) for f in sorted(
            amount_cols, key=amount_cols.get))
    for ch in fixes:
        c = amount_cols.get(ch.column.value)
        if c is not None and ch.index is not None and (table.action_rows[ch.index], c) not in cells:
            cells[(table.action_rows[ch.index], c)] = ch.new
    rows_of = {b: [table.action_rows[i] for i, a in enumerate(m.actions) if a.bloc == b] for b in groups_of(m)}
    total_rows: list[tuple[int, list[int], dict]] = [
        (row, rows_of[b], m.sous_totaux_saisis.get(b, {})) for b, row in table.subtotal_rows.items()]
    if table.total_row:
        total_rows.append((table.total_row, list(table.action_rows), m.total_saisi))
    # amounts typed as text that stay so (a computed cell of a row that cannot be derived): a spreadsheet's
    # SUM leaves text out, Python would count it
    unknown |= {cell for cell, raw in table.raw.items() if isinstance(raw, str) and cell not in cells}
    for row, rows, values in total_rows:
        for f, c in amount_cols.items():
            if (row, c) in table.arrays:
                continue  # the person's array formula stays: its value is checked against the rows
            known = not any((r, c) in unknown for r in rows)
            cells[(row, c)] = Formula(sum_formula(c, rows), values.get(Column(f)) if known else None)
            if not known:
                unknown.add((row, c))
    read.unknown = unknown
    table.written = set(cells)
    read.changed = _changed(read, cells)
    ops: list[Op] = rectangles(table.sheet, cells)
    if L.F_REGLE in table.cols:
        first = min(amount_cols.values())
        ordered = sorted(amount_cols.values())
        if ordered == list(range(first, first + len(ordered))):  # the template's adjacent amount columns
            ops += [Block(table.sheet, start, first, [[KEEP] * len(ordered)] * (end - start + 1), styles=list(st))
                    for start, end, st in _style_runs(styles)]
    return ops


def _old_value(read: ReadResult, cell: tuple[int, int]) -> object:
    """What the spreadsheet held in a cell Recalculer writes, as read."""
    table = read.table
    if cell in table.raw:
        raw = table.raw[cell]
        return raw.cached if isinstance(raw, Formula) else raw
    row, col = cell
    field_key = next((f for f, c in table.cols.items() if c == col), None)
    if field_key is None or field_key not in L.AMOUNT_FIELDS:
        return None
    if row == table.total_row:
        return read.maquette.total_saisi.get(Column(field_key))
    bloc = next((b for b, r in table.subtotal_rows.items() if r == row), None)
    return read.maquette.sous_totaux_saisis.get(bloc, {}).get(Column(field_key)) if bloc is not None else None


def _same(old: object, new: object) -> bool:
    """Whether a cell keeps its value (a float of the spreadsheet and Python's Decimal alike)."""
    if isinstance(old, Unreadable) or isinstance(new, Unreadable):
        return old == new
    if isinstance(old, (int, float, Decimal)) and not isinstance(old, bool) and isinstance(new, Decimal):
        return abs(Decimal(repr(old)) - new) < FLOAT_NOISE if isinstance(old, float) else Decimal(old) == new
    return old == new


def _changed(read: ReadResult, cells: dict[tuple[int, int], object]) -> set[tuple[int, int]]:
    """The cells whose value this plan changes (a text amount made a number, a
    typed value replaced by its formula's, a total that moves, a value that
    becomes unknown): a formula of the person's that reads one is stale."""
    out = set()
    for cell, v in cells.items():
        new = v.cached if isinstance(v, Formula) else v
        if not _same(_old_value(read, cell), new):
            out.add(cell)
    return out


# an A1 reference or range in a formula, with its sheet when it names one (a sheet name may begin with any
# letter: « Écarts!A1 »), a whole-column (J:J) or whole-row (5:5) range, and the workbook of an external link
_SHEET = r"(?:'(?:[^']|'')+'|[^\W\d][\w.]*)!"
_REF = re.compile(rf"""(?<![\w.$'!\]])(?P<book>\[[^\]]*\])?(?:'(?P<quoted>(?:[^']|'')+)'!|(?P<plain>[^\W\d][\w.]*)!)?
    (?:\$?(?P<c1>[A-Za-z]{{1,3}})\$?(?P<r1>[0-9]+)(?::(?:{_SHEET})?\$?(?P<c2>[A-Za-z]{{1,3}})\$?(?P<r2>[0-9]+))?(?![\w(])
      |\$?(?P<cc1>[A-Za-z]{{1,3}}):\$?(?P<cc2>[A-Za-z]{{1,3}})(?![\w(])
      |\$?(?P<rr1>[0-9]+):\$?(?P<rr2>[0-9]+)(?![\w(.]))""", re.VERBOSE)
_STRING = re.compile(r'"(?:[^"]|"")*"')
_NAME = re.compile(r"(?<![\w.$'!])[A-Za-z_\\][\w.]*(?![\w(!])")  # a defined name, TRUE, FALSE (after refs go)
# functions whose references cannot be read from the text: what they read may be anything
_INDIRECT = re.compile(r"\b(?:INDIRECT|OFFSET)\s*\(", re.IGNORECASE)
# how a file spells the newer functions and LAMBDA/LET parameters (_xlfn.XLOOKUP, _xlpm.x): no defined names
_PREFIXED = re.compile(r"\b_xl(?:fn|ws)\.|\b_xlpm\.[\w.]+", re.IGNORECASE)


def formula_refs(text: str, sheet: str) -> Optional[list[tuple[int, int, int, int]]]:
    """The ranges of ``sheet`` a formula reads (r1, c1, r2, c2; a whole column
    spans every row); None when it may read cells its text does not name (a
    defined name, INDIRECT, OFFSET…)."""
    body = _PREFIXED.sub("", _STRING.sub('""', text))
    if _INDIRECT.search(body):
        return None
    out = []
    for m in _REF.finditer(body):
        quoted, plain = m.group("quoted"), m.group("plain")
        named = quoted.replace("''", "'") if quoted is not None else plain
        if m.group("book") or (named or "").startswith("["):
            continue  # another workbook: no run of Recalculer on this one changes it
        if named is not None and named.casefold() != sheet.casefold():
            if named.casefold() == L.PARAMETRES.casefold():
                continue  # the officer's parameters: no run of Recalculer changes them
            return None  # another sheet may read this one (a fiche links to the maquette): it may read anything
        if m.group("c1"):
            c1, r1 = col_index(m.group("c1")), int(m.group("r1"))
            c2, r2 = (col_index(m.group("c2")), int(m.group("r2"))) if m.group("c2") else (c1, r1)
        elif m.group("cc1"):
            c1, c2, r1, r2 = col_index(m.group("cc1")), col_index(m.group("cc2")), 1, 1 << 20
        else:
            c1, c2, r1, r2 = 1, 1 << 14, int(m.group("rr1")), int(m.group("rr2"))
        out.append((min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)))
    rest = _REF.sub("", body)
    # what is left and may still read cells: a name (a defined name, one scoped to a sheet « Maquette!Total »),
    # a range operator with a side that is no reference (« INDEX(H1:H3,1):H9 »), a spilled range (« A1# »)
    if ":" in rest or "!" in rest or "#" in rest or re.search(r"\bANCHORARRAY\b", rest, re.IGNORECASE):
        return None
    if any(n.group(0).upper() not in ("TRUE", "FALSE", "VRAI", "FAUX") for n in _NAME.finditer(rest)):
        return None
    return out


def stale_formulas(table: TableLayout, changed: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """The amount cells holding a formula of the person's, with a saved value,
    that reads a cell of ``changed`` — or a formula that does, or may (its
    references cannot be told): the value saved there is no longer what the
    spreadsheet will show."""
    candidates = {cell: formula_refs(raw.text, table.sheet) for cell, raw in table.raw.items()
                  if isinstance(raw, Formula) and raw.cached is not None and cell not in table.written}
    hot, stale = set(changed), set()
    growing = bool(hot)
    while growing:
        growing = False
        for cell, refs in candidates.items():
            if cell in stale:
                continue
            if refs is None or any(r1 <= r <= r2 and c1 <= c <= c2 for r1, c1, r2, c2 in refs for r, c in hot):
                stale.add(cell)
                hot.add(cell)
                growing = True
    return stale


def _amount_style(computed: bool, value: object) -> str:
    """The colour of an amount cell under its row's rule. A date typed there keeps its own format: the €
    format would turn « 15/03/2020 » into an amount of 43 905 € (campaign, seed 21052)."""
    if isinstance(value, Unreadable) and value.reason == DATE:
        return "computed" if computed else "input"
    return "eur_computed" if computed else "eur_input"


def _style_runs(styles: dict[int, tuple]) -> list[tuple[int, int, tuple]]:
    out: list[tuple[int, int, tuple]] = []
    for r in sorted(styles):
        if out and out[-1][1] == r - 1 and out[-1][2] == styles[r]:
            out[-1] = (out[-1][0], r, styles[r])
        else:
            out.append((r, r, styles[r]))
    return out


def rectangles(sheet: str, cells: dict[tuple[int, int], object]) -> list[Block]:
    """Cells as few value blocks: runs of adjacent columns within a row, then
    consecutive rows with the same runs joined; ordered by column then row, so
    that an engine can join them further."""
    by_row: dict[int, list[tuple[int, int]]] = {}
    for r in sorted({r for r, _ in cells}):
        by_row[r] = runs(c for (rr, c) in cells if rr == r)
    blocks: list[tuple[int, int, int, int]] = []  # r1, r2, c1, c2
    open_: dict[tuple[int, int], int] = {}
    for r in sorted(by_row):
        for c1, c2 in by_row[r]:
            start = open_.get((c1, c2))
            if start is not None and blocks[start][1] == r - 1:
                r1, _, _, _ = blocks[start]
                blocks[start] = (r1, r, c1, c2)
            else:
                blocks.append((r, r, c1, c2))
                open_[(c1, c2)] = len(blocks) - 1
    out = [Block(sheet, r1, c1, [[cells[(r, c)] for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)])
           for r1, r2, c1, c2 in blocks]
    return sorted(out, key=lambda b: (b.col, b.row))
