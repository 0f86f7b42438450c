"""Reading the maquette table wherever it is, and saying when the reading is
unsure.

The header row is found in the first rows, its labels matched whatever their
accents, case, line breaks or the annex's typos; a header split over two
rows ("Participation" merged above "Etat" / "CD", as PDF-to-Excel exports
give it) is read as one. Bloc labels, thèmes and Chorus codes merged over
several rows are shared by their rows; an amount merged over several cells
is not (it cannot be told to which action it belongs): it is reported and
never counted. A required column that is missing, a column found twice,
amounts below the total: each is an error finding, never a partial read with
a clean verdict. A formula whose result the file does not hold is reported,
never read as blank.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Optional

from ..core.catalogue import severity
from ..core.findings import Finding, Where
from ..core.model import Action, Bloc, Chorus, Column, SplitRule, normalize_chorus, normalize_numero
from ..core.money import ABSENT, MERGED, NO_VALUE, Unreadable, amount_from_cell
from . import layout as L
from .a1 import parse_ref
from .port import Formula, Grid

MIN_HEADER_MATCHES = 5
#: the columns without which the checks cannot be trusted
REQUIRED = (L.F_NUMERO, L.F_INTITULE, L.F_CHORUS) + L.AMOUNT_FIELDS


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
    #: amount cells of action rows as read: the value, or Formula(text, cached value) for a formula cell
    raw: dict[tuple[int, int], object] = field(default_factory=dict)
    #: amount cells inside a merged range of several cells -> the range ("F5:F6"): never written
    merged: dict[tuple[int, int], str] = field(default_factory=dict)
    #: amount cells inside an array formula over several cells -> its range: read, never written
    arrays: dict[tuple[int, int], str] = field(default_factory=dict)
    #: False when the engine gives values only (the xlwings remote engine): a value may be a formula's
    formulas_known: bool = True
    #: the amount cells this run writes (Recalculer): what their saved values become is known
    written: set = field(default_factory=set)
    #: the year of a multi-year maquette these columns are (None: a yearly maquette)
    annee: Optional[int] = None

    def cell(self, row: int, field_key: str) -> Optional[str]:
        col = self.cols.get(field_key)
        return L.a1(row, col) if col else None

    @property
    def complete(self) -> bool:
        """Whether every amount column was found: Recalculer derives nothing
        from a table it read in part (COLONNE_ABSENTE)."""
        return all(f in self.cols for f in L.AMOUNT_FIELDS)


_SPACES = re.compile(r"[ \t]+")


def text(v: object) -> str:
    """A cell as one line of text ("" for blank)."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    s = str(v)
    if "\n" in s or "\r" in s:
        s = s.replace("\r", "").replace("\n", " ")
    return _SPACES.sub(" ", s).strip() if ("  " in s or "\t" in s) else s.strip()


def chorus_of(value: str) -> Optional[Chorus]:
    if not value:
        return None
    m = re.match(r"^\s*([\d][\d\s.\-]*\d)\s*(?:[-–:]\s*(.*))?$", value)
    if m:
        code = normalize_chorus(m.group(1))
        return Chorus(code, (m.group(2) or "").strip())
    return Chorus(value, "")


def rule_of(v: object, default: SplitRule) -> SplitRule:
    """The split rule a Répartition cell names ("parité", "libre", "100 % État", "CD au moins 50 %")."""
    s = L.normalize_label(v)
    if s.startswith("libre"):
        return SplitRule.LIBRE
    if s.startswith("parit"):
        return SplitRule.PARITE
    if "100" in s and "etat" in s:
        return SplitRule.ETAT_100
    if s.startswith("cd") and "50" in s:
        return SplitRule.CD_MAJORITAIRE
    return default


# --- the header ------------------------------------------------------------------------------

@dataclass
class Header:
    row: int
    cols: dict[str, int]
    duplicates: dict[str, list[int]]
    two_rows: bool = False


