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
from ..core.model import (FICHE_TEXT_FIELDS, Bloc, Fiche, FicheBudget, Indicator,
                          IndicatorValue, Maquette, VentilationLine, normalize_numero)
from ..core.money import Unreadable, amount_from_cell
from ..core.receipt import Receipt
from ..core.referential import DEPARTEMENTS
from ..errors import NoMaquette
from .port import Grid
from .table import TableLayout, chorus_of, find_header, read_table, read_tables, rule_of, text

__all__ = ["FicheSheet", "ReadResult", "TableLayout", "find_header", "read_table", "read_workbook"]


@dataclass
class FicheSheet:
    sheet: str
    rows: dict[str, int]  # fiche row key -> row number
    ventilation_rows: list[int]
    ventilation_total_row: Optional[int]
    bloc: Optional[Bloc]
    numero: str
    #: the tool may refresh the title (A1) and the link beside the N°: False when the officer typed there
    title_ours: bool = True
    link_ours: bool = True
    #: the rows whose value is text in the spreadsheet (« 16 000 € » typed): no figure is claimed from them
    text_rows: frozenset = frozenset()


@dataclass
class ReadResult:
    maquette: Maquette
    table: TableLayout
    fiches: dict[tuple[Bloc, str], FicheSheet] = field(default_factory=dict)
    extra_chorus: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    #: role (L.CONTROLES, L.JOURNAL, L.TECH) -> the name of the sheet the project owns for it (existing or to create)
    owned: dict[str, str] = field(default_factory=dict)
    #: the actions the last Recalculer coloured as « libre » (L.action_key), from the technical sheet
    libre_styled: list[str] = field(default_factory=list)
    #: cells Recalculer writes without a cached value (what the spreadsheet shows there is not known)
    unknown: set = field(default_factory=set)
    #: cells Recalculer writes with another value than the one read (a formula reading one is stale)
    changed: set = field(default_factory=set)
    #: the convention (core.profile.Profile)
    profile: object = None
    #: one view per year of a multi-year maquette (the first is this one); [self] for a yearly one
    years: list = field(default_factory=list)
    #: the receipt of the last check written in the workbook (technical sheet), None when there is none
    receipt: Optional[Receipt] = None
    #: the number of the avenant, from the Paramètres (« Avenant n° ») or the title (« Avenant n°3 »); "" unknown
    avenant: str = ""

    def sheet_of(self, role: str) -> str:
        return self.owned.get(role, role)

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
                first = index.get((w.bloc, w.action))
                own = self.table.action_rows[w.index] if w.index is not None and w.index < len(
                    self.table.action_rows) else first
                # the fiche is the first action's of a N°: a duplicate's findings point at its own row
                fiche = self.fiches.get((w.bloc, w.action)) if own == first else None
                fiche_field = {"ventilation": "s_ventilation", "budget_execute": "budget_execute",
                               "indicateurs": "indicateurs"}.get(w.field or "")
                if f.code == "FICHE_ECART" and fiche:
                    fiche_field = "fb_" + {"report": "report_etat", "part_etat": "part_etat", "part_cd": "part_cd",
                                           "autres_financeurs": "autres",
                                           "budget_global": "budget_global"}.get(w.field or "", "part_etat")
                if fiche_field and fiche and fiche_field in fiche.rows:
                    sheet, cell = fiche.sheet, L.a1(fiche.rows[fiche_field], L.FICHE_VALUE_COL)
                elif own:
                    cell = self.table.cell(own, w.field if w.field in self.table.cols else L.F_NUMERO)
            out.append(f.located(sheet, cell))
        return out


# --- Paramètres -----------------------------------------------------------------------

