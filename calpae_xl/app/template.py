"""A new maquette workbook: the project's template, empty or filled from a
model (the embedded Loiret 2020 default). Written as a plan of blocks, like
the three operations, so any adapter can build it."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Optional

from ..core.model import Action, Bloc, Column, Maquette, SplitRule
from ..core.referential import chorus_choices, THEMES, THEME_INITIATIVES
from ..core.rules import bloc_totals, derived_of, grand_total
from ..workbook import layout as L
from ..workbook.port import KEEP, Block, DefineName, EnsureSheet, Formula, Op, SheetSetup, Text, Workbook
from ..workbook.reader import named, read_workbook
from . import printing as P
from .blocks import style_runs, sum_formula
from .fiches import plan_fiches
from .recalculer import derived_formulas

HEADER_ROW, FIRST_ROW = L.MAQUETTE_HEADER_ROW, L.MAQUETTE_FIRST_ROW
_col = L.template_col


def plan_parametres(m: Maquette) -> list[Op]:
    p = L.PARAM_FIRST_ROW
    rows = [
        [Text(L.PARAM_LABELS[L.P_DEPARTEMENT]), Text(m.departement)],
        [Text(L.PARAM_LABELS[L.P_ANNEE]), m.annee or None],
        [Text(L.PARAM_LABELS[L.P_CREDITS]), m.credits_etat],
        [Text(L.PARAM_LABELS[L.P_REPORT]), m.report_etat_notifie],
        [Text(L.PARAM_LABELS[L.P_REGLE]), Text(m.regle_defaut.value)],
    ]
    ops: list[Op] = [
        EnsureSheet(L.PARAMETRES),
        Block(L.PARAMETRES, L.PARAM_TITLE_ROW, 1, [[Text("Paramètres de la convention"), None]], styles="title"),
        Block(L.PARAMETRES, p, 1, rows[:2], styles=["fiche_label", "input"]),
        Block(L.PARAMETRES, p + 2, 1, rows[2:4], styles=["fiche_label", "eur_input"], number_format=L.EUR_FORMAT),
        Block(L.PARAMETRES, p + 4, 1, rows[4:], styles=["fiche_label", "input"]),
        SheetSetup(L.PARAMETRES, validations=[(L.a1(p + 4, L.PARAM_VALUE_COL), L.NAME_REGLES)]),
    ]
    r = p + len(rows) + 1
    lists = [
        (L.REFERENTIAL_TITLE + " (ajoutez ici vos codes)", L.NAME_CHORUS, chorus_choices()),
        (L.THEMES_TITLE, L.NAME_THEMES, list(THEMES.values()) + [THEME_INITIATIVES]),
        ("Règles de répartition", L.NAME_REGLES, list(L.REGLE_CHOICES)),
        ("Blocs", L.NAME_BLOCS, list(L.BLOC_CHOICES)),
    ]
    for title, name, values in lists:
        ops.append(Block(L.PARAMETRES, r, 1, [[Text(title)]], styles="section"))
        ops.append(Block(L.PARAMETRES, r + 1, 1, [[Text(v)] for v in values]))
        extra = 10 if name == L.NAME_CHORUS else 0  # room for the Département's own codes
        ops.append(DefineName(name, f"{L.sheet_ref(L.PARAMETRES)}!{L.a1(r + 1, 1, True)}:"
                                    f"{L.a1(r + len(values) + extra, 1, True)}"))
        r += len(values) + extra + 2
    ops.append(SheetSetup(L.PARAMETRES, widths={1: 60, 2: 28}))
    ops.append(P.page(L.PARAMETRES, L.PARAMETRES, r - 2, 2))
    return ops


def _action_values(a: Action, row: int, typed: bool) -> list:
    """One maquette row. ``typed``: amounts as the model holds them (the annex
    as printed); otherwise derived cells are live formulas already."""
    refs = {f: L.a1(row, _col(f)) for f in L.AMOUNT_FIELDS}
    formulas = {} if typed else derived_formulas(a, refs)
    amounts = []
    for c in Column:
        v = a.amount(c)
        amounts.append(Formula(formulas[c], v if isinstance(v, Decimal) else Decimal(0)) if c in formulas else v)
    chorus = f"{a.chorus.normalized} - {a.chorus.libelle}".strip(" -") if a.chorus else None
    return [Text(a.bloc.label), Text(a.theme), Text(chorus) if chorus else None,
            Text(a.label) if (a.label and a.numero) else None, Text(a.intitule) if a.intitule else None,
            *amounts, Text(a.regle.value)]


def _styles(rule: SplitRule) -> list[str]:
    derived = {c.value for c in derived_of(rule)}
    amounts = [("eur_computed" if f in derived else "eur_input") for f in L.AMOUNT_FIELDS]
    return ["row_input"] * 5 + amounts + ["row_input"]


def plan_maquette(m: Maquette, empty_rows: int = 0, typed: bool = True) -> list[Op]:
    """The Maquette sheet: title, legend, headers, the actions of each bloc
    (plus ``empty_rows`` ready-to-type rows), sub-totals and total."""
    n_cols = len(L.TEMPLATE_FIELDS)
    title = L.titled(L.MAQUETTE_TITLE_PREFIX, m.departement, m.annee)
    legend = ("Cellules jaunes : à saisir. Cellules grises : calculées par « Recalculer » (formules). "
              "Parité : part État = part CD = (budget global − autres financeurs − report) / 2 ; "
              "« libre » : parts saisies, part CD ≥ part État.")
    ops: list[Op] = [
        EnsureSheet(L.MAQUETTE),
        Block(L.MAQUETTE, L.MAQUETTE_TITLE_ROW, 1, [[Text(title)]], styles="title"),
        Block(L.MAQUETTE, L.MAQUETTE_LEGEND_ROW, 1, [[Text(legend)]], styles="legend"),
        Block(L.MAQUETTE, HEADER_ROW, 1, [[Text(L.HEADERS[f]) for f in L.TEMPLATE_FIELDS]], styles="header"),
    ]
    row = FIRST_ROW
    rows_of: dict[Bloc, list[int]] = {}
    subtotal_rows: dict[Bloc, int] = {}
    typed_totals = m.sous_totaux_saisis
    computed_totals = bloc_totals(m)
    for bloc in Bloc:
        actions = list(m.bloc(bloc))
        blank = Action(bloc=bloc, numero="", intitule="", theme=THEME_INITIATIVES if bloc is Bloc.INITIATIVES else "",
                       regle=m.regle_defaut)
        start = row
        grid, styles = [], []
        for a in actions + [blank] * empty_rows:
            grid.append(_action_values(a, row, typed and a is not blank))
            styles.append(_styles(a.regle))
            row += 1
        rows_of[bloc] = list(range(start, row))
        if grid:
            ops.append(Block(L.MAQUETTE, start, 1, grid, number_format=L.EUR_FORMAT))
            # consecutive rows with the same rule share one style block
            ops += [Block(L.MAQUETTE, start + i, 1, [[KEEP] * n_cols] * n, styles=st)
                    for i, n, st in style_runs(styles)]
        subtotal_rows[bloc] = row
        computed = computed_totals[bloc]
        ops.append(_total_row(row, L.SUBTOTAL_LABELS[bloc], rows_of[bloc], typed_totals.get(bloc) if typed else None,
                              computed))
        row += 1
    all_rows = [r for b in Bloc for r in rows_of[b]]
    ops.append(_total_row(row, L.TOTAL_LABEL, all_rows, m.total_saisi if typed else None, grand_total(m)))
    ops.append(Block(L.MAQUETTE, subtotal_rows[Bloc.SOCLE], 1, [[KEEP] * n_cols], styles="total"))
    ops.append(Block(L.MAQUETTE, subtotal_rows[Bloc.INITIATIVES], 1, [[KEEP] * n_cols], styles="total"))
    ops.append(Block(L.MAQUETTE, row, 1, [[KEEP] * n_cols], styles="total"))
    widths = {i: L.COLUMN_WIDTHS.get(f, L.AMOUNT_WIDTH) for i, f in enumerate(L.TEMPLATE_FIELDS, 1)}
    first, last = FIRST_ROW, max(all_rows) if all_rows else FIRST_ROW
    val = []
    for field, name in ((L.F_BLOC, L.NAME_BLOCS), (L.F_THEME, L.NAME_THEMES), (L.F_CHORUS, L.NAME_CHORUS),
                        (L.F_REGLE, L.NAME_REGLES)):
        c = _col(field)
        val.append((f"{L.a1(first, c)}:{L.a1(last, c)}", name))
    actions = [a for b in Bloc for a in m.bloc(b)]
    ops.append(SheetSetup(L.MAQUETTE, widths=widths, freeze=L.a1(FIRST_ROW, _col(L.F_INTITULE) + 1),
                          validations=val, wrap_rows=[HEADER_ROW], tab_color="1F4E78",
                          row_heights=maquette_heights(actions, [r for b in Bloc for r in rows_of[b]][:len(actions)])))
    ops.append(maquette_page(L.MAQUETTE, row))
    return ops


def _chorus_text(a: Action) -> str:
    return f"{a.chorus.normalized} - {a.chorus.libelle}".strip(" -") if a.chorus else ""


def maquette_heights(actions, rows) -> dict[int, float]:
    """The heights of the template's header row and action rows, fitting
    their wrapped texts (bloc, thème, imputation, N°, intitulé)."""
    width = {f: L.COLUMN_WIDTHS.get(f, L.AMOUNT_WIDTH) for f in L.TEMPLATE_FIELDS}
    out = {HEADER_ROW: P.row_height([(L.HEADERS[f], width[f]) for f in L.TEMPLATE_FIELDS], bold=True)}
    for a, r in zip(actions, rows, strict=True):
        out[r] = P.row_height([(a.bloc.label, width[L.F_BLOC]), (a.theme, width[L.F_THEME]),
                               (_chorus_text(a), width[L.F_CHORUS]), (a.label if a.numero else "", width[L.F_NUMERO]),
                               (a.intitule, width[L.F_INTITULE])])
    return out


def maquette_page(sheet: str, total_row: int):
    """The maquette prints on A4 landscape, fitted to the width, its header
    row on every page, down to the TOTAL row, without the Répartition column."""
    return P.page(sheet, L.MAQUETTE, total_row, len(L.PRINTED_FIELDS), title_row=HEADER_ROW)


def is_template(table) -> bool:
    """Whether the table is the project's template (every column at its place)."""
    return table.header_row == HEADER_ROW and all(table.cols.get(f) == _col(f) for f in L.TEMPLATE_FIELDS)


