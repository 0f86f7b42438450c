"""The workbook layout, in one place: sheet names, every position of the
sheets the project writes (rows, columns, button cells), headers and their
aliases, fiche labels, styles and number formats. Nothing else in the project
writes an "E3"-style address from its head: positions come from here or from
what the reader found.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from dataclasses import dataclass
from typing import Optional

from ..core.model import Bloc, Column
from ..core.referential import DEPARTEMENTS
from .a1 import a1, col_letter, sheet_ref

__all__ = ["a1", "col_letter", "sheet_ref"]  # the A1 helpers, re-exported: positions and references go together

# --- sheets -----------------------------------------------------------------
PARAMETRES = "Paramètres"
MAQUETTE = "Maquette"
CONTROLES = "Contrôles"
JOURNAL = "Journal"
SUIVI = "Suivi de l'exécution"
INDICATEURS = "Indicateurs"
FICHE_PREFIX = "Fiche"

INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
MAX_SHEET_NAME = 31

# --- number formats -----------------------------------------------------------
EUR_FORMAT = '#,##0.00\\ "€";[Red]\\-#,##0.00\\ "€"'
PERCENT_FORMAT = "0.0%"
#: the Indicateurs values: a thousands separator (integers), two decimals at most (others)
IND_INT_FORMAT, IND_DEC_FORMAT = "#,##0", "#,##0.0#"

# --- colours (ARGB without alpha) -----------------------------------------------
INPUT_FILL = "FFF8DC"  # light yellow: the user types here
COMPUTED_FILL = "EDEDED"  # grey: Recalculer writes here
HEADER_FILL = "1F4E78"
HEADER_FONT = "FFFFFF"
TOTAL_FILL = "D9E1F2"
SEVERITY_FILL = {"erreur": "FFC7CE", "avertissement": "FFEB9C", "info": "DDEBF7"}
SEVERITY_FONT = {"erreur": "9C0006", "avertissement": "9C5700", "info": "1F4E78"}

# Marker of the conditional-format rules of the first version (one rule per
# run, listing the cells): they are removed when a sheet gets the current rules.
HIGHLIGHT_MARKER = '"calpae_xl"<>""'

# --- styles, engine-neutral -------------------------------------------------------
# Each adapter turns these into its own objects (openpyxl Font/PatternFill, or
# xlwings range properties). Keys: fill, font_color, bold, italic, size, wrap,
# valign, halign, border, number_format. A style that sets the font names it
# (FONT_NAME: a font without a name prints in another family, a serif in LibreOffice).
FONT_NAME = "Calibri"
STYLES: dict[str, dict] = {
    "title": dict(bold=True, size=14, font_color=HEADER_FILL),
    "legend": dict(italic=True, size=9, font_color="595959"),
    "subtitle": dict(italic=True, size=11, font_color=HEADER_FILL),
    "header": dict(bold=True, font_color=HEADER_FONT, fill=HEADER_FILL, border=True, wrap=True,
                   valign="center", halign="center"),
    "input": dict(fill=INPUT_FILL, border=True, wrap=True, valign="top"),
    # the maquette's text cells wrap: Recalculer sets the row heights that fit them
    "row_input": dict(fill=INPUT_FILL, border=True, wrap=True, valign="top"),
    "text_wrap": dict(wrap=True, valign="top"),
    # the other cells of a row whose text wraps: at the top too, else a short code sits at the
    # bottom of its row, level with the start of the next row's message
    "text_top": dict(valign="top"),
    "computed": dict(fill=COMPUTED_FILL, border=True, wrap=True, valign="top"),
    "eur_input": dict(fill=INPUT_FILL, border=True, valign="top", number_format=EUR_FORMAT),
    "eur_computed": dict(fill=COMPUTED_FILL, border=True, valign="top", number_format=EUR_FORMAT),
    "eur": dict(number_format=EUR_FORMAT),
    "pct_computed": dict(fill=COMPUTED_FILL, border=True, number_format=PERCENT_FORMAT),
    "ind_int": dict(fill=INPUT_FILL, border=True, wrap=True, valign="top", number_format=IND_INT_FORMAT),
    "ind_dec": dict(fill=INPUT_FILL, border=True, wrap=True, valign="top", number_format=IND_DEC_FORMAT),
    "total": dict(bold=True, fill=TOTAL_FILL, border=True),
    "section": dict(bold=True, font_color=HEADER_FONT, fill="2E75B6"),
    "fiche_label": dict(bold=True, wrap=True, valign="top", border=True),
    "fiche_input": dict(fill=INPUT_FILL, border=True, wrap=True, valign="top"),
    "fiche_computed": dict(fill=COMPUTED_FILL, border=True, wrap=True, valign="top"),
    "verdict": dict(bold=True),
    "verdict_ok": dict(bold=True, font_color="375623", fill="E2EFDA"),
    **{f"sev_{k}": dict(bold=True, font_color=SEVERITY_FONT[k], fill=v) for k, v in SEVERITY_FILL.items()},
}

#: the hidden sheet that marks a workbook as a report of the project (consolidation,
#: comparison): never read as a maquette
REPORT_MARKER = "calpae_rapport"

# --- the technical sheet ------------------------------------------------------------
# A hidden sheet the project owns: the cells to highlight (one "Sheet!A1" key
# per line, by gravité) and the sheets that already carry the highlight rules.
# Highlights are conditional formats reading these lists, so that a click
# writes one block of keys whatever the number of findings, and the user's
# own cell styles are never touched.
TECH = "calpae_technique"
#: a user's own convention profile (TOML), one line per row of column A: the
#: workbook carries it, so that its buttons read it as the command line did
PROFILE_SHEET = "calpae_profil"
TECH_HEADERS = ("Cellules en erreur", "Cellules en avertissement", "", "Feuilles équipées", "Feuilles de l'outil",
                "Actions colorées en répartition libre", "Reçu du dernier contrôle")
TECH_ERR_COL, TECH_WARN_COL, TECH_RULES_COL, TECH_OWNED_COL, TECH_LIBRE_COL = 1, 2, 4, 5, 6
#: the check receipt (:mod:`calpae_xl.core.receipt`), one « clé=valeur » per line
TECH_RECEIPT_COL = 7


def action_key(bloc, numero: str) -> str:
    """How the technical sheet names an action: 'socle|4.2'."""
    return f"{bloc.value}|{numero}"
RULES_LAST_ROW = 20000  # how far down the project's conditional formats reach
HIGHLIGHT_RANGE = f"A1:AZ{RULES_LAST_ROW}"  # where the highlight rules apply on a sheet


def owned_name(role: str, names) -> str:
    """The name of a sheet the project creates for ``role``: its usual name,
    unless a sheet of the user's already bears it (in any case: Excel refuses
    two names that differ only by case)."""
    taken = {n.lower() for n in names}
    name, i = role, 1
    while name.lower() in taken:
        name = f"{role} (calpae{'' if i == 1 else ' ' + str(i)})"[:MAX_SHEET_NAME]
        i += 1
    return name


def highlight_key(sheet: str, cell: str) -> str:
    return f"{sheet}!{cell.replace('$', '')}"


def highlight_formula(sheet: str, severity_col: int, tech: str = TECH) -> str:
    """The conditional-format formula, relative to A1, true when the cell's key
    is listed in the technical sheet's column for that gravité."""
    name = sheet.replace('"', '""')
    col = col_letter(severity_col)
    return f'COUNTIF({sheet_ref(tech)}!${col}:${col},"{name}!"&ADDRESS(ROW(),COLUMN(),4))>0'

