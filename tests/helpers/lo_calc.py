"""Drive LibreOffice Calc like a person editing a workbook (test helper).

A person opens the .xlsx in LibreOffice, makes one edit, saves as .xlsx: this
module does the same through UNO, against one headless ``soffice`` kept alive
for the whole test session, and reads back what LibreOffice computes.

Two ways to reach UNO, same API (chosen by :func:`start_office`):

* **in-process** (``mode="inprocess"``): ``import uno`` in the running Python.
  Debian's python3-uno is built for Debian's Python 3.11; any other CPython
  3.11 built with ``--enable-shared`` (pyenv's) can load it too: the paths are
  added and the import is first probed in a child process (a crash there
  cannot take the test run down).
* **bridge** (``mode="bridge"``): a server, ``lo_calc_uno.py --serve`` run by
  an interpreter that has uno (``/usr/bin/python3``), speaking JSON lines on
  stdin/stdout. Works from any Python (3.12, 3.13, a venv without
  --enable-shared...).

``mode="auto"`` (default) takes in-process when the probe passes, else the bridge.

    from lo_calc import start_office
    with start_office(locale="fr-FR") as lo:          # one soffice, private profile
        lo.edit("book.xlsx", [("set_number", "Maquette", "F5", 80000),
                              ("delete_rows", "Maquette", 7)])   # open, edit, save .xlsx, close
        cells = lo.recalc_and_read("book.xlsx", ["Maquette"])["Maquette"]
        cells["G5"].value, cells["G5"].formula               # 80000.0, '=F5-K5'

Edits (methods of a document, or tuples ``(name, *args)`` for ``edit``):
``set_number, set_text, set_date, set_formula, set_array_formula, type,
clear, insert_rows, delete_rows, insert_columns, delete_columns, merge,
unmerge, rename_sheet, add_sheet, delete_sheet``; then ``save``.
Cells and ranges are A1 strings ("F5", "A1:C1"), sheets names or 0-based
indexes, rows and columns 1-based (as displayed). Formulas use Excel's
syntax ("=SUM(F5:F6)", "=ROUND(F5,2)") in every locale.

This module needs only the standard library; ``lo_calc_uno.py`` (next to it)
holds everything that imports uno.
"""
from __future__ import annotations

import atexit
import dataclasses
import datetime as _dt
import importlib
import importlib.util
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

HERE = Path(__file__).resolve().parent
SERVER = HERE / "lo_calc_uno.py"

#: Names accepted by ``Document.apply`` / ``Office.edit`` (the person's edits).
EDITS = ("set_number", "set_text", "set_date", "set_formula", "set_array_formula", "type", "clear",
         "insert_rows", "delete_rows", "insert_columns", "delete_columns", "merge", "unmerge",
         "rename_sheet", "add_sheet", "delete_sheet", "set_value")

Edit = Tuple[Any, ...]   # ("set_number", "Maquette", "F5", 80000)


# --------------------------------------------------------------------------- errors and results

class OfficeError(Exception):
    """LibreOffice refused an operation (bad sheet name, invalid formula, ...)."""


class OfficeDied(OfficeError):
    """soffice crashed or was killed: the open documents are lost; the next call
    restarts it (``Office.edit`` and ``Office.recalc_and_read`` retry once)."""


class OfficeTimeout(OfficeDied):
    """An operation took longer than the timeout: soffice was killed."""


@dataclasses.dataclass(frozen=True)
class Cell:
    """One non-empty cell as LibreOffice sees it.

    ``type``: "number", "text" or "formula" (empty cells are absent from the dict).
    ``value``: the number (float), the text, or for a formula its result:
    float, str, or the error text ("#DIV/0!", "Err:508") when ``error`` is set.
    ``formula``: "=..." in Excel syntax (None unless a formula).
    ``error``: the error text of a formula cell in error, else None.
    ``date``: the number is formatted as a date or time (value = serial number).
    ``array``: "N1:N3" when the cell belongs to an array (CSE) formula.
    """
    type: str
    value: Union[float, str, None]
    formula: Optional[str] = None
    error: Optional[str] = None
    date: bool = False
    array: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Cell":
        return cls(**d)

    @property
    def is_error(self) -> bool:
        return self.error is not None


Sheet = Dict[str, Cell]   # {"F5": Cell(...)}