def plan_looks(read, m: Maquette, names, read_sheet) -> list[Op]:
    """What Recalculer and Contrôler keep up to date in the project's own
    sheets besides the figures: the titles that follow « Paramètres » (the
    Maquette's and the Indicateurs', while they are the project's — an
    officer's own title is kept), and, in the template, the heights of the
    action rows and the maquette's page setup (down to the TOTAL row)."""
    ops: list[Op] = []
    table = read.table
    titles = [(table.sheet, L.MAQUETTE_TITLE_ROW, L.MAQUETTE_TITLE_PREFIX)] if is_template(table) else []
    indicateurs = named(list(names), L.INDICATEURS)
    if indicateurs:
        titles.append((indicateurs, L.IND_TITLE_ROW, L.IND_TITLE_PREFIX))
    for sheet, row, prefix in titles:
        grid = read_sheet(sheet)
        now = grid.get(row, 1)
        if grid.formula(row, 1) is None and L.is_tool_title(now, prefix):
            new = L.titled(prefix, m.departement, m.annee)
            if new != now:
                ops.append(Block(sheet, row, 1, [[Text(new)]]))
    if is_template(table) and table.action_rows:
        ops.append(SheetSetup(table.sheet, row_heights=maquette_heights(m.actions, table.action_rows)))
        ops.append(maquette_page(table.sheet, table.total_row or max(table.action_rows)))
    return ops


