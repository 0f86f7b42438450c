"""Générer les fiches: one sheet per action. Computed rows follow the
maquette; the text the officer typed in a fiche is never overwritten."""
from __future__ import annotations

from decimal import Decimal
from typing import Sequence

from ..core.model import FICHE_TEXT_FIELDS, Action, Column, Maquette
from ..workbook import layout as L
from ..workbook.port import KEEP, Block, EnsureSheet, Formula, Op, SheetSetup, Text
from ..workbook.reader import FicheSheet, ReadResult, TableLayout
from . import printing as P
from .blocks import link, runs, style_runs, sum_formula


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


def _per_year(read: ReadResult, years, i: int) -> list[tuple[str, TableLayout, Action]]:
    """(key suffix, the year's table, the year's action) of action ``i``: one
    item with no suffix for a yearly maquette, one per year ("@2025") for a
    multi-year one."""
    if not years or len(years) == 1 or not getattr(read.profile, "pluriannuel", False):
        view, m = years[0] if years else (read, read.maquette)
        return [("", view.table, m.actions[i])]
    return [(f"@{view.table.annee}", view.table, m.actions[i]) for view, m in years]


def fiche_values(a: Action, m: Maquette, table: TableLayout, row: int, per_year=None) -> dict[str, object]:
    """Every fiche row's value for a new sheet; computed rows are refreshed at
    each generation, input rows are written only when the sheet is created.
    ``per_year``: see :func:`_per_year` (the amounts of each year of a
    multi-year maquette, with their keys)."""
    tref = L.sheet_ref(table.sheet)
    fb = a.fiche.budget
    numero_cell = table.cell(row, L.F_NUMERO)
    vals: dict[str, object] = {
        "titre": Text(L.fiche_title(a.label, a.intitule)),
        "bloc": Text(a.bloc.label), "numero": Text(a.label), "intitule": Text(a.intitule),
        # beside the N° (which identifies the fiche, so stays plain text): a link back to the row
        "lien": link(table.sheet, numero_cell, L.FICHE_LINK_TEXT) if numero_cell else None,
        "theme": Text(a.theme), "chorus": Text(f"{a.chorus.normalized} - {a.chorus.libelle}".strip(" -")
                                               if a.chorus else ""),
        "indicateurs": Text(_indicator_text(a, m.annee)),
    }
    for suffix, year_table, ya in per_year or [("", table, a)]:
        for key in ("part_etat", "part_cd", "report", "autres_financeurs", "budget_global"):
            ref = year_table.cell(row, key)
            v = ya.amount(Column(key))
            # a link to an empty cell shows 0 in a spreadsheet: the cached value says the same; a link to
            # an amount typed as text shows that text: no figure is claimed for it
            text = _typed_text(year_table, row, key)
            cached = None if text else v if isinstance(v, Decimal) else Decimal(0) if v is None else None
            vals[key + suffix] = Formula(f"{tref}!{ref}", cached) if ref else None
        vals["budget_execute" + suffix] = ya.budget_execute
    for key in FICHE_TEXT_FIELDS:
        vals[key] = Text(getattr(a.fiche, key))
    vals["periode_execution"] = Text(a.periode_execution)
    vals["fapi"] = Text("" if a.fapi is None else "Oui" if a.fapi else "Non")
    for key, attr in (("fb_part_etat", "part_etat"), ("fb_report_etat", "report_etat"), ("fb_part_cd", "part_cd"),
                      ("fb_report_cd", "report_cd"), ("fb_autres", "autres"), ("fb_budget_global", "budget_global")):
        vals[key] = getattr(fb, attr) if fb else None
    return vals


COMPUTED_KINDS = ("title", "computed", "amount_link", "formula")


def _taux(rows: dict[str, int], a: Action, suffix: str = "", as_text: bool = False) -> Formula:
    """``as_text``: the budget exécuté or the budget global is text in the
    spreadsheet (« 35 813 € » not yet converted by Recalculer): the
    spreadsheet's N() or division does not read it as Python does, so no
    figure is claimed for the rate."""
    e = L.a1(rows["budget_execute" + suffix], L.FICHE_VALUE_COL)
    g = L.a1(rows["budget_global" + suffix], L.FICHE_VALUE_COL)
    cached = None
    if a.budget_execute is not None and isinstance(a.budget_global, Decimal) and a.budget_global and not as_text:
        cached = a.budget_execute / a.budget_global  # exact, as the spreadsheet computes it
    return Formula(f'IF(OR({e}="",N({g})=0),"",{e}/{g})', cached)