def _cells(raw: Dict[str, Dict[str, Dict[str, Any]]]) -> Dict[str, Sheet]:
    return {name: {ref: Cell.from_dict(c) for ref, c in cells.items()} for name, cells in raw.items()}


def date_serial(value: Union[_dt.date, _dt.datetime, str]) -> float:
    """Excel/Calc serial number of a date (null date 1899-12-30)."""
    if isinstance(value, str):
        value = _dt.datetime.fromisoformat(value)
    if not isinstance(value, _dt.datetime):
        value = _dt.datetime(value.year, value.month, value.day)
    return (value - _dt.datetime(1899, 12, 30)).total_seconds() / 86400


def _jsonable(v: Any) -> Any:
    if isinstance(v, (_dt.date, _dt.datetime)):
        return v.isoformat()
    if isinstance(v, os.PathLike):
        return os.fspath(v)
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if hasattr(v, "as_tuple") and not isinstance(v, (int, float)):  # Decimal
        return float(v)
    return v


# --------------------------------------------------------------------------- finding uno

def soffice_path() -> Optional[str]:
    """The soffice launcher (env LO_SOFFICE, else PATH)."""
    return os.environ.get("LO_SOFFICE") or shutil.which("soffice") or shutil.which("libreoffice")


def program_dir() -> Optional[Path]:
    """LibreOffice's program/ folder (holds soffice.bin and pyuno.so)."""
    exe = soffice_path()
    cands = [Path(os.path.realpath(exe)).parent] if exe else []
    cands += [Path("/usr/lib/libreoffice/program"), Path("/opt/libreoffice/program"),
              *sorted(Path("/opt").glob("libreoffice*/program"), reverse=True)]
    for p in cands:
        if (p / "pyuno.so").exists() or (p / "soffice.bin").exists():
            return p
    return None


def _uno_py_dirs() -> List[Path]:
    prog = program_dir()
    dirs = [prog] if prog else []
    dirs += [Path("/usr/lib/python3/dist-packages")]   # Debian/Ubuntu python3-uno
    return [d for d in dirs if (d / "uno.py").exists()]


def pyuno_python_version() -> Optional[Tuple[int, int]]:
    """The Python (major, minor) pyuno.so was built for (from its libpythonX.Y dependency)."""
    prog = program_dir()
    if not prog or not (prog / "libpyuno.so").exists() and not (prog / "pyuno.so").exists():
        return None
    import re
    for name in ("libpyuno.so", "pyuno.so"):
        f = prog / name
        if f.exists():
            m = re.search(rb"libpython(\d)\.(\d+)", f.read_bytes())
            if m:
                return int(m.group(1)), int(m.group(2))
    return None


def add_uno_paths() -> None:
    """Make ``import uno`` work in this interpreter (no import is done).
    Only uno.py, unohelper.py and pyuno.so become visible: the whole of
    Debian's dist-packages is never put on sys.path."""
    prog = program_dir()
    if prog and str(prog) not in sys.path:
        sys.path.append(str(prog))        # pyuno.so (and a vanilla install's uno.py)
    for d in _uno_py_dirs():
        for mod in ("uno", "unohelper"):
            if mod not in sys.modules and (d / f"{mod}.py").exists() and importlib.util.find_spec(mod) is None:
                spec = importlib.util.spec_from_file_location(mod, d / f"{mod}.py")
                module = importlib.util.module_from_spec(spec)
                sys.modules[mod] = module
                try:
                    spec.loader.exec_module(module)
                except BaseException:
                    del sys.modules[mod]
                    raise
        break


_PROBE = ("import sys; sys.path.insert(0, %r); import lo_calc; lo_calc.add_uno_paths(); import uno; "
          "uno.getComponentContext(); uno.createUnoStruct('com.sun.star.beans.PropertyValue'); print('ok')")
_probe_cache: Dict[str, Tuple[bool, str]] = {}


def inprocess_possible() -> Tuple[bool, str]:
    """Can this interpreter import uno safely? Probed once in a child process."""
    if "uno" in sys.modules and hasattr(sys.modules["uno"], "getComponentContext"):
        return True, "uno already imported"
    if sys.executable in _probe_cache:
        return _probe_cache[sys.executable]
    want = pyuno_python_version()
    if want is None:
        res = (False, "LibreOffice's pyuno not found")
    elif sys.version_info[:2] != want:
        res = (False, f"pyuno is built for Python {want[0]}.{want[1]}, this is {sys.version_info[0]}."
                      f"{sys.version_info[1]}")
    else:
        try:
            p = subprocess.run([sys.executable, "-c", _PROBE % str(HERE)], capture_output=True, text=True,
                               timeout=60)
            res = (p.returncode == 0 and p.stdout.strip().endswith("ok"),
                   (p.stderr.strip().splitlines() or [f"exit {p.returncode}"])[-1])
        except (OSError, subprocess.TimeoutExpired) as e:
            res = (False, str(e))
    _probe_cache[sys.executable] = res
    return res