def _total_row(row: int, label: str, rows: list[int], typed: Optional[dict], computed: dict) -> Block:
    values: list = [None] * len(L.TEMPLATE_FIELDS)
    values[_col(L.F_NUMERO) - 1] = Text(label)
    for f in L.AMOUNT_FIELDS:
        col = _col(f)
        if typed is not None:
            values[col - 1] = typed.get(Column(f))
        else:
            values[col - 1] = Formula(sum_formula(col, rows), computed[Column(f)])
    return Block(L.MAQUETTE, row, 1, [values], number_format=L.EUR_FORMAT)


def plan_indicateurs(m: Maquette) -> list[Op]:
    years = L.indicator_year_headers(m.annee or 2020)
    headers = [Text(h) for h in L.IND_FIXED] + [Text(h) for _, _, h in years] + [Text(L.IND_COMMENT)]
    rows, formats = [], []
    for a in m.actions:
        for ind in a.indicateurs:
            vals = []
            for y, kind, _ in years:
                v = ind.value_for(y)
                vals.append(getattr(v, kind) if v else None)
            comment = " | ".join(f"{v.annee} : {v.commentaire}" for v in ind.valeurs if v.commentaire)
            rows.append([Text(a.bloc.label), Text(a.label), Text(a.intitule), Text(ind.libelle), Text(ind.unite),
                         Text(ind.source), *vals, Text(comment)])
            # a thousands separator on the numbers written; a cell left blank keeps its general format
            formats.append(["ind_int" if v is not None and v == v.to_integral_value() else "ind_dec"
                            if v is not None else "input" for v in vals])
    ops: list[Op] = [
        EnsureSheet(L.INDICATEURS),
        Block(L.INDICATEURS, L.IND_TITLE_ROW, 1, [[Text(L.titled(L.IND_TITLE_PREFIX, m.departement, m.annee))]],
              styles="title"),
        Block(L.INDICATEURS, L.IND_HEADER_ROW, 1, [headers], styles="header"),
    ]
    widths = dict(enumerate(L.IND_WIDTHS, 1))
    widths.update({L.IND_FIRST_YEAR_COL + i: 11 for i in range(len(years))})
    widths[len(headers)] = 30
    heights = {L.IND_HEADER_ROW: P.row_height([(h.value, widths[i]) for i, h in enumerate(headers, 1)], bold=True)}
    if rows:
        ops.append(Block(L.INDICATEURS, L.IND_FIRST_ROW, 1, rows))
        ops.append(Block(L.INDICATEURS, L.IND_FIRST_ROW, 1, [[KEEP] * len(headers)] * len(rows),
                         styles=["text_wrap"] * len(L.IND_FIXED) + [None] * len(years) + ["text_wrap"]))
        ops += [Block(L.INDICATEURS, L.IND_FIRST_ROW + i, L.IND_FIRST_YEAR_COL, [[KEEP] * len(years)], styles=f)
                for i, f in enumerate(formats)]
        for i, row in enumerate(rows):
            heights[L.IND_FIRST_ROW + i] = P.row_height(
                [(v.value, widths[j]) for j, v in enumerate(row, 1) if isinstance(v, Text)])
    ops.append(SheetSetup(L.INDICATEURS, widths=widths, freeze=L.a1(L.IND_FIRST_ROW, L.IND_COL_UNITE),
                          row_heights=heights))
    ops.append(P.page(L.INDICATEURS, L.INDICATEURS, L.IND_FIRST_ROW + len(rows) - 1 if rows else L.IND_HEADER_ROW,
                      len(headers), title_row=L.IND_HEADER_ROW))
    return ops