# --- the maquette table ---------------------------------------------------------
# Field keys of the table, in the order of the project's template.
F_BLOC, F_THEME, F_CHORUS, F_NUMERO, F_INTITULE, F_REGLE = "bloc", "theme", "chorus", "numero", "intitule", "regle"
AMOUNT_FIELDS = tuple(c.value for c in Column)
TEMPLATE_FIELDS = (F_BLOC, F_THEME, F_CHORUS, F_NUMERO, F_INTITULE) + AMOUNT_FIELDS + (F_REGLE,)

HEADERS = {
    F_BLOC: "Bloc",
    F_THEME: "Thèmes de la contractualisation",
    F_CHORUS: "Imputation Chorus (code - libellé)",
    F_NUMERO: "Fiche action N°",
    F_INTITULE: "Intitulé de l'action",
    Column.BUDGET_GLOBAL.value: "Budget global de l'action",
    Column.BUDGET_ETAT_CD.value: "Budget État + CD",
    Column.PART_ETAT.value: "Participation État",
    Column.PART_CD.value: "Participation CD",
    Column.REPORT.value: "Report N-1",
    Column.AUTRES.value: "Participation d'autres financeurs le cas échéant",
    F_REGLE: "Répartition",
}

# the titles the project writes above its sheets: "<prefix> — <département> <année>", recomputed from
# « Paramètres » by Recalculer and Contrôler while they are the project's (a title of the officer's own is kept)
MAQUETTE_TITLE_PREFIX = "Maquette financière CALPAE"
IND_TITLE_PREFIX = "Matrice des indicateurs (article 3 de l'avenant)"
TITLE_PLACEHOLDER = "Département"


