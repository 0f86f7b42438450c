"""Contrôler's plans: the Contrôles sheet (verdict, counts, one row per
finding with a link to its cell) and the highlights (the cells in error or
warning, listed in the technical sheet that the conditional formats read)."""
from __future__ import annotations

from typing import Optional, Sequence

from ..core.findings import Finding, Severity, summary_line
from ..core.model import Maquette
from ..workbook import layout as L
from ..workbook.port import KEEP, Block, ConditionalRule, EnsureSheet, Grid, Op, SheetSetup, Text
from ..workbook.reader import ReadResult
from . import printing as P
from .blocks import after, link, owned_blocks


def plan_controles(read: ReadResult, m: Maquette, findings: Sequence[Finding], names: Sequence[str],
                   old: Optional[Grid] = None) -> list[Op]:
    """The Contrôles sheet: a verdict, the counts, one row per finding with a
    link to its cell. Its colours are conditional formats on the Gravité
    column, set when the sheet is created; afterwards a run is one block."""
    sheet = read.sheet_of(L.CONTROLES)
    title = L.titled(L.CONTROLES_TITLE, m.departement, m.annee)
    errors = any(f.severity is Severity.ERREUR for f in findings)
    rows: list[list] = [[Text(title)], [Text(L.VERDICT_ERRORS if errors else L.VERDICT_OK)],
                        [Text(summary_line(findings) + ".")], [Text(h) for h in L.CONTROLES_HEADERS]]
    for f in findings:
        rows.append([Text(f.severity.label), Text(f.code),
                     Text(f.where.bloc.label if f.where.bloc else ""), Text(f.action_label or ""),
                     Text(f.message), link(f.where.sheet, f.where.cell)])
    ops: list[Op] = []
    width = len(L.CONTROLES_HEADERS)
    if sheet not in names:
        first, last = L.CONTROLES_FIRST_ROW, L.RULES_LAST_ROW
        verdict, verdict_abs = L.a1(L.CONTROLES_VERDICT_ROW, 1), L.a1(L.CONTROLES_VERDICT_ROW, 1, absolute=True)
        body = f"{L.a1(first, 1)}:{L.a1(last, width)}"
        ops += [EnsureSheet(sheet, before=after(read.table.sheet, names)),
                Block(sheet, L.CONTROLES_TITLE_ROW, 1, [[KEEP]], styles="title"),
                Block(sheet, L.CONTROLES_VERDICT_ROW, 1, [[KEEP]], styles="verdict"),
                Block(sheet, L.CONTROLES_HEADER_ROW, 1, [[KEEP] * width], styles="header"),
                ConditionalRule(sheet, verdict, f'{verdict_abs}="{L.VERDICT_ERRORS}"', "sev_erreur"),
                ConditionalRule(sheet, verdict, f'{verdict_abs}="{L.VERDICT_OK}"', "verdict_ok"),
                *[ConditionalRule(sheet, body, f'${L.col_letter(1)}{first}="{label}"', f"sev_{sev}")
                  for sev, label in ((s.value, s.label) for s in Severity)],
                SheetSetup(sheet, widths=dict(enumerate(L.CONTROLES_WIDTHS, 1)),
                           freeze=L.a1(L.CONTROLES_FIRST_ROW, 1))]
    ops += owned_blocks(sheet, rows, old, width)
    ops += P.owned_looks(sheet, L.CONTROLES, L.CONTROLES_HEADER_ROW, rows[L.CONTROLES_HEADER_ROW:], old,
                       L.CONTROLES_WIDTHS, wrapped=(L.CONTROLES_HEADERS.index("Message") + 1,))
    return ops


def plan_highlights(read: ReadResult, findings: Sequence[Finding], new_sheets: Sequence[str],
                    old: Optional[Grid], names: Sequence[str], created: Sequence[str] = (),
                    libre_styled: Optional[Sequence[str]] = None) -> list[Op]:
    """The cells with an erreur or an avertissement, as keys in the technical
    sheet; the two highlight rules on every sheet that can carry findings
    (the maquette and the fiches), added once per sheet and remembered; and
    the registry of the sheets the project owns (``created``: the roles of
    the owned sheets this run creates), by which they are recognised; and
    the actions coloured as « libre » (``libre_styled``; None: as before)."""
    equipped = [str(old.get(r, L.TECH_RULES_COL)) for r in range(2, old.n_rows + 1)
                if old.get(r, L.TECH_RULES_COL)] if old else []
    targets = [read.table.sheet] + [fs.sheet for fs in read.fiches.values()] + list(new_sheets)
    keys: dict[Severity, list[str]] = {Severity.ERREUR: [], Severity.AVERTISSEMENT: []}
    seen: dict[str, Severity] = {}
    for f in findings:
        if f.severity in keys and f.where.sheet in targets and f.where.cell:
            k = L.highlight_key(f.where.sheet, f.where.cell)
            if seen.get(k) is not Severity.ERREUR:
                seen[k] = f.severity
    for k, sev in seen.items():
        keys[sev].append(k)
    ops: list[Op] = []
    tech = read.sheet_of(L.TECH)
    if tech not in names:
        ops.append(EnsureSheet(tech, hidden=True))
    for sheet in targets:
        if sheet not in equipped:
            ops += [ConditionalRule(sheet, L.HIGHLIGHT_RANGE, L.highlight_formula(sheet, L.TECH_ERR_COL, tech),
                                    "sev_erreur"),
                    ConditionalRule(sheet, L.HIGHLIGHT_RANGE, L.highlight_formula(sheet, L.TECH_WARN_COL, tech),
                                    "sev_avertissement")]
            equipped.append(sheet)
    err, warn = keys[Severity.ERREUR], keys[Severity.AVERTISSEMENT]
    registry = [f"{role}={name}" for role, name in read.owned.items() if role != L.TECH and (
        name in names or role in created)]
    libre = list(read.libre_styled if libre_styled is None else libre_styled)
    columns = (err, warn, [], equipped, registry, libre)
    rows: list[list] = [[Text(h) for h in L.TECH_HEADERS]]
    for i in range(max(len(c) for c in columns)):
        rows.append([Text(c[i]) if i < len(c) else None for c in columns])
    ops += owned_blocks(tech, rows, old, len(L.TECH_HEADERS))
    return ops