def bridge_python() -> Optional[str]:
    """An interpreter that can import uno (env LO_PYTHON, LibreOffice's own, Debian's)."""
    prog = program_dir()
    cands = [os.environ.get("LO_PYTHON"), str(prog / "python") if prog else None, "/usr/bin/python3"]
    want = pyuno_python_version()
    if want:
        cands.append(f"/usr/bin/python{want[0]}.{want[1]}")
    for c in cands:
        if c and os.path.exists(c) and os.access(c, os.X_OK):
            return c
    return None


def _import_driver():
    """lo_calc_uno, imported as a sibling of this module (same package if any)."""
    add_uno_paths()
    if __package__:
        return importlib.import_module(__package__ + ".lo_calc_uno")
    sys.path.insert(0, str(HERE)) if str(HERE) not in sys.path else None
    return importlib.import_module("lo_calc_uno")


def start_office(mode: str = "auto", **options: Any):
    """Start one headless soffice (private profile) and return an Office.

    ``mode``: "auto", "inprocess" or "bridge" (env LO_CALC_MODE overrides "auto").
    ``options`` (both modes): ``locale`` ("fr-FR"; None = en-US as installed),
    ``recalc_on_load`` ("never" = LibreOffice's default, "always", "prompt"),
    ``timeout`` (seconds for one operation; soffice is killed past it, default 60),
    ``start_timeout`` (default 120), ``soffice`` (path), ``profile_dir``, ``keep_profile``.
    Bridge only: ``python`` (the interpreter that runs the server).
    """
    mode = os.environ.get("LO_CALC_MODE", mode) if mode == "auto" else mode
    if mode == "auto":
        mode = "inprocess" if inprocess_possible()[0] else "bridge"
    if mode == "inprocess":
        return _import_driver().UnoOffice(**options)
    if mode == "bridge":
        return BridgeOffice(**options)
    raise ValueError(f"mode: {mode!r}")


# --------------------------------------------------------------------------- the bridge client

_ERRORS = {"OfficeError": OfficeError, "OfficeDied": OfficeDied, "OfficeTimeout": OfficeTimeout}
_live_bridges: "set[BridgeOffice]" = set()


