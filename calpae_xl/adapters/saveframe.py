"""The save frame: the one way the tool writes a file, whatever the file (a
workbook rewritten in place or copied with --sortie, a new maquette, the
example, a consolidation, a comparison, a CSV, a PDF).

Before anything is produced, a target is refused when it is one of the
command's inputs, not a regular file (folder, FIFO, device), read-only, open
in Excel or LibreOffice, or (rewritten in place) changed on disk since it
was read. The content is then written to a temporary file beside the target,
synchronised, checked, and compared with what is there: identical content
(on meaning: a workbook's parts, not its zip timestamps) leaves the file
and its backup untouched; a different existing file is replaced only when
it is the file being rewritten in place or the user said ``--force``. Right
before the move, the lock files and the changed-on-disk stamp are looked at
again; the previous version becomes ``NAME.bak.xlsx`` (a hard link or a
copy, through a temporary name, so that a full disk never truncates the
previous backup and a symlink there is replaced, never written through);
owner, group and mode are kept; the temporary file then replaces the target
(a symlinked target is written at its real path, the link stays).

:func:`exclusive` is the advisory lock a command holds on the files it reads
and rewrites, so that two commands started together on one file never lose
an update.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Sequence

from ..errors import CalpaeError, UnwritableFile, os_reason
from . import safety
from .ooxml import sheet_xml_paths

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory lock, the changed-on-disk stamp remains
    fcntl = None  # type: ignore[assignment]

TEMP_PREFIX = ".~calpae-"
LOCK_WAIT = 60.0  # seconds a command waits for another one working on the same file


@dataclass
class Written:
    """What the frame did: where the content is, whether the file changed, and the backup made."""

    path: str
    changed: bool
    backup: Optional[str] = None


@dataclass
class Output:
    """One file to write. ``produce(path)`` writes the whole content at
    ``path``; ``verify(path)`` raises when it is not what it should be.
    ``source`` and ``stamp``: the file read and its stamp when the output
    rewrites it in place (then ``backup`` keeps its previous version, and
    ``lossy`` refuses a save that would lose part of it)."""

    target: str
    produce: Callable[[str], None]
    verify: Optional[Callable[[str], None]] = None
    source: Optional[str] = None
    stamp: Optional[tuple] = None
    backup: bool = False
    lossy: bool = False


# --- small helpers -----------------------------------------------------------------------

def clean_stale_temps(folder: str, age: float = 3600) -> None:
    """Temporary files left by a save that was killed (older than an hour)."""
    try:
        for name in os.listdir(folder):
            if name.startswith(TEMP_PREFIX):
                path = os.path.join(folder, name)
                if time.time() - os.path.getmtime(path) > age:
                    os.unlink(path)
    except OSError:
        pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def same_file(a: str, b: str) -> bool:
    """The same file, whatever the names (links, relative paths, hard links)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _refuse(path: str, reason: str, code: str) -> UnwritableFile:
    return UnwritableFile(path, reason, code)


def ensure_folder(folder: str) -> None:
    """Create an output folder; a file in its place is refused, named."""
    p = Path(folder)
    if p.exists() and not p.is_dir():
        raise _refuse(folder, "ce chemin désigne un fichier, pas un dossier", "PAS_UN_FICHIER")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UnwritableFile(folder, f"le dossier ne peut pas être créé ({os_reason(e)})") from None


# --- the checks made before anything is produced ------------------------------------------------

