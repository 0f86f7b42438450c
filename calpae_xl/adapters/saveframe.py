"""The save frame: what surrounds every write of a workbook (refuse to write
over a file someone holds or that changed on disk, write a temporary file
next to the target, check it, keep the previous version, then move it into
place: a killed save leaves the original untouched)."""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Callable, Optional

from ..errors import CalpaeError, UnwritableFile
from . import safety
from .ooxml import sheet_xml_paths


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
    try:
        fd, tmp = tempfile.mkstemp(prefix=".~calpae-", suffix=suffix, dir=folder)
    except OSError as e:
        raise UnwritableFile(target, e.strerror or str(e)) from None
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
