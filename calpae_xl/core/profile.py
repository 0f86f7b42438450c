"""A convention as data: its groups of actions (blocs, axes or volets), thèmes,
imputation codes, split rules, envelope, years, headers and fiche sections.

Profiles are TOML files: the ones shipped in ``calpae_xl/data/profils/`` (CALPAE,
the contrats locaux des solidarités 2024-2027, the RSA / France Travail
conventions) and any file a Département or a DREETS writes itself
(``--profil FICHIER``). A profile is validated when it is loaded: a wrong one is
refused with French messages naming the key, never half-used.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Optional

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from .datafile import DataFileError, read_small_text
from .model import Bloc, SplitRule

FORMAT_VERSION = 1
SHIPPED = "calpae_xl.data.profils"
#: what a group of actions is called in each kind of convention
GROUP_WORDS = {"bloc": ("bloc", "blocs"), "axe": ("axe", "axes"), "volet": ("volet", "volets")}


class ProfileError(DataFileError):
    """A profile that cannot be used, with every reason in French."""

    title, what, a_what = "Le profil", "profil", "un profil"


@dataclass(frozen=True)
class Theme:
    numero: str
    libelle: str
    groupe: str  # a group's id
    imputation: str = ""  # the code the thème is usually imputed on


@dataclass(frozen=True)
class Profile:
    """One convention, as the toolkit applies it."""

    id: str
    intitule: str
    version: int
    groupes: tuple[Bloc, ...]
    mot_groupe: str = "bloc"  # bloc | axe | volet
    annees: tuple[int, int] = (2019, 2023)
    pluriannuel: bool = False  # one column group per year in one maquette
    themes: tuple[Theme, ...] = ()
    imputations: dict[str, str] = field(default_factory=dict)  # code -> libellé
    imputation_forme: str = r"^\d{4} \d{2} \d{2} \d{2} \d{2}$"
    imputation_exemple: str = "0304 50 19 19 07"
    imputation_requise: bool = True  # an action without imputation is an error
    report: bool = True  # a « Report N-1 » column (both shares)
    fongible: bool = True  # one envelope for all groups; False: one per group, no transfer
    plafond_annuel_constant: bool = False  # the same State ceiling every year of the contract
    libre_cd_au_moins_etat: bool = True  # « libre »: the CD's part is not below the State's
    article_enveloppe: str = "article 2 de l'avenant"
    sources: tuple[str, ...] = ()
    exemple: str = ""  # the worked example shipped with the profile (calpae_xl/data/exemples)
    sections_fiche: tuple[str, ...] = ()
    #: a column's other headers in this convention's own tables: field -> labels ("Coût de l'action")
    entetes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: the TOML text a user's profile was read from: the workbook carries it (the buttons have no --profil)
    texte: str = field(default="", compare=False, repr=False)

    # --- groups -----------------------------------------------------------------------
    def group(self, ident: str) -> Bloc:
        for g in self.groupes:
            if g.value == ident:
                return g
        raise KeyError(ident)

    @property
    def first(self) -> Bloc:
        return self.groupes[0]

    def group_of_label(self, text: str) -> Optional[Bloc]:
        """The group a label names ("Engagements du socle", "Axe 2 – …"); the
        most specific alias wins ("hors socle" before "socle")."""
        from ..workbook.layout import normalize_label  # noqa: PLC0415 - one normalisation for the project
        s = f" {normalize_label(text)} "
        best: Optional[tuple[int, Bloc]] = None
        for g in self.groupes:
            for alias in g.alias:
                a = f" {normalize_label(alias)} "
                if a in s and (best is None or len(a) > best[0]):
                    best = (len(a), g)
        return best[1] if best else None

    @property
    def word(self) -> str:
        return GROUP_WORDS[self.mot_groupe][0]

    @property
    def words(self) -> str:
        return GROUP_WORDS[self.mot_groupe][1]

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(range(self.annees[0], self.annees[1] + 1))

    def theme_imputation(self, theme_number: str) -> Optional[str]:
        for t in self.themes:
            if t.numero == theme_number:
                return t.imputation or None
        return None

    def as_dict(self) -> dict:
        """What ``calpae-xl profils --format json`` lists."""
        return {"id": self.id, "intitule": self.intitule, "version": self.version,
                "annees": list(self.annees), "pluriannuel": self.pluriannuel, "groupes": self.words,
                "liste_groupes": [g.label for g in self.groupes]}


# --- loading -----------------------------------------------------------------------------------

_RULES = {r.value.lower(): r for r in SplitRule} | {r.name.lower(): r for r in SplitRule}


def _rule(value: Any, where: str, problems: list[str]) -> Optional[SplitRule]:
    rule = _RULES.get(str(value).strip().lower()) if value is not None else None
    if rule is None:
        problems.append(f"{where} : règle « {value} » inconnue (attendu : "
                        f"{', '.join(r.value for r in SplitRule)})")
    return rule


def _text(d: dict, key: str, where: str, problems: list[str], required: bool = True) -> str:
    v = d.get(key)
    if v is None:
        if required:
            problems.append(f"{where} : la clé « {key} » manque")
        return ""
    if not isinstance(v, str) or (required and not v.strip()):
        problems.append(f"{where} : « {key} » doit être un texte non vide")
        return ""
    return v.strip()


def _unknown_keys(d: dict, known: tuple[str, ...], where: str, problems: list[str]) -> None:
    """A key the toolkit does not read (a typo: « regel ») would be silently ignored: it is said."""
    for k in d:
        if k not in known:
            problems.append(f"{where} : clé « {k} » inconnue (clés possibles : {', '.join(sorted(known))})")


GROUP_KEYS = ("id", "libelle", "court", "alias", "regle", "regles", "imputation", "sous_total", "obligatoire")
THEME_KEYS = ("numero", "libelle", "groupe", "imputation")
SECTION_KEYS = {"regles": ("defaut", "permises", "libre_cd_au_moins_etat"),
                "enveloppe": ("article", "report", "fongible", "plafond_annuel_constant"),
                "imputation": ("forme", "exemple", "requise"), "fiche": ("sections",)}


def profile_from_dict(d: dict, source: str) -> Profile:
    """Validate and build a profile; every problem is reported at once."""
    problems: list[str] = []
    known = {"format", "id", "intitule", "version", "mot_groupe", "annees", "pluriannuel", "groupes", "themes",
             "imputations", "imputation", "enveloppe", "regles", "fiche", "sources", "exemple", "entetes"}
    for k in d:
        if k not in known:
            problems.append(f"clé « {k} » inconnue (clés possibles : {', '.join(sorted(known))})")
    for section, keys in SECTION_KEYS.items():
        if isinstance(d.get(section), dict):
            _unknown_keys(d[section], keys, f"[{section}]", problems)
    fmt = d.get("format", FORMAT_VERSION)
    if fmt != FORMAT_VERSION:
        problems.append(f"« format » vaut {fmt!r} : cette version de calpae-xl lit le format {FORMAT_VERSION}")
    ident = _text(d, "id", "profil", problems)
    if ident and not re.fullmatch(r"[a-z0-9][a-z0-9-]*", ident):
        problems.append("« id » : lettres minuscules, chiffres et tirets seulement (ex. « cls-2024-2027 »)")
    intitule = _text(d, "intitule", "profil", problems)
    version = d.get("version", 1)
    if not isinstance(version, int) or version < 1:
        problems.append("« version » doit être un entier positif")
        version = 1
    mot = d.get("mot_groupe", "bloc")
    if mot not in GROUP_WORDS:
        problems.append(f"« mot_groupe » vaut « {mot} » : attendu bloc, axe ou volet")
        mot = "bloc"
    years = d.get("annees", [2019, 2023])
    if not (isinstance(years, list) and len(years) == 2 and all(isinstance(y, int) for y in years)
            and 2000 <= years[0] <= years[1] <= 2100):
        problems.append("« annees » doit être [première, dernière], par exemple [2024, 2027]")
        years = [2019, 2023]
    regles = d.get("regles", {})
    groups: list[Bloc] = []
    seen_ids: set[str] = set()
    raw_groups = d.get("groupes")
    if not isinstance(raw_groups, list) or not raw_groups:
        problems.append("« groupes » : au moins un groupe ([[groupes]]) est nécessaire")
        raw_groups = []
    for i, g in enumerate(raw_groups, 1):
        where = f"groupe n°{i}"
        if not isinstance(g, dict):
            problems.append(f"{where} : une table est attendue")
            continue
        _unknown_keys(g, GROUP_KEYS, where, problems)
        gid = _text(g, "id", where, problems)
        if gid in seen_ids:
            problems.append(f"{where} : l'identifiant « {gid} » est déjà pris")
        seen_ids.add(gid)
        label = _text(g, "libelle", where, problems)
        court = _text(g, "court", where, problems, required=False) or gid[:3].upper()
        alias = g.get("alias", [])
        if not isinstance(alias, list) or not all(isinstance(a, str) and a.strip() for a in alias):
            problems.append(f"{where} : « alias » doit être une liste de textes")
            alias = []
        rule = _rule(g.get("regle", regles.get("defaut", "parité")), where, problems)
        allowed = [_rule(r, where, problems) for r in g.get("regles", regles.get("permises", [rule.value if rule
                                                                                            else "parité"]))]
        if rule is not None and rule not in allowed:
            problems.append(f"{where} : la règle par défaut « {rule.value} » n'est pas parmi les règles permises")
        subtotal = _text(g, "sous_total", where, problems, required=False) or f"SOUS-TOTAL {label.upper()}"
        groups.append(Bloc(gid, label, court, tuple(a.strip() for a in alias) or (label,), rule or SplitRule.PARITE,
                           tuple(r for r in allowed if r is not None), _text(g, "imputation", where, problems,
                                                                              required=False), subtotal,
                           g.get("obligatoire", True) is not False))
    ids = {g.value for g in groups}
    themes = []
    for i, t in enumerate(d.get("themes", []), 1):
        where = f"thème n°{i}"
        _unknown_keys(t, THEME_KEYS, where, problems)
        numero, libelle = str(t.get("numero", "")).strip(), _text(t, "libelle", where, problems)
        groupe = _text(t, "groupe", where, problems)
        if groupe and groupe not in ids:
            problems.append(f"{where} : le groupe « {groupe} » n'existe pas (groupes : {', '.join(sorted(ids))})")
        themes.append(Theme(numero, libelle, groupe, _text(t, "imputation", where, problems, required=False)))
    imputation = d.get("imputation", {})
    codes = d.get("imputations", {})
    if not isinstance(codes, dict) or not all(isinstance(v, str) for v in codes.values()):
        problems.append("« imputations » : une table code = \"libellé\" est attendue")
        codes = {}
    forme = imputation.get("forme", r"^\d{4} \d{2} \d{2} \d{2} \d{2}$")
    try:
        pattern = re.compile(forme)
        for code in codes:
            if not pattern.match(code):
                problems.append(f"imputations : le code « {code} » n'a pas la forme du profil ({forme})")
    except re.error as e:
        problems.append(f"imputation.forme : expression invalide ({e})")
    for g in groups:
        if g.imputation and codes and g.imputation not in codes:
            problems.append(f"groupe « {g.value} » : son imputation « {g.imputation} » n'est pas dans « imputations »")
    env = d.get("enveloppe", {})
    fiche = d.get("fiche", {})
    sources = d.get("sources", [])
    entetes = _headers(d.get("entetes", {}), problems)
    if problems:
        raise ProfileError(source, problems)
    return Profile(
        id=ident, intitule=intitule, version=version, groupes=tuple(groups), mot_groupe=mot,
        annees=(years[0], years[1]), pluriannuel=bool(d.get("pluriannuel", False)), themes=tuple(themes),
        imputations=dict(codes), imputation_forme=forme,
        imputation_exemple=imputation.get("exemple", next(iter(codes), "0304 50 19 19 07")),
        imputation_requise=bool(imputation.get("requise", True)),
        report=bool(env.get("report", True)), fongible=bool(env.get("fongible", True)),
        plafond_annuel_constant=bool(env.get("plafond_annuel_constant", False)),
        libre_cd_au_moins_etat=bool(regles.get("libre_cd_au_moins_etat", True)),
        article_enveloppe=env.get("article", "article 2 de l'avenant"), sources=tuple(sources),
        exemple=str(d.get("exemple", "")), sections_fiche=tuple(fiche.get("sections", ())), entetes=entetes)


def _headers(d: Any, problems: list[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``[entetes]``: other headers of a column, ``budget_global = ["Coût de l'action"]``."""
    from ..workbook.layout import HEADERS  # noqa: PLC0415 - the fields the reader knows
    if not isinstance(d, dict):
        problems.append("« entetes » : une table colonne = [\"en-tête\", …] est attendue")
        return ()
    out = []
    for key, labels in d.items():
        if key not in HEADERS:
            problems.append(f"entetes : colonne « {key} » inconnue (colonnes : {', '.join(HEADERS)})")
            continue
        if not isinstance(labels, list) or not all(isinstance(x, str) and x.strip() for x in labels):
            problems.append(f"entetes.{key} : une liste de textes est attendue")
            continue
        out.append((key, tuple(x.strip() for x in labels)))
    return tuple(out)