def _labels(grid: Grid, r: int, profile=None) -> tuple[dict[int, str], bool]:
    """The header labels of row ``r``: each cell's own text when it is a
    header, else the text above it joined to it (a group label over two
    rows: "Participation" + "Etat"). ``grid`` has its merges filled."""
    out, joined = {}, False
    for c in range(1, grid.n_cols + 1):
        below = text(grid.get(r, c))
        above = text(grid.get(r - 1, c)) if r > 1 else ""
        if below and L.match_header(below, profile):
            out[c] = below
        elif below and above and above != below and L.match_header(f"{above} {below}", profile):
            out[c], joined = f"{above} {below}", True
        elif below:
            out[c] = below
    return out, joined


_YEAR = re.compile(r"(20[0-9]{2})\s*$")


def find_header(grid: Grid, years: tuple[int, ...] = (), profile=None) -> Optional[Header]:
    """The row (in the first rows) where the most headers are recognised.
    ``years``: a multi-year maquette's years — an amount header ending with one
    of them ("Participation État 2025") is that year's column ("part_etat@2025")."""
    best: Optional[Header] = None
    for r in range(1, min(grid.n_rows, L.HEADER_SCAN_ROWS) + 1):
        labels, joined = _labels(grid, r, profile)
        cols: dict[str, int] = {}
        dups: dict[str, list[int]] = {}
        for c, label in labels.items():
            key = L.match_header(label, profile)
            if key is None:
                continue
            if years and key in L.AMOUNT_FIELDS:
                m = _YEAR.search(label)
                if m and int(m.group(1)) in years:
                    key = f"{key}@{m.group(1)}"
            if key in cols:
                dups.setdefault(key, []).append(c)
            else:
                cols[key] = c
        if len(cols) >= MIN_HEADER_MATCHES and (best is None or len(cols) > len(best.cols)):
            best = Header(r, cols, dups, joined)
    return best


# --- the rows ---------------------------------------------------------------------------------

def _merged_amounts(grid: Grid, header_row: int, amount_cols: set[int]) -> dict[tuple[int, int], str]:
    """Amount cells (below the header) inside a merged range of several cells."""
    out: dict[tuple[int, int], str] = {}
    for r1, c1, r2, c2 in grid.merged:
        if (r1, c1) == (r2, c2) or r2 <= header_row:
            continue
        cols = [c for c in amount_cols if c1 <= c <= c2]
        if not cols:
            continue
        ref = f"{L.a1(r1, c1)}:{L.a1(r2, c2)}"
        for r in range(max(r1, header_row + 1), min(r2, grid.n_rows) + 1):
            for c in cols:
                out[(r, c)] = ref
    return out


def _amount(grid: Grid, r: int, c: int, merged: dict, arrays: Optional[dict] = None) -> object:
    """A cell's amount: a merged one is unreadable (its action is unknown), a
    formula without stored result is unreadable (never a blank) — a cell of
    an array formula that the file does not even hold, too."""
    if (r, c) in merged:
        return Unreadable(merged[(r, c)], MERGED)
    v = grid.get(r, c)
    if arrays and (r, c) in arrays and v is None and grid.formulas_known and not grid.formula(r, c):
        anchor = parse_ref(arrays[(r, c)].split(":")[0])
        text = grid.formula(*anchor) if anchor else None
        return Unreadable("=" + text if text else arrays[(r, c)], NO_VALUE)
    if v is None and grid.formulas_known:
        f = grid.formula(r, c)
        if f:
            return Unreadable("=" + f, NO_VALUE)
    return amount_from_cell(v)


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


def year_cols(cols: dict[str, int], year: Optional[int]) -> dict[str, int]:
    """The columns of one year of a multi-year maquette (its fixed columns and
    that year's amounts, by their plain keys); ``year`` None: as they are."""
    if year is None:
        return {k: c for k, c in cols.items() if "@" not in k}
    out = {k: c for k, c in cols.items() if "@" not in k}
    suffix = f"@{year}"
    out.update({k[: -len(suffix)]: c for k, c in cols.items() if k.endswith(suffix)})
    return out