def plan_new_workbook(m: Maquette, empty_rows: int = 0, typed: bool = True) -> list[Op]:
    return plan_parametres(m) + plan_maquette(m, empty_rows, typed) + plan_indicateurs(m)


def create(wb: Workbook, m: Maquette, empty_rows: int = 0, typed: bool = True, fiches: bool = True) -> None:
    """Fill an empty workbook with a maquette and its fiches. The fiches carry
    the model's own text (the embedded default's summaries, budgets stated by
    the fiche, executions, ventilations), read back like any user's fiche."""
    wb.apply(plan_new_workbook(m, empty_rows, typed))
    if not fiches:
        return
    read = read_workbook(wb.sheet_names(), wb.read_sheet, wb.path)
    by_key = {a.key: a for a in m.actions}
    actions = []
    for a in read.maquette.actions:
        src = by_key.get(a.key)
        if src is not None:
            a = replace(a, fiche=src.fiche, budget_execute=src.budget_execute, periode_execution=src.periode_execution,
                        fapi=src.fapi, ventilation=src.ventilation)
        actions.append(a)
    seeded = replace(read.maquette, actions=tuple(actions))
    wb.apply(plan_fiches(read, seeded, wb.sheet_names(), []))


def write_example(target: str, name: str = "loiret-2020", empty_rows: int = 0) -> None:
    """The embedded default as a workbook: figures as printed, fiches included."""
    from ..adapters.openpyxl_adapter import OpenpyxlWorkbook  # noqa: PLC0415
    from ..core.serialize import load_example  # noqa: PLC0415
    wb = OpenpyxlWorkbook.new(target)
    create(wb, load_example(name), empty_rows=empty_rows, typed=True)
    wb.save(backup=False, replace=True)


def write_template(target: str, departement: str = "", annee: int = 0, empty_rows: int = 10) -> None:
    """An empty maquette, ready to type in."""
    from ..adapters.openpyxl_adapter import OpenpyxlWorkbook  # noqa: PLC0415
    wb = OpenpyxlWorkbook.new(target)
    create(wb, Maquette(departement, annee), empty_rows=empty_rows, typed=False)
    wb.save(backup=False, replace=True)