def _set_pdeathsig() -> None:   # runs in the child before exec: die with the parent
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class BridgeOffice:
    """Same API as lo_calc_uno.UnoOffice, served by ``lo_calc_uno.py --serve``
    in another interpreter. One request at a time; each waits at most the
    server's own timeout plus ``grace`` seconds, after which the server (and
    its soffice, which dies with it) is killed and restarted on next use."""

    def __init__(self, python: Optional[str] = None, grace: float = 30.0, **options: Any):
        self.python = python or bridge_python()
        if not self.python:
            raise OfficeError("no interpreter with uno found (set LO_PYTHON)")
        self.options = options
        self.timeout = float(options.get("timeout", 60.0))
        self.start_timeout = float(options.get("start_timeout", 120.0))
        self.grace = grace
        self._proc: Optional[subprocess.Popen] = None
        self._next_id = 0
        self._buf = b""
        self._lock = threading.RLock()   # one request at a time, whatever the thread
        self.mode = "bridge"
        self.start()

    # -- process
    def start(self) -> None:
        if self._proc and self._proc.poll() is None:
            return
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        self._proc = subprocess.Popen([self.python, "-u", str(SERVER), "--serve"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=None, env=env, cwd=str(HERE),
                                      preexec_fn=_set_pdeathsig)
        self._buf = b""
        _live_bridges.add(self)
        self._request(None, "start", [], _jsonable(self.options), wait=self.start_timeout + self.grace)

    def _kill(self) -> None:
        p, self._proc = self._proc, None
        if p and p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()   # its soffice has PDEATHSIG: it goes too
                p.wait(10)
        _live_bridges.discard(self)

    def _readline(self, deadline: float) -> bytes:
        assert self._proc and self._proc.stdout
        fd = self._proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise OfficeTimeout("bridge server did not answer in time")
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise OfficeDied(f"bridge server exited ({self._proc.poll()})")
                self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line

    def _request(self, doc: Optional[int], method: str, args: Sequence[Any], kwargs: Dict[str, Any],
                 wait: Optional[float] = None) -> Any:
        with self._lock:
            return self._request_locked(doc, method, args, kwargs, wait)

    def _request_locked(self, doc: Optional[int], method: str, args: Sequence[Any], kwargs: Dict[str, Any],
                        wait: Optional[float] = None) -> Any:
        if not self._proc or self._proc.poll() is not None:
            if method == "close" and doc is None:
                return None
            self.start()
        self._next_id += 1
        msg = {"id": self._next_id, "doc": doc, "method": method, "args": _jsonable(list(args)),
               "kwargs": {k: _jsonable(v) for k, v in kwargs.items()}}
        try:
            assert self._proc and self._proc.stdin
            self._proc.stdin.write((json.dumps(msg) + "\n").encode())
            self._proc.stdin.flush()
            deadline = time.monotonic() + (wait if wait is not None else self._wait_for(method))
            while True:
                reply = json.loads(self._readline(deadline))
                if reply.get("id") == self._next_id:
                    break
        except (OSError, ValueError, OfficeDied) as e:
            self._kill()
            raise e if isinstance(e, OfficeDied) else OfficeDied(f"bridge: {e}") from e
        if reply["ok"]:
            return reply["result"]
        raise _ERRORS.get(reply["error"], OfficeError)(reply["message"])

    def _wait_for(self, method: str) -> float:
        n = 3 if method in ("edit", "recalc_and_read", "read") else 1   # these retry / do several steps
        return n * (self.timeout + self.start_timeout) + self.grace if n > 1 else self.timeout + self.grace

    # -- the API
    def open(self, path: Union[str, os.PathLike], read_only: bool = False) -> "BridgeDocument":
        return BridgeDocument(self, self._request(None, "open", [os.fspath(path)], {"read_only": read_only}))

    def edit(self, path, edits: Iterable[Edit], out=None, retries: int = 1) -> None:
        self._request(None, "edit", [os.fspath(path), [list(e) for e in edits]],
                      {"out": out and os.fspath(out), "retries": retries})

    def recalc_and_read(self, path, sheets: Optional[Sequence[Union[str, int]]] = None,
                        recalc: bool = True) -> Dict[str, Sheet]:
        return _cells(self._request(None, "recalc_and_read", [os.fspath(path)],
                                    {"sheets": sheets, "recalc": recalc}))

    def read(self, path, sheets=None) -> Dict[str, Sheet]:
        """The file as LibreOffice loads it, without forcing a recalculation."""
        return self.recalc_and_read(path, sheets, recalc=False)

    def convert(self, path, out, filter_name: Optional[str] = None) -> None:
        self._request(None, "convert", [os.fspath(path), os.fspath(out)], {"filter_name": filter_name})

    @property
    def pid(self) -> Optional[int]:
        return self._request(None, "pid", [], {})

    @property
    def stats(self) -> Dict[str, Any]:
        return self._request(None, "stats", [], {})

    def restart(self) -> None:
        self._request(None, "restart", [], {})

    def ensure_running(self) -> None:
        self._request(None, "ensure_running", [], {})

    def close(self) -> None:
        if self._proc and self._proc.poll() is None:
            try:
                self._request(None, "close", [], {}, wait=30 + self.grace)
                assert self._proc and self._proc.stdin
                self._proc.stdin.close()
                self._proc.wait(15)
            except Exception:
                pass
        self._kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class BridgeDocument:
    """A document open in the bridge server; edit methods as in lo_calc_uno.UnoDocument."""

    def __init__(self, office: BridgeOffice, handle: int):
        self._office, self._handle = office, handle

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args, **kwargs):
            res = self._office._request(self._handle, name, args, kwargs)
            if name == "read_sheet":
                return {ref: Cell.from_dict(c) for ref, c in res.items()}
            if name == "read_all":
                return _cells(res)
            return res
        call.__name__ = name
        return call

    def apply(self, edit: Edit) -> None:
        self._office._request(self._handle, "apply", [list(edit)], {})

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            self._office._request(self._handle, "close", [], {})
        except OfficeDied:
            pass


@atexit.register
def _close_bridges() -> None:
    for b in list(_live_bridges):
        b.close()