def read_parametres(grid: Grid) -> tuple[dict[str, object], list[str], dict[str, object]]:
    """Key/value rows of the Paramètres sheet, the Chorus codes it lists, and
    every row (normalised label -> value: a group's or a year's credits)."""
    params: dict[str, object] = {}
    codes: list[str] = []
    rows: dict[str, object] = {}
    for r in range(1, grid.n_rows + 1):
        label = L.normalize_label(grid.get(r, L.PARAM_LABEL_COL))
        if not label:
            continue
        rows.setdefault(label, grid.get(r, L.PARAM_VALUE_COL))
        for key, pattern in L.PARAM_PATTERNS.items():
            if key not in params and re.search(pattern, label):
                params[key] = grid.get(r, L.PARAM_VALUE_COL)
                rows["@" + key] = r  # where it is, to point at it
                break
        chorus = chorus_of(text(grid.get(r, L.PARAM_LABEL_COL)))
        if chorus and re.fullmatch(r"\d{4} \d{2} \d{2} \d{2} \d{2}", chorus.normalized):
            codes.append(chorus.normalized)
    return params, codes, rows


# --- Indicateurs ----------------------------------------------------------------------

def read_indicateurs(grid: Grid, profile=None) -> dict[tuple[Bloc, str], list[Indicator]]:
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
        h = text(grid.get(header, c))
        m = re.match(r"^(\d{4})\s+(cible|r[ée]sultat)", h, re.IGNORECASE)
        if m:
            years[c] = (int(m.group(1)), "cible" if m.group(2).lower() == "cible" else "resultat")
        elif L.normalize_label(h) == L.normalize_label(L.IND_COMMENT):
            comment_col = c
    out: dict[tuple[Bloc, str], list[Indicator]] = {}
    for r in range(header + 1, grid.n_rows + 1):
        bloc = L.bloc_of_label(grid.get(r, L.IND_COL_BLOC), profile)
        libelle = text(grid.get(r, L.IND_COL_LIBELLE))
        if bloc is None or not libelle:
            continue
        per_year: dict[int, dict] = {}
        for c, (y, kind) in years.items():
            v = amount_from_cell(grid.get(r, c))
            per_year.setdefault(y, {})[kind] = v if isinstance(v, Decimal) else None
        comment = text(grid.get(r, comment_col)) if comment_col else ""
        valeurs = []
        for y, d in sorted(per_year.items()):
            valeurs.append(IndicatorValue(y, d.get("cible"), d.get("resultat")))
        valeurs = _attach_comment(valeurs, comment)
        out.setdefault((bloc, normalize_numero(grid.get(r, L.IND_COL_NUMERO))), []).append(
            Indicator(libelle, text(grid.get(r, L.IND_COL_UNITE)) or "nombre",
                      tuple(v for v in valeurs if v.has_value or v.commentaire), text(grid.get(r, L.IND_COL_SOURCE))))
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
    return text(grid.get(1, L.FICHE_LABEL_COL)).startswith(L.FICHE_TITLE_PREFIX)


_LABEL_YEAR = re.compile(r"^(.*\S)\s+(20[0-9]{2})$")


def fiche_key(label: str) -> Optional[str]:
    """A fiche row's key from its label; a multi-year fiche's amount row ends
    with its year ("Part État 2025" -> "part_etat@2025")."""
    key = L.FICHE_KEY_BY_LABEL.get(L.normalize_label(label))
    if key is None and (m := _LABEL_YEAR.match(label)):
        base = L.FICHE_KEY_BY_LABEL.get(L.normalize_label(m.group(1)))
        if base in L.FICHE_YEARLY:
            key = f"{base}@{m.group(2)}"
    return key


def read_fiche(grid: Grid, sheet: str, profile=None) -> tuple[FicheSheet, dict]:
    """The fiche's rows by label (robust to renamed sheets) and its typed content."""
    rows: dict[str, int] = {}
    vent_rows: list[int] = []
    vent_total = None
    in_vent = False
    for r in range(1, grid.n_rows + 1):
        label = text(grid.get(r, L.FICHE_LABEL_COL))
        key = fiche_key(label)
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
    text_rows = frozenset(k for k, v in content.items() if isinstance(v, str) and v.strip())
    content["ventilation"] = [(text(grid.get(r, L.FICHE_LABEL_COL)), grid.get(r, L.FICHE_VALUE_COL))
                              for r in vent_rows]
    bloc = L.bloc_of_label(content.get("bloc"), profile)
    numero = normalize_numero(content.get("numero"))
    # the title and the link are the tool's while they say what it wrote (the N° and intitulé rows
    # hold what it wrote last); an officer's own text there is left alone
    title = text(grid.get(1, L.FICHE_LABEL_COL))
    title_ours = title == L.fiche_title(text(content.get("numero")), text(content.get("intitule")))
    link_row = rows.get("numero")
    link_ours = True
    if link_row:
        value, formula = grid.get(link_row, L.FICHE_LINK_COL), grid.formula(link_row, L.FICHE_LINK_COL)
        link_ours = value in (None, "") and not formula or bool(formula and L.FICHE_LINK_TEXT in formula)
    return FicheSheet(sheet, rows, vent_rows, vent_total, bloc, numero, title_ours, link_ours, text_rows), content


