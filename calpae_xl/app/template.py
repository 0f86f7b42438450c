"""A new maquette workbook: the project's template, empty or filled from a
model (the embedded Loiret 2020 default). Written as a plan of blocks, like
the three operations, so any adapter can build it."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Optional

from ..core.model import Action, Bloc, Column, Maquette, SplitRule
from ..core.profile import is_shipped, profile_of
from ..core.rules import bloc_totals, derived_of, grand_total
from ..workbook import layout as L
from ..workbook.port import KEEP, Block, DefineName, EnsureSheet, Formula, Op, SheetSetup, Text, Workbook
from ..workbook.reader import named, read_workbook
from . import printing as P
from .blocks import style_runs, sum_formula
from .fiches import plan_fiches
from .recalculer import derived_formulas

HEADER_ROW, FIRST_ROW = L.MAQUETTE_HEADER_ROW, L.MAQUETTE_FIRST_ROW


def _lists(p) -> list[tuple[str, str, list[str]]]:
    """The drop-down lists of a convention: imputations, thèmes, rules, groups."""
    rules = []
    for g in p.groupes:
        rules += [r.value for r in g.regles if r.value not in rules]
    return [
        (L.REFERENTIAL_TITLE + " (ajoutez ici vos codes)", L.NAME_CHORUS,
         [f"{c} - {lib}" for c, lib in p.imputations.items()] or [p.imputation_exemple]),
        (L.THEMES_TITLE, L.NAME_THEMES, [t.libelle for t in p.themes] or ["(priorité du référentiel, à saisir)"]),
        ("Règles de répartition", L.NAME_REGLES, rules),
        (p.words.capitalize(), L.NAME_BLOCS, [g.label for g in p.groupes]),
    ]


def plan_parametres(m: Maquette, years: Optional[list[Maquette]] = None) -> list[Op]:
    """The Paramètres sheet: the convention's profile, the Département, the
    year, the envelope (per group for volets without fungibility, per year for
    a multi-year contract), the default rule, and the lists the drop-downs use."""
    p = profile_of(m)
    first = L.PARAM_FIRST_ROW
    head = [[Text(L.PARAM_LABELS[L.P_PROFIL]), Text(p.id)],
            [Text(L.PARAM_LABELS[L.P_DEPARTEMENT]), Text(m.departement)],
            [Text(L.PARAM_LABELS[L.P_ANNEE]), m.annee or (p.annees[0] if p.pluriannuel else None)]]
    money: list[list] = []
    if p.fongible:
        label = L.PARAM_LABELS[L.P_CREDITS] + (" (plafond annuel)" if p.pluriannuel else "")
        money.append([Text(label), m.credits_etat])
    else:
        money += [[Text(f"Crédits État notifiés — {g.label}"), m.credits_groupes.get(g.value)] for g in p.groupes]
    if p.pluriannuel and years:
        money += [[Text(f"Crédits État notifiés {y.annee}"), y.credits_etat] for y in years
                  if y.credits_etat is not None and y.credits_etat != m.credits_etat]
    if p.report:
        money.append([Text(L.PARAM_LABELS[L.P_REPORT]), m.report_etat_notifie])
        if p.pluriannuel and years:
            money += [[Text(f"Report N-1 État notifié {y.annee}"), y.report_etat_notifie] for y in years[1:]]
    rule = [[Text(L.PARAM_LABELS[L.P_REGLE]), Text(m.regle_defaut.value)]] if len(p.first.regles) > 1 else []
    rows = head + money + rule
    ops: list[Op] = [
        EnsureSheet(L.PARAMETRES),
        # the convention's name on a line of its own: beside the title it ran past the printed page
        Block(L.PARAMETRES, L.PARAM_TITLE_ROW, 1, [[Text(L.PARAM_TITLE), None]], styles="title"),
        Block(L.PARAMETRES, L.PARAM_TITLE_ROW + 1, 1, [[Text(p.intitule), None]], styles="subtitle"),
        Block(L.PARAMETRES, first, 1, head, styles=["fiche_label", "input"]),
        Block(L.PARAMETRES, first + len(head), 1, money, styles=["fiche_label", "eur_input"],
              number_format=L.EUR_FORMAT),
    ]
    if rule:
        r_rule = first + len(head) + len(money)
        ops += [Block(L.PARAMETRES, r_rule, 1, rule, styles=["fiche_label", "input"]),
                SheetSetup(L.PARAMETRES, validations=[(L.a1(r_rule, L.PARAM_VALUE_COL), L.NAME_REGLES)])]
    r = first + len(rows) + 1
    widths = {1: 60, 2: 28}
    heights: dict[int, float] = {}
    for title, name, values in _lists(p):
        ops.append(Block(L.PARAMETRES, r, 1, [[Text(title)]], styles="section"))
        ops.append(Block(L.PARAMETRES, r + 1, 1, [[Text(v)] for v in values]))
        # a long one (a thème) wraps in its column: past the printed columns it was cut off on the page
        # (at 1.15 letters a unit, as a Calibri line holds them: a list entry has no long word to wrap whole)
        for i, v in enumerate(values):
            if P.text_lines(v, widths[1] * 1.15) > 1:
                ops.append(Block(L.PARAMETRES, r + 1 + i, 1, [[KEEP]], styles="text_wrap"))
                heights[r + 1 + i] = P.row_height([(v, widths[1] * 1.15)])
        extra = 10 if name == L.NAME_CHORUS else 0  # room for the Département's own codes
        ops.append(DefineName(name, f"{L.sheet_ref(L.PARAMETRES)}!{L.a1(r + 1, 1, True)}:"
                                    f"{L.a1(r + len(values) + extra, 1, True)}"))
        r += len(values) + extra + 2
    ops.append(SheetSetup(L.PARAMETRES, widths=widths, row_heights=heights))
    ops.append(P.page(L.PARAMETRES, L.PARAMETRES, r - 2, 2))
    return ops + plan_profile_sheet(p)


def plan_profile_sheet(p) -> list[Op]:
    """A user's profile travels in the workbook (hidden sheet, one TOML line
    per row, as text): the Excel buttons, which take no --profil, read it."""
    if is_shipped(p) or not p.texte:
        return []
    lines = p.texte.splitlines() or [""]
    return [EnsureSheet(L.PROFILE_SHEET, hidden=True),
            Block(L.PROFILE_SHEET, 1, 1, [[Text(line) if line else None] for line in lines])]


def _action_values(fields, actions: list[Action], row: int, typed: bool, profile) -> list:
    """One maquette row, from the action of each year (one for a yearly
    maquette). ``typed``: amounts as the model holds them (the annex as
    printed); otherwise derived cells are live formulas already."""
    a = actions[0]
    out: list = []
    by_year = {None: a} if len(actions) == 1 else {str(x.annee): x for x in actions}
    formulas = {}
    for key, ya in by_year.items():
        suffix = f"@{key}" if key else ""
        refs = {f: L.a1(row, L.template_col(f + suffix, profile)) for f in L.AMOUNT_FIELDS}
        for c, text in ({} if typed else derived_formulas(ya, refs)).items():
            formulas[c.value + suffix] = text
    chorus = f"{a.chorus.normalized} - {a.chorus.libelle}".strip(" -") if a.chorus else None
    for f in fields:
        base, _, year = f.partition("@")
        if base in L.AMOUNT_FIELDS:
            ya = by_year[year or None]
            v = ya.amount(Column(base))
            out.append(Formula(formulas[f], v if isinstance(v, Decimal) else Decimal(0)) if f in formulas else v)
        elif base == L.F_BLOC:
            out.append(Text(a.bloc.label))
        elif base == L.F_THEME:
            out.append(Text(a.theme))
        elif base == L.F_CHORUS:
            out.append(Text(chorus) if chorus else None)
        elif base == L.F_NUMERO:
            out.append(Text(a.label) if (a.label and a.numero) else None)
        elif base == L.F_INTITULE:
            out.append(Text(a.intitule) if a.intitule else None)
        else:  # the rule
            out.append(Text(a.regle.value))
    return out


def _styles(fields, rule: SplitRule) -> list[str]:
    derived = {c.value for c in derived_of(rule)}
    return [("eur_computed" if f.split("@")[0] in derived else "eur_input") if f.split("@")[0] in L.AMOUNT_FIELDS
            else "row_input" for f in fields]


def plan_maquette(years: list[Maquette], empty_rows: int = 0, typed: bool = True) -> list[Op]:
    """The Maquette sheet: title, legend, headers, the actions of each group
    (plus ``empty_rows`` ready-to-type rows), sub-totals and total; a
    multi-year contract has one group of amount columns per year."""
    m = years[0]
    p = profile_of(m)
    fields = L.template_fields(p)
    n_cols = len(fields)
    title = L.titled(L.maquette_title_prefix(p), m.departement, L.title_period(p, m.annee))
    legend = ("Cellules jaunes : à saisir. Cellules grises : calculées par « Recalculer » (formules). "
              "Parité : part État = part CD = (budget global − autres financeurs − report) / 2 ; "
              "« libre » : parts saisies ; « 100 % État » : part CD nulle.")
    ops: list[Op] = [
        EnsureSheet(L.MAQUETTE),
        Block(L.MAQUETTE, L.MAQUETTE_TITLE_ROW, 1, [[Text(title)]], styles="title"),
        Block(L.MAQUETTE, L.MAQUETTE_LEGEND_ROW, 1, [[Text(legend)]], styles="legend"),
        Block(L.MAQUETTE, HEADER_ROW, 1, [[Text(L.template_header(f, p)) for f in fields]], styles="header"),
    ]
    row = FIRST_ROW
    rows_of: dict[Bloc, list[int]] = {}
    subtotal_rows: dict[Bloc, int] = {}
    default_theme = {t.groupe: t.libelle for t in p.themes if not t.numero}
    for bloc in p.groupes:
        indexes = [i for i, a in enumerate(m.actions) if a.bloc == bloc]
        if not indexes and not empty_rows and not bloc.obligatoire:
            continue
        blank = Action(bloc=bloc, numero="", intitule="", theme=default_theme.get(bloc.value, ""),
                       regle=bloc.regle)
        start = row
        grid, styles = [], []
        for i in indexes + [None] * empty_rows:
            acts = [y.actions[i] for y in years] if i is not None else [blank] * len(years)
            grid.append(_action_values(fields, _with_years(acts, years), row, typed and i is not None, p))
            styles.append(_styles(fields, acts[0].regle))
            row += 1
        rows_of[bloc] = list(range(start, row))
        if grid:
            ops.append(Block(L.MAQUETTE, start, 1, grid, number_format=L.EUR_FORMAT))
            # consecutive rows with the same rule share one style block
            ops += [Block(L.MAQUETTE, start + i, 1, [[KEEP] * n_cols] * n, styles=st)
                    for i, n, st in style_runs(styles)]
        subtotal_rows[bloc] = row
        ops.append(_total_row(fields, p, row, bloc.sous_total or f"SOUS-TOTAL {bloc.label.upper()}", rows_of[bloc],
                              [y.sous_totaux_saisis.get(bloc) if typed else None for y in years],
                              [bloc_totals(y).get(bloc, {}) for y in years]))
        row += 1
    all_rows = [r for rows in rows_of.values() for r in rows]
    ops.append(_total_row(fields, p, row, L.TOTAL_LABEL, all_rows, [y.total_saisi if typed else None for y in years],
                          [grand_total(y) for y in years]))
    for r in list(subtotal_rows.values()) + [row]:
        ops.append(Block(L.MAQUETTE, r, 1, [[KEEP] * n_cols], styles="total"))
    widths = {i: L.COLUMN_WIDTHS.get(f.split("@")[0], L.AMOUNT_WIDTH) for i, f in enumerate(fields, 1)}
    first, last = FIRST_ROW, max(all_rows) if all_rows else FIRST_ROW
    val = []
    for field, name in ((L.F_BLOC, L.NAME_BLOCS), (L.F_THEME, L.NAME_THEMES), (L.F_CHORUS, L.NAME_CHORUS),
                        (L.F_REGLE, L.NAME_REGLES)):
        c = L.template_col(field, p)
        val.append((f"{L.a1(first, c)}:{L.a1(last, c)}", name))
    actions = [a for b in p.groupes for a in m.bloc(b)]
    ops.append(SheetSetup(L.MAQUETTE, widths=widths, freeze=L.a1(FIRST_ROW, L.template_col(L.F_INTITULE, p) + 1),
                          validations=val, wrap_rows=[HEADER_ROW], tab_color="1F4E78",
                          row_heights=maquette_heights(actions, [r for b in p.groupes for r in rows_of.get(b, [])]
                                                       [:len(actions)], p)))
    ops.append(maquette_page(L.MAQUETTE, row, p))
    return ops


def _chorus_text(a: Action) -> str:
    return f"{a.chorus.normalized} - {a.chorus.libelle}".strip(" -") if a.chorus else ""


def maquette_heights(actions, rows, profile=None) -> dict[int, float]:
    """The heights of the template's header row and action rows, fitting
    their wrapped texts (bloc, thème, imputation, N°, intitulé)."""
    fields = L.template_fields(profile)
    width = {f: L.COLUMN_WIDTHS.get(f.split("@")[0], L.AMOUNT_WIDTH) for f in fields}
    out = {HEADER_ROW: P.row_height([(L.template_header(f, profile), width[f]) for f in fields], bold=True)}
    for a, r in zip(actions, rows, strict=True):
        out[r] = P.row_height([(a.bloc.label, width[L.F_BLOC]), (a.theme, width[L.F_THEME]),
                               (_chorus_text(a), width[L.F_CHORUS]), (a.label if a.numero else "", width[L.F_NUMERO]),
                               (a.intitule, width[L.F_INTITULE])])
    return out


def maquette_page(sheet: str, total_row: int, profile=None):
    """The maquette prints on A4 landscape, fitted to the width, its header
    row on every page, down to the TOTAL row, without the Répartition column."""
    printed = len(L.template_fields(profile)) - 1  # the Répartition column is last
    return P.page(sheet, L.MAQUETTE, total_row, printed, title_row=HEADER_ROW)


def is_template(table, profile=None) -> bool:
    """Whether the table is the project's template (every column at its place)."""
    fields = L.template_fields(profile)
    fixed = [f for f in fields if "@" not in f]
    return table.header_row == HEADER_ROW and all(table.cols.get(f) == fields.index(f) + 1 for f in fixed
                                                  if f != L.F_REGLE or f in table.cols)