def maquette_title_prefix(profile=None) -> str:
    """« Maquette financière CALPAE », « Maquette financière Contrat local des solidarités »…"""
    if profile is None or profile.id == "calpae":
        return MAQUETTE_TITLE_PREFIX
    return f"Maquette financière {profile.intitule.split(' (')[0]}"


def ind_title_prefix(profile=None) -> str:
    """The indicators matrix's title: the CALPAE's names its article."""
    return IND_TITLE_PREFIX if profile is None or profile.id == "calpae" else "Matrice des indicateurs"


def title_period(profile, annee: int) -> object:
    """What a title says of the time: the year, or a multi-year contract's span (« 2024-2027 »)."""
    if profile is not None and getattr(profile, "pluriannuel", False):
        return f"{profile.annees[0]}-{profile.annees[1]}"
    return annee


def titled(prefix: str, departement: str, annee) -> str:
    """'Maquette financière CALPAE — Loiret 2020'; what is unknown is left out
    (never "— 0"); nothing known: '… — Département'."""
    tail = " ".join(p for p in ((departement or "").strip(), str(annee) if annee else "") if p)
    return f"{prefix} — {tail or TITLE_PLACEHOLDER}"


@lru_cache(maxsize=1)
def _departements() -> frozenset:
    return frozenset(normalize_label(d) for d in DEPARTEMENTS) | {normalize_label(TITLE_PLACEHOLDER)}


def is_tool_title(text: object, prefix: str) -> bool:
    """Whether a title cell holds what the project wrote there: the prefix,
    then a département (or the placeholder) and/or a year, nothing else."""
    if not isinstance(text, str) or not text.startswith(prefix):
        return False
    rest = text[len(prefix):].strip()
    if not rest:
        return True
    if not rest.startswith("—"):
        return False
    tail = re.sub(r"(^| )0$", "", normalize_label(rest[1:])).strip()  # the year 0 of earlier versions
    if not tail:
        return True
    m = re.fullmatch(r"(.*?) ?(\d{4}(?: \d{4})?)?", tail)  # a year, or a contract's span (« 2024-2027 »)
    dep, year = (m.group(1) or "").strip(), m.group(2)
    return (dep == "" and year is not None) or dep in _departements()


# rows of the Maquette sheet the project creates (a user's maquette is found wherever it is)
MAQUETTE_TITLE_ROW, MAQUETTE_LEGEND_ROW, MAQUETTE_HEADER_ROW = 1, 2, 4
MAQUETTE_FIRST_ROW = MAQUETTE_HEADER_ROW + 1
HEADER_SCAN_ROWS = 40  # the reader looks for the header row in the first rows of a sheet


def template_fields(profile=None) -> tuple[str, ...]:
    """The fields of the project's template for a convention: a multi-year one
    has its amount columns once per year ("budget_global@2025")."""
    if profile is None or not getattr(profile, "pluriannuel", False):
        return TEMPLATE_FIELDS
    fixed = (F_BLOC, F_THEME, F_CHORUS, F_NUMERO, F_INTITULE)
    return fixed + tuple(f"{f}@{y}" for y in profile.years for f in AMOUNT_FIELDS) + (F_REGLE,)