FICHE_AMOUNTS = ("fb_part_etat", "fb_report_etat", "fb_part_cd", "fb_report_cd", "fb_autres", "fb_budget_global",
                 "budget_execute")


def fiche_amount_findings(fs: FicheSheet, content: dict) -> list[Finding]:
    """A fiche's amount that is no amount (budget exécuté, amounts quoted by
    the fiche, ventilation lines): said, never dropped in silence."""
    out = []
    cells = [(L.FICHE_ROW_BY_KEY[k.split("@")[0]].label + (f" {k.split('@')[1]}" if "@" in k else ""), k, r,
              content.get(k)) for k, r in fs.rows.items() if k.split("@")[0] in FICHE_AMOUNTS]
    cells += [(f"ventilation « {label or 'sans libellé'} »", f"ventilation:{label}", r, raw)
              for r, (label, raw) in zip(fs.ventilation_rows, content.get("ventilation", []), strict=False)]
    for what, key, row, raw in cells:
        v = amount_from_cell(raw)
        if isinstance(v, Unreadable):
            out.append(Finding("FICHE_MONTANT_ILLISIBLE", severity("FICHE_MONTANT_ILLISIBLE"),
                               f"Fiche « {fs.sheet} », {what} : « {v.raw[:60]} » n'est pas un montant lisible ; il "
                               "n'est pas pris en compte.", Where(bloc=fs.bloc, action=fs.numero, field=key,
                                                                  sheet=fs.sheet, cell=L.a1(row, L.FICHE_VALUE_COL))))
    return out


def fiche_from_content(content: dict, year: Optional[int] = None) -> tuple[Fiche, dict]:
    """Fiche narrative + the action fields that live on the fiche sheet (of
    ``year``, for the rows a multi-year fiche has per year)."""
    def dec(key):
        if year is not None and key in L.FICHE_YEARLY:
            key = f"{key}@{year}"
        v = amount_from_cell(content.get(key))
        return v if isinstance(v, Decimal) else None
    fb = FicheBudget(dec("fb_part_etat"), dec("fb_report_etat"), dec("fb_part_cd"), dec("fb_report_cd"),
                     dec("fb_autres"), dec("fb_budget_global"))
    has_fb = any(getattr(fb, k) is not None for k in FicheBudget.__dataclass_fields__)
    fiche = Fiche(**{k: _multiline(content.get(k)) for k in FICHE_TEXT_FIELDS}, budget=fb if has_fb else None)
    fapi_text = L.normalize_label(content.get("fapi"))
    extra = {
        "budget_execute": dec("budget_execute"),  # of the year, on a multi-year fiche
        "periode_execution": _multiline(content.get("periode_execution")),
        "fapi": True if fapi_text.startswith("oui") else False if fapi_text.startswith("non") else None,
        "ventilation": tuple(VentilationLine(lib, v) for lib, raw in content.get("ventilation", [])
                             if isinstance(v := amount_from_cell(raw), Decimal)),
    }
    return fiche, extra


def _multiline(v: object) -> str:
    return "" if v is None else str(v).strip()