def check_output(target: str, inputs: Iterable[str] = (), source: Optional[str] = None,
                 stamp: Optional[tuple] = None, lossy: bool = False, force: Optional[bool] = None) -> None:
    """Refuse, before any work, a target the command must not write: one of
    its ``inputs`` (``source``, the file rewritten in place, excepted), not a
    regular file, read-only, open in Excel or LibreOffice; rewritten in place
    (``source``): changed on disk since it was read (``stamp``), or losing
    part of it (``lossy``). ``force=False``: an existing file is refused now
    (for outputs that can never be equal to what is there, e.g. a PDF)."""
    in_place = source is not None and same_file(target, source)
    for path in inputs:
        if not (in_place and same_file(path, source)) and same_file(target, path):
            raise _refuse(target, "c'est l'un des fichiers que la commande lit ; l'écrire le détruirait. Choisissez "
                                  "un autre nom de sortie", "SORTIE_SUR_ENTREE")
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return
    except OSError as e:
        raise UnwritableFile(target, os_reason(e)) from None
    if not stat.S_ISREG(st.st_mode):
        raise _refuse(target, f"ce chemin désigne {safety.file_kind(st.st_mode)}, pas un fichier ; donnez un nom "
                              "de fichier", "PAS_UN_FICHIER")
    if not stat.S_IMODE(st.st_mode) & 0o222:  # the mode, not os.access: root may write anything
        raise _refuse(target, "le fichier est en lecture seule ; retirez la lecture seule (propriétés du fichier) "
                              "si vous voulez qu'il soit modifié, ou écrivez une copie ailleurs",
                      "FICHIER_LECTURE_SEULE")
    _check_not_open(target)
    if in_place and stamp is not None and safety.stamp(target) != stamp:
        raise _refuse(target, "le fichier a été modifié sur le disque depuis sa lecture ; relancez la commande pour "
                              "repartir de la version actuelle", "FICHIER_MODIFIE")
    if in_place and lossy:
        lost = safety.lossy_features(target)
        if lost:
            raise _refuse(target, "l'enregistrement sans Excel ferait perdre " + ", ".join(lost) +
                          ". Écrivez une copie avec --sortie DOSSIER, ou utilisez les boutons du classeur dans "
                          "Excel, qui ne perdent rien", "ENREGISTREMENT_DESTRUCTEUR")
    if force is False and not in_place:
        raise _existing(target, compared=False)


def _check_not_open(target: str) -> None:
    holder = safety.lock_holder(target) or safety.lock_holder(os.path.realpath(target))
    if holder:
        raise _refuse(target, f"le fichier est ouvert par {holder} ; fermez-le dans Excel ou LibreOffice, puis "
                              "recommencez", "FICHIER_OUVERT")


def _existing(target: str, compared: bool = True) -> UnwritableFile:
    what = "ce fichier existe déjà et diffère de ce que la commande produit" if compared else "ce fichier existe déjà"
    return _refuse(target, f"{what} ; choisissez un autre nom, ou ajoutez --force pour le remplacer",
                   "FICHIER_EXISTANT")


# --- comparing contents ---------------------------------------------------------------------

_CORE_DATES = re.compile(rb"<dcterms:(created|modified)\b[^>]*>[^<]*</dcterms:\1>")
#: the date of the check receipt (technical sheet, :mod:`calpae_xl.core.receipt`): when, not what — a run that
#: checks the same content again leaves the file as it is
_RECEIPT_DATE = re.compile(rb">date=\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[+-]\d{2}:\d{2}|Z)?<")


def _same_package(new: str, old: str) -> bool:
    """Part by part: names, then sizes and CRCs from the zip directories (no
    decompression: an existing file may be anything, even a zip bomb), then
    the bytes, which the sizes of the new package bound; docProps/core.xml
    without its dates, and a sheet without the date of the check receipt."""
    try:
        with zipfile.ZipFile(new) as a, zipfile.ZipFile(old) as b:
            ia = {i.filename: i for i in a.infolist()}
            ib = {i.filename: i for i in b.infolist()}
            if ia.keys() != ib.keys():
                return False
            core = "docProps/core.xml"
            if any(x.file_size != ib[n].file_size for n, x in ia.items() if n != core):
                return False
            for name, info in ia.items():
                if name == core:
                    if max(info.file_size, ib[name].file_size) > 2**20:
                        return False
                    if _CORE_DATES.sub(b"", a.read(name)) != _CORE_DATES.sub(b"", b.read(name)):
                        return False
                elif info.CRC != ib[name].CRC:  # the same size: a receipt's date may be all that differs
                    if info.file_size > 2**20 or not name.startswith("xl/worksheets/"):
                        return False
                    if _RECEIPT_DATE.sub(b">date=<", a.read(name)) != _RECEIPT_DATE.sub(b">date=<", b.read(name)):
                        return False
                elif a.read(name) != b.read(name):
                    return False
            return True
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError, zlib.error):
        return False


