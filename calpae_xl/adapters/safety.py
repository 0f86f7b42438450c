"""No data loss: what a headless save would drop, who holds a file open,
and whether it changed on disk since it was read.

openpyxl rewrites the whole package when it saves. Some parts and features
it does not keep (measured with openpyxl 3.1.5): drawn shapes and text
boxes, charts it did not create, images without Pillow, customXml parts,
Excel 2010+ extensions (x14 conditional formats, data bars, sparklines,
some validation lists), form controls and ActiveX, slicers, threaded
comments, embedded objects, macro sheets. Before openpyxl saves over a
user's file the project looks for them (standard library, the zip only) and
refuses, naming them. The commands write through the package adapter, which
copies every part it does not change, so only openpyxl saves need this.
"""
from __future__ import annotations

import os
import re
import stat
import zipfile
import zlib
from pathlib import Path
from typing import Optional

_X14 = re.compile(rb"<(?:\w+:)?extLst\b.*?(x14:|x15:|xm:)", re.S)
_SHAPE = re.compile(rb"<xdr:sp\b|<xdr:cxnSp\b|<xdr:graphicFrame\b")


def _has_pillow() -> bool:
    try:
        import PIL  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


def lossy_features(path: str) -> list[str]:
    """What a save through openpyxl would lose, in the officer's words (empty:
    nothing). Reads the zip directory and a few small parts only."""
    out: list[str] = []
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, NotImplementedError, ValueError, EOFError):
        return out
    with z:
        try:
            return _scan(z, path, out)
        except (zipfile.BadZipFile, OSError, NotImplementedError, ValueError, EOFError, RuntimeError,
                zlib.error):
            return out + ["des parties illisibles de l'archive (elles ne seraient pas réécrites)"]


def _scan(z: zipfile.ZipFile, path: str, out: list[str]) -> list[str]:
    names = z.namelist()

    def any_under(*prefixes: str) -> bool:
        return any(n.startswith(prefixes) for n in names)

    drawings = [n for n in names if n.startswith("xl/drawings/") and n.endswith(".xml")]
    for n in drawings:
        if _SHAPE.search(z.read(n)):
            out.append("des formes, zones de texte ou graphiques dessinés sur une feuille")
            break
    if any_under("xl/charts/") and "des formes, zones de texte ou graphiques dessinés sur une feuille" not in out:
        out.append("des graphiques")
    if any_under("xl/media/") and not _has_pillow():
        out.append("des images")
    if any_under("customXml/"):
        out.append("des données XML personnalisées (customXml)")
    if any_under("xl/ctrlProps/", "xl/activeX/"):
        out.append("des contrôles de formulaire ou ActiveX")
    if any_under("xl/slicers/", "xl/slicerCaches/", "xl/timelines/", "xl/timelineCaches/"):
        out.append("des segments ou chronologies (slicers)")
    if any_under("xl/threadedComments/"):
        out.append("des commentaires modernes (fils de discussion)")
    if any_under("xl/embeddings/"):
        out.append("des objets incorporés")
    if any_under("xl/macrosheets/", "xl/dialogsheets/"):
        out.append("des feuilles de macros Excel 4")
    if any(n == "xl/vbaProject.bin" for n in names) and not path.lower().endswith(".xlsm"):
        out.append("des macros (le fichier devrait s'appeler .xlsm)")
    for n in names:
        if n.startswith("xl/worksheets/") and n.endswith(".xml"):
            with z.open(n) as fh:
                data = fh.read()
            # the extension list sits at the end of a sheet
            if b"extLst" in data[-200_000:] and _X14.search(data[-200_000:]):
                out.append("des mises en forme conditionnelles, barres de données, graphiques sparkline "
                           "ou listes de validation d'Excel 2010 et suivants")
                break
    return out


def lock_holder(path: str) -> Optional[str]:
    """Who has the file open, from the owner file Excel (``~$NAME``) or
    LibreOffice (``.~lock.NAME#``) leaves beside it; None when no one does."""
    p = Path(path)
    excel = p.with_name("~$" + p.name[2:]) if len(p.name) > 2 else None
    for candidate in (p.with_name("~$" + p.name), excel):
        if candidate is not None and candidate.exists():
            if not candidate.is_file():  # a FIFO there would block the read for ever
                return "un autre utilisateur"
            try:
                with open(candidate, "rb") as fh:
                    data = fh.read(200)
            except OSError:
                return "un autre utilisateur"
            n = data[0] if data else 0
            name = data[1:1 + n].decode("cp1252", errors="replace").strip() if n else ""
            return name or "un autre utilisateur"
    lo = p.with_name(f".~lock.{p.name}#")
    if lo.exists():
        if not lo.is_file():
            return "un autre utilisateur"
        try:
            with open(lo, "rb") as fh:
                fields = fh.read(4096).decode("utf-8", errors="replace").split(",")
        except OSError:
            return "un autre utilisateur"
        name = next((f.strip() for f in fields[:2] if f.strip()), "")
        return name or "un autre utilisateur"
    return None


def stamp(path: str) -> Optional[tuple[int, int]]:
    """(modification time in ns, size): to tell whether the file changed since it was read."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def file_kind(mode: int) -> str:
    """What a path that is not a regular file designates, in French."""
    if stat.S_ISDIR(mode):
        return "un dossier"
    if stat.S_ISFIFO(mode):
        return "un tube nommé (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "un périphérique"
    if stat.S_ISSOCK(mode):
        return "une socket"
    return "un fichier spécial"
