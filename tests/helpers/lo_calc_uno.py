"""The UNO side of lo_calc: a headless soffice, its documents, and the person's edits.

Imported in-process by ``lo_calc.start_office`` when this interpreter can load
pyuno, or run as the bridge server by an interpreter that can::

    /usr/bin/python3 lo_calc_uno.py --serve      # JSON lines on stdin/stdout

Request  ``{"id": 1, "doc": null | handle, "method": "open", "args": [...], "kwargs": {...}}``
Reply    ``{"id": 1, "ok": true, "result": ...}`` or
         ``{"id": 1, "ok": false, "error": "OfficeDied", "message": "..."}``
The first request must be ``start`` (kwargs = UnoOffice options); ``close``
without ``doc`` stops soffice and the server.
"""
from __future__ import annotations

import atexit
import contextlib
import dataclasses
import datetime as _dt
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import weakref
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

try:
    from . import lo_calc as _api
except ImportError:   # run as a script, or imported without a package
    import lo_calc as _api

_api.add_uno_paths()
import uno  # noqa: E402
import builtins  # noqa: E402

# uno.py hooks builtins.__import__ (for "from com.sun.star... import X"): give the
# interpreter its own back, this module names UNO types through uno.getClass & co.
if getattr(builtins.__import__, "__name__", "") == "_uno_import" and hasattr(uno, "_builtin_import"):
    builtins.__import__ = uno._builtin_import

NoConnectException = uno.getClass("com.sun.star.connection.NoConnectException")

OfficeError, OfficeDied, OfficeTimeout = _api.OfficeError, _api.OfficeDied, _api.OfficeTimeout
UnoException = uno.getClass("com.sun.star.uno.Exception")
DisposedException = uno.getClass("com.sun.star.lang.DisposedException")

# com.sun.star.sheet.CellFlags / FormulaResult / NumberFormat
VALUE, DATETIME, STRING, ANNOTATION, FORMULA = 1, 2, 4, 8, 16
CONTENTS = VALUE | DATETIME | STRING | FORMULA      # what the Delete key removes
ALL_FLAGS = 1023
RESULT_VALUE, RESULT_STRING, RESULT_ERROR = 1, 2, 4
NF_DEFINED, NF_DATE, NF_TIME, NF_NUMBER, NF_TEXT, NF_LOGICAL = 1, 2, 4, 16, 256, 1024

#: save filter by extension
FILTERS = {".xlsx": "Calc MS Excel 2007 XML", ".xlsm": "Calc MS Excel 2007 VBA XML",
           ".ods": "calc8", ".xls": "MS Excel 97", ".pdf": "calc_pdf_Export", ".csv": "Text - txt - csv (StarCalc)"}
RECALC_MODES = {"always": 0, "never": 1, "prompt": 2}

_ITEM = '<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>'


def pv(name: str, value: Any) -> Any:
    """A com.sun.star.beans.PropertyValue."""
    p = uno.createUnoStruct("com.sun.star.beans.PropertyValue")
    p.Name, p.Value = name, value
    return p


def write_profile(folder: Path, locale: Optional[str] = None, recalc_on_load: str = "never") -> str:
    """A private LibreOffice profile; returns its file URL (for -env:UserInstallation).
    Recalc-on-load mode, locale; no lock files, no autosave/recovery, no "keep format" question."""
    mode = RECALC_MODES[recalc_on_load]
    items = [_ITEM.format(path="/org.openoffice.Office.Calc/Formula/Load", name=n, value=mode)
             for n in ("OOXMLRecalcMode", "ODFRecalcMode")]
    items += [_ITEM.format(path="/org.openoffice.Office.Common/Misc", name="UseLocking", value="false"),
              _ITEM.format(path="/org.openoffice.Office.Common/Misc", name="FirstRun", value="false"),
              _ITEM.format(path="/org.openoffice.Office.Common/Save/Document", name="WarnAlienFormat", value="false"),
              _ITEM.format(path="/org.openoffice.Office.Recovery/AutoSave", name="Enabled", value="false"),
              _ITEM.format(path="/org.openoffice.Office.Recovery/RecoveryInfo", name="Enabled", value="false")]
    if locale:
        items += [_ITEM.format(path="/org.openoffice.Setup/L10N", name=n, value=locale)
                  for n in ("ooSetupSystemLocale", "ooLocale")]
    user = folder / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        + "\n".join(items) + "\n</oor:items>\n", encoding="utf-8")
    return uno.systemPathToFileUrl(str(folder.resolve()))


def col_letters(c: int) -> str:
    """0 -> A, 27 -> AB."""
    s = ""
    c += 1
    while c:
        c, r = divmod(c - 1, 26)
        s = chr(65 + r) + s
    return s