def same_content(new: str, old: str) -> bool:
    """``new`` holds what ``old`` holds: a workbook part by part (zip
    timestamps and the dates of docProps/core.xml aside), anything else byte
    for byte."""
    try:
        if os.path.getsize(old) > 512 * 2**20:
            return False
        if zipfile.is_zipfile(new):  # a workbook, whatever its name
            return _same_package(new, old)
        with open(new, "rb") as f1, open(old, "rb") as f2:
            while True:
                x, y = f1.read(1 << 20), f2.read(1 << 20)
                if x != y:
                    return False
                if not x:
                    return True
    except OSError:
        return False


def verify_package(n_sheets: Optional[int] = None) -> Callable[[str], None]:
    """A workbook written whole: the zip reads back, with its workbook part
    and (``n_sheets``) every sheet there."""
    def verify(path: str) -> None:
        with zipfile.ZipFile(path) as z:  # re-read before it replaces anything
            bad = z.testzip()
            if bad:
                raise ValueError(f"la copie écrite est corrompue ({bad})")
            sheets = sheet_xml_paths(z)  # parses workbook.xml and its rels
            if n_sheets is not None and len(sheets) != n_sheets:
                raise ValueError("la copie écrite n'a pas toutes ses feuilles")
    return verify


def verify_pdf(path: str) -> None:
    with open(path, "rb") as fh:
        if not fh.read(5) == b"%PDF-":
            raise ValueError("la copie écrite n'est pas un PDF")


# --- keeping the previous version -------------------------------------------------------------

def backup_path(target: str) -> str:
    p = Path(target)
    return str(p.with_suffix(".bak" + (p.suffix or ".xlsx")))


def _as_given(target: str, path: str) -> str:
    """A path beside the real file, named as the user named the target when it is no link."""
    if os.path.realpath(target) == os.path.abspath(target):
        return os.path.join(os.path.dirname(target), os.path.basename(path))
    return path


def _is_workbook(path: str) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            return "xl/workbook.xml" in z.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return False


def _check_backup_slot(target: str, real: str) -> None:
    """``NAME.bak.xlsx`` may be replaced when absent, a link (the link is
    replaced, its target never touched) or a workbook (a previous backup);
    anything else is not ours and stays."""
    bak = backup_path(real)
    try:
        st = os.lstat(bak)
    except FileNotFoundError:
        return
    except OSError as e:
        raise UnwritableFile(target, os_reason(e)) from None
    if stat.S_ISLNK(st.st_mode):
        return
    if not stat.S_ISREG(st.st_mode) or not _is_workbook(bak):
        what = safety.file_kind(st.st_mode) if not stat.S_ISREG(st.st_mode) else "un fichier qui n'est pas un classeur"
        raise _refuse(target, f"la copie de sauvegarde ne peut pas être faite : le nom « {_as_given(target, bak)} » "
                              f"est pris par {what} (il n'est pas écrasé) ; renommez-le ou déplacez-le, puis "
                              "recommencez", "SAUVEGARDE_IMPOSSIBLE")


def _keep_owner(st: os.stat_result, path: str) -> None:
    """The mode, and the owner and group when the process may set them (root: always)."""
    os.chmod(path, stat.S_IMODE(st.st_mode))
    if hasattr(os, "chown"):
        try:
            os.chown(path, st.st_uid if os.geteuid() == 0 else -1, st.st_gid)
        except OSError:
            pass  # a user who is not in the file's group: the group becomes theirs, as any editor does


def _make_backup(real: str) -> str:
    """The file as it is now becomes ``NAME.bak.xlsx``: a hard link (no data
    written, owner and dates kept) or, where links are not possible, a copy —
    under a temporary name first, so that the previous backup stays whole
    until the new one is complete."""
    bak = backup_path(real)
    folder = os.path.dirname(real)
    tmp = os.path.join(folder, f"{TEMP_PREFIX}{os.getpid()}-{time.monotonic_ns()}.bak")
    try:
        try:
            os.link(real, tmp)
        except OSError:
            shutil.copy2(real, tmp)
            _keep_owner(os.stat(real), tmp)
        os.replace(tmp, bak)  # a symlink named like the backup is replaced, never followed
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
    return bak