def plan_looks(read, m: Maquette, names, read_sheet) -> list[Op]:
    """What Recalculer and Contrôler keep up to date in the project's own
    sheets besides the figures: the titles that follow « Paramètres » (the
    Maquette's and the Indicateurs', while they are the project's — an
    officer's own title is kept), and, in the template, the heights of the
    action rows and the maquette's page setup (down to the TOTAL row)."""
    ops: list[Op] = []
    table = read.table
    p = profile_of(m)
    template = is_template(table, p)
    titles = [(table.sheet, L.MAQUETTE_TITLE_ROW, L.maquette_title_prefix(p))] if template else []
    indicateurs = named(list(names), L.INDICATEURS)
    if indicateurs:
        titles.append((indicateurs, L.IND_TITLE_ROW, L.ind_title_prefix(p)))
    for sheet, row, prefix in titles:
        grid = read_sheet(sheet)
        now = grid.get(row, 1)
        if grid.formula(row, 1) is None and L.is_tool_title(now, prefix):
            new = L.titled(prefix, m.departement, L.title_period(p, m.annee))
            if new != now:
                ops.append(Block(sheet, row, 1, [[Text(new)]]))
    if template and table.action_rows:
        ops.append(SheetSetup(table.sheet, row_heights=maquette_heights(m.actions, table.action_rows, p)))
        ops.append(maquette_page(table.sheet, table.total_row or max(table.action_rows), p))
    return ops