def _typed_text(table: TableLayout, row: int, key: str) -> bool:
    """Whether the maquette's cell is text the spreadsheet keeps as text (not rewritten by this run)."""
    col = table.cols.get(key)
    return col is not None and isinstance(table.raw.get((row, col)), str) and (row, col) not in table.written


def _tauxes(rows: dict[str, int], per_year, row: int, texts=frozenset()) -> dict[str, Formula]:
    """The rate of execution of each year the fiche has rows for (``row``:
    the action's row of the maquette; ``texts``: the fiche's rows holding text)."""
    return {"taux_execution" + sfx: _taux(rows, ya, sfx, _typed_text(t, row, "budget_global")
                                          or "budget_execute" + sfx in texts)
            for sfx, t, ya in per_year if "budget_execute" + sfx in rows and "budget_global" + sfx in rows}


def plan_fiches(read: ReadResult, m: Maquette, names: Sequence[str], created: list[str], years=None) -> list[Op]:
    """One sheet per action. An existing fiche (found by its Bloc and N° rows,
    whatever the sheet is called) only gets its computed rows refreshed: the
    text the user typed is never overwritten. A fiche whose action left the
    maquette is kept as it is and reported (FICHE_ORPHELINE). ``years``: the
    (view, maquette) of each year of a multi-year maquette."""
    ops: list[Op] = []
    new: dict = {}
    taken = {n.lower() for n in names}
    multi = getattr(read.profile, "pluriannuel", False)
    fiche_rows = L.fiche_rows(read.profile.years if multi else None)
    seen: set = set()
    for i, a in enumerate(m.actions):
        if a.key in seen:  # a N° given twice (NUMERO_EN_DOUBLE): the fiche is the first action's, left to it
            continue
        seen.add(a.key)
        row = read.table.action_rows[i]
        per_year = _per_year(read, years, i)
        vals = fiche_values(a, m, read.table, row, per_year)
        existing = read.fiches.get(a.key)
        if existing:
            rows = dict(existing.rows)
            vals.update(_tauxes(rows, per_year, row, existing.text_rows))
            if existing.title_ours:
                ops.append(Block(existing.sheet, rows["titre"], L.FICHE_LABEL_COL, [[vals["titre"]]]))
            if "numero" in rows and existing.link_ours:
                ops.append(Block(existing.sheet, rows["numero"], L.FICHE_LINK_COL, [[vals["lien"]]]))
            updates = {rows[k]: vals[k] for k in rows if k != "titre" and not k.startswith("taux_execution")
                       and k in vals and k.split("@")[0] in L.FICHE_ROW_BY_KEY
                       and L.fiche_row(k).kind in COMPUTED_KINDS}
            for start, end in runs(updates):
                ops.append(Block(existing.sheet, start, L.FICHE_VALUE_COL,
                                 [[updates[r]] for r in range(start, end + 1)],
                                 number_format=L.EUR_FORMAT))
            for key in [k for k in rows if k.startswith("taux_execution")]:  # a rate: its own block
                ops.append(Block(existing.sheet, rows[key], L.FICHE_VALUE_COL, [[vals.get(key, KEEP)]],
                                 styles="pct_computed"))
            last = max([*rows.values(), *existing.ventilation_rows, existing.ventilation_total_row or 0])
            ops += fiche_looks(existing.sheet, rows, a, vals, {}, last)
            continue
        name = L.fiche_sheet_name(a.bloc, a.numero, taken)
        rows = {r.key: n for n, r in enumerate(fiche_rows, 1)}
        vals.update(_tauxes(rows, per_year, row))
        grid: list[list] = []
        styles: list[str] = []
        for fr in fiche_rows:
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
        for _ in range(max(0, L.FICHE_MIN_VENTILATION_ROWS - len(a.ventilation))):
            grid.append([None, None])
            styles.append("fiche_input")
        vent_rows = range(vent_start, len(grid) + 1)
        grid.append([Text(L.VENTILATION_TOTAL),
                     Formula(sum_formula(L.FICHE_VALUE_COL, vent_rows),
                             sum((v.montant for v in a.ventilation), Decimal(0)))])
        styles.append("fiche_computed")
        ops.append(EnsureSheet(name))
        ops.append(Block(name, 1, L.FICHE_LABEL_COL, grid, number_format=L.EUR_FORMAT))
        ops += _fiche_styles(name, styles)
        for key in [k for k in rows if k.startswith("taux_execution")]:
            ops.append(Block(name, rows[key], L.FICHE_VALUE_COL, [[KEEP]], styles="pct_computed"))
        ops.append(Block(name, rows["numero"], L.FICHE_LINK_COL, [[vals["lien"]]]))
        ops.append(SheetSetup(name, widths=dict(enumerate(L.FICHE_WIDTHS, 1)),
                              wrap_rows=[rows[k] for k in L.FICHE_WRAPPED],
                              tab_color=L.group_colour(read.profile, a.bloc)))
        ops += fiche_looks(name, rows, a, vals, {vent_start + i: line.libelle for i, line in enumerate(a.ventilation)},
                           len(grid))
        created.append(name)
        new.setdefault(a.key, FicheSheet(name, rows, list(vent_rows), vent_rows.stop, a.bloc, a.numero))
    read.fiches.update({k: v for k, v in new.items() if k not in read.fiches})
    return ops


