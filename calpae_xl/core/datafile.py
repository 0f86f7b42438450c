"""The small data files a user writes for the toolkit (a profile, a mapping):
one error that lists every problem in French, and one careful way to read
them. A profile and a mapping are refused the same way, only the noun differs.
"""
from __future__ import annotations

from pathlib import Path


class DataFileError(ValueError):
    """A data file that cannot be used, with every reason in French; a
    subclass gives the noun (« Le profil », « La correspondance »)."""

    title = "Le fichier"  # the subject of the message
    what = "données"  # « pas un fichier de … »
    a_what = "un fichier de données"  # « trop grand pour … »

    def __init__(self, source: str, problems: list[str]):
        self.source, self.problems = source, problems
        super().__init__(f"{self.title} « {source} » n'est pas utilisable :\n  - " + "\n  - ".join(problems))


def read_small_text(path: str, limit: int, error: type[DataFileError]) -> str:
    """The text of a user's small data file: UTF-8 (a BOM allowed), at most
    ``limit`` bytes; every failure an ``error`` naming the file, in French."""
    p = Path(path)
    try:
        if p.stat().st_size > limit:
            raise error(str(path), [f"fichier trop grand pour {error.a_what} (plus de {limit // 1024} Ko)"])
        return p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise error(str(path), ["le fichier n'existe pas"]) from None
    except IsADirectoryError:
        raise error(str(path), [f"c'est un dossier, pas un fichier de {error.what}"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise error(str(path), [f"illisible ({type(e).__name__} : {e})"]) from None