MAX_PROFILE_BYTES = 256 * 1024  # a profile is a few kilobytes; anything larger is not one


def load_profile(path: str) -> Profile:
    """A user's own profile file (``--profil FICHIER``)."""
    return profile_from_text(read_small_text(path, MAX_PROFILE_BYTES, ProfileError), str(path))


def profile_from_text(raw: str, source: str) -> Profile:
    """A profile from its TOML text (a user's file, or the copy a workbook carries)."""
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as e:
        raise ProfileError(source, [f"ce n'est pas un fichier TOML valide : {e}"]) from None
    p = profile_from_dict(data, source)
    if is_shipped(p):
        return shipped()[p.id]
    return replace(p, texte=raw)


def is_shipped(p: Profile) -> bool:
    """A profile the toolkit ships, as shipped (a user's file may reuse an id and change it)."""
    return shipped().get(p.id) == p


def resolve(arg: str) -> Profile:
    """``--profil``: a shipped profile's id, or the path of a TOML file."""
    looks_like_file = arg.lower().endswith(".toml") or "/" in arg or "\\" in arg or Path(arg).is_file()
    return load_profile(arg) if looks_like_file else profile(arg)


def _shipped_files() -> dict[str, str]:
    folder = resources.files(SHIPPED)
    return {f.name[:-5]: f.read_text(encoding="utf-8") for f in folder.iterdir() if f.name.endswith(".toml")}


_CACHE: dict[str, Profile] = {}


def shipped() -> dict[str, Profile]:
    """The profiles shipped with the toolkit, by id."""
    if not _CACHE:
        for name, text in sorted(_shipped_files().items()):
            p = profile_from_dict(tomllib.loads(text), f"{name}.toml")
            _CACHE[p.id] = p
    return dict(_CACHE)


def profile(ident: str = "calpae") -> Profile:
    """A shipped profile by id (the default: CALPAE)."""
    profiles = shipped()
    if ident not in profiles:
        raise ProfileError(ident, [f"aucun profil livré ne porte cet identifiant (profils : "
                                   f"{', '.join(sorted(profiles))})"])
    return profiles[ident]



def profile_of(m) -> Profile:
    """The profile of a maquette (the CALPAE when none is given)."""
    return m.profile if getattr(m, "profile", None) is not None else profile("calpae")


def groups_of(m) -> tuple[Bloc, ...]:
    """The groups of a maquette's profile, then any other group its actions name."""
    groups = list(profile_of(m).groupes)
    for a in getattr(m, "actions", ()):
        if a.bloc not in groups:
            groups.append(a.bloc)
    return tuple(groups)