def template_col(field: str, profile=None) -> int:
    """The column of a field in the project's template."""
    return template_fields(profile).index(field) + 1


def template_header(field: str, profile=None) -> str:
    """A column's header in the template: the group word of the convention
    ("Axe"), a year after a multi-year amount ("Participation État 2025")."""
    base, _, year = field.partition("@")
    if base == F_BLOC and profile is not None:
        return profile.word.capitalize()
    if base == Column.REPORT.value and year:
        return f"Report {year}"
    return HEADERS[base] + (f" {year}" if year else "")


# the three buttons, top right of the Maquette sheet, above nothing the table uses:
# (caption, VBA Sub of macros/calpae.bas, name of the shape xlwings Lite binds, cell)
BUTTONS = (("Recalculer", "Recalculer", "xl_recalculer", "N1"),
           ("Contrôler", "Controler", "xl_controler", "P1"),
           ("Générer les fiches", "GenererFiches", "xl_fiches", "R1"))
BUTTON_CELL = {caption: cell for caption, _sub, _shape, cell in BUTTONS}
BUTTON_SHAPE = {caption: shape for caption, _sub, shape, _cell in BUTTONS}

# narrow enough for the printed maquette (A4 landscape, fitted to the width) to stay legible; the
# text columns wrap and their rows get the height that fits them
COLUMN_WIDTHS = {F_BLOC: 12, F_THEME: 26, F_CHORUS: 24, F_NUMERO: 11, F_INTITULE: 40, F_REGLE: 11}
AMOUNT_WIDTH = 16
#: the columns the printed maquette shows (Répartition is the tool's, not the annex's)
PRINTED_FIELDS = (F_BLOC, F_THEME, F_CHORUS, F_NUMERO, F_INTITULE) + AMOUNT_FIELDS


def normalize_label(text: object) -> str:
    """Lower case, no accents, no punctuation, single spaces: how headers are compared."""
    return _normalize(str(text or ""))


@lru_cache(maxsize=16384)  # thèmes, Chorus codes and bloc labels repeat on every row
def _normalize(text: str) -> str:
    s = unicodedata.normalize("NFKD", text)
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    s = s.replace("+", " plus ")
    s = re.sub(r"[^a-z0-9]+", " ", s)
    return re.sub(r"\s+", " ", s).strip()


# Patterns on normalized headers (the seed's own spellings included:
# "Partipation Etat", "Report 2019", multi-line "Imputation chorus (code …)").
HEADER_PATTERNS: tuple[tuple[str, re.Pattern], ...] = tuple(
    (field, re.compile(p))
    for field, p in (
        (F_BLOC, r"^(bloc|axe|volet)s?( de l action)?$"),
        (F_THEME, r"^themes?( de la contractualisation)?\b"),
        (F_CHORUS, r"^(imputation )?chorus\b|^imputation\b|^code chorus\b"),
        (F_NUMERO, r"^(fiche )?action n\b|^fiche action\b|^n( de)? fiche\b|^n( o)?$|^n( de)? l action\b|^numero\b"
                   r"|^fiche n\b"),
        (F_INTITULE, r"^intitule\b|^libelle de l action\b"),
        (Column.BUDGET_GLOBAL.value, r"^budget (global|total)\b|^cout total\b|^montant total\b"),
        (Column.BUDGET_ETAT_CD.value, r"^budget etat plus cd\b|^budget etat et cd\b|^budget etat cd\b"),
        (Column.PART_ETAT.value, r"^(par?t(i|ic|icipation|ipation)?|financement|credits?)( de)?( l)? ?etat\b"),
        (Column.PART_CD.value, r"^(par?t(i|ic|icipation|ipation)?|financement)( du| de la)? ?(cd|departement"
                               r"|conseil departemental|collectivite)\b"),
        (Column.REPORT.value, r"^reports?( n 1| \d{4}| credits)?\b"),
        (Column.AUTRES.value, r"^(participation d )?autres? (financeurs?|financements?|cofinanceurs?)\b"
                              r"|^co ?financements?\b"),
        (F_REGLE, r"^(regle de )?repartition\b"),
    )
)


