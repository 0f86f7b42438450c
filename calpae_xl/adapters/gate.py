"""The gate: a cheap look at a file before any parser runs.

Standard library only, bounded in time and memory: the zip directory
(entry count, declared sizes, compression ratios), the first bytes of every
XML part (DTD and entity declarations, which no workbook needs), the
largest cell reference of each sheet and the shared-string counts, read by
streaming with a cap on what is decompressed. A hostile or broken file is
refused with a precise code, in well under a second, whatever its size
once unpacked. Nothing from inside the file is echoed in the messages.
"""
from __future__ import annotations

import os
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..core.catalogue import entry
from ..errors import UnreadableFile, os_reason
from ..workbook.a1 import col_index
from .safety import file_kind

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, and encrypted (password) OOXML
ZIP_MAGIC = b"PK\x03\x04"

MAX_ENTRIES = 50_000  # a fiche is a part: 10 000 actions and their fiches must pass
MAX_TOTAL = 500 * 1024 * 1024  # declared uncompressed bytes
MAX_PART = 200 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed, for parts over 1 MiB
MAX_ROWS = 99_999  # a six-digit row is refused at the first reference met
MAX_COLS = 1_000
MAX_CELLS = 3_000_000
MAX_STRINGS = 2_000_000
SCAN_BUDGET = 64 * 1024 * 1024  # bytes decompressed, at most, to find cell references

_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)
# cells (not rows: LibreOffice writes an empty <row r="1048576"> after a row is deleted) from row 100 000
_FAR_ROW = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]{1,3})([0-9]{6,})"')
_FAR_COL = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]{3})[0-9]')  # cells from column AAA (703)
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?\bref="\$?([A-Z]{1,3})\$?([0-9]{1,7})'
                    rb'(?::\$?([A-Z]{1,3})\$?([0-9]{1,7}))?"')
MAX_MERGES = 20_000
_COUNT = re.compile(rb'\b(?:uniqueCount|count)="([0-9]+)"')


@dataclass(frozen=True)
class Refusal:
    """Why a file is refused: a stable code (catalogued) and a French reason."""

    code: str
    reason: str

    def __post_init__(self) -> None:
        entry(self.code)


def _col_number(letters: bytes) -> int:
    return col_index(letters.decode())


def too_far(col: int, row: int) -> Optional[Refusal]:
    if row > MAX_ROWS or col > MAX_COLS:
        return Refusal("FEUILLE_DEMESUREE", f"une feuille s'étend jusqu'à la ligne {row} / colonne {col} "
                                            f"(au plus {MAX_ROWS} lignes et {MAX_COLS} colonnes sont lues)")
    return None


def check(path: str) -> Optional[Refusal]:
    """None when the file may be opened; else the reason to refuse it."""
    p = Path(path)
    try:
        mode = os.stat(p).st_mode
    except OSError as e:
        return Refusal("FICHIER_INACCESSIBLE", os_reason(e))
    if not stat.S_ISREG(mode):  # a FIFO would block the open for ever, a device never end
        return Refusal("PAS_UN_FICHIER", f"ce chemin désigne {file_kind(mode)}, pas un classeur")
    try:
        with open(p, "rb") as fh:
            head = fh.read(8)
    except OSError as e:
        return Refusal("FICHIER_INACCESSIBLE", os_reason(e))
    if head.startswith(OLE_MAGIC):
        return _ole(p)
    if not head.startswith(ZIP_MAGIC):
        return Refusal("PAS_UN_CLASSEUR", "ce n'est pas un classeur Excel .xlsx ou .xlsm (contenu d'un autre type)")
    try:
        z = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, NotImplementedError, ValueError, EOFError):
        return Refusal("ZIP_ABIME", "le classeur est abîmé ou tronqué (archive illisible)")
    except OSError as e:
        return Refusal("FICHIER_INACCESSIBLE", os_reason(e))
    with z:
        infos = z.infolist()
        if len(infos) > MAX_ENTRIES:
            return Refusal("ZIP_TROP_DE_PARTIES", f"{len(infos)} parties dans l'archive (au plus {MAX_ENTRIES})")
        names = {i.filename for i in infos}
        if "xl/workbook.xml" not in names:
            return Refusal("PAS_UN_CLASSEUR", "l'archive ne contient pas de classeur Excel (xl/workbook.xml absent)")
        total = sum(i.file_size for i in infos)
        if total > MAX_TOTAL:
            return Refusal("ZIP_TROP_GROS", f"{total // 2**20} Mio une fois décompressé (au plus {MAX_TOTAL // 2**20})")
        for i in infos:
            if i.file_size > MAX_PART:
                return Refusal("ZIP_TROP_GROS", f"une partie fait {i.file_size // 2**20} Mio une fois décompressée")
            if i.file_size > 2**20 and i.file_size > MAX_RATIO * max(i.compress_size, 1):
                return Refusal("ZIP_BOMBE", f"taux de compression anormal ({i.file_size // max(i.compress_size, 1)}"
                                            " pour 1) : archive piégée")
            if i.flag_bits & 0x1:
                return Refusal("CLASSEUR_CHIFFRE", "une partie de l'archive est chiffrée")
        try:
            for i in infos:
                if i.filename.endswith((".xml", ".rels", ".vml")):
                    refusal = _scan_part(z, i)
                    if refusal:
                        return refusal
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error):
            return Refusal("ZIP_ABIME", "le classeur est abîmé ou tronqué (une partie ne se décompresse pas)")
        except RuntimeError:  # encrypted member
            return Refusal("CLASSEUR_CHIFFRE", "une partie de l'archive est chiffrée")
    return None


