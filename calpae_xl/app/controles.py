"""Contrôler's plans: the Contrôles sheet (verdict, counts, one row per
finding with a link to its cell, and the Département's answer beside it) and
the highlights (the cells in error or warning, listed in the technical sheet
that the conditional formats read), with the check receipt.

Answers live in the Contrôles sheet, which every run rewrites: they are read
from what the sheet holds before the run (:func:`read_answers`), by the
finding's identity written in its last column, and written again beside the
same finding, wherever its row now is."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from ..core.findings import STATUS_CHOICES, Answer, Finding, Severity, has_open_errors, parse_status, summary_line
from ..core.model import Maquette
from ..core.receipt import Receipt
from ..workbook import layout as L
from ..workbook.port import KEEP, Block, ConditionalRule, EnsureSheet, Grid, Op, SheetSetup, Text
from ..workbook.reader import ReadResult, text
from . import printing as P
from .blocks import after, link, owned_blocks


@dataclass(frozen=True)
class OldRow:
    """A row of the previous Contrôles sheet that carried an answer."""

    key: str
    answer: Answer
    code: str = ""
    bloc: str = ""
    action: str = ""
    message: str = ""


def _columns(old: Grid) -> dict[str, int]:
    """Header -> column in the previous sheet (the officer may have moved columns)."""
    found = {}
    for c in range(1, old.n_cols + 1):
        h = L.normalize_label(old.get(L.CONTROLES_HEADER_ROW, c))
        for name in L.CONTROLES_HEADERS:
            if h and h == L.normalize_label(name) and name not in found:
                found[name] = c
    return found


def read_answers(old: Optional[Grid]) -> dict[str, OldRow]:
    """The answers typed in the previous Contrôles sheet, by finding key (rows
    without a key or without an answer are left out)."""
    if old is None:
        return {}
    cols = _columns(old)
    key_col = cols.get(L.CONTROLES_HEADERS[L.CONTROLES_KEY_COL - 1])
    status_col = cols.get(L.CONTROLES_HEADERS[L.CONTROLES_STATUS_COL - 1])
    answer_col = cols.get(L.CONTROLES_HEADERS[L.CONTROLES_ANSWER_COL - 1])
    if key_col is None or (status_col is None and answer_col is None):
        return {}  # a sheet of an earlier version: no answers yet
    out: dict[str, OldRow] = {}
    for r in range(L.CONTROLES_FIRST_ROW, old.n_rows + 1):
        key = text(old.get(r, key_col))
        if not key or key in out:
            continue
        typed = text(old.get(r, status_col)) if status_col else ""
        status = parse_status(typed)
        answer = Answer(status, text(old.get(r, answer_col)) if answer_col else "",
                        typed if typed and status is None else "")
        if answer.empty:
            continue
        shown = [text(old.get(r, cols[h])) if h in cols else "" for h in ("Code", "Bloc", "Action", "Message")]
        out[key] = OldRow(key, answer, *shown)
    return out


def verdict(findings: Sequence[Finding]) -> str:
    if has_open_errors(findings):
        return L.VERDICT_ERRORS
    if any(f.severity is Severity.ERREUR for f in findings):
        return L.VERDICT_JUSTIFIED
    return L.VERDICT_OK


def _status_shown(f: Finding) -> Optional[Text]:
    a = f.answer
    if a is None:
        return None
    if a.status is None and a.typed_status:
        return Text(a.typed_status)  # not one of the three: kept as typed (and the finding stays open)
    return Text(f.status.value) if f.status else None


def plan_controles(read: ReadResult, m: Maquette, findings: Sequence[Finding], names: Sequence[str],
                   old: Optional[Grid] = None) -> list[Op]:
    """The Contrôles sheet: a verdict, the counts, one row per finding with a
    link to its cell and the answer typed beside it (by key). Its colours are
    conditional formats on the Gravité column, set when the sheet is created;
    afterwards a run is one block."""
    sheet = read.sheet_of(L.CONTROLES)
    title = L.titled(L.CONTROLES_TITLE, m.departement, m.annee)
    rows: list[list] = [[Text(title)], [Text(verdict(findings))],
                        [Text(summary_line(findings) + ".")], [Text(h) for h in L.CONTROLES_HEADERS]]
    for f in findings:
        rows.append([Text(f.severity.label), Text(f.code),
                     Text(f.where.bloc.label if f.where.bloc else ""), Text(f.action_label or ""),
                     Text(f.message), link(f.where.sheet, f.where.cell),
                     _status_shown(f), Text(f.answer.text) if f.answer and f.answer.text else None, Text(f.key)])
    ops: list[Op] = []
    width = len(L.CONTROLES_HEADERS)
    first, last = L.CONTROLES_FIRST_ROW, L.RULES_LAST_ROW
    if sheet not in names:
        verdict_a1, verdict_abs = L.a1(L.CONTROLES_VERDICT_ROW, 1), L.a1(L.CONTROLES_VERDICT_ROW, 1, absolute=True)
        body = f"{L.a1(first, 1)}:{L.a1(last, L.CONTROLES_FINDING_COLS)}"
        ops += [EnsureSheet(sheet, before=after(read.table.sheet, names)),
                Block(sheet, L.CONTROLES_TITLE_ROW, 1, [[KEEP]], styles="title"),
                Block(sheet, L.CONTROLES_VERDICT_ROW, 1, [[KEEP]], styles="verdict"),
                ConditionalRule(sheet, verdict_a1, f'{verdict_abs}="{L.VERDICT_ERRORS}"', "sev_erreur"),
                ConditionalRule(sheet, verdict_a1, f'{verdict_abs}="{L.VERDICT_OK}"', "verdict_ok"),
                ConditionalRule(sheet, verdict_a1, f'{verdict_abs}="{L.VERDICT_JUSTIFIED}"', "sev_avertissement"),
                *[ConditionalRule(sheet, body, f'${L.col_letter(1)}{first}="{label}"', f"sev_{sev}")
                  for sev, label in ((s.value, s.label) for s in Severity)]]
    if sheet not in names or not _answer_columns_ready(old):
        # the answer columns: headers, a drop-down of the three statuses, yellow where a finding is
        status, answer = L.col_letter(L.CONTROLES_STATUS_COL), L.col_letter(L.CONTROLES_ANSWER_COL)
        ops += [Block(sheet, L.CONTROLES_HEADER_ROW, 1, [[KEEP] * width], styles="header"),
                ConditionalRule(sheet, f"{status}{first}:{answer}{last}", f'$B{first}<>""', "input"),
                SheetSetup(sheet, widths=dict(enumerate(L.CONTROLES_WIDTHS, 1)), freeze=L.a1(first, 1),
                           validations=[(f"{status}{first}:{status}{last}",
                                         '"' + ",".join(STATUS_CHOICES) + '"')])]
    ops += owned_blocks(sheet, rows, old, width)
    ops += P.owned_looks(sheet, L.CONTROLES, L.CONTROLES_HEADER_ROW, rows[L.CONTROLES_HEADER_ROW:], old,
                       L.CONTROLES_WIDTHS, wrapped=(L.CONTROLES_HEADERS.index("Message") + 1,),
                       theirs=(L.CONTROLES_STATUS_COL, L.CONTROLES_ANSWER_COL))
    return ops


def _answer_columns_ready(old: Optional[Grid]) -> bool:
    """The previous sheet already has the answer columns (a sheet of an earlier version gets them now)."""
    return old is not None and L.normalize_label(old.get(L.CONTROLES_HEADER_ROW, L.CONTROLES_KEY_COL)) == \
        L.normalize_label(L.CONTROLES_HEADERS[L.CONTROLES_KEY_COL - 1])


def plan_highlights(read: ReadResult, findings: Sequence[Finding], new_sheets: Sequence[str],
                    old: Optional[Grid], names: Sequence[str], created: Sequence[str] = (),
                    libre_styled: Optional[Sequence[str]] = None, receipt: Optional[Receipt] = None) -> list[Op]:
    """The cells with an erreur or an avertissement, as keys in the technical
    sheet; the two highlight rules on every sheet that can carry findings
    (the maquette and the fiches), added once per sheet and remembered; and
    the registry of the sheets the project owns (``created``: the roles of
    the owned sheets this run creates), by which they are recognised; the
    actions coloured as « libre » (``libre_styled``; None: as before); and the
    check receipt (``receipt``; None: the one the workbook holds, kept)."""
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
    kept = receipt or read.receipt
    columns = (err, warn, [], equipped, registry, libre, kept.lines() if kept else [])
    rows: list[list] = [[Text(h) for h in L.TECH_HEADERS]]
    for i in range(max(len(c) for c in columns)):
        rows.append([Text(c[i]) if i < len(c) else None for c in columns])
    ops += owned_blocks(tech, rows, old, len(L.TECH_HEADERS))
    return ops