def col_index(col: Union[str, int]) -> int:
    """1-based column number of "C" or 3."""
    if isinstance(col, int):
        return col
    n = 0
    for ch in col.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _short_name(absolute: str) -> str:
    """"$Maquette.$N$1:$N$3" -> "N1:N3"."""
    return ":".join(p.rsplit(".", 1)[-1] for p in absolute.split(":")).replace("$", "")


def _uno_message(e: BaseException) -> str:
    return getattr(e, "Message", "") or type(e).__name__


_live: "weakref.WeakSet[UnoOffice]" = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for office in list(_live):
        office.close()


PROFILE_PREFIX = "lo-calc-"


def _sweep_stale_profiles() -> None:
    """Remove the profiles left by interpreters that were killed (their owner.pid is dead)."""
    for d in Path(tempfile.gettempdir()).glob(PROFILE_PREFIX + "*"):
        try:
            owner = int((d / "owner.pid").read_text())
        except (OSError, ValueError):
            continue
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except PermissionError:
            pass


def _set_pdeathsig() -> None:
    """In the child before exec: SIGKILL when the parent (this interpreter) dies."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except Exception:
        pass


# --------------------------------------------------------------------------- the office

class UnoOffice:
    """One headless soffice with a private profile, reused for many documents.

    Every UNO call runs under a watchdog: past ``timeout`` seconds soffice is
    killed (the blocked call then fails) and ``OfficeTimeout`` is raised. A
    dead soffice is restarted by the next ``open``/``edit``/``recalc_and_read``.
    ``close()`` (or the ``with`` block, or interpreter exit) stops it and
    removes the profile; soffice also dies with this interpreter (PDEATHSIG).
    """
    mode = "inprocess"

    def __init__(self, locale: Optional[str] = None, recalc_on_load: str = "never", timeout: float = 60.0,
                 start_timeout: float = 120.0, soffice: Optional[str] = None,
                 profile_dir: Optional[Union[str, os.PathLike]] = None, keep_profile: bool = False):
        if recalc_on_load not in RECALC_MODES:
            raise ValueError(f"recalc_on_load: one of {sorted(RECALC_MODES)}")
        self.locale, self.recalc_on_load = locale, recalc_on_load
        self.timeout, self.start_timeout = float(timeout), float(start_timeout)
        exe = soffice or _api.soffice_path()
        if not exe:
            raise OfficeError("soffice not found")
        real = Path(os.path.realpath(exe))
        # soffice.bin itself (not the oosplash wrapper): its pid is the one to watch and kill
        self.executable = str(real.parent / "soffice.bin") if (real.parent / "soffice.bin").exists() else exe
        self._own_profile = profile_dir is None
        if self._own_profile:
            _sweep_stale_profiles()
        self.profile_dir = Path(profile_dir) if profile_dir else Path(tempfile.mkdtemp(prefix=PROFILE_PREFIX))
        if self._own_profile:
            (self.profile_dir / "owner.pid").write_text(str(os.getpid()))
        self.keep_profile = keep_profile
        self._profile_url = write_profile(self.profile_dir, locale, recalc_on_load)
        self._proc: Optional[subprocess.Popen] = None
        self._desktop = None
        self._ctx = None
        self._dead = True
        self._generation = 0
        self._docs: "weakref.WeakSet[UnoDocument]" = weakref.WeakSet()
        self.stats: Dict[str, Any] = {"starts": 0, "restarts": 0, "timeouts": 0, "last_start_s": None}
        self._closed = False
        _live.add(self)
        self.start()

    # -- process management
    @property
    def pid(self) -> Optional[int]:
        return self._proc.pid if self._proc and self._proc.poll() is None else None

    @property
    def alive(self) -> bool:
        return not self._dead and self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        if self._closed:
            raise OfficeError("office closed")
        if self.alive:
            return
        self._kill_process()
        t0 = time.monotonic()
        deadline = t0 + self.start_timeout
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        launches = 0
        while True:
            launches += 1
            pipe = f"lo_calc_{os.getpid()}_{uuid.uuid4().hex[:10]}"
            log = open(self.profile_dir / "soffice.log", "ab")
            env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
            env.setdefault("SAL_USE_VCLPLUGIN", "svp")
            self._proc = subprocess.Popen(
                [self.executable, f"-env:UserInstallation={self._profile_url}", "--headless", "--invisible",
                 "--nologo", "--norestore", "--nodefault", "--nolockcheck", "--nofirststartwizard",
                 f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                start_new_session=True, preexec_fn=_set_pdeathsig)
            log.close()
            url = f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext"
            ctx = None
            while ctx is None:
                rc = self._proc.poll()
                if rc is not None:
                    break
                try:
                    ctx = resolver.resolve(url)
                except NoConnectException:
                    if time.monotonic() > deadline:
                        self._kill_process()
                        raise OfficeTimeout(f"soffice did not accept connections in {self.start_timeout}s"
                                            + self._log_tail()) from None
                    time.sleep(0.05)
            if ctx is not None:
                break
            if rc == 81 and launches < 4:   # "restart requested" (first run of a new profile)
                continue
            raise OfficeDied(f"soffice exited with code {rc} at start" + self._log_tail())
        self._ctx = ctx
        self._desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        self._dead = False
        self._generation += 1
        self.stats["starts"] += 1
        self.stats["last_start_s"] = round(time.monotonic() - t0, 3)

    def _log_tail(self) -> str:
        try:
            tail = (self.profile_dir / "soffice.log").read_text(errors="replace")[-600:].strip()
        except OSError:
            return ""
        return f"\nsoffice log: {tail}" if tail else ""

    def _kill_process(self) -> None:
        self._dead = True
        p = self._proc
        if p is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.pid, signal.SIGKILL)   # its own session: the group is soffice and its children
        with contextlib.suppress(Exception):
            p.wait(10)
        self._dead = True
        self._desktop = self._ctx = None

    def ensure_running(self) -> None:
        """Restart soffice if it died (or was killed by the watchdog)."""
        if not self.alive:
            if self.stats["starts"]:
                self.stats["restarts"] += 1
            self.start()

    def restart(self) -> None:
        self._kill_process()
        self.ensure_running()

    @contextlib.contextmanager
    def guard(self, what: str, timeout: Optional[float] = None) -> Iterator[None]:
        """Run UNO calls under the watchdog; map failures to OfficeError/Died/Timeout."""
        if not self.alive:
            raise OfficeDied(f"{what}: soffice is not running")
        limit = timeout or self.timeout
        fired = threading.Event()

        def fire() -> None:
            self._dead = True
            fired.set()
            self.stats["timeouts"] += 1
            self._kill_process()

        timer = threading.Timer(limit, fire)
        timer.daemon = True
        timer.start()
        try:
            yield
        except OfficeError:
            raise
        except Exception as e:
            timer.cancel()
            if fired.is_set():
                raise OfficeTimeout(f"{what}: no answer in {limit:g}s, soffice killed") from e
            if isinstance(e, DisposedException) or self._proc is None or self._proc.poll() is not None \
                    or re.search(r"bridge|illegal object", _uno_message(e), re.I):
                self._kill_process()
                raise OfficeDied(f"{what}: soffice died ({_uno_message(e)})" + self._log_tail()) from e
            if isinstance(e, UnoException):
                raise OfficeError(f"{what}: {type(e).__name__}: {_uno_message(e)}") from e
            raise
        finally:
            timer.cancel()
        if fired.is_set():
            raise OfficeTimeout(f"{what}: no answer in {limit:g}s, soffice killed")

    # -- documents
    def open(self, path: Union[str, os.PathLike], read_only: bool = False) -> "UnoDocument":
        """Load a workbook (hidden), as File > Open does. Macros never run."""
        self.ensure_running()
        path = Path(path).resolve()
        if not path.is_file():
            raise OfficeError(f"no such file: {path}")
        props = (pv("Hidden", True), pv("ReadOnly", bool(read_only)), pv("MacroExecutionMode", 0),
                 pv("UpdateDocMode", 0))
        with self.guard(f"open {path.name}"):
            comp = self._desktop.loadComponentFromURL(uno.systemPathToFileUrl(str(path)), "_blank", 0, props)
            if comp is None:
                raise OfficeError(f"LibreOffice could not load {path}")
            if not comp.supportsService("com.sun.star.sheet.SpreadsheetDocument"):
                comp.close(True)
                raise OfficeError(f"{path} is not a spreadsheet")
        doc = UnoDocument(self, comp, path)
        self._docs.add(doc)
        return doc

    def edit(self, path: Union[str, os.PathLike], edits: Iterable[Sequence[Any]],
             out: Optional[Union[str, os.PathLike]] = None, retries: int = 1) -> None:
        """The person's whole cycle: open ``path``, apply each edit ``(name, *args[, {kwargs}])``,
        save as ``out`` (default: ``path``, format from the extension), close.
        If soffice dies meanwhile it is restarted and the cycle replayed (``retries`` times);
        the file is replaced atomically, so a failed cycle leaves it as it was."""
        edits = [tuple(e) for e in edits]
        for attempt in range(retries + 1):
            try:
                with self.open(path) as doc:
                    for e in edits:
                        doc.apply(e)
                    doc.save(out or path)
                return
            except OfficeDied:
                if attempt == retries:
                    raise

    def recalc_and_read(self, path: Union[str, os.PathLike], sheets: Optional[Sequence[Union[str, int]]] = None,
                        recalc: bool = True, retries: int = 1) -> Dict[str, Dict[str, "_api.Cell"]]:
        """Open ``path`` read-only, hard-recalculate (calculateAll) unless ``recalc`` is false,
        and return ``{sheet: {"A1": cell}}`` for ``sheets`` (default all)."""
        for attempt in range(retries + 1):
            try:
                with self.open(path, read_only=True) as doc:
                    if recalc:
                        doc.recalc()
                    return doc.read_all(sheets)
            except OfficeDied:
                if attempt == retries:
                    raise
        raise AssertionError("unreachable")

    def read(self, path, sheets=None):
        """The file as LibreOffice loads it (cached values, per the recalc_on_load mode)."""
        return self.recalc_and_read(path, sheets, recalc=False)

    def convert(self, path, out, filter_name: Optional[str] = None) -> None:
        """Load and store under another format (the ``--convert-to`` equivalent)."""
        with self.open(path, read_only=True) as doc:
            doc.save(out, filter_name=filter_name)

    def close(self) -> None:
        """Close the documents, terminate soffice (killed if it lingers), remove the profile."""
        if self._closed:
            return
        self._closed = True
        for doc in list(self._docs):
            with contextlib.suppress(Exception):
                doc.close()
        if self.alive:
            with contextlib.suppress(Exception):
                with self.guard("terminate", timeout=20):
                    self._desktop.terminate()
            with contextlib.suppress(Exception):
                self._proc.wait(10)
        self._kill_process()
        if self._own_profile and not self.keep_profile:
            shutil.rmtree(self.profile_dir, ignore_errors=True)
        _live.discard(self)

    def __enter__(self) -> "UnoOffice":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


# --------------------------------------------------------------------------- a document

def _op(fn):
    """Document method: check the document is still there, run under the watchdog."""
    @functools.wraps(fn)
    def wrapper(self: "UnoDocument", *args, **kwargs):
        if self._comp is None:
            raise OfficeError("document closed")
        if self._generation != self._office._generation or not self._office.alive:
            self._comp = None
            raise OfficeDied("soffice died or was restarted: this document is lost")
        with self._office.guard(f"{fn.__name__} {args!r}"[:200]):
            return fn(self, *args, **kwargs)
    return wrapper


class UnoDocument:
    """An open workbook. Edit methods mirror what a person does in Calc."""

    def __init__(self, office: UnoOffice, comp: Any, path: Path):
        self._office, self._comp, self.path = office, comp, path
        self._generation = office._generation
        self._parser = None
        self._native_parser = None
        self._formatter = None

    # -- helpers
    def _sheet(self, sheet: Union[str, int]):
        sheets = self._comp.Sheets
        if isinstance(sheet, int):
            if not 0 <= sheet < sheets.getCount():
                raise OfficeError(f"no sheet #{sheet}")
            return sheets.getByIndex(sheet)
        if not sheets.hasByName(sheet):
            raise OfficeError(f"no sheet {sheet!r} (sheets: {list(sheets.getElementNames())})")
        return sheets.getByName(sheet)

    def _range(self, sheet, ref: str):
        return self._sheet(sheet).getCellRangeByName(ref)

    def _cell(self, sheet, ref: str):
        if ":" in ref:
            raise OfficeError(f"one cell expected, not {ref!r}")
        return self._sheet(sheet).getCellRangeByName(ref)

    def _formula_parser(self):
        """Parses and prints formulas in Excel (OOXML) syntax."""
        if self._parser is None:
            OOXML = uno.getConstantByName("com.sun.star.sheet.FormulaLanguage.OOXML")
            ALL_EXCEPT_SPECIAL = uno.getConstantByName("com.sun.star.sheet.FormulaMapGroup.ALL_EXCEPT_SPECIAL")
            mapper = self._comp.createInstance("com.sun.star.sheet.FormulaOpCodeMapper")
            p = self._comp.createInstance("com.sun.star.sheet.FormulaParser")
            p.OpCodeMap = mapper.getAvailableMappings(OOXML, ALL_EXCEPT_SPECIAL)
            p.FormulaConvention = uno.getConstantByName("com.sun.star.sheet.AddressConvention.XL_OOX")
            p.CompileEnglish = True
            self._parser = p
        return self._parser

    def _tokens(self, formula: str, cell):
        f = formula[1:] if formula.startswith("=") else formula
        return self._formula_parser().parseFormula(f, cell.getCellAddress())

    # -- the person's edits
    def apply(self, edit: Sequence[Any]) -> None:
        """One edit as a tuple ``(name, *args[, {kwargs}])``, e.g. ``("set_number", "Maquette", "F5", 1)``."""
        name, *args = edit
        kwargs = args.pop() if args and isinstance(args[-1], dict) else {}
        if name not in _api.EDITS:
            raise OfficeError(f"unknown edit {name!r} (one of {_api.EDITS})")
        getattr(self, name)(*args, **kwargs)

    @_op
    def set_number(self, sheet, ref: str, value: float) -> None:
        """Type a number: the cell keeps its format (a formula there is replaced)."""
        self._cell(sheet, ref).setValue(float(value))

    @_op
    def set_text(self, sheet, ref: str, text: str) -> None:
        """Enter a text cell, whatever it looks like ("35 813 €", "12"): as typing '12 with a quote."""
        self._cell(sheet, ref).setString(str(text))

    @_op
    def set_date(self, sheet, ref: str, value: Union[str, _dt.date, _dt.datetime],
                 number_format: Optional[str] = None) -> None:
        """A real date cell: the serial number, with a date format (the cell's own if it
        already has one, else ``number_format`` or the locale's standard date format)."""
        if isinstance(value, str):
            value = _dt.datetime.fromisoformat(value)
        has_time = isinstance(value, _dt.datetime) and value.time() != _dt.time(0)
        if not isinstance(value, _dt.datetime):
            value = _dt.datetime(value.year, value.month, value.day)
        nd = self._comp.NullDate
        serial = (value - _dt.datetime(nd.Year, nd.Month, nd.Day)).total_seconds() / 86400
        cell = self._cell(sheet, ref)
        cell.setValue(serial)
        formats = self._comp.NumberFormats
        locale = uno.createUnoStruct("com.sun.star.lang.Locale")
        if number_format:
            key = formats.queryKey(number_format, locale, False)
            cell.NumberFormat = key if key != -1 else formats.addNew(number_format, locale)
        elif not formats.getByKey(cell.NumberFormat).Type & (NF_DATE | NF_TIME):
            cell.NumberFormat = formats.getStandardFormat(NF_DATE | NF_TIME if has_time else NF_DATE, locale)

    @_op
    def set_formula(self, sheet, ref: str, formula: str, syntax: str = "excel") -> None:
        """Enter a formula, Excel syntax ("=ROUND(F5,2)", "=Paramètres!B2"); ``syntax="calc"``
        for LibreOffice's own ("=ROUND(F5;2)", "=$Paramètres.B2")."""
        cell = self._cell(sheet, ref)
        if syntax == "calc":
            cell.setFormula(formula)
        else:
            cell.setTokens(self._tokens(formula, cell))

    @_op
    def set_array_formula(self, sheet, ref: str, formula: str, syntax: str = "excel") -> None:
        """Enter an array (Ctrl+Shift+Enter) formula over ``ref`` ("N1:N3" or one cell)."""
        rng = self._range(sheet, ref)
        if syntax == "calc":
            rng.setArrayFormula(formula)
        else:
            top_left = rng.getCellByPosition(0, 0)
            rng.setArrayTokens(self._tokens(formula, top_left))

    @_op
    def type(self, sheet, ref: str, text: str) -> None:
        """Type ``text`` into the cell and press Enter. Calc's input rules, with the
        office locale: with ``locale="fr-FR"``, "35 813 €" becomes the number 35813 in
        currency format, "15/03/2020" a date, "12 %" 0.12, "VRAI" a boolean; otherwise,
        or after a leading apostrophe, or in a Text-formatted (@) cell, it stays text.
        The detected format replaces the cell's only if that was a standard one
        (General, standard date...), as Calc does. A leading "=" enters a formula
        (Excel syntax, as ``set_formula``).

        Emulated with the document's number formatter (the engine behind Calc's input
        line), not with ``.uno:EnterString``: that dispatch on a hidden document made
        soffice 7.4 abort within a few calls."""
        cell = self._cell(sheet, ref)
        text = str(text)
        if text.startswith("=") and len(text) > 1:
            cell.setTokens(self._tokens(text, cell))
            return
        if text.startswith("'"):
            cell.setString(text[1:])
            return
        if text == "":
            cell.clearContents(CONTENTS)
            return
        formats = self._comp.NumberFormats
        old_key = cell.NumberFormat
        old_type = formats.getByKey(old_key).Type & ~NF_DEFINED
        if old_type & NF_TEXT:
            cell.setString(text)
            return
        formatter = self._number_formatter()
        try:
            new_key = formatter.detectNumberFormat(old_key, text)
            value = formatter.convertStringToNumber(new_key, text)
        except UnoException:   # NotNumericException: the input is text
            cell.setString(text)
            return
        cell.setValue(value)
        if new_key != old_key:
            new_type = formats.getByKey(new_key).Type & ~NF_DEFINED
            locale = uno.createUnoStruct("com.sun.star.lang.Locale")
            standard = old_type in (NF_NUMBER, NF_DATE, NF_TIME, NF_DATE | NF_TIME, NF_LOGICAL) and \
                old_key == formats.getStandardFormat(old_type, locale)
            if standard or new_type == NF_LOGICAL:
                cell.NumberFormat = new_key

    def _number_formatter(self):
        if self._formatter is None:
            ctx = self._office._ctx
            f = ctx.ServiceManager.createInstanceWithContext("com.sun.star.util.NumberFormatter", ctx)
            f.attachNumberFormatsSupplier(self._comp)
            self._formatter = f
        return self._formatter

    def set_value(self, sheet, ref: str, value: Any) -> None:
        """By Python type: None clears, number, date, "=..." formula, other str text."""
        if value is None:
            self.clear(sheet, ref)
        elif isinstance(value, bool):
            self.set_formula(sheet, ref, "=TRUE()" if value else "=FALSE()")
        elif isinstance(value, (int, float)) or hasattr(value, "as_tuple"):
            self.set_number(sheet, ref, float(value))
        elif isinstance(value, (_dt.date, _dt.datetime)):
            self.set_date(sheet, ref, value)
        elif isinstance(value, str) and value.startswith("=") and len(value) > 1:
            self.set_formula(sheet, ref, value)
        else:
            self.set_text(sheet, ref, str(value))

    @_op
    def clear(self, sheet, ref: str, formats: bool = False) -> None:
        """The Delete key: values, texts, dates, formulas go, formats stay (``formats=True``: everything)."""
        self._range(sheet, ref).clearContents(ALL_FLAGS if formats else CONTENTS)

    @_op
    def insert_rows(self, sheet, row: int, count: int = 1) -> None:
        """Insert ``count`` whole rows above row ``row`` (1-based), as Sheet > Insert Rows Above."""
        self._sheet(sheet).getRows().insertByIndex(row - 1, count)

    @_op
    def delete_rows(self, sheet, row: int, count: int = 1) -> None:
        """Delete ``count`` whole rows from row ``row`` (1-based)."""
        self._sheet(sheet).getRows().removeByIndex(row - 1, count)

    @_op
    def insert_columns(self, sheet, col: Union[str, int], count: int = 1) -> None:
        self._sheet(sheet).getColumns().insertByIndex(col_index(col) - 1, count)

    @_op
    def delete_columns(self, sheet, col: Union[str, int], count: int = 1) -> None:
        self._sheet(sheet).getColumns().removeByIndex(col_index(col) - 1, count)

    @_op
    def merge(self, sheet, ref: str) -> None:
        """Format > Merge Cells. The hidden cells keep their content (LibreOffice's
        dialog choice "keep the contents of the hidden cells")."""
        self._range(sheet, ref).merge(True)

    @_op
    def unmerge(self, sheet, ref: str) -> None:
        """Unmerge the merged area containing ``ref``."""
        sh = self._sheet(sheet)
        cur = sh.createCursorByRange(sh.getCellRangeByName(ref))
        cur.collapseToMergedArea()
        cur.merge(False)

    @_op
    def rename_sheet(self, sheet, new_name: str) -> None:
        """Formulas referring to the sheet follow, as in Calc."""
        self._sheet(sheet).setName(new_name)

    @_op
    def add_sheet(self, name: str, position: Optional[int] = None) -> None:
        """A new empty sheet, at ``position`` (0-based; default last)."""
        sheets = self._comp.Sheets
        if sheets.hasByName(name):
            raise OfficeError(f"sheet {name!r} exists")
        sheets.insertNewByName(name, sheets.getCount() if position is None else position)

    @_op
    def delete_sheet(self, sheet) -> None:
        self._comp.Sheets.removeByName(self._sheet(sheet).getName())

    # -- whole document
    @_op
    def sheet_names(self) -> List[str]:
        return list(self._comp.Sheets.getElementNames())

    @_op
    def recalc(self) -> None:
        """Hard recalculation (Ctrl+Shift+F9): every formula, whatever its cached value."""
        self._comp.calculateAll()

    @_op
    def calculate(self) -> None:
        """Recalculate the dirty formulas only (F9)."""
        self._comp.calculate()

    @_op
    def save(self, path: Optional[Union[str, os.PathLike]] = None, filter_name: Optional[str] = None) -> str:
        """File > Save As (format from the extension: .xlsx = "Calc MS Excel 2007 XML", Keep
        current format). Written to a temporary sibling, then renamed over ``path``."""
        target = Path(path).resolve() if path else self.path
        filt = filter_name or FILTERS.get(target.suffix.lower())
        if not filt:
            raise OfficeError(f"no filter known for {target.suffix!r}: pass filter_name")
        tmp = target.with_name(f".~lo-calc-{os.getpid()}-{uuid.uuid4().hex[:6]}{target.suffix}")
        try:
            self._comp.storeToURL(uno.systemPathToFileUrl(str(tmp)), (pv("FilterName", filt), pv("Overwrite", True)))
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return str(target)

    def close(self) -> None:
        """Close without saving (the changes not saved are dropped)."""
        comp, self._comp = self._comp, None
        if comp is None or self._generation != self._office._generation or not self._office.alive:
            return
        with contextlib.suppress(OfficeError):
            with self._office.guard("close"):
                try:
                    comp.close(True)
                except DisposedException:
                    pass

    def __enter__(self) -> "UnoDocument":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reading
    @_op
    def read_sheet(self, sheet) -> Dict[str, "_api.Cell"]:
        """Every non-empty cell of the sheet: ``{"F5": Cell(type, value, formula, error,
        date, array)}`` (see lo_calc.Cell). Values are what LibreOffice holds now:
        call ``recalc()`` first for its own recomputation."""
        return self._read(self._sheet(sheet))

    @_op
    def read_all(self, sheets: Optional[Sequence[Union[str, int]]] = None) -> Dict[str, Dict[str, "_api.Cell"]]:
        objs = [self._sheet(s) for s in sheets] if sheets else \
            [self._comp.Sheets.getByIndex(i) for i in range(self._comp.Sheets.getCount())]
        return {sh.getName(): self._read(sh) for sh in objs}

    def _api_parser(self):
        """Parses formulas in the grammar of XCell.getFormula (English names, ';', $Sheet.A1)."""
        if self._native_parser is None:
            ODF_11 = uno.getConstantByName("com.sun.star.sheet.FormulaLanguage.ODF_11")
            ALL_EXCEPT_SPECIAL = uno.getConstantByName("com.sun.star.sheet.FormulaMapGroup.ALL_EXCEPT_SPECIAL")
            mapper = self._comp.createInstance("com.sun.star.sheet.FormulaOpCodeMapper")
            p = self._comp.createInstance("com.sun.star.sheet.FormulaParser")
            p.OpCodeMap = mapper.getAvailableMappings(ODF_11, ALL_EXCEPT_SPECIAL)
            p.FormulaConvention = uno.getConstantByName("com.sun.star.sheet.AddressConvention.OOO")
            p.CompileEnglish = True
            self._native_parser = p
        return self._native_parser

    def _read(self, sh) -> Dict[str, "_api.Cell"]:
        """Bulk reads (getDataArray, getFormulaArray, cell queries): per-cell UNO objects
        cost ~1 ms each in a big document, so only error and array cells get one."""
        cur = sh.createCursor()
        cur.gotoEndOfUsedArea(False)
        end = cur.getRangeAddress()
        rng = sh.getCellRangeByPosition(0, 0, end.EndColumn, end.EndRow)
        data = rng.getDataArray()
        forms = rng.getFormulaArray()

        def cells(ranges) -> Iterator[Tuple[int, int]]:
            for a in ranges.getRangeAddresses():
                for r in range(a.StartRow, a.EndRow + 1):
                    for c in range(a.StartColumn, a.EndColumn + 1):
                        yield r, c

        out: Dict[Tuple[int, int], Any] = {}
        dates = set(cells(rng.queryContentCells(DATETIME)))
        for r, c in cells(rng.queryContentCells(VALUE | DATETIME)):
            out[r, c] = _api.Cell("number", float(data[r][c]), date=(r, c) in dates)
        for r, c in cells(rng.queryContentCells(STRING)):
            out[r, c] = _api.Cell("text", data[r][c])
        formula_cells = list(cells(rng.queryContentCells(FORMULA)))
        if formula_cells:
            errors = set(cells(rng.queryFormulaCells(RESULT_ERROR)))
            texts = set(cells(rng.queryFormulaCells(RESULT_STRING)))
            to_excel, from_api = self._formula_parser(), self._api_parser()
            arrays: Dict[Tuple[int, int], str] = {}
            index = sh.getRangeAddress().Sheet
            for r, c in formula_cells:
                native, array = forms[r][c], None
                addr = uno.createUnoStruct("com.sun.star.table.CellAddress", index, c, r)
                if native.startswith("{"):   # part of an array formula
                    native = native[1:-1]
                    if (r, c) not in arrays:
                        ac = sh.createCursorByRange(sh.getCellByPosition(c, r))
                        ac.collapseToCurrentArray()
                        a = ac.getRangeAddress()
                        name = _short_name(ac.AbsoluteName)
                        for rr in range(a.StartRow, a.EndRow + 1):
                            for cc in range(a.StartColumn, a.EndColumn + 1):
                                arrays[rr, cc] = name
                    array = arrays[r, c]
                    top = array.split(":")[0]
                    addr.Column, addr.Row = _parse_ref(top)
                formula = _upper_errors("=" + to_excel.printFormula(from_api.parseFormula(native, addr), addr))
                if (r, c) in errors or data[r][c] is None:
                    err = sh.getCellByPosition(c, r).getString()
                    out[r, c] = _api.Cell("formula", err, formula, error=err, array=array)
                elif (r, c) in texts:
                    out[r, c] = _api.Cell("formula", data[r][c], formula, array=array)
                else:
                    out[r, c] = _api.Cell("formula", float(data[r][c]), formula, array=array)
        return {f"{col_letters(c)}{r + 1}": cell for (r, c), cell in sorted(out.items())}