def fiche_looks(sheet: str, rows: dict[str, int], a: Action, vals: dict, ventilation: dict[int, str],
                last_row: int) -> list[Op]:
    """How a fiche prints: each row as tall as its wrapped text (the label
    and the value), A4 portrait, the labels and values only, fitted to the
    width — or smaller when its amounts would otherwise fall on a second
    page: they print on the title's page."""
    w_label, w_value = L.FICHE_WIDTHS[L.FICHE_LABEL_COL - 1], L.FICHE_WIDTHS[L.FICHE_VALUE_COL - 1]
    heights: dict[int, float] = {}
    for key, r in rows.items():
        fr = L.FICHE_ROW_BY_KEY.get(key)
        if fr is None:
            continue
        if fr.kind in ("title", "section"):  # one line, not wrapped (it runs over the next cells)
            heights[r] = P.row_height([("", w_label)], size=L.STYLES["title"]["size"] if fr.kind == "title" else 11)
            continue
        value = ""
        if key in L.FICHE_WRAPPED:
            v = vals.get(key)
            value = getattr(a.fiche, key) if key in FICHE_TEXT_FIELDS else v.value if isinstance(v, Text) else ""
        heights[r] = P.row_height([(fr.label, w_label), (value, w_value)], bold=True)
    for r, label in ventilation.items():
        heights[r] = P.row_height([(label, w_label)])
    amounts = rows.get("budget_global") or max(rows.values())
    scale = P.fiche_scale(heights, amounts, L.FICHE_WIDTHS[:L.FICHE_PRINTED_COLS])
    return [SheetSetup(sheet, row_heights=heights),
            P.page(sheet, L.FICHE_PREFIX, last_row, L.FICHE_PRINTED_COLS, scale=scale)]


def _fiche_styles(sheet: str, styles: list[str]) -> list[Op]:
    """Titles and sections style the whole row; other rows have a label column."""
    return [Block(sheet, start + 1, L.FICHE_LABEL_COL, [[KEEP, KEEP]] * n,
                  styles=st if st in ("title", "section") else ["fiche_label", st])
            for start, n, st in style_runs(styles)]


def plan_fiche_links(read: ReadResult, m: Maquette, years=None) -> list[Op]:
    """The rows of the existing fiches that read the maquette (amounts, rate
    of execution), rewritten with the values Recalculer computed: a program
    reading saved values sees the fiches agree with the maquette. (Excel and
    LibreOffice recompute them anyway; the live path needs none of it.)"""
    ops: list[Op] = []
    for i, a in enumerate(m.actions):
        existing = read.fiches.get(a.key)
        if existing is None:
            continue
        per_year = _per_year(read, years, i)
        vals = fiche_values(a, m, read.table, read.table.action_rows[i], per_year)
        links = [k for k in existing.rows if k.split("@")[0] in L.FICHE_ROW_BY_KEY
                 and L.fiche_row(k).kind == "amount_link"]
        updates = {existing.rows[k]: vals[k] for k in links if vals.get(k) is not None}
        for start, end in runs(updates):
            ops.append(Block(existing.sheet, start, L.FICHE_VALUE_COL, [[updates[r]] for r in range(start, end + 1)]))
        for key, formula in _tauxes(existing.rows, per_year, read.table.action_rows[i], existing.text_rows).items():
            ops.append(Block(existing.sheet, existing.rows[key], L.FICHE_VALUE_COL, [[formula]]))
    return ops