def renumbered(orphans: list[tuple[FicheSheet, dict]], actions, fiches: dict) -> list[tuple[FicheSheet, dict, object]]:
    """The fiches left without their action whose action was renumbered: an
    action of the same bloc, without a fiche, with the same intitulé (as
    ``comparer`` recognises a renumbering) — one fiche for one action, never
    a guess between several."""
    def same(text: object) -> str:
        return L.normalize_label(text)
    free = [a for a in actions if a.key not in fiches and a.intitule.strip()]
    candidates = {id(fs): [a for a in free if a.bloc is fs.bloc and same(a.intitule) == same(content.get("intitule"))]
                  for fs, content in orphans if fs.bloc is not None and same(content.get("intitule"))}
    taken = [id(a) for c in candidates.values() for a in c]
    out = []
    for fs, content in orphans:
        found = candidates.get(id(fs), [])
        if len(found) == 1 and taken.count(id(found[0])) == 1 and not any(
                a.key == found[0].key for a in actions if a is not found[0]):
            out.append((fs, content, found[0]))
    return out


def named(sheet_names: list[str], name: str) -> Optional[str]:
    """The sheet called ``name`` whatever its accents and case (« Parametres », « PARAMÈTRES »)."""
    if name in sheet_names:
        return name
    want = L.normalize_label(name)
    return next((s for s in sheet_names if L.normalize_label(s) == want), None)


# --- what a title says ----------------------------------------------------------------------

_YEAR = re.compile(r"(?<![0-9])(20[1-4][0-9])(?![0-9])")


def title_guess(titles: list[str]) -> tuple[str, int]:
    """(département, année) named in a maquette's title rows ("Avenant n°3 –
    Loiret – 2020"); ("", 0) for what they do not say. The longest
    département name wins ("Loire-Atlantique" before "Loire")."""
    departement, year = "", 0
    names = sorted(DEPARTEMENTS, key=len, reverse=True)
    for t in titles:
        label = f" {L.normalize_label(t)} "
        if not departement:
            departement = next((d for d in names if f" {L.normalize_label(d)} " in label), "")
        if not year and (m := _YEAR.search(t)):
            year = int(m.group(1))
    return departement, year


# --- the sheets the project owns ----------------------------------------------------------

def owned_sheets(sheet_names: list[str], read_sheet: Callable[[str], Grid]) -> dict[str, str]:
    """Role -> existing sheet the project owns (and may empty). Recognised by
    the registry of the technical sheet and the sheet's own title (its mark),
    or (workbooks of earlier versions) by name and title; a user's own sheet
    that happens to bear one of these names is never taken for ours."""
    out: dict[str, str] = {}
    tech = next((s for s in sheet_names if s.lower() == L.TECH.lower()
                 and text(read_sheet(s).get(1, L.TECH_ERR_COL)) == L.TECH_HEADERS[0]), None)
    if tech is None:
        return out
    out[L.TECH] = tech
    grid = read_sheet(tech)
    registry = [text(grid.get(r, L.TECH_OWNED_COL)) for r in range(2, grid.n_rows + 1)]
    for entry in registry:
        role, _, name = entry.partition("=")
        # the registry names the sheet; its title says it is still ours (a user who deleted the tool's
        # « Journal » and made one of their own under that name keeps it)
        if role in L.OWNED_ROLES and name in sheet_names and role != L.TECH and \
                text(read_sheet(name).get(1, 1)).startswith(L.OWNED_TITLES[role]):
            out[role] = name
    for role in (L.CONTROLES, L.JOURNAL, L.SUIVI):
        if role not in out and role in sheet_names and \
                text(read_sheet(role).get(1, 1)).startswith(L.OWNED_TITLES[role]):
            out[role] = role  # a workbook of an earlier version: no registry yet
    return out


# --- the whole workbook ----------------------------------------------------------------

def _param_cell(rows: dict, key: str) -> Optional[str]:
    r = rows.get("@" + key)
    return L.a1(r, L.PARAM_VALUE_COL) if isinstance(r, int) else None