def _scan_part(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> Optional[Refusal]:
    """The part's prolog for DTDs; sheets and shared strings further."""
    is_sheet = info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
    is_sst = info.filename == "xl/sharedStrings.xml"
    with z.open(info) as fh:
        head = fh.read(4096)
        if _DTD.search(head):
            return Refusal("XML_DTD", f"la partie {info.filename} déclare une DTD ou des entités "
                                      "(aucun classeur n'en a besoin : fichier piégé)")
        if is_sst:
            for m in _COUNT.finditer(head[:1024]):
                if int(m.group(1)) > MAX_STRINGS:
                    return Refusal("TEXTES_DEMESURES", f"le classeur annonce {int(m.group(1))} textes "
                                                       f"(au plus {MAX_STRINGS})")
        if not is_sheet:
            return None
        # what the sheet really holds (its dimension may say anything): the
        # cells' references, within a budget — only those that could be too
        # far are looked at (six-digit rows, three-letter columns), which keeps
        # the scan fast on huge sheets — and the merged ranges, whose cells a
        # reader may create one by one (a "merge bomb")
        budget, tail, data = SCAN_BUDGET, b"", head
        rows = cells = merges = 0
        while data:
            chunk = tail + data
            # rows and cells may also come without references: count them
            rows += data.count(b"<row")
            cells += data.count(b"<c ") + data.count(b"<c>")
            if rows > MAX_ROWS or cells > MAX_CELLS:
                return Refusal("FEUILLE_DEMESUREE", f"une feuille compte plus de {min(rows, MAX_ROWS)} lignes ou "
                                                    f"{min(cells, MAX_CELLS)} cellules (trop pour une maquette)")
            for m in _FAR_ROW.finditer(chunk):
                refusal = too_far(_col_number(m.group(1)) if m.group(1) else 1, int(m.group(2)))
                if refusal:
                    return refusal
            for m in _FAR_COL.finditer(chunk):
                refusal = too_far(_col_number(m.group(1)), 1)
                if refusal:
                    return refusal
            for m in _MERGE.finditer(chunk):
                if m.end() <= len(tail):
                    continue  # complete in the previous piece: counted there
                merges += 1
                if m.group(3):
                    area = (abs(int(m.group(4)) - int(m.group(2))) + 1) * \
                        (abs(_col_number(m.group(3)) - _col_number(m.group(1))) + 1)
                    if area > MAX_CELLS:
                        return Refusal("FEUILLE_DEMESUREE", f"une fusion de cellules en couvre {area} (au plus "
                                                            f"{MAX_CELLS} : trop pour une maquette)")
            if merges > MAX_MERGES:
                return Refusal("FEUILLE_DEMESUREE", f"une feuille compte plus de {MAX_MERGES} fusions de cellules "
                                                    "(trop pour une maquette)")
            budget -= len(data)
            if budget <= 0:
                break
            tail = chunk[-64:]
            data = fh.read(1 << 20)
    return None


def _ole(path: Path) -> Refusal:
    """An OLE2 file: an old .xls, or an OOXML workbook protected by a password."""
    try:
        with open(path, "rb") as fh:
            blob = fh.read(1 << 20)
    except OSError:
        blob = b""
    if "EncryptionInfo".encode("utf-16-le") in blob or b"EncryptionInfo" in blob:
        return Refusal("CLASSEUR_CHIFFRE", "le classeur est protégé par un mot de passe : enregistrez-le sans mot "
                                           "de passe (Fichier > Informations > Protéger le classeur) et recommencez")
    return Refusal("XLS_ANCIEN", "c'est un classeur Excel 97-2003 (.xls) : enregistrez-le au format .xlsx "
                                 "et recommencez")


def preflight(path: str) -> None:
    """Refuse what is not an .xlsx/.xlsm workbook before any parser runs
    (hostile and broken files stop at the gate, each with its own code)."""
    p = Path(path)
    try:
        os.stat(p)
    except FileNotFoundError:
        what = "le lien symbolique mène à un fichier absent" if os.path.islink(p) else "le fichier n'existe pas"
        raise UnreadableFile(path, what, "FICHIER_ABSENT") from None
    except OSError as e:  # a name too long, a loop of links, no right to look in the folder...
        raise UnreadableFile(path, os_reason(e), "FICHIER_INACCESSIBLE") from None
    if p.suffix.lower() not in (".xlsx", ".xlsm"):
        if p.suffix.lower() == ".xls":
            raise UnreadableFile(path, "c'est un classeur Excel 97-2003 (.xls) : enregistrez-le au format "
                                       ".xlsx et recommencez", "XLS_ANCIEN")
        raise UnreadableFile(path, "seuls les classeurs .xlsx et .xlsm sont lus", "EXTENSION_INCONNUE")
    refusal = check(path)
    if refusal:
        raise UnreadableFile(path, refusal.reason, refusal.code)