_ERROR_LITERAL = re.compile(r"#(?:NULL!|DIV/0!|VALUE!|REF!|NAME\?|NUM!|N/A|GETTING_DATA)", re.I)


def _upper_errors(formula: str) -> str:
    """The OOXML printer writes error constants in lower case (#ref!): Excel writes #REF!."""
    parts = re.split(r'("(?:[^"]|"")*")', formula)   # odd items: string literals, left alone
    return "".join(p if i % 2 else _ERROR_LITERAL.sub(lambda m: m.group(0).upper(), p)
                   for i, p in enumerate(parts))


def _parse_ref(ref: str) -> Tuple[int, int]:
    """"N12" -> (13, 11): 0-based column, row."""
    m = re.fullmatch(r"([A-Za-z]+)(\d+)", ref)
    if not m:
        raise ValueError(ref)
    return col_index(m.group(1)) - 1, int(m.group(2)) - 1


# --------------------------------------------------------------------------- the bridge server

_OFFICE_METHODS = {"edit", "recalc_and_read", "read", "convert", "restart", "ensure_running"}
_DOC_METHODS = set(_api.EDITS) | {"apply", "save", "recalc", "calculate", "read_sheet", "read_all", "sheet_names"}


def _to_json(o: Any) -> Any:
    if isinstance(o, _api.Cell):
        return dataclasses.asdict(o)
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