def _with_years(acts: list[Action], years: list[Maquette]) -> list:
    """The actions of a row, each knowing its year (for the columns of a multi-year maquette)."""
    if len(years) == 1:
        return acts
    return [_Yearly(a, y.annee) for a, y in zip(acts, years, strict=True)]


class _Yearly:
    """An action seen with its year (``annee``), for the template's columns."""

    def __init__(self, action: Action, annee: int):
        self._a, self.annee = action, annee

    def __getattr__(self, name):
        return getattr(self._a, name)


def _total_row(fields, p, row: int, label: str, rows: list[int], typed: list, computed: list) -> Block:
    values: list = [None] * len(fields)
    values[L.template_col(L.F_NUMERO, p) - 1] = Text(label)
    for j, f in enumerate(fields):
        base, _, year = f.partition("@")
        if base not in L.AMOUNT_FIELDS:
            continue
        k = p.years.index(int(year)) if year else 0
        col = j + 1
        if typed[k]:  # a typed (sub-)total; none typed ({} or None): the formula and its value
            values[col - 1] = typed[k].get(Column(base))
        else:
            values[col - 1] = Formula(sum_formula(col, rows), computed[k].get(Column(base), Decimal(0)))
    return Block(L.MAQUETTE, row, 1, [values], number_format=L.EUR_FORMAT)