def match_header(text: object, profile=None) -> Optional[str]:
    """The field a header names: the convention's own headers first (the
    profile's ``[entetes]``, which start the label), then the known spellings."""
    label = normalize_label(text)
    if not label:
        return None
    for field, labels in getattr(profile, "entetes", ()):
        for alias in labels:
            a = normalize_label(alias)
            if label == a or label.startswith(a + " "):
                return field
    for field, pattern in HEADER_PATTERNS:
        if pattern.search(label):
            return field
    return None


# Labels of total rows and of bloc sections.
_GRAND_TOTAL = re.compile(r"^(general|generale|global|globale|de la maquette|de l annexe|des actions)?$")


def total_kind(text: object, profile=None) -> Optional[tuple[str, Optional[Bloc]]]:
    """What a total row label says: ('sous-total', group) — the group of the
    profile it names, or None for the current section —, ('total', None), or
    ('intermediaire', None) for a total of something else (a thème…), which
    is not an action and is not checked; None when the label is no total."""
    if "total" not in str(text or "").lower():  # most cells: no need to normalize
        return None
    s = normalize_label(text)
    sub = s.startswith("sous total")
    if not sub and not (s == "total" or s.startswith("total ")):
        return None
    rest = s[len("sous total"):].strip() if sub else s[len("total"):].strip()
    bloc = bloc_of_label(rest, profile)
    if bloc is not None:
        return ("sous-total", bloc)
    if _GRAND_TOTAL.match(rest):
        return ("sous-total", None) if sub else ("total", None)
    return ("intermediaire", None)


def bloc_of_label(text: object, profile=None) -> Optional[Bloc]:
    """The group of the profile a label names ("Engagements du socle",
    "Initiatives locales (hors socle)", "Axe 2 – …"); CALPAE when no profile."""
    if text is None or not str(text).strip():
        return None
    if profile is None:
        from ..core.profile import profile as shipped  # noqa: PLC0415
        profile = shipped()
    return profile.group_of_label(str(text))


TOTAL_LABEL = "TOTAL"
#: the group cell of an action « convertir » could not place (no line of the mapping gives its axe)
A_CLASSER = "À classer"


def is_unclassed(text: object) -> bool:
    return normalize_label(text).startswith("a classer")

# --- Paramètres -------------------------------------------------------------------
PARAM_TITLE_ROW, PARAM_FIRST_ROW = 1, 3  # the convention's name under the title, on row 2
PARAM_TITLE = "Paramètres de la convention"
PARAM_LABEL_COL, PARAM_VALUE_COL = 1, 2
P_DEPARTEMENT, P_ANNEE, P_CREDITS, P_REPORT, P_REGLE = "departement", "annee", "credits", "report", "regle"
P_PROFIL, P_AVENANT = "profil", "avenant"  # avenant: optional, its number (« N° de l'avenant » | 3)
PARAM_LABELS = {
    P_PROFIL: "Profil de la convention",
    P_DEPARTEMENT: "Département",
    P_ANNEE: "Année de la convention",
    P_CREDITS: "Crédits État notifiés (article 2)",
    P_REPORT: "Report N-1 État notifié (article 2)",
    P_REGLE: "Règle de répartition par défaut",
    P_AVENANT: "N° de l'avenant",
}
PARAM_PATTERNS = {
    P_PROFIL: r"^profil\b",
    P_DEPARTEMENT: r"^departement\b",
    P_ANNEE: r"^annee\b",
    P_CREDITS: r"^credits?\b",
    P_REPORT: r"^report\b",
    P_REGLE: r"\brepartition\b",
    P_AVENANT: r"^(n\w* (de l )?)?avenant\b",
}
REFERENTIAL_TITLE = "Référentiel des imputations Chorus"
THEMES_TITLE = "Thèmes"
# Defined names used by the drop-down lists of the Maquette sheet.
NAME_THEMES, NAME_CHORUS, NAME_REGLES, NAME_BLOCS = "Liste_Themes", "Liste_Chorus", "Liste_Regles", "Liste_Blocs"