def serve(stdin=None, stdout=None) -> int:
    """JSON-lines server (see the module docstring). Exits on EOF, ``close``, SIGTERM."""
    proto = stdout or os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)   # anything printed by libraries goes to stderr, never into the protocol
    stdin = stdin or sys.stdin
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    office: Optional[UnoOffice] = None
    docs: Dict[int, UnoDocument] = {}
    handle = 0
    try:
        for line in stdin:
            if not line.strip():
                continue
            msg = json.loads(line)
            method, args, kwargs, doc = msg["method"], msg.get("args") or [], msg.get("kwargs") or {}, msg.get("doc")
            stop = False
            try:
                if method == "start":
                    if office is None:
                        office = UnoOffice(**kwargs)
                    result: Any = office.pid
                elif office is None:
                    raise OfficeError("send 'start' first")
                elif doc is not None:
                    d = docs.get(doc)
                    if d is None:
                        raise OfficeError(f"no document #{doc}")
                    if method == "close":
                        docs.pop(doc).close()
                        result = None
                    elif method in _DOC_METHODS:
                        result = getattr(d, method)(*args, **kwargs)
                    else:
                        raise OfficeError(f"unknown document method {method!r}")
                elif method == "open":
                    handle += 1
                    docs[handle] = office.open(*args, **kwargs)
                    result = handle
                elif method in _OFFICE_METHODS:
                    result = getattr(office, method)(*args, **kwargs)
                elif method == "pid":
                    result = office.pid
                elif method == "stats":
                    result = dict(office.stats, pid=office.pid)
                elif method == "close":
                    office.close()
                    result, stop = None, True
                else:
                    raise OfficeError(f"unknown method {method!r}")
                reply = {"id": msg.get("id"), "ok": True, "result": result}
            except Exception as e:   # noqa: BLE001 - everything goes back to the client
                name = type(e).__name__ if isinstance(e, OfficeError) else "OfficeError"
                message = str(e) if isinstance(e, OfficeError) else f"{type(e).__name__}: {e}"
                reply = {"id": msg.get("id"), "ok": False, "error": name, "message": message}
            proto.write(json.dumps(reply, default=_to_json) + "\n")
            proto.flush()
            if stop:
                break
    finally:
        if office is not None:
            office.close()
    return 0


if __name__ == "__main__":
    if "--serve" in sys.argv[1:]:
        sys.exit(serve())
    print(__doc__)
