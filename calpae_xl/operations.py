"""The three operations — Recalculer, Contrôler, Générer les fiches — written
once against the port (:mod:`calpae_xl.port`), for Excel and for batch alike.

Each operation reads the workbook, asks the core, and answers with a plan of
block writes. Nothing here knows which engine applies it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable, Optional, Sequence

from . import layout as L
from .core.checks import Finding, Severity, count_by_severity, run_checks, sort_findings
from .core.model import Action, Bloc, Column, Maquette, SplitRule
from .core.money import Unreadable
from .core.rules import COLUMNS, Change, derive, grand_total, inputs_of, recalculate
from .port import KEEP, Block, ClearContents, ConditionalRule, EnsureSheet, Formula, Grid, Op, SheetSetup, Text, Workbook
from .reader import ReadResult, TableLayout, read_workbook

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
        maquette, changes = recalculate(read.maquette)
        text_fixes = _text_amounts(read)
        ops += plan_recalculer(read, maquette, text_fixes)
        changes = text_fixes + changes
    findings = sort_findings(read.findings + read.locate(run_checks(maquette, read.extra_chorus)))
    outcome = Outcome(wb.path, maquette, changes, findings)
    if FICHES in operations:
        ops += plan_fiches(read, maquette, names, outcome)
    checking = RECALCULER in operations or CONTROLER in operations
    if checking:
        ops += plan_controles(read, maquette, findings, names, _old(wb, L.CONTROLES, names))
        if changes:
            ops += plan_journal(read, changes, names, _old(wb, L.JOURNAL, names))
    if checking or outcome.fiches_created:
        ops += plan_highlights(read, findings, outcome.fiches_created, _old(wb, L.TECH, names), names)
    if write and ops:
        wb.apply(ops)
        outcome.wrote = True
    return outcome


def _old(wb: Workbook, sheet: str, names: Sequence[str]) -> Optional[Grid]:
    """What a sheet the project owns holds now (its extent is overwritten)."""
    return wb.read_sheet(sheet) if sheet in names else None


# --- Recalculer ----------------------------------------------------------------------

def _text_amounts(read: ReadResult) -> list[Change]:
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


def _runs(rows: Iterable[int]) -> list[tuple[int, int]]:
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


def _sum_formula(col: int, rows: Iterable[int]) -> str:
    parts = [L.a1(a, col) if a == b else f"{L.a1(a, col)}:{L.a1(b, col)}" for a, b in _runs(rows)]
    return f"SUM({','.join(parts)})" if parts else "0"


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
    spans = [[(c, field_of[c]) for c in range(a, b + 1)] for a, b in _runs(field_of)]
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
    for start, end in _runs(table.action_rows):
        for span in spans:
            ops.append(Block(table.sheet, start, span[0][0],
                             [[cells[(r, c)] for c, _ in span] for r in range(start, end + 1)]))
    rows_of = {b: [table.action_rows[i] for i, a in enumerate(m.actions) if a.bloc is b] for b in Bloc}
    total_rows: list[tuple[int, list[int], dict]] = [
        (row, rows_of[b], m.sous_totaux_saisis.get(b, {})) for b, row in table.subtotal_rows.items()]
    if table.total_row:
        total_rows.append((table.total_row, list(table.action_rows), grand_total(m)))
    for row, rows, values in total_rows:
        for span in spans:
            ops.append(Block(table.sheet, row, span[0][0],
                             [[Formula(_sum_formula(c, rows), values.get(Column(f))) for c, f in span]]))
    # top to bottom: an engine can then join the rows into one write
    return sorted(ops, key=lambda b: (b.col, b.row))


# --- Contrôler -----------------------------------------------------------------------

SEVERITY_LABEL = {Severity.ERREUR: "Erreur", Severity.AVERTISSEMENT: "Avertissement", Severity.INFO: "Info"}


def summary_line(findings: Sequence[Finding]) -> str:
    c = count_by_severity(findings)
    def n(k, one, many):
        return f"{k} {one if k <= 1 else many}"
    return ", ".join([n(c[Severity.ERREUR], "erreur", "erreurs"), n(c[Severity.AVERTISSEMENT], "avertissement",
                      "avertissements"), n(c[Severity.INFO], "information", "informations")])


def owned_blocks(sheet: str, rows: list[list], old: Optional[Grid], width: int) -> list[Op]:
    """The whole content of a sheet the project owns: what the previous run
    left is emptied (one operation), then the new content is one block."""
    ops: list[Op] = []
    if old is not None and old.n_rows:
        ops.append(ClearContents(sheet, 1, 1, old.n_rows, max(old.n_cols, 1)))
    n_cols = max(width, max((len(r) for r in rows), default=0))
    ops.append(Block(sheet, 1, 1, [list(r) + [None] * (n_cols - len(r)) for r in rows]))
    return ops


def _link(sheet: Optional[str], cell: Optional[str], shown: Optional[str] = None) -> object:
    """A HYPERLINK formula to a cell: a value, written with the rest of its
    block (a hyperlink object would cost one Excel operation per link)."""
    if not (sheet and cell):
        return Text(sheet or "")
    shown = shown or f"{sheet}!{cell}"
    target = f"#{L.sheet_ref(sheet)}!{cell}".replace('"', '""')
    return Formula(f'HYPERLINK("{target}","{shown.replace(chr(34), chr(34) * 2)}")', shown)


def plan_controles(read: ReadResult, m: Maquette, findings: Sequence[Finding], names: Sequence[str],
                   old: Optional[Grid] = None) -> list[Op]:
    """The Contrôles sheet: a verdict, the counts, one row per finding with a
    link to its cell. Its colours are conditional formats on the Gravité
    column, set when the sheet is created; afterwards a run is one block."""
    title = f"Contrôles de la maquette — {m.departement or 'Département'} {m.annee or ''}".strip()
    errors = any(f.severity is Severity.ERREUR for f in findings)
    rows: list[list] = [[Text(title)], [Text(L.VERDICT_ERRORS if errors else L.VERDICT_OK)],
                        [Text(summary_line(findings) + ".")], [Text(h) for h in L.CONTROLES_HEADERS]]
    for f in findings:
        rows.append([Text(SEVERITY_LABEL[f.severity]), Text(f.code),
                     Text(f.where.bloc.label if f.where.bloc else ""), Text(f.action_label or ""),
                     Text(f.message), _link(f.where.sheet, f.where.cell)])
    ops: list[Op] = []
    width = len(L.CONTROLES_HEADERS)
    if L.CONTROLES not in names:
        first, last = L.CONTROLES_FIRST_ROW, L.RULES_LAST_ROW
        body = f"{L.a1(first, 1)}:{L.a1(last, width)}"
        ops += [EnsureSheet(L.CONTROLES, before=_after(read.table.sheet, names)),
                Block(L.CONTROLES, 1, 1, [[KEEP]], styles="title"),
                Block(L.CONTROLES, 2, 1, [[KEEP]], styles="verdict"),
                Block(L.CONTROLES, 4, 1, [[KEEP] * width], styles="header"),
                ConditionalRule(L.CONTROLES, "A2", f'$A$2="{L.VERDICT_ERRORS}"', "sev_erreur"),
                ConditionalRule(L.CONTROLES, "A2", f'$A$2="{L.VERDICT_OK}"', "verdict_ok"),
                *[ConditionalRule(L.CONTROLES, body, f'${L.col_letter(1)}{first}="{label}"', f"sev_{sev}")
                  for sev, label in L.SEVERITY_LABELS.items()],
                SheetSetup(L.CONTROLES, widths=dict(enumerate(L.CONTROLES_WIDTHS, 1)),
                           freeze=L.a1(L.CONTROLES_FIRST_ROW, 1))]
    ops += owned_blocks(L.CONTROLES, rows, old, width)
    return ops


def plan_highlights(read: ReadResult, findings: Sequence[Finding], new_sheets: Sequence[str],
                    old: Optional[Grid], names: Sequence[str]) -> list[Op]:
    """The cells with an erreur or an avertissement, as keys in the technical
    sheet; the two highlight rules on every sheet that can carry findings
    (the maquette and the fiches), added once per sheet and remembered."""
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
    if L.TECH not in names:
        ops.append(EnsureSheet(L.TECH, hidden=True))
    for sheet in targets:
        if sheet not in equipped:
            ops += [ConditionalRule(sheet, L.HIGHLIGHT_RANGE, L.highlight_formula(sheet, L.TECH_ERR_COL), "sev_erreur"),
                    ConditionalRule(sheet, L.HIGHLIGHT_RANGE, L.highlight_formula(sheet, L.TECH_WARN_COL),
                                    "sev_avertissement")]
            equipped.append(sheet)
    err, warn = keys[Severity.ERREUR], keys[Severity.AVERTISSEMENT]
    rows: list[list] = [[Text(h) for h in L.TECH_HEADERS]]
    for i in range(max(len(err), len(warn), len(equipped))):
        rows.append([Text(err[i]) if i < len(err) else None, Text(warn[i]) if i < len(warn) else None, None,
                     Text(equipped[i]) if i < len(equipped) else None])
    ops += owned_blocks(L.TECH, rows, old, len(L.TECH_HEADERS))
    return ops


def _after(sheet: str, names: Sequence[str]) -> Optional[str]:
    """The sheet that follows ``sheet`` (new sheets go right after the maquette)."""
    if sheet in names:
        i = list(names).index(sheet)
        return names[i + 1] if i + 1 < len(names) else None
    return None


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
        ops += [EnsureSheet(L.JOURNAL, before=_after(L.CONTROLES, names) if L.CONTROLES in names else
                            _after(read.table.sheet, names)),
                Block(L.JOURNAL, 1, 1, [[KEEP]], styles="title"),
                Block(L.JOURNAL, 4, 1, [[KEEP] * width], styles="header"),
                SheetSetup(L.JOURNAL, widths=dict(enumerate(L.JOURNAL_WIDTHS, 1)), freeze="A5")]
    ops += owned_blocks(L.JOURNAL, rows, old, width)
    ops.append(Block(L.JOURNAL, 5, 3, [[KEEP, KEEP]] * len(changes), styles="eur"))
    return ops


# --- Générer les fiches ----------------------------------------------------------------

def _indicator_text(a: Action, annee: int) -> str:
    if not a.indicateurs:
        return "Aucun indicateur renseigné dans la feuille Indicateurs."
    lines = []
    for ind in a.indicateurs:
        v = ind.value_for(annee)
        vals = []
        if v and v.cible is not None:
            vals.append(f"cible {_num(v.cible)}")
        if v and v.resultat is not None:
            vals.append(f"résultat {_num(v.resultat)}")
        tail = f" — {annee} : {', '.join(vals)}" if vals else f" — {annee} : non renseigné"
        lines.append(f"• {ind.libelle} ({ind.unite}){tail}")
    return "\n".join(lines)


def _num(d: Decimal) -> str:
    return format(d.normalize(), "f").replace(".", ",")


def fiche_values(a: Action, m: Maquette, table: TableLayout, row: int) -> dict[str, object]:
    """Every fiche row's value for a new sheet; computed rows are refreshed at
    each generation, input rows are written only when the sheet is created."""
    tref = L.sheet_ref(table.sheet)
    fb = a.fiche.budget
    numero_cell = table.cell(row, L.F_NUMERO)
    vals: dict[str, object] = {
        "titre": Text(f"{L.FICHE_TITLE_PREFIX} — {a.label} — {a.intitule}"),
        "bloc": Text(a.bloc.label), "numero": Text(a.label), "intitule": Text(a.intitule),
        # beside the N° (which identifies the fiche, so stays plain text): a link back to the row
        "lien": _link(table.sheet, numero_cell, L.FICHE_LINK_TEXT) if numero_cell else None,
        "theme": Text(a.theme), "chorus": Text(f"{a.chorus.normalized} - {a.chorus.libelle}".strip(" -")
                                               if a.chorus else ""),
        "indicateurs": Text(_indicator_text(a, m.annee)),
    }
    for key in ("part_etat", "part_cd", "report", "autres_financeurs", "budget_global"):
        ref = table.cell(row, key)
        v = a.amount(Column(key))
        # a link to an empty cell shows 0 in a spreadsheet: the cached value says the same
        cached = v if isinstance(v, Decimal) else Decimal(0) if v is None else None
        vals[key] = Formula(f"{tref}!{ref}", cached) if ref else None
    for key in ("description", "date_mise_en_place", "partenaires", "duree", "budget_commentaire", "bilan",
                "perspectives"):
        vals[key] = Text(getattr(a.fiche, key))
    vals["periode_execution"] = Text(a.periode_execution)
    vals["budget_execute"] = a.budget_execute
    vals["fapi"] = Text("" if a.fapi is None else "Oui" if a.fapi else "Non")
    for key, attr in (("fb_part_etat", "part_etat"), ("fb_report_etat", "report_etat"), ("fb_part_cd", "part_cd"),
                      ("fb_report_cd", "report_cd"), ("fb_autres", "autres"), ("fb_budget_global", "budget_global")):
        vals[key] = getattr(fb, attr) if fb else None
    return vals


COMPUTED_KINDS = ("title", "computed", "amount_link", "formula")


def _taux(rows: dict[str, int], a: Action) -> Formula:
    e, g = L.a1(rows["budget_execute"], 2), L.a1(rows["budget_global"], 2)
    cached = None
    if a.budget_execute is not None and isinstance(a.budget_global, Decimal) and a.budget_global:
        cached = (a.budget_execute / a.budget_global).quantize(Decimal("0.0001"))
    return Formula(f'IF(OR({e}="",N({g})=0),"",{e}/{g})', cached)


def plan_fiches(read: ReadResult, m: Maquette, names: Sequence[str], outcome: Outcome) -> list[Op]:
    """One sheet per action. An existing fiche (found by its Bloc and N° rows,
    whatever the sheet is called) only gets its computed rows refreshed: the
    text the user typed is never overwritten. A fiche whose action left the
    maquette is kept as it is and reported (FICHE_ORPHELINE)."""
    ops: list[Op] = []
    taken = set(names)
    for i, a in enumerate(m.actions):
        row = read.table.action_rows[i]
        vals = fiche_values(a, m, read.table, row)
        existing = read.fiches.get(a.key)
        if existing:
            rows = dict(existing.rows)
            if "budget_execute" in rows and "budget_global" in rows:
                vals["taux_execution"] = _taux(rows, a)
            ops.append(Block(existing.sheet, rows["titre"], 1, [[vals["titre"]]]))  # the title is in column A
            if "numero" in rows:
                ops.append(Block(existing.sheet, rows["numero"], 3, [[vals["lien"]]]))
            updates = {rows[k]: vals[k] for k in rows if k not in ("titre", "taux_execution") and k in vals
                       and L.FICHE_ROW_BY_KEY.get(k) and L.FICHE_ROW_BY_KEY[k].kind in COMPUTED_KINDS}
            for start, end in _runs(updates):
                ops.append(Block(existing.sheet, start, 2, [[updates[r]] for r in range(start, end + 1)],
                                 number_format=L.EUR_FORMAT))
            if "taux_execution" in rows:  # a rate, not euros: its own block, so it is formatted once
                ops.append(Block(existing.sheet, rows["taux_execution"], 2, [[vals.get("taux_execution", KEEP)]],
                                 styles="pct_computed"))
            continue
        name = L.fiche_sheet_name(a.bloc, a.numero, taken)
        taken.add(name)
        rows = {r.key: n for n, r in enumerate(L.FICHE_ROWS, 1)}
        vals["taux_execution"] = _taux(rows, a)
        grid: list[list] = []
        styles: list[str] = []
        for fr in L.FICHE_ROWS:
            if fr.kind == "title":
                grid.append([vals["titre"], None])
                styles.append("title")
            elif fr.kind == "section":
                grid.append([Text(fr.label), None])
                styles.append("section")
            else:
                grid.append([Text(fr.label), vals.get(fr.key)])
                styles.append("fiche_input" if fr.kind in ("input", "amount_input") else "fiche_computed")
        vent_start = len(grid) + 1
        for line in a.ventilation:
            grid.append([Text(line.libelle), line.montant])
            styles.append("fiche_input")
        for _ in range(max(0, 3 - len(a.ventilation))):
            grid.append([None, None])
            styles.append("fiche_input")
        vent_rows = range(vent_start, len(grid) + 1)
        grid.append([Text(L.VENTILATION_TOTAL),
                     Formula(_sum_formula(2, vent_rows), sum((v.montant for v in a.ventilation), Decimal(0)))])
        styles.append("fiche_computed")
        ops.append(EnsureSheet(name))
        ops.append(Block(name, 1, 1, grid, number_format=L.EUR_FORMAT))
        ops += _fiche_styles(name, styles)
        ops.append(Block(name, rows["taux_execution"], 2, [[KEEP]], styles="pct_computed"))
        ops.append(Block(name, rows["numero"], 3, [[vals["lien"]]]))
        ops.append(SheetSetup(name, widths=dict(enumerate(L.FICHE_WIDTHS, 1)),
                              wrap_rows=[rows[k] for k in ("description", "partenaires", "indicateurs", "bilan",
                                                           "perspectives", "budget_commentaire", "chorus",
                                                           "intitule", "theme", "date_mise_en_place", "duree")],
                              tab_color="2E75B6" if a.bloc is Bloc.SOCLE else "70AD47"))
        outcome.fiches_created.append(name)
    return ops


def _fiche_styles(sheet: str, styles: list[str]) -> list[Op]:
    """Titles and sections style the whole row; other rows have a label column."""
    return [Block(sheet, start + 1, 1, [[KEEP, KEEP]] * n,
                  styles=st if st in ("title", "section") else ["fiche_label", st])
            for start, n, st in style_runs(styles)]
