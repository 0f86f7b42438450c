"""What both headless adapters share: where a sheet lives in the package,
how a formula's cached value is read and written, and what surrounds a save
(refuse to write over a file someone holds or that changed on disk, write a
temporary file next to the target, check it, keep the previous version, then
move it into place: a killed save leaves the original untouched)."""
from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Callable, Optional
from xml.etree import ElementTree as ET

from .. import gate, safety
from ..core.checks import MAX_TEXT
from ..errors import CalpaeError, UnreadableFile, UnwritableFile


NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}
_NUMBER = re.compile(r"-?\d+(\.\d+)?(E[-+]?\d+)?", re.I)


def part_name(target: str) -> str:
    """The part a relationship of xl/workbook.xml points at ("worksheets/sheet1.xml",
    "/xl/worksheets/sheet1.xml", "../xl/..." all name a part from the package's root)."""
    if target.startswith("/"):
        return target.lstrip("/")
    parts: list[str] = []
    for seg in (PurePosixPath("xl") / target).parts:
        if seg == "..":
            if parts:
                parts.pop()
        elif seg != ".":
            parts.append(seg)
    return "/".join(parts)


def sheet_xml_paths(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> part name inside the package (through workbook.xml.rels)."""
    wb = ET.fromstring(z.read("xl/workbook.xml"))
    rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.findall("rel:Relationship", NS)}
    return {s.get("name"): part_name(targets.get(s.get("{%s}id" % NS["r"])) or "")
            for s in wb.findall("m:sheets/m:sheet", NS)}


def cached_value(t: str, text: Optional[str]):
    """A formula's cached value from its cell type and its <v> text (entities
    already resolved): a number is a Decimal (anything else in a number cell
    is no value), a boolean a bool, the rest text."""
    if text is None:
        return None
    if t == "n":
        return Decimal(text) if _NUMBER.fullmatch(text) else None
    if t == "b":
        return text == "1"
    return text


def value_text(v: object) -> Optional[tuple[str, str]]:
    """(t attribute, text before XML escaping) of a value written in a <v>."""
    if v is None:
        return None
    if isinstance(v, bool):
        return ("b", "1" if v else "0")
    if isinstance(v, (int, Decimal, float)):
        d = Decimal(str(v))
        return ("n", format(d.normalize(), "f") if d == d.to_integral_value() else format(d, "f"))
    return ("str", str(v))


def preflight(path: str) -> None:
    """Refuse what is not an .xlsx/.xlsm workbook before any parser runs
    (hostile and broken files stop at the gate, each with its own code)."""
    p = Path(path)
    if not p.exists():
        raise UnreadableFile(path, "le fichier n'existe pas", "FICHIER_ABSENT")
    if p.suffix.lower() not in (".xlsx", ".xlsm"):
        if p.suffix.lower() == ".xls":
            raise UnreadableFile(path, "c'est un classeur Excel 97-2003 (.xls) : enregistrez-le au format "
                                       ".xlsx et recommencez", "XLS_ANCIEN")
        raise UnreadableFile(path, "seuls les classeurs .xlsx et .xlsm sont lus", "EXTENSION_INCONNUE")
    refusal = gate.check(path)
    if refusal:
        raise UnreadableFile(path, refusal.reason, refusal.code)


# the control characters a cell cannot hold (openpyxl.cell.cell defines the same set; importing
# openpyxl for it would cost the batch 0.2 s per process)
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def clean_text(text: str) -> str:
    """What a cell can hold: no control characters, at most 32 767 characters
    (the checks report both as findings, on the user's text)."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return text[:MAX_TEXT]


def clean_stale_temps(folder: str, age: float = 3600) -> None:
    """Temporary files left by a save that was killed (older than an hour)."""
    try:
        for name in os.listdir(folder):
            if name.startswith(".~calpae-"):
                path = os.path.join(folder, name)
                if time.time() - os.path.getmtime(path) > age:
                    os.unlink(path)
    except OSError:
        pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def guard(target: str, source: str, stamp: Optional[tuple], replace: bool, lossy: bool) -> None:
    """Refuse to write over a file that someone has open, that changed on disk
    since it was read, or (``lossy``: the engine rewrites the whole package)
    whose content the save would partly lose. ``replace``: a new workbook
    deliberately replaces the file."""
    if not os.path.exists(target):
        return
    holder = safety.lock_holder(target)
    if holder:
        raise UnwritableFile(target, f"le fichier est ouvert par {holder} ; fermez-le dans Excel ou "
                                     "LibreOffice, puis recommencez", "FICHIER_OUVERT")
    same = not replace and os.path.abspath(target) == os.path.abspath(source)
    if same and stamp is not None and safety.stamp(target) != stamp:
        raise UnwritableFile(target, "le fichier a été modifié sur le disque depuis sa lecture ; relancez "
                                     "la commande pour repartir de la version actuelle", "FICHIER_MODIFIE")
    if same and lossy:
        lost = safety.lossy_features(target)
        if lost:
            raise UnwritableFile(target, "l'enregistrement sans Excel ferait perdre " + ", ".join(lost) +
                                 ". Écrivez une copie avec --sortie DOSSIER, ou utilisez les boutons du "
                                 "classeur dans Excel, qui ne perdent rien", "ENREGISTREMENT_DESTRUCTEUR")


def atomic_save(target: str, source: str, produce: Callable[[str], None], n_sheets: int,
                backup: bool = True) -> Optional[str]:
    """Write the package with ``produce(temporary path)`` in the target's
    folder, check it (zip, workbook.xml, every sheet there), keep the previous
    version as ``NAME.bak.xlsx`` when the target is the file that was read,
    then move it over the target. Returns the backup's path."""
    folder = os.path.dirname(os.path.abspath(target))
    clean_stale_temps(folder)
    suffix = Path(target).suffix or ".xlsx"
    fd, tmp = tempfile.mkstemp(prefix=".~calpae-", suffix=suffix, dir=folder)
    os.close(fd)
    backup_path = None
    try:
        produce(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        with zipfile.ZipFile(tmp) as z:  # re-read before it replaces anything
            bad = z.testzip()
            if bad:
                raise UnwritableFile(target, f"la copie écrite est corrompue ({bad})")
            if len(sheet_xml_paths(z)) != n_sheets:  # parses workbook.xml and its rels
                raise UnwritableFile(target, "la copie écrite n'a pas toutes ses feuilles")
        if os.path.exists(target):
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
            if backup and os.path.abspath(target) == os.path.abspath(source):
                backup_path = str(Path(target).with_suffix(".bak" + suffix))
                shutil.copy2(target, backup_path)
        else:  # a new file gets the usual permissions, not the temporary file's 0600
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except CalpaeError:
        raise
    except OSError as e:
        raise UnwritableFile(target, e.strerror or str(e)) from None
    except Exception as e:  # noqa: BLE001 - the boundary: a workbook the engine cannot write
        raise UnwritableFile(target, f"{type(e).__name__} : {str(e)[:200]}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return backup_path