def read_tables(grid: Grid, sheet: str, default_rule: Optional[SplitRule] = None, profile=None):
    """The maquette table, per year: [(year or None, (actions, layout, typed
    sub-totals, typed total, findings))] — one item for a yearly convention, one
    per year of a multi-year one (a group of amount columns each) — or None
    when the sheet has no header row."""
    if profile is None:
        from ..core.profile import profile as shipped  # noqa: PLC0415
        profile = shipped()
    grid = grid.with_merges_filled()
    years = profile.years if profile.pluriannuel else ()
    header = find_header(grid, years, profile)
    if header is None:
        return None
    if not years:
        return [(None, _read_rows(grid, sheet, header, header.cols, default_rule, profile, None))]
    return [(y, _read_rows(grid, sheet, header, year_cols(header.cols, y), default_rule, profile, y)) for y in years]


def read_table(grid: Grid, sheet: str, default_rule: Optional[SplitRule] = None, profile=None):
    """(actions, layout, typed sub-totals, typed total, findings) of a yearly
    maquette table (the first year of a multi-year one), or None."""
    tables = read_tables(grid, sheet, default_rule, profile)
    return tables[0][1] if tables else None


def _read_rows(grid: Grid, sheet: str, header: Header, cols: dict[str, int], default_rule: Optional[SplitRule],
               profile, year: Optional[int]):
    header_row = header.row
    findings = _header_findings(sheet, header, cols, year)
    amount_cols = {f: c for f, c in cols.items() if f in L.AMOUNT_FIELDS}
    # a column not found is not a column of zeros: its amounts are unknown (COLONNE_ABSENTE says why)
    absent = {Column(f): Unreadable("", ABSENT) for f in L.AMOUNT_FIELDS if f not in amount_cols}
    first_col = min(cols.values())
    groups = profile.groupes
    exclusive = {g.imputation: g for g in groups if g.imputation}
    default_theme = {t.groupe: t.libelle for t in profile.themes if not t.numero}
    # the bloc label column: named "Bloc", or an unnamed column left of the table
    bloc_col = cols.get(L.F_BLOC)
    if bloc_col is None:
        for c in range(1, first_col):
            if any(L.bloc_of_label(grid.get(r, c), profile) for r in range(header_row + 1, grid.n_rows + 1)):
                bloc_col = c
                break
    table = TableLayout(sheet, header_row, cols, bloc_col=bloc_col, formulas_known=grid.formulas_known)
    table.annee = year
    table.merged = _merged_amounts(grid, header_row, set(amount_cols.values()))
    arrays = grid.arrays
    if grid.array_probe is not None:  # live Excel: asked about the amounts holding formulas only
        arrays = grid.array_probe([(r, c) for r in range(header_row + 1, grid.n_rows + 1)
                                   for c in sorted(set(amount_cols.values())) if grid.formula(r, c)])
    table.arrays = _merged_amounts(replace(grid, merged=arrays), header_row, set(amount_cols.values()))
    actions: list[Action] = []
    subtotals: dict[Bloc, dict[Column, object]] = {}
    total: dict[Column, object] = {}
    section = groups[0]
    # An engine that cannot tell merged cells (the xlwings remote engine) gives
    # the annex's merged thème, Chorus and bloc cells on their first row only:
    # an action row then takes them from the action row above. Not in the
    # project's template (it has a Répartition column), where an empty cell is
    # a real omission to report.
    inherit = None
    if not grid.merges_known and L.F_REGLE not in cols:
        inherit = {c: None for c in (cols.get(L.F_THEME), cols.get(L.F_CHORUS), bloc_col) if c}
    numero_col = cols.get(L.F_NUMERO)
    for r in range(header_row + 1, grid.n_rows + 1):
        texts = [text(v) for v in (grid.values[r - 1] if r <= grid.n_rows else [])]
        if not any(texts):
            continue
        label_cells = [t for c, t in enumerate(texts, 1) if c not in amount_cols.values() and t]
        numero_raw = grid.get(r, numero_col) if numero_col else None
        kind = next((k for k in (L.total_kind(t, profile) for t in label_cells) if k), None)
        if kind and kind[0] == "intermediaire" and (not text(numero_raw) or L.total_kind(numero_raw, profile)):
            label = next(t for t in label_cells if L.total_kind(t, profile))
            findings.append(_finding("TOTAL_INTERMEDIAIRE", f"La ligne {r} (« {label[:60]} ») est un total "
                                     "intermédiaire : elle n'est ni une action ni contrôlée.", sheet,
                                     L.a1(r, numero_col or first_col)))
            continue
        if kind and (not text(numero_raw) or L.total_kind(numero_raw, profile)):
            values = {**absent, **{Column(f): _amount(grid, r, c, {}) for f, c in amount_cols.items()}}
            table.last_row = r
            if kind[0] == "total":
                total, table.total_row = values, r
                findings += _after_total(grid, sheet, r, numero_col, amount_cols)
                break
            bloc = kind[1] or section
            subtotals[bloc], table.subtotal_rows[bloc] = values, r
            following = groups[groups.index(bloc) + 1:] if bloc in groups else ()
            section = following[0] if following else section  # the next group follows its sub-total
            continue
        intitule = text(grid.get(r, cols[L.F_INTITULE])) if L.F_INTITULE in cols else ""
        if grid.formulas_known:
            typed = any(grid.get(r, c) is not None and grid.formula(r, c) is None for c in amount_cols.values())
        else:  # values only: the zeros of an empty template row's formulas are not a typed amount
            typed = any(grid.get(r, c) not in (None, "", 0) for c in amount_cols.values())
        if not (text(numero_raw) or intitule or typed):
            continue  # an empty row of the template (its formulas alone do not make an action)
        amounts = {**absent, **{Column(f): _amount(grid, r, c, table.merged, table.arrays)
                                for f, c in amount_cols.items()}}
        if inherit is not None:
            _inherit_merged(grid, r, inherit)
        chorus = chorus_of(text(grid.get(r, cols[L.F_CHORUS]))) if L.F_CHORUS in cols else None
        if chorus is not None and not chorus.libelle and chorus.normalized in profile.imputations:
            chorus = Chorus(chorus.code, profile.imputations[chorus.normalized])
        theme = text(grid.get(r, cols[L.F_THEME])) if L.F_THEME in cols else ""
        bloc = L.bloc_of_label(grid.get(r, bloc_col), profile) if bloc_col else None
        if bloc is None:
            own = exclusive.get(chorus.normalized) if chorus is not None else None
            if own is not None and own != section and groups.index(own) > groups.index(section):
                section = own  # no group label and no sub-total: the imputation tells (CALPAE: « … 10 »)
            bloc = section
            if bloc_col and L.is_unclassed(grid.get(r, bloc_col)):  # « convertir » found it no group
                findings.append(_unclassed(sheet, r, bloc_col, bloc, text(numero_raw), intitule, profile))
        if not theme and bloc.value in default_theme:
            theme = default_theme[bloc.value]
        fallback = default_rule if default_rule is not None and default_rule in bloc.regles else bloc.regle
        regle = rule_of(grid.get(r, cols[L.F_REGLE]), fallback) if L.F_REGLE in cols else fallback
        numero_text = text(numero_raw)
        actions.append(Action(
            bloc=bloc, numero=normalize_numero(numero_text), libelle_numero=numero_text, intitule=intitule,
            theme=theme, chorus=chorus, regle=regle, **{c.value: v for c, v in amounts.items()}))
        table.action_rows.append(r)
        table.last_row = r
        if r in grid.hidden_rows:
            findings.append(_finding("LIGNE_MASQUEE", f"La ligne {r} ({numero_text or intitule[:40]}) est masquée : "
                                     "elle est lue et comptée comme les autres, mais ne se voit pas à l'écran ni à "
                                     "l'impression.", sheet, L.a1(r, numero_col or first_col)))
        for c in amount_cols.values():
            f = grid.formula(r, c)
            table.raw[(r, c)] = Formula(f, grid.get(r, c)) if f else grid.get(r, c)
    return actions, table, subtotals, total, findings