def _named_profile(ident: str, sheet_names: list[str], read_sheet: Callable[[str], Grid]):
    """(profile, problem) for the id « Paramètres » names: a shipped profile,
    else the user's profile the workbook carries (sheet ``calpae_profil``);
    the CALPAE and the reason when neither is usable."""
    from ..core.profile import ProfileError, profile_from_text, shipped  # noqa: PLC0415
    profiles = shipped()
    if not ident:
        return profiles["calpae"], None
    if ident in profiles:
        return profiles[ident], None
    sheet = named(sheet_names, L.PROFILE_SHEET)
    if not sheet:
        return profiles["calpae"], ("cet outil ne le connaît pas et le classeur n'en porte pas le fichier (feuille "
                                    f"« {L.PROFILE_SHEET} »)")
    grid = read_sheet(sheet)
    raw = "\n".join(text(grid.get(r, 1)) for r in range(1, grid.n_rows + 1))
    try:
        p = profile_from_text(raw, f"feuille {sheet}")
    except ProfileError as e:
        return profiles["calpae"], ("le profil que porte le classeur n'est pas utilisable (" + "; ".join(e.problems)
                                    + ")")
    if p.id != ident:
        return profiles["calpae"], (f"le profil que porte le classeur (feuille « {sheet} ») est « {p.id} », pas "
                                    f"« {ident} »")
    return p, None