# --- Contrôles and Journal -------------------------------------------------------
CONTROLES_HEADERS = ("Gravité", "Code", "Bloc", "Action", "Message", "Cellule", "Statut", "Réponse / justification",
                     "Identifiant du constat")
CONTROLES_WIDTHS = (14, 24, 20, 12, 100, 18, 20, 60, 52)
#: the columns the tool colours by gravité (the answer columns are the Département's)
CONTROLES_FINDING_COLS = 6
#: the Département's answer: a status (drop-down) and a justification, carried from run to run by the
#: finding's identity (last column), never by the row
CONTROLES_STATUS_COL, CONTROLES_ANSWER_COL, CONTROLES_KEY_COL = 7, 8, 9
CONTROLES_TITLE_ROW, CONTROLES_VERDICT_ROW, CONTROLES_SUMMARY_ROW, CONTROLES_HEADER_ROW = 1, 2, 3, 4
CONTROLES_FIRST_ROW = 5  # the findings start here, under the title, the verdict and the headers
# the row colours follow the Gravité column (conditional formats set once, when the sheet is created)
VERDICT_ERRORS = "Des erreurs restent à corriger avant transmission."
VERDICT_OK = "Aucune erreur : la maquette peut être transmise."
VERDICT_JUSTIFIED = ("Toutes les erreurs sont justifiées : la maquette peut être transmise avec ses réponses, que "
                     "l'État examinera.")
JOURNAL_HEADERS = ("Ligne", "Colonne", "Ancienne valeur", "Nouvelle valeur", "Cellule")
CONTROLES_TITLE = "Contrôles de la maquette"
JOURNAL_TITLE = "Journal du dernier recalcul ayant modifié des valeurs"
SUIVI_TITLE = "Suivi de l'exécution, année par année"
#: the sheets the project owns and empties at each run, and how their first cell begins
OWNED_ROLES = (CONTROLES, JOURNAL, TECH, SUIVI)
OWNED_TITLES = {CONTROLES: CONTROLES_TITLE, JOURNAL: JOURNAL_TITLE, TECH: TECH_HEADERS[0], SUIVI: SUIVI_TITLE}
JOURNAL_WIDTHS = (30, 22, 28, 28, 10)  # old and new values alike: either may be a sentence
JOURNAL_TITLE_ROW, JOURNAL_NOTE_ROW, JOURNAL_HEADER_ROW, JOURNAL_FIRST_ROW = 1, 2, 4, 5
JOURNAL_OLD_COL, JOURNAL_NEW_COL = 3, 4  # the amounts, in euros
# Beside the changes (which the next Recalculer replaces), a trace kept run after run: every answered
# finding that disappeared, with its answer and the date it disappeared.
JOURNAL_TRACE_COL = 7
JOURNAL_TRACE_TITLE_ROW = 1
JOURNAL_TRACE_TITLE = "Constats répondus puis disparus"
JOURNAL_TRACE_NOTE = ("Trace conservée d'un recalcul à l'autre : chaque constat auquel une réponse avait été "
                      "donnée et qui a disparu (corrigé), avec sa réponse et la date de sa disparition.")
JOURNAL_TRACE_HEADERS = ("Code", "Bloc", "Action", "Message", "Statut", "Réponse / justification", "Disparu le",
                         "Identifiant du constat")
JOURNAL_TRACE_WIDTHS = (24, 20, 12, 60, 18, 50, 12, 40)

# --- Suivi de l'exécution (written by « suivant », one line per action and year) ---------------
SUIVI_HEADERS = ("Année", "Groupe", "N°", "Intitulé de l'action", "Budget global", "Part État", "Part CD",
                 "Budget exécuté", "Taux d'exécution", "Exécuté État", "Non consommé État", "Report l'année suivante",
                 "Remarque")
SUIVI_WIDTHS = (8, 24, 8, 44, 15, 15, 15, 15, 11, 15, 15, 16, 60)
SUIVI_TITLE_ROW, SUIVI_NOTE_ROW, SUIVI_HEADER_ROW, SUIVI_FIRST_ROW = 1, 2, 4, 5
SUIVI_EUR_COLS = (5, 6, 7, 8, 10, 11, 12)
SUIVI_TAUX_COL = 9