def _unclassed(sheet: str, r: int, col: int, bloc: Bloc, numero: str, intitule: str, profile) -> Finding:
    what = (numero or f"La ligne {r}") + (f" (« {intitule[:50]} »)" if intitule else "")
    return Finding("ACTION_NON_CLASSEE", severity("ACTION_NON_CLASSEE"),
                   f"{what} : la colonne « {profile.word.capitalize()} » dit « {L.A_CLASSER} » : aucun "
                   f"{profile.word} ne lui est encore choisi ; elle est comptée provisoirement dans "
                   f"« {bloc.label} ». Choisissez son {profile.word}.",
                   Where(bloc=bloc, action=normalize_numero(numero) or None, sheet=sheet, cell=L.a1(r, col)),
                   numero or None)


def _finding(code: str, message: str, sheet: str, cell: str) -> Finding:
    return Finding(code, severity(code), message, Where(sheet=sheet, cell=cell))


def _header_findings(sheet: str, header: Header, cols: dict[str, int], year: Optional[int]) -> list[Finding]:
    """A required column not found, or found twice: the reading is unsure, so it is an error."""
    out = []
    where = L.a1(header.row, min(header.cols.values()))
    for key in REQUIRED:
        if key not in cols and (year is None or key in L.AMOUNT_FIELDS):  # fixed columns: said once
            label = L.HEADERS[key] + (f" {year}" if year is not None else "")
            tail = (" ; ses montants ne sont pas lus comme des zéros et « Recalculer » ne modifie pas le tableau"
                    if key in L.AMOUNT_FIELDS else "")
            out.append(_finding("COLONNE_ABSENTE", f"La colonne « {label} » n'a pas été trouvée dans la "
                                f"ligne d'en-têtes (ligne {header.row} de « {sheet} ») : les contrôles qui en "
                                f"dépendent ne sont pas faits{tail}.", sheet, where))
    if year is not None and year != min(int(k.split("@")[1]) for k in header.cols if "@" in k) \
            if any("@" in k for k in header.cols) else False:
        return out  # the doubled columns are said with the first year
    for key, extra in header.duplicates.items():
        for c in extra:
            out.append(_finding("COLONNE_EN_DOUBLE", f"La colonne {L.col_letter(c)} porte le même en-tête que la "
                                f"colonne {L.col_letter(header.cols[key])} (« {L.HEADERS[key]} ») : seule la "
                                f"colonne {L.col_letter(header.cols[key])} est lue.", sheet, L.a1(header.row, c)))
    return out


def _after_total(grid: Grid, sheet: str, total_row: int, numero_col: Optional[int],
                 amount_cols: dict[str, int]) -> list[Finding]:
    """Rows below the TOTAL holding a N° or an amount: not read as actions, so said."""
    rows = []
    for r in range(total_row + 1, grid.n_rows + 1):
        amounts = [amount_from_cell(grid.get(r, c)) for c in amount_cols.values()]
        if (numero_col and text(grid.get(r, numero_col))) or any(a is not None for a in amounts):
            rows.append(r)
    if not rows:
        return []
    shown = ", ".join(str(r) for r in rows[:5]) + (" …" if len(rows) > 5 else "")
    return [_finding("LIGNES_APRES_TOTAL", f"{len(rows)} ligne(s) sous la ligne TOTAL de « {sheet} » portent un N° "
                     f"ou un montant (ligne(s) {shown}) : elles ne sont pas lues comme des actions.", sheet,
                     L.a1(rows[0], numero_col or min(amount_cols.values(), default=1)))]
