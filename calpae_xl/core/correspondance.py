"""A mapping from one convention to another, as data: which group (axe) of the
new convention each action of the old one goes to (« calpae-xl convertir »).

The shipped mapping (``calpae_xl/data/correspondances/calpae-vers-cls-2024-2027.toml``)
sends the CALPAE's thèmes to the axes of the contrats locaux des solidarités;
a user copies and edits it (``--correspondance FICHIER``). Each line names
actions by their bloc, their thème (its numéro, or a text the thème contains)
or their N° of fiche, and gives an axe, or « à classer ». The most precise
line wins (an action's N° before a thème, a thème before a whole bloc); an
action no line places is « à classer »: listed, never dropped. A mapping is
validated when it is loaded: a wrong one is refused with French messages.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any, Optional

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from .model import Action, Bloc, theme_number
from .datafile import DataFileError, read_small_text
from .profile import Profile

FORMAT_VERSION = 1
SHIPPED = "calpae_xl.data.correspondances"
#: what a line says for an action it leaves to the user
A_CLASSER = "à classer"
MAX_BYTES = 256 * 1024
_KEYS = ("bloc", "theme", "libelle", "action", "axe")


class MappingError(DataFileError):
    """A mapping file that cannot be used, with every reason in French."""

    title, what, a_what = "La correspondance", "correspondance", "une correspondance"


def _norm(text: str) -> str:
    from ..workbook.layout import normalize_label  # noqa: PLC0415 - one normalisation for the project
    return normalize_label(text)


@dataclass(frozen=True)
class Line:
    """One line of a mapping: the actions it names, and their axe (None: à classer)."""

    n: int  # its place in the file (1 = first)
    axe: Optional[str]
    bloc: str = ""
    theme: str = ""  # a thème's numéro
    libelle: str = ""  # a text the thème contains
    action: str = ""  # a N° of fiche (with its bloc)

    @property
    def precision(self) -> int:
        return 3 if self.action else 2 if (self.theme or self.libelle) else 1

    def matches(self, a: Action) -> bool:
        from .model import normalize_numero  # noqa: PLC0415
        if self.bloc and a.bloc.value != self.bloc:
            return False
        if self.action and normalize_numero(self.action) != a.numero:
            return False
        if self.theme and theme_number(a.theme) != self.theme:
            return False
        return not (self.libelle and _norm(self.libelle) not in _norm(a.theme))

    def says(self, source: Profile) -> str:
        """How the Journal names the line: « thème 1 », « bloc initiatives, action 3 »."""
        parts = []
        if self.bloc:
            parts.append(f"{source.word} {source.group(self.bloc).nom}")
        if self.theme:
            parts.append(f"thème {self.theme}")
        if self.libelle:
            parts.append(f"thème contenant « {self.libelle} »")
        if self.action:
            parts.append(f"action {self.action}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Mapping:
    source: Profile
    target: Profile
    lines: tuple[Line, ...]
    name: str  # the file, as messages name it

    def place(self, a: Action) -> tuple[Optional[Bloc], Optional[Line]]:
        """The target group of an action (None: à classer) and the line that says so (None: no line)."""
        found = [ln for ln in self.lines if ln.matches(a)]
        if not found:
            return None, None
        best = max(found, key=lambda ln: (ln.precision, -ln.n))
        return (self.target.group(best.axe) if best.axe else None), best


def mapping_from_dict(d: Any, source: Profile, target: Profile, name: str) -> Mapping:
    """Validate and build a mapping; every problem is reported at once."""
    problems: list[str] = []
    if not isinstance(d, dict):
        raise MappingError(name, ["une table TOML est attendue"])
    known = ("format", "de", "vers", "intitule", "correspondances")
    for k in d:
        if k not in known:
            problems.append(f"clé « {k} » inconnue (clés possibles : {', '.join(known)})")
    if d.get("format", FORMAT_VERSION) != FORMAT_VERSION:
        problems.append(f"« format » vaut {d.get('format')!r} : cette version de calpae-xl lit le format "
                        f"{FORMAT_VERSION}")
    if d.get("de", source.id) != source.id:
        problems.append(f"« de » vaut « {d.get('de')} » : la conversion part d'une maquette « {source.id} »")
    if d.get("vers", target.id) != target.id:
        problems.append(f"« vers » vaut « {d.get('vers')} » : la conversion demandée va vers « {target.id} »")
    blocs = [g.value for g in source.groupes]
    axes = [g.value for g in target.groupes]
    themes = [t.numero for t in source.themes if t.numero]
    raw = d.get("correspondances")
    if not isinstance(raw, list) or not raw:
        problems.append("« correspondances » : une liste de lignes { thème ou bloc, axe } est attendue")
        raw = []
    lines: list[Line] = []
    seen: dict[tuple, int] = {}
    for n, item in enumerate(raw, 1):
        where = f"ligne n°{n}"
        if not isinstance(item, dict):
            problems.append(f"{where} : une table {{ theme = \"1\", axe = \"axe1\" }} est attendue")
            continue
        bad = [k for k in item if k not in _KEYS]
        for k in bad:
            problems.append(f"{where} : clé « {k} » inconnue (clés possibles : {', '.join(_KEYS)})")
        values: dict[str, str] = {}
        for k in _KEYS:
            v = item.get(k)
            if v is None:
                continue
            if isinstance(v, int) and k in ("theme", "action"):
                v = str(v)
            if not isinstance(v, str) or not v.strip():
                problems.append(f"{where} : « {k} » doit être un texte non vide")
                continue
            values[k] = v.strip()
        axe = values.get("axe")
        if "axe" not in item:
            problems.append(f"{where} : la clé « axe » manque")
        elif axe is not None and _norm(axe) != _norm(A_CLASSER) and axe not in axes:
            problems.append(f"{where} : l'axe « {axe} » n'existe pas dans « {target.id} » (axes : "
                            f"{', '.join(axes)}, ou « {A_CLASSER} »)")
        bloc = values.get("bloc", "")
        if bloc and bloc not in blocs:
            problems.append(f"{where} : le bloc « {bloc} » n'existe pas dans « {source.id} » (blocs : "
                            f"{', '.join(blocs)})")
        theme = values.get("theme", "")
        if theme and theme not in themes:
            problems.append(f"{where} : le thème n°{theme} n'existe pas dans « {source.id} » (thèmes : "
                            f"{', '.join(themes)})")
        if values.get("action") and not bloc:
            problems.append(f"{where} : « action » demande aussi « bloc » (le même N° peut exister dans chaque "
                            "bloc)")
        if not any(values.get(k) for k in ("bloc", "theme", "libelle", "action")) and not bad:
            problems.append(f"{where} : la ligne ne nomme aucune action (donnez « theme », « libelle », « bloc » "
                            "ou « action »)")
        key = tuple(_norm(values.get(k, "")) for k in ("bloc", "theme", "libelle", "action"))
        if key in seen and any(key):
            problems.append(f"{where} : mêmes actions que la ligne n°{seen[key]}")
        seen.setdefault(key, n)
        lines.append(Line(n, None if axe is None or _norm(axe) == _norm(A_CLASSER) else axe, bloc, theme,
                          values.get("libelle", ""), values.get("action", "")))
    if problems:
        raise MappingError(name, problems)
    return Mapping(source, target, tuple(lines), name)


def mapping_from_text(raw: str, source: Profile, target: Profile, name: str) -> Mapping:
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as e:
        raise MappingError(name, [f"ce n'est pas un fichier TOML valide : {e}"]) from None
    return mapping_from_dict(data, source, target, name)


def load_mapping(path: str, source: Profile, target: Profile) -> Mapping:
    """A user's mapping file (``--correspondance FICHIER``)."""
    raw = read_small_text(path, MAX_BYTES, MappingError)
    return mapping_from_text(raw, source, target, str(path))


def shipped_name(source: Profile, target: Profile) -> str:
    return f"{source.id}-vers-{target.id}.toml"


def shipped_mapping(source: Profile, target: Profile) -> Mapping:
    """The mapping shipped with the toolkit from one convention to another."""
    name = shipped_name(source, target)
    f = resources.files(SHIPPED).joinpath(name)
    if not f.is_file():
        raise MappingError(name, [f"aucune correspondance livrée de « {source.id} » vers « {target.id} » : donnez "
                                  "la vôtre avec --correspondance FICHIER.toml"])
    return mapping_from_text(f.read_text(encoding="utf-8"), source, target, name)