# --- Indicateurs -----------------------------------------------------------------
IND_FIXED = ("Bloc", "Fiche action N°", "Intitulé de l'action", "Indicateur", "Unité", "Source")
IND_WIDTHS = (14, 11, 30, 40, 10, 12)
IND_TITLE_ROW, IND_HEADER_ROW, IND_FIRST_ROW = 1, 3, 4
IND_HEADER_SCAN_ROWS = 10  # the reader finds the header row (the "Indicateur" column) in these rows
IND_COL_BLOC, IND_COL_NUMERO, IND_COL_INTITULE, IND_COL_LIBELLE, IND_COL_UNITE, IND_COL_SOURCE = range(1, 7)
IND_FIRST_YEAR_COL = len(IND_FIXED) + 1


def indicator_year_headers(annee: int) -> list[tuple[int, str, str]]:
    """(year, 'cible'|'resultat', header) for N-1, N and N+1."""
    out = []
    for y in (annee - 1, annee, annee + 1):
        out += [(y, "cible", f"{y} cible"), (y, "resultat", f"{y} résultat")]
    return out


IND_COMMENT = "Commentaire"

# --- fiche sheets ------------------------------------------------------------------


@dataclass(frozen=True)
class FicheRow:
    key: str
    label: str
    kind: str  # "title", "computed", "input", "amount_link", "amount_input", "section", "formula"


FICHE_TITLE_PREFIX = "Fiche action"


def fiche_title(label: str, intitule: str) -> str:
    """The title the tool writes in A1 of a fiche."""
    return f"{FICHE_TITLE_PREFIX} — {label} — {intitule}"
FICHE_ROWS: tuple[FicheRow, ...] = (
    FicheRow("titre", FICHE_TITLE_PREFIX, "title"),
    FicheRow("bloc", "Bloc", "computed"),
    FicheRow("numero", "Fiche action N°", "computed"),
    FicheRow("intitule", "Intitulé de l'action", "computed"),
    FicheRow("theme", "Thème", "computed"),
    FicheRow("chorus", "Imputation Chorus", "computed"),
    FicheRow("description", "Description de l'action", "input"),
    FicheRow("date_mise_en_place", "Date de mise en place de l'action", "input"),
    FicheRow("partenaires", "Partenaires et co-financeurs", "input"),
    FicheRow("duree", "Durée de l'action", "input"),
    FicheRow("s_budget", "Budget prévisionnel (repris de la maquette)", "section"),
    FicheRow("part_etat", "Part État", "amount_link"),
    FicheRow("part_cd", "Part CD", "amount_link"),
    FicheRow("report", "Report N-1 (État + CD)", "amount_link"),
    FicheRow("autres_financeurs", "Autres financeurs", "amount_link"),
    FicheRow("budget_global", "Budget global", "amount_link"),
    FicheRow("budget_commentaire", "Commentaire sur le budget", "input"),
    FicheRow("s_fiche", "Montants mentionnés dans le texte de la fiche", "section"),
    FicheRow("fb_part_etat", "Part État hors report (fiche)", "amount_input"),
    FicheRow("fb_report_etat", "Report N-1 part État (fiche)", "amount_input"),
    FicheRow("fb_part_cd", "Part CD hors report (fiche)", "amount_input"),
    FicheRow("fb_report_cd", "Report N-1 part CD (fiche)", "amount_input"),
    FicheRow("fb_autres", "Autres financeurs (fiche)", "amount_input"),
    FicheRow("fb_budget_global", "Budget global (fiche)", "amount_input"),
    FicheRow("s_execution", "Exécution", "section"),
    FicheRow("budget_execute", "Budget exécuté", "amount_input"),
    FicheRow("periode_execution", "Période d'exécution", "input"),
    FicheRow("taux_execution", "Taux d'exécution", "formula"),
    FicheRow("fapi", "Action déjà financée au titre du FAPI (Oui / Non)", "input"),
    FicheRow("indicateurs", "Indicateurs (feuille Indicateurs)", "computed"),
    FicheRow("bilan", "Bilan d'exécution", "input"),
    FicheRow("perspectives", "Perspectives futures de mise en œuvre", "input"),
    FicheRow("s_ventilation", "Ventilation du budget : libellé / montant", "section"),
)
FICHE_LABEL_COL, FICHE_VALUE_COL, FICHE_LINK_COL = 1, 2, 3
#: the fiche rows whose text is wrapped (long texts)
FICHE_WRAPPED = ("description", "partenaires", "indicateurs", "bilan", "perspectives", "budget_commentaire", "chorus",
                 "intitule", "theme", "date_mise_en_place", "duree")