def read_workbook(sheet_names: list[str], read_sheet: Callable[[str], Grid], path: str,
                  credits: Optional[Decimal] = None, report: Optional[Decimal] = None,
                  profile=None) -> ReadResult:
    """Read a maquette workbook through any adapter's ``read_sheet``.
    ``profile``: the convention (default: the one « Paramètres » names, else
    the CALPAE). A multi-year maquette gives one view per year (``years``)."""
    if L.REPORT_MARKER in sheet_names:
        raise NoMaquette(path, "c'est un rapport produit par calpae-xl (consolidation ou comparaison), pas une "
                               "maquette")
    params: dict[str, object] = {}
    rows: dict[str, object] = {}
    extra_codes: list[str] = []
    findings: list[Finding] = []
    parametres, indicateurs = named(sheet_names, L.PARAMETRES), named(sheet_names, L.INDICATEURS)
    if parametres:
        params, extra_codes, rows = read_parametres(read_sheet(parametres))
    named_profile = text(params.get(L.P_PROFIL))
    if profile is None:
        profile, problem = _named_profile(named_profile, sheet_names, read_sheet)
        if problem:
            findings.append(Finding("PROFIL_INCONNU", severity("PROFIL_INCONNU"),
                                    f"La feuille « Paramètres » nomme le profil « {named_profile} » : {problem} ; la "
                                    "maquette est lue comme une CALPAE.",
                                    Where(sheet=parametres, cell=_param_cell(rows, L.P_PROFIL))))
    elif named_profile and named_profile != profile.id:
        findings.append(Finding("PROFIL_DIFFERENT", severity("PROFIL_DIFFERENT"),
                                f"La maquette est lue avec le profil « {profile.id} » demandé, mais sa feuille "
                                f"« Paramètres » nomme le profil « {named_profile} ».",
                                Where(sheet=parametres, cell=_param_cell(rows, L.P_PROFIL))))
    default_rule = rule_of(params.get(L.P_REGLE), None) if params.get(L.P_REGLE) not in (None, "") else None
    owned = owned_sheets(sheet_names, read_sheet)
    ordered = ([L.MAQUETTE] if L.MAQUETTE in sheet_names else []) + [
        s for s in sheet_names if s not in (L.MAQUETTE, parametres, indicateurs, *owned.values())
        and L.normalize_label(s) != L.normalize_label(L.PROFILE_SHEET)]
    tables = None
    others: list[str] = []  # other sheets holding a maquette table
    fiche_grids: dict[str, Grid] = {}
    for s in ordered:
        grid = read_sheet(s)
        if s != L.MAQUETTE and is_fiche_sheet(grid):
            fiche_grids[s] = grid
            continue
        if tables is None:
            tables = read_tables(grid, s, default_rule, profile)
        elif find_header(grid.with_merges_filled(), profile=profile) is not None:
            others.append(s)
    if tables is None:
        raise NoMaquette(path, "aucune maquette financière reconnaissable : pas de ligne d'en-têtes "
                         "(« Intitulé de l'action », « Budget global », « Participation État »…) dans les "
                         f"{L.HEADER_SCAN_ROWS} premières lignes d'une feuille.")
    first_table = tables[0][1][1]
    for s in others:
        findings.append(Finding("PLUSIEURS_MAQUETTES", severity("PLUSIEURS_MAQUETTES"),
                                f"La feuille « {s} » contient aussi un tableau de maquette : seule la feuille "
                                f"« {first_table.sheet} » est lue et contrôlée.", Where(sheet=s, cell="A1")))
    first_named: dict[str, str] = {}
    for s in sheet_names:  # a program can write them; Excel compares sheet names regardless of case
        other = first_named.setdefault(s.lower(), s)
        if other != s:
            findings.append(Finding("FEUILLES_HOMONYMES", severity("FEUILLES_HOMONYMES"),
                                    f"Les feuilles « {other} » et « {s} » ne diffèrent que par les majuscules : Excel "
                                    "n'admet pas deux tels noms et répare le classeur à l'ouverture. Renommez l'une "
                                    "des deux.",
                                    Where(sheet=s, cell="A1")))

    indicators = read_indicateurs(read_sheet(indicateurs), profile) if indicateurs else {}
    fiches: dict[tuple[Bloc, str], FicheSheet] = {}
    contents: dict[tuple[Bloc, str], dict] = {}
    orphans: list[tuple[FicheSheet, dict]] = []
    actions = tables[0][1][0]  # the actions (the first year's, for a multi-year maquette: the same actions)
    keys = {a.key for a in actions}
    for s, grid in fiche_grids.items():
        fs, content = read_fiche(grid, s, profile)
        key = (fs.bloc, fs.numero)
        if fs.bloc is not None and key in keys and key not in fiches:
            fiches[key], contents[key] = fs, content
            findings += fiche_amount_findings(fs, content)
        else:
            orphans.append((fs, content))
    for fs, content, a in renumbered(orphans, actions, fiches):  # same intitulé, new N°: the fiche follows
        orphans = [(o, c) for o, c in orphans if o is not fs]
        fiches[a.key], contents[a.key] = replace(fs, numero=a.numero), content
        findings += fiche_amount_findings(fiches[a.key], content)
        findings.append(Finding("FICHE_RENUMEROTEE", severity("FICHE_RENUMEROTEE"),
                                f"La feuille « {fs.sheet} » était la fiche de l'action {fs.numero or 'sans N°'} ; "
                                f"l'action de même intitulé porte maintenant le N° {a.numero} : la fiche lui reste "
                                "rattachée, avec ses textes. « Générer les fiches » met son N° à jour ; renommez la "
                                "feuille si vous le souhaitez.", Where(bloc=a.bloc, sheet=fs.sheet, cell="A1")))

    def param_amount(key: str, override: Optional[Decimal], raw: object = None, label: str = "") -> Optional[Decimal]:
        if override is not None:
            return override
        v = amount_from_cell(params.get(key) if raw is None else raw)
        if isinstance(v, Unreadable):
            label = label or L.PARAM_LABELS[key]
            findings.append(Finding("PARAMETRE_ILLISIBLE", severity("PARAMETRE_ILLISIBLE"),
                                    f"« {v.raw} » n'est pas un montant lisible pour « {label} ».",
                                    Where(sheet=parametres)))
            return None
        return v

    annee_raw = params.get(L.P_ANNEE)
    try:
        annee = int(str(annee_raw).strip()[:4]) if annee_raw not in (None, "") else 0
    except ValueError:
        annee = 0
    departement = text(params.get(L.P_DEPARTEMENT))
    if not (departement and annee):  # no Paramètres: the title above the table often says both
        above = read_sheet(first_table.sheet).values[:first_table.header_row - 1]
        titles = [text(v) for row in above for v in row if text(v)] + [first_table.sheet]
        guessed_dep, guessed_year = title_guess(titles)
        departement, annee = departement or guessed_dep, annee or guessed_year
    base_credits = param_amount(L.P_CREDITS, credits)
    base_report = param_amount(L.P_REPORT, report)
    group_credits = {}
    if not profile.fongible:
        for g in profile.groupes:
            raw = _param_for(rows, "credits", g.label, g.value)
            if raw is not None:
                v = param_amount(L.P_CREDITS, None, raw, f"Crédits État notifiés — {g.label}")
                if v is not None:
                    group_credits[g.value] = v
        if credits is None and group_credits:  # each group's own credits: the convention's are their sum
            base_credits = sum(group_credits.values(), Decimal(0))
    views = []
    for year, (actions, table, subtotals, total, year_findings) in tables:
        merged, seen = [], set()
        for a in actions:
            upd: dict = {"indicateurs": tuple(indicators.get(a.key, ()))}
            if a.key in contents and a.key not in seen:  # a N° given twice: the fiche is the first action's
                fiche, extra = fiche_from_content(contents[a.key], year)
                upd.update(fiche=fiche, **extra)
            seen.add(a.key)
            merged.append(replace(a, **upd))
        yearly_credits, yearly_report = base_credits, base_report
        if year is not None:
            raw = _param_for(rows, "credits", str(year))
            if raw is not None and credits is None:
                yearly_credits = param_amount(L.P_CREDITS, None, raw, f"Crédits État notifiés {year}")
            raw = _param_for(rows, "report", str(year))
            if raw is not None and report is None:
                yearly_report = param_amount(L.P_REPORT, None, raw, f"Report N-1 État notifié {year}")
        maquette = Maquette(
            departement=departement,
            annee=year or annee,
            actions=tuple(merged),
            credits_etat=yearly_credits,
            report_etat_notifie=yearly_report,
            regle_defaut=default_rule or profile.first.regle,
            profile=profile,
            credits_groupes=group_credits,
            sous_totaux_saisis=subtotals,
            total_saisi=total,
        )
        views.append((maquette, table, year_findings))
    maquette, table, year_findings = views[0]
    findings += year_findings
    for fs, _content in orphans:
        bloc = f" ({fs.bloc.label.lower()})" if fs.bloc else ""
        findings.append(Finding("FICHE_ORPHELINE", severity("FICHE_ORPHELINE"),
                                f"La feuille « {fs.sheet} » est la fiche de l'action {fs.numero or 'sans N°'}{bloc}, "
                                "qui n'est plus dans la maquette : elle est conservée telle quelle. Si l'action a été "
                                "retirée, supprimez la feuille ; si elle a changé de N°, saisissez son nouveau N° "
                                "dans la ligne « Fiche action N° » de la feuille : la fiche lui sera rattachée.",
                                Where(bloc=fs.bloc, sheet=fs.sheet, cell="A1")))
    libre_styled = []
    receipt = None
    if L.TECH in owned:
        grid = read_sheet(owned[L.TECH])
        libre_styled = [k for r in range(2, grid.n_rows + 1) if (k := text(grid.get(r, L.TECH_LIBRE_COL)))]
        receipt = read_receipt(grid)
    avenant = avenant_of(params.get(L.P_AVENANT)) or avenant_of(" ".join(
        text(v) for r in range(1, table.header_row) for v in read_sheet(table.sheet).values[r - 1] if text(v)))
    result = ReadResult(maquette, table, fiches, extra_codes, findings,
                        {role: owned.get(role) or L.owned_name(role, sheet_names) for role in L.OWNED_ROLES},
                        libre_styled, profile=profile, receipt=receipt, avenant=avenant)
    result.years = [result] + [replace(result, maquette=m, table=t, findings=f, years=[]) for m, t, f in views[1:]]
    return result


def _param_for(rows: dict[str, object], kind: str, *names: str) -> object:
    """The value of a « Paramètres » row whose label begins with ``kind``
    ("credits", "report") and names one of ``names`` (a group, a year)."""
    wanted = [L.normalize_label(n) for n in names if n]
    for label, value in rows.items():
        if label.startswith(kind) and any(f" {w}" in f" {label} " or label.endswith(w) for w in wanted):
            return value
    return None


def read_receipt(tech: Grid) -> Optional[Receipt]:
    """The check receipt kept in the technical sheet (None: none, or unusable)."""
    return Receipt.from_lines(text(tech.get(r, L.TECH_RECEIPT_COL)) for r in range(2, tech.n_rows + 1))


_AVENANT = re.compile(r"avenant\s*(?:n\s*[°o]?\.?\s*)?(\d+)", re.IGNORECASE)


def avenant_of(value: object) -> str:
    """'3' from « Avenant n°3 », « avenant no 3 », 3; "" when no number is said."""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    s = text(value)
    if s.isdigit():
        return str(int(s))
    m = _AVENANT.search(s)
    return str(int(m.group(1))) if m else ""