def plan_indicateurs(m: Maquette) -> list[Op]:
    """The indicators matrix (article 3 of the CALPAE avenant): target and
    result per year — N-1, N, N+1 for a yearly convention, every year of a
    multi-year contract."""
    p = profile_of(m)
    if p.pluriannuel:
        years = [(y, kind, f"{y} {label}") for y in p.years for kind, label in (("cible", "cible"),
                                                                               ("resultat", "résultat"))]
    else:
        years = L.indicator_year_headers(m.annee or p.annees[0])
    headers = [Text(h) for h in L.IND_FIXED] + [Text(h) for _, _, h in years] + [Text(L.IND_COMMENT)]
    headers[L.IND_COL_BLOC - 1] = Text(p.word.capitalize())
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
        Block(L.INDICATEURS, L.IND_TITLE_ROW, 1, [[Text(L.titled(L.ind_title_prefix(p), m.departement,
                                                                  L.title_period(p, m.annee)))]],
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


def plan_new_workbook(m, empty_rows: int = 0, typed: bool = True) -> list[Op]:
    """A new workbook's plan, from a maquette or the list of a contract's years."""
    years = list(m) if isinstance(m, (list, tuple)) else [m]
    return plan_parametres(years[0], years) + plan_maquette(years, empty_rows, typed) + plan_indicateurs(years[0])


def create(wb: Workbook, m, empty_rows: int = 0, typed: bool = True, fiches: bool = True) -> None:
    """Fill an empty workbook with a maquette (or a contract's years) and its
    fiches. The fiches carry the model's own text (the embedded default's
    summaries, budgets stated by the fiche, executions, ventilations), read
    back like any user's fiche."""
    years = list(m) if isinstance(m, (list, tuple)) else [m]
    wb.apply(plan_new_workbook(years, empty_rows, typed))
    if not fiches:
        return
    read = read_workbook(wb.sheet_names(), wb.read_sheet, wb.path, profile=profile_of(years[0]))
    seeded_years = []
    for view, src_m in zip(read.years, years, strict=False):
        by_key = {a.key: a for a in src_m.actions}
        actions = []
        for a in view.maquette.actions:
            src = by_key.get(a.key)
            if src is not None:
                a = replace(a, fiche=src.fiche, budget_execute=src.budget_execute,
                            periode_execution=src.periode_execution, fapi=src.fapi, ventilation=src.ventilation)
            actions.append(a)
        seeded_years.append((view, replace(view.maquette, actions=tuple(actions))))
    wb.apply(plan_fiches(read, seeded_years[0][1], wb.sheet_names(), [], seeded_years))


def write_example(target: str, name: str = "loiret-2020", empty_rows: int = 0) -> None:
    """An embedded example as a workbook: figures as given, fiches included."""
    from ..adapters.openpyxl_adapter import OpenpyxlWorkbook  # noqa: PLC0415
    from ..core.serialize import load_years  # noqa: PLC0415
    wb = OpenpyxlWorkbook.new(target)
    create(wb, load_years(name), empty_rows=empty_rows, typed=True)
    wb.save(backup=False, replace=True)


def template_years(profile=None, departement: str = "", annee: int = 0) -> list[Maquette]:
    """An empty maquette of a convention: its year, or every year of a multi-year contract."""
    from ..core.profile import profile as shipped  # noqa: PLC0415
    p = profile or shipped()
    if p.pluriannuel:
        return [Maquette(departement, y, profile=p) for y in p.years]
    return [Maquette(departement, annee, profile=p, regle_defaut=p.first.regle)]


def write_template(target: str, departement: str = "", annee: int = 0, empty_rows: int = 10, profile=None) -> None:
    """An empty maquette of a convention (default: the CALPAE), ready to type in."""
    from ..adapters.openpyxl_adapter import OpenpyxlWorkbook  # noqa: PLC0415
    wb = OpenpyxlWorkbook.new(target)
    create(wb, template_years(profile, departement, annee), empty_rows=empty_rows, typed=False)
    wb.save(backup=False, replace=True)