FICHE_MIN_VENTILATION_ROWS = 3  # empty lines offered under the ventilation of a new fiche
VENTILATION_TOTAL = "Total de la ventilation"
FICHE_LINK_TEXT = "→ ligne de la maquette"
FICHE_WIDTHS = (44, 90, 24)
FICHE_ROW_BY_KEY = {r.key: r for r in FICHE_ROWS}
#: the fiche rows a multi-year fiche has once per year ("Part État 2025")
FICHE_YEARLY = ("part_etat", "part_cd", "report", "autres_financeurs", "budget_global", "budget_execute",
                "taux_execution")


def fiche_rows(years: Optional[tuple[int, ...]] = None) -> tuple[FicheRow, ...]:
    """The rows of a fiche: as FICHE_ROWS for a yearly convention; for a
    multi-year one, each yearly row once per year (key "part_etat@2025")."""
    if not years:
        return FICHE_ROWS
    out: list[FicheRow] = []
    for r in FICHE_ROWS:
        if r.key in FICHE_YEARLY:
            out += [FicheRow(f"{r.key}@{y}", f"{r.label} {y}", r.kind) for y in years]
        else:
            out.append(r)
    return tuple(out)


def fiche_row(key: str) -> FicheRow:
    """A fiche row by key, yearly ones included."""
    base, _, year = key.partition("@")
    r = FICHE_ROW_BY_KEY[base]
    return FicheRow(key, f"{r.label} {year}" if year else r.label, r.kind)
FICHE_KEY_BY_LABEL = {normalize_label(r.label): r.key for r in FICHE_ROWS}


GROUP_COLOURS = ("2E75B6", "70AD47", "C55A11", "7030A0", "BF9000", "2F5597")


def group_colour(profile, bloc: Bloc) -> str:
    """The tab colour of a group's fiches (in the order of the profile's groups)."""
    groups = list(getattr(profile, "groupes", ()))
    i = groups.index(bloc) if bloc in groups else 0
    return GROUP_COLOURS[i % len(GROUP_COLOURS)]


def fiche_sheet_name(bloc: Bloc, numero: str, taken: set[str]) -> str:
    """A valid, unique sheet name: 'Fiche S 4.2', 'Fiche IL 4', 'Fiche A2 3' (N°
    repeat across groups). ``taken``: the names in use, in lower case (Excel
    compares them so); the name chosen is added to it."""
    prefix = bloc.court or bloc.value[:3].upper()
    num = INVALID_SHEET_CHARS.sub("-", numero or "sans N°").strip("'") or "sans N°"
    base = f"{FICHE_PREFIX} {prefix} {num}"[:MAX_SHEET_NAME].rstrip()
    name, i = base, 2
    while name.lower() in taken:
        suffix = f" ({i})"
        name = base[: MAX_SHEET_NAME - len(suffix)] + suffix
        i += 1
    taken.add(name.lower())
    return name



# --- printing -------------------------------------------------------------------------
# Every sheet the project writes prints by itself on A4: orientation, fitted to the page
# width, the header row repeated, a print area, margins (left, right, top, bottom, in cm) and
# a footer (Excel's codes: &F file, &A sheet, &P page, &N pages).
PRINT_FOOTER = "&F — &A — page &P / &N"
PRINT_MARGINS_CM = (1.0, 1.0, 1.5, 1.5)
#: sheet role -> landscape?
PRINT_LANDSCAPE = {MAQUETTE: True, CONTROLES: True, JOURNAL: False, INDICATEURS: True, PARAMETRES: False,
                   FICHE_PREFIX: False}
#: the fiche prints its labels and values, not the link column
FICHE_PRINTED_COLS = 2
