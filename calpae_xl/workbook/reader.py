"""Reading any maquette: the project's template or the annex as users type it.

Works on grids (values already resolved by the adapter), so it knows nothing
of openpyxl or xlwings. The table is found wherever it is: header row in the
first rows, headers matched whatever their accents, case, line breaks or the
annex's typos; bloc labels, thèmes and Chorus codes merged over several rows;
sub-total and total rows recognised and not taken as actions. A cell it cannot
read becomes an :class:`~calpae_xl.core.money.Unreadable` amount, reported by
the checks at that cell: never a silent zero.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Callable, Optional

from . import layout as L
from ..core.catalogue import severity
from ..core.findings import Finding, Where
from ..core.model import (FICHE_TEXT_FIELDS, Action, Bloc, Chorus, Column, Fiche, FicheBudget, Indicator,
                          IndicatorValue, Maquette, SplitRule, VentilationLine, normalize_chorus, normalize_numero)
from ..core.money import Unreadable, amount_from_cell
from ..core.referential import CHORUS_CODES, THEME_INITIATIVES
from ..errors import NoMaquette
from .port import Formula, Grid

MIN_HEADER_MATCHES = 5


@dataclass
class TableLayout:
    sheet: str
    header_row: int
    cols: dict[str, int]
    action_rows: list[int] = field(default_factory=list)
    subtotal_rows: dict[Bloc, int] = field(default_factory=dict)
    total_row: Optional[int] = None
    bloc_col: Optional[int] = None
    last_row: int = 0
    #: amount cells of action rows as read: raw value, or Formula for a formula cell
    raw: dict[tuple[int, int], object] = field(default_factory=dict)

    def cell(self, row: int, field_key: str) -> Optional[str]:
        col = self.cols.get(field_key)
        return L.a1(row, col) if col else None


@dataclass
class FicheSheet:
    sheet: str
    rows: dict[str, int]  # fiche row key -> row number
    ventilation_rows: list[int]
    ventilation_total_row: Optional[int]
    bloc: Optional[Bloc]
    numero: str


@dataclass
class ReadResult:
    maquette: Maquette
    table: TableLayout
    fiches: dict[tuple[Bloc, str], FicheSheet] = field(default_factory=dict)
    extra_chorus: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def raw_amounts(self) -> dict[tuple[int, int], object]:
        return self.table.raw

    def locate(self, findings: list[Finding]) -> list[Finding]:
        """Attach sheet and cell to findings that point at the model."""
        index: dict[tuple[Bloc, str], int] = {}
        for i, a in enumerate(self.maquette.actions):
            index.setdefault(a.key, self.table.action_rows[i])
        out = []
        for f in findings:
            w = f.where
            if w.sheet:
                out.append(f)
                continue
            sheet, cell = self.table.sheet, None
            if w.total:
                row = self.table.subtotal_rows.get(w.bloc) if w.bloc else self.table.total_row
                if row and w.field:
                    cell = self.table.cell(row, w.field)
            elif w.bloc is not None and w.action is not None:
                fiche = self.fiches.get((w.bloc, w.action))
                fiche_field = {"ventilation": "s_ventilation", "budget_execute": "budget_execute",
                               "indicateurs": "indicateurs"}.get(w.field or "")
                if f.code == "FICHE_ECART" and fiche:
                    fiche_field = "fb_" + {"report": "report_etat", "part_etat": "part_etat", "part_cd": "part_cd",
                                           "autres_financeurs": "autres",
                                           "budget_global": "budget_global"}.get(w.field or "", "part_etat")
                if fiche_field and fiche and fiche_field in fiche.rows:
                    sheet, cell = fiche.sheet, L.a1(fiche.rows[fiche_field], L.FICHE_VALUE_COL)
                else:
                    row = index.get((w.bloc, w.action))
                    if row:
                        cell = self.table.cell(row, w.field if w.field in self.table.cols else L.F_NUMERO)
            out.append(f.located(sheet, cell))
        return out


# --- the maquette table -------------------------------------------------------------

def find_header(grid: Grid) -> Optional[tuple[int, dict[str, int]]]:
    """The first row (in the first rows) where enough headers are recognised."""
    best = None
    for r in range(1, min(grid.n_rows, L.HEADER_SCAN_ROWS) + 1):
        cols: dict[str, int] = {}
        for c in range(1, grid.n_cols + 1):
            key = L.match_header(grid.get(r, c))
            if key and key not in cols:
                cols[key] = c
        if len(cols) >= MIN_HEADER_MATCHES and (best is None or len(cols) > len(best[1])):
            best = (r, cols)
            if len(cols) >= 9:
                break
    return best


_SPACES = re.compile(r"[ \t]+")


def _text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    s = str(v)
    if "\n" in s or "\r" in s:
        s = s.replace("\r", "").replace("\n", " ")
    return _SPACES.sub(" ", s).strip() if ("  " in s or "\t" in s) else s.strip()


def _row_texts(grid: Grid, row: int) -> list[str]:
    values = grid.values[row - 1] if 1 <= row <= grid.n_rows else []
    return [_text(v) for v in values]


def _chorus(text: str) -> Optional[Chorus]:
    if not text:
        return None
    m = re.match(r"^\s*([\d][\d\s.\-]*\d)\s*(?:[-–:]\s*(.*))?$", text)
    if m:
        code = normalize_chorus(m.group(1))
        return Chorus(code, (m.group(2) or "").strip() or CHORUS_CODES.get(code, ""))
    return Chorus(text, "")


def _regle(v: object, default: SplitRule) -> SplitRule:
    s = L.normalize_label(v)
    if s.startswith("libre"):
        return SplitRule.LIBRE
    if s.startswith("parit"):
        return SplitRule.PARITE
    return default


def _inherit_merged(grid: Grid, r: int, last: dict) -> None:
    """Fill the row's empty cells of ``last``'s columns from the row above
    (``grid`` is the reader's own copy; the row is copied before it changes)."""
    for c in last:
        if grid.get(r, c) in (None, ""):
            if last[c] is not None:
                row = grid.values[r - 1] = list(grid.values[r - 1])
                row.extend([None] * (c - len(row)))
                row[c - 1] = last[c]
        else:
            last[c] = grid.get(r, c)


def read_table(grid: Grid, sheet: str, default_rule: SplitRule = SplitRule.PARITE):
    """(actions, layout, typed sub-totals, typed total) of the maquette table."""
    found = find_header(grid)
    if not found:
        return None
    header_row, cols = found
    grid = grid.with_merges_filled()
    amount_cols = {f: c for f, c in cols.items() if f in L.AMOUNT_FIELDS}
    known_cols = set(cols.values())
    first_col = min(known_cols)
    # the bloc label column: named "Bloc", or an unnamed column left of the table
    bloc_col = cols.get(L.F_BLOC)
    if bloc_col is None:
        for c in range(1, first_col):
            if any(L.bloc_of_label(grid.get(r, c)) for r in range(header_row + 1, grid.n_rows + 1)):
                bloc_col = c
                break
    table = TableLayout(sheet, header_row, cols, bloc_col=bloc_col)
    actions: list[Action] = []
    subtotals: dict[Bloc, dict[Column, object]] = {}
    total: dict[Column, object] = {}
    section = Bloc.SOCLE
    # An engine that cannot tell merged cells (the xlwings remote engine) gives
    # the annex's merged thème, Chorus and bloc cells on their first row only:
    # an action row then takes them from the action row above. Not in the
    # project's template (it has a Répartition column), where an empty cell is
    # a real omission to report.
    inherit = None
    if not grid.merges_known and L.F_REGLE not in cols:
        inherit = {c: None for c in (cols.get(L.F_THEME), cols.get(L.F_CHORUS), bloc_col) if c}
    for r in range(header_row + 1, grid.n_rows + 1):
        texts = _row_texts(grid, r)
        if not any(texts):
            continue
        label_cells = [t for c, t in enumerate(texts, 1) if c not in amount_cols.values() and t]
        numero_raw = grid.get(r, cols[L.F_NUMERO]) if L.F_NUMERO in cols else None
        kind = next((k for k in (L.total_kind(t) for t in label_cells) if k), None)
        if kind and (not _text(numero_raw) or L.total_kind(numero_raw)):
            values = {Column(f): amount_from_cell(grid.get(r, c)) for f, c in amount_cols.items()}
            if kind[0] == "total":
                total, table.total_row = values, r
                table.last_row = r
                break
            bloc = kind[1] or section
            subtotals[bloc], table.subtotal_rows[bloc] = values, r
            section = Bloc.INITIATIVES if bloc is Bloc.SOCLE else section
            table.last_row = r
            continue
        intitule = _text(grid.get(r, cols[L.F_INTITULE])) if L.F_INTITULE in cols else ""
        amounts = {Column(f): amount_from_cell(grid.get(r, c)) for f, c in amount_cols.items()}
        if grid.formulas_known:
            typed = any(grid.get(r, c) is not None and grid.formula(r, c) is None for c in amount_cols.values())
        else:  # values only: the zeros of an empty template row's formulas are not a typed amount
            typed = any(grid.get(r, c) not in (None, "", 0) for c in amount_cols.values())
        if not (_text(numero_raw) or intitule or typed):
            continue  # an empty row of the template (its formulas alone do not make an action)
        if inherit is not None:
            _inherit_merged(grid, r, inherit)
        chorus = _chorus(_text(grid.get(r, cols[L.F_CHORUS]))) if L.F_CHORUS in cols else None
        theme = _text(grid.get(r, cols[L.F_THEME])) if L.F_THEME in cols else ""
        bloc = L.bloc_of_label(grid.get(r, bloc_col)) if bloc_col else None
        if bloc is None:
            if section is Bloc.SOCLE and chorus is not None and chorus.suffix == "10":
                section = Bloc.INITIATIVES  # no bloc label and no sub-total: the Chorus code tells
            bloc = section
        if bloc is Bloc.INITIATIVES and not theme:
            theme = THEME_INITIATIVES
        regle = _regle(grid.get(r, cols[L.F_REGLE]), default_rule) if L.F_REGLE in cols else default_rule
        numero_text = _text(numero_raw)
        actions.append(Action(
            bloc=bloc, numero=normalize_numero(numero_text), libelle_numero=numero_text, intitule=intitule,
            theme=theme, chorus=chorus, regle=regle, **{c.value: v for c, v in amounts.items()}))
        table.action_rows.append(r)
        table.last_row = r
        for c in amount_cols.values():
            f = grid.formula(r, c)
            table.raw[(r, c)] = Formula(f, None) if f else grid.get(r, c)
    return actions, table, subtotals, total


# --- Paramètres -----------------------------------------------------------------------

def read_parametres(grid: Grid) -> tuple[dict[str, object], list[str]]:
    """Key/value rows of the Paramètres sheet, and the Chorus codes it lists."""
    params: dict[str, object] = {}
    codes: list[str] = []
    for r in range(1, grid.n_rows + 1):
        label = L.normalize_label(grid.get(r, L.PARAM_LABEL_COL))
        if not label:
            continue
        for key, pattern in L.PARAM_PATTERNS.items():
            if key not in params and re.search(pattern, label):
                params[key] = grid.get(r, L.PARAM_VALUE_COL)
                break
        chorus = _chorus(_text(grid.get(r, L.PARAM_LABEL_COL)))
        if chorus and re.fullmatch(r"\d{4} \d{2} \d{2} \d{2} \d{2}", chorus.normalized):
            codes.append(chorus.normalized)
    return params, codes


# --- Indicateurs ----------------------------------------------------------------------

def read_indicateurs(grid: Grid) -> dict[tuple[Bloc, str], list[Indicator]]:
    header = None
    label = L.normalize_label(L.IND_FIXED[L.IND_COL_LIBELLE - 1])
    for r in range(1, min(grid.n_rows, L.IND_HEADER_SCAN_ROWS) + 1):
        if L.normalize_label(grid.get(r, L.IND_COL_LIBELLE)) == label:
            header = r
            break
    if header is None:
        return {}
    years: dict[int, tuple[int, str]] = {}
    comment_col = None
    for c in range(L.IND_FIRST_YEAR_COL, grid.n_cols + 1):
        h = _text(grid.get(header, c))
        m = re.match(r"^(\d{4})\s+(cible|r[ée]sultat)", h, re.IGNORECASE)
        if m:
            years[c] = (int(m.group(1)), "cible" if m.group(2).lower() == "cible" else "resultat")
        elif L.normalize_label(h) == L.normalize_label(L.IND_COMMENT):
            comment_col = c
    out: dict[tuple[Bloc, str], list[Indicator]] = {}
    for r in range(header + 1, grid.n_rows + 1):
        bloc = L.bloc_of_label(grid.get(r, L.IND_COL_BLOC))
        libelle = _text(grid.get(r, L.IND_COL_LIBELLE))
        if bloc is None or not libelle:
            continue
        per_year: dict[int, dict] = {}
        for c, (y, kind) in years.items():
            v = amount_from_cell(grid.get(r, c))
            per_year.setdefault(y, {})[kind] = v if isinstance(v, Decimal) else None
        comment = _text(grid.get(r, comment_col)) if comment_col else ""
        valeurs = []
        for y, d in sorted(per_year.items()):
            valeurs.append(IndicatorValue(y, d.get("cible"), d.get("resultat")))
        valeurs = _attach_comment(valeurs, comment)
        out.setdefault((bloc, normalize_numero(grid.get(r, L.IND_COL_NUMERO))), []).append(
            Indicator(libelle, _text(grid.get(r, L.IND_COL_UNITE)) or "nombre",
                      tuple(v for v in valeurs if v.has_value or v.commentaire), _text(grid.get(r, L.IND_COL_SOURCE))))
    return out


def _attach_comment(valeurs: list[IndicatorValue], comment: str) -> list[IndicatorValue]:
    """The sheet has one comment column: 'AAAA : texte' pieces go back to their year."""
    if not comment:
        return valeurs
    by_year = {v.annee: v for v in valeurs}
    for piece in comment.split(" | "):
        m = re.match(r"^(\d{4}) : (.*)$", piece)
        if m:
            y = int(m.group(1))
            by_year[y] = replace(by_year.get(y, IndicatorValue(y)), commentaire=m.group(2))
    return [by_year[y] for y in sorted(by_year)]


# --- fiche sheets ---------------------------------------------------------------------

def is_fiche_sheet(grid: Grid) -> bool:
    return _text(grid.get(1, L.FICHE_LABEL_COL)).startswith(L.FICHE_TITLE_PREFIX)


def read_fiche(grid: Grid, sheet: str) -> tuple[FicheSheet, dict]:
    """The fiche's rows by label (robust to renamed sheets) and its typed content."""
    rows: dict[str, int] = {}
    vent_rows: list[int] = []
    vent_total = None
    in_vent = False
    for r in range(1, grid.n_rows + 1):
        label = _text(grid.get(r, L.FICHE_LABEL_COL))
        key = L.FICHE_KEY_BY_LABEL.get(L.normalize_label(label))
        if r == 1:
            rows["titre"] = 1
            continue
        if in_vent:
            if L.normalize_label(label) == L.normalize_label(L.VENTILATION_TOTAL):
                vent_total = r
                in_vent = False
            elif label or grid.get(r, L.FICHE_VALUE_COL) is not None:
                vent_rows.append(r)
            continue
        if key and key not in rows:
            rows[key] = r
            if key == "s_ventilation":
                in_vent = True
    content: dict[str, object] = {k: grid.get(r, L.FICHE_VALUE_COL) for k, r in rows.items()}
    content["ventilation"] = [(_text(grid.get(r, L.FICHE_LABEL_COL)), grid.get(r, L.FICHE_VALUE_COL))
                              for r in vent_rows]
    bloc = L.bloc_of_label(content.get("bloc"))
    numero = normalize_numero(content.get("numero"))
    return FicheSheet(sheet, rows, vent_rows, vent_total, bloc, numero), content


def fiche_from_content(content: dict) -> tuple[Fiche, dict]:
    """Fiche narrative + the action fields that live on the fiche sheet."""
    def dec(key):
        v = amount_from_cell(content.get(key))
        return v if isinstance(v, Decimal) else None
    fb = FicheBudget(dec("fb_part_etat"), dec("fb_report_etat"), dec("fb_part_cd"), dec("fb_report_cd"),
                     dec("fb_autres"), dec("fb_budget_global"))
    has_fb = any(getattr(fb, k) is not None for k in FicheBudget.__dataclass_fields__)
    fiche = Fiche(**{k: _multiline(content.get(k)) for k in FICHE_TEXT_FIELDS}, budget=fb if has_fb else None)
    fapi_text = L.normalize_label(content.get("fapi"))
    extra = {
        "budget_execute": dec("budget_execute"),
        "periode_execution": _multiline(content.get("periode_execution")),
        "fapi": True if fapi_text.startswith("oui") else False if fapi_text.startswith("non") else None,
        "ventilation": tuple(VentilationLine(lib, v) for lib, raw in content.get("ventilation", [])
                             if isinstance(v := amount_from_cell(raw), Decimal)),
    }
    return fiche, extra


def _multiline(v: object) -> str:
    return "" if v is None else str(v).strip()


# --- the whole workbook ----------------------------------------------------------------

def read_workbook(sheet_names: list[str], read_sheet: Callable[[str], Grid], path: str,
                  credits: Optional[Decimal] = None, report: Optional[Decimal] = None) -> ReadResult:
    """Read a maquette workbook through any adapter's ``read_sheet``."""
    params: dict[str, object] = {}
    extra_codes: list[str] = []
    if L.PARAMETRES in sheet_names:
        params, extra_codes = read_parametres(read_sheet(L.PARAMETRES))
    default_rule = _regle(params.get(L.P_REGLE), SplitRule.PARITE)
    ordered = ([L.MAQUETTE] if L.MAQUETTE in sheet_names else []) + [
        s for s in sheet_names if s not in (L.MAQUETTE, L.PARAMETRES, L.CONTROLES, L.JOURNAL, L.INDICATEURS)]
    table_read = None
    fiche_grids: dict[str, Grid] = {}
    for s in ordered:
        grid = read_sheet(s)
        if s != L.MAQUETTE and is_fiche_sheet(grid):
            fiche_grids[s] = grid
            continue
        if table_read is None:
            table_read = read_table(grid, s, default_rule)
    if table_read is None:
        raise NoMaquette(path, "aucune maquette financière reconnaissable : pas de ligne d'en-têtes "
                         "(« Intitulé de l'action », « Budget global », « Participation État »…) dans les "
                         f"{L.HEADER_SCAN_ROWS} premières lignes d'une feuille.")
    actions, table, subtotals, total = table_read
    findings: list[Finding] = []

    indicators = read_indicateurs(read_sheet(L.INDICATEURS)) if L.INDICATEURS in sheet_names else {}
    fiches: dict[tuple[Bloc, str], FicheSheet] = {}
    contents: dict[tuple[Bloc, str], dict] = {}
    orphans: list[FicheSheet] = []
    keys = {a.key for a in actions}
    for s, grid in fiche_grids.items():
        fs, content = read_fiche(grid, s)
        key = (fs.bloc, fs.numero)
        if fs.bloc is not None and key in keys and key not in fiches:
            fiches[key], contents[key] = fs, content
        else:
            orphans.append(fs)
    merged = []
    for a in actions:
        upd: dict = {"indicateurs": tuple(indicators.get(a.key, ()))}
        if a.key in contents:
            fiche, extra = fiche_from_content(contents[a.key])
            upd.update(fiche=fiche, **extra)
        merged.append(replace(a, **upd))

    def param_amount(key: str, override: Optional[Decimal]) -> Optional[Decimal]:
        if override is not None:
            return override
        v = amount_from_cell(params.get(key))
        if isinstance(v, Unreadable):
            findings.append(Finding("PARAMETRE_ILLISIBLE", severity("PARAMETRE_ILLISIBLE"),
                                    f"« {v.raw} » n'est pas un montant lisible pour « {L.PARAM_LABELS[key]} ».",
                                    Where(sheet=L.PARAMETRES)))
            return None
        return v

    annee_raw = params.get(L.P_ANNEE)
    try:
        annee = int(str(annee_raw).strip()[:4]) if annee_raw not in (None, "") else 0
    except ValueError:
        annee = 0
    maquette = Maquette(
        departement=_text(params.get(L.P_DEPARTEMENT)),
        annee=annee,
        actions=tuple(merged),
        credits_etat=param_amount(L.P_CREDITS, credits),
        report_etat_notifie=param_amount(L.P_REPORT, report),
        regle_defaut=default_rule,
        sous_totaux_saisis=subtotals,
        total_saisi=total,
    )
    for fs in orphans:
        findings.append(Finding("FICHE_ORPHELINE", severity("FICHE_ORPHELINE"),
                                f"La feuille « {fs.sheet} » est la fiche d'une action absente de la maquette "
                                f"({fs.numero or 'sans N°'}) : elle est conservée telle quelle.",
                                Where(bloc=fs.bloc, sheet=fs.sheet, cell="A1")))
    return ReadResult(maquette, table, fiches, extra_codes, findings)
