"""What every plan is made of: runs of rows, sum formulas, the content of a
sheet the project owns, a link to a cell. Pure plan helpers, no engine."""
from __future__ import annotations

from typing import Iterable, Optional, Sequence

from ..workbook import layout as L
from ..workbook.port import Block, ClearContents, Formula, Grid, Op, Text


def runs(rows: Iterable[int]) -> list[tuple[int, int]]:
    """[7, 8, 9, 12] -> [(7, 9), (12, 12)]."""
    out: list[tuple[int, int]] = []
    for r in sorted(rows):
        if out and r == out[-1][1] + 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


def style_runs(styles: Sequence) -> list[tuple[int, int, object]]:
    """(first index, length, style) of each run of equal consecutive styles:
    one style block per run keeps the number of writes small."""
    return [(a, b - a + 1, styles[a]) for a, b in _runs_by(styles)]


def _runs_by(items: Sequence) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for i, item in enumerate(items):
        if out and items[out[-1][0]] == item:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


def sum_formula(col: int, rows: Iterable[int]) -> str:
    parts = [L.a1(a, col) if a == b else f"{L.a1(a, col)}:{L.a1(b, col)}" for a, b in runs(rows)]
    return f"SUM({','.join(parts)})" if parts else "0"


def owned_blocks(sheet: str, rows: list[list], old: Optional[Grid], width: int) -> list[Op]:
    """The whole content of a sheet the project owns: what the previous run
    left is emptied (one operation), then the new content is one block."""
    ops: list[Op] = []
    if old is not None and old.n_rows:
        ops.append(ClearContents(sheet, 1, 1, old.n_rows, max(old.n_cols, 1)))
    n_cols = max(width, max((len(r) for r in rows), default=0))
    ops.append(Block(sheet, 1, 1, [list(r) + [None] * (n_cols - len(r)) for r in rows]))
    return ops


def link(sheet: Optional[str], cell: Optional[str], shown: Optional[str] = None) -> object:
    """A HYPERLINK formula to a cell: a value, written with the rest of its
    block (a hyperlink object would cost one Excel operation per link)."""
    if not (sheet and cell):
        return Text(sheet or "")
    shown = shown or f"{sheet}!{cell}"
    target = f"#{L.sheet_ref(sheet)}!{cell}".replace('"', '""')
    return Formula(f'HYPERLINK("{target}","{shown.replace(chr(34), chr(34) * 2)}")', shown)


def after(sheet: str, names: Sequence[str]) -> Optional[str]:
    """The sheet that follows ``sheet`` (new sheets go right after the maquette)."""
    if sheet in names:
        i = list(names).index(sheet)
        return names[i + 1] if i + 1 < len(names) else None
    return None