def _fsync_folder(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- writing ---------------------------------------------------------------------------------

def write(target: str, produce: Callable[[str], None], *, inputs: Iterable[str] = (), force: bool = False,
          verify: Optional[Callable[[str], None]] = None, source: Optional[str] = None,
          stamp: Optional[tuple] = None, backup: bool = False, lossy: bool = False) -> Written:
    """Write one file through the frame (see the module's docstring)."""
    return write_all([Output(target, produce, verify, source, stamp, backup, lossy)], inputs=inputs,
                     force=force)[0]


@dataclass
class _Pending:
    out: Output
    real: str
    tmp: str
    in_place: bool
    existing: Optional[os.stat_result] = None
    changed: bool = True
    forced: bool = False  # a workbook the user said --force to replace: its version before is kept as a backup


def write_all(outputs: Sequence[Output], inputs: Iterable[str] = (), force: bool = False) -> list[Written]:
    """Write several files as one: every check, every production and every
    comparison is done before the first file is replaced (a refusal leaves
    all of them as they were)."""
    inputs = list(inputs)
    pending: list[_Pending] = []
    try:
        for out in outputs:
            check_output(out.target, inputs, out.source, out.stamp, out.lossy)
            if out.backup and out.source is not None and same_file(out.target, out.source):
                _check_backup_slot(out.target, os.path.realpath(out.target))  # before the work, and again after
        for out in outputs:
            pending.append(_produce(out))
        for p in pending:
            if p.changed and p.existing is not None and not p.in_place:
                if not force:
                    raise _existing(p.out.target)
                # --force replaces a workbook that may hold a person's edits (an example they worked on):
                # its version before goes to NAME.bak.xlsx, as a workbook rewritten in place does
                p.forced = _is_workbook(p.real)
                if p.forced:
                    bak = backup_path(p.real)
                    if os.path.lexists(bak) and any(same_file(bak, i) for i in inputs):
                        name = _as_given(p.out.target, bak)
                        raise _refuse(p.out.target, f"la copie de sauvegarde irait sur « {name} », que cette commande "
                                                    "lit (elle n'est pas écrasée) ; choisissez un autre nom de sortie",
                                      "SAUVEGARDE_IMPOSSIBLE")
                    _check_backup_slot(p.out.target, p.real)
        return [_place(p) for p in pending]
    finally:
        for p in pending:
            if os.path.lexists(p.tmp):
                os.unlink(p.tmp)


def _produce(out: Output) -> _Pending:
    target = out.target
    real = os.path.realpath(target)  # a symlinked target is written at its real path: the link stays
    folder = os.path.dirname(real)
    clean_stale_temps(folder)
    try:
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=Path(real).suffix or ".tmp", dir=folder)
    except OSError as e:
        raise UnwritableFile(target, os_reason(e)) from None
    os.close(fd)
    p = _Pending(out, real, tmp, out.source is not None and same_file(target, out.source))
    try:
        out.produce(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        if out.verify:
            out.verify(tmp)
        try:
            p.existing = os.stat(real)
        except FileNotFoundError:
            p.existing = None
        p.changed = p.existing is None or not same_content(tmp, real)
    except BaseException as e:
        os.unlink(tmp)
        if isinstance(e, CalpaeError):
            if e.path != target:  # a nested save into the temporary file: the user's file is the one to name
                raise UnwritableFile(target, e.reason, e.code) from None
            raise
        if isinstance(e, OSError):
            raise UnwritableFile(target, os_reason(e)) from None
        if isinstance(e, Exception):  # the boundary: content the engine could not write
            raise UnwritableFile(target, f"{type(e).__name__} : {str(e)[:200]}") from None
        raise
    return p


def _place(p: _Pending) -> Written:
    out, target = p.out, p.out.target
    if not p.changed:  # nothing to change: the file and its backup stay as they are
        return Written(target, False, None)
    try:
        if p.existing is not None:
            _keep_owner(p.existing, p.tmp)
        else:  # a new file gets the usual permissions, not the temporary file's 0600
            os.chmod(p.tmp, 0o666 & ~_umask())
        # the last look, right before the move: someone may have opened or saved the file meanwhile
        if os.path.exists(p.real):
            _check_not_open(target)
            if p.in_place and out.stamp is not None and safety.stamp(p.real) != out.stamp:
                raise _refuse(target, "le fichier a été modifié sur le disque pendant le traitement ; relancez la "
                                      "commande pour repartir de la version actuelle", "FICHIER_MODIFIE")
        bak = None
        if (p.in_place and out.backup or p.forced) and p.existing is not None:
            _check_backup_slot(target, p.real)
            bak = _as_given(target, _make_backup(p.real))
        os.replace(p.tmp, p.real)
        _fsync_folder(os.path.dirname(p.real))
    except CalpaeError:
        raise
    except OSError as e:
        raise UnwritableFile(target, os_reason(e)) from None
    return Written(target, True, bak)


@contextlib.contextmanager
def staging(target: str) -> Iterator[str]:
    """A private folder where an output is made whole (a new workbook, a PDF)
    before :func:`write` places it; a failure there is said about the file
    the user asked for, never about a temporary one."""
    with said_about(target):
        with tempfile.TemporaryDirectory(prefix="calpae-") as work:
            yield work


@contextlib.contextmanager
def said_about(target: str) -> Iterator[None]:
    """A failure while making ``target`` (in a temporary place) is said about
    ``target``, never about a temporary file."""
    try:
        yield
    except UnwritableFile as e:
        if e.path == str(target):
            raise
        raise UnwritableFile(str(target), e.reason, e.code) from None
    except OSError as e:
        raise UnwritableFile(str(target), os_reason(e)) from None


# --- the advisory lock ----------------------------------------------------------------------------

def _lock_folder() -> Optional[str]:
    """One folder per machine (every user's commands see the same locks)."""
    folder = os.path.join(tempfile.gettempdir(), "calpae-xl-verrous")
    try:
        os.mkdir(folder)
        os.chmod(folder, 0o1777)  # like /tmp: everyone may create a lock, no one remove another's
    except FileExistsError:
        pass
    except OSError:
        return None
    return folder if os.path.isdir(folder) and not os.path.islink(folder) else None


@contextlib.contextmanager
def exclusive(*paths: str, wait: Optional[float] = None) -> Iterator[None]:
    """Hold the advisory lock of each file (keyed by its real path) from
    before it is read until after it is saved; a second command on the same
    file waits for the first, at most ``wait`` seconds (default
    :data:`LOCK_WAIT`), then gives up with a French message. Locks live in
    the machine's temporary folder, never beside the user's files. Without
    fcntl (Windows) or a usable temporary folder, no lock: the
    changed-on-disk check still refuses to overwrite another's save."""
    folder = _lock_folder() if fcntl is not None else None
    if folder is None:
        yield
        return
    wait = LOCK_WAIT if wait is None else wait
    keys: dict[str, str] = {}  # one lock per real file, taken in a fixed order (no deadlock)
    for p in paths:
        keys.setdefault(hashlib.sha256(os.fsencode(os.path.realpath(p))).hexdigest()[:40], p)
    held: list[tuple[int, str]] = []
    try:
        for key, path in sorted(keys.items()):
            lock = _take(os.path.join(folder, key + ".lock"), path, wait)
            if lock is not None:
                held.append(lock)
        yield
    finally:
        for fd, name in reversed(held):
            with contextlib.suppress(OSError):  # removed while held: no lock file is left behind
                os.unlink(name)
            os.close(fd)  # closing releases the lock


def _take(name: str, path: str, wait: float) -> Optional[tuple[int, str]]:
    """Lock ``name`` (created if needed); the file a waiting command locks
    may have been removed by the holder meanwhile: then it tries again on the
    new one. None when no lock can be made there."""
    deadline = time.monotonic() + wait
    flags = os.O_RDONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    while True:
        try:
            fd = os.open(name, flags, 0o666)
        except OSError:
            return None  # a lock that cannot be made is no reason to refuse the work
        with contextlib.suppress(OSError):  # whatever the umask, every user can take this lock
            os.fchmod(fd, 0o666)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise _refuse(path, f"une autre commande calpae-xl travaille sur ce fichier depuis plus de "
                                        f"{wait:g} s ; attendez qu'elle finisse, puis recommencez",
                                  "FICHIER_OCCUPE") from None
                time.sleep(0.05)
        try:
            if os.stat(name).st_ino == os.fstat(fd).st_ino:
                return fd, name
        except FileNotFoundError:
            pass
        os.close(fd)  # locked a file its holder had removed: take the current one
