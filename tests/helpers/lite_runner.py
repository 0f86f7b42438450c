"""A click as xlwings Lite runs it, the same file in Pyodide (copied into its
file system by run_lite.mjs) and in CPython (imported by the tests and the
bench), so that both runs differ only by the interpreter.

A click = ``xw.Book(json=payload)`` (the eager book Lite gives a script),
then ``await custom_scripts_call(main, name, typehint_to_value={xw.Book:
book})`` — what Lite and xlwings Server call when a sheet button is pressed —
on ``main``, the module made of the Lite workbook's main.py; then
``book.json()["actions"]`` (what goes back to Office.js) and the batches the
script flushed before (``book.flush()``, recorded by run_lite.mjs in place of
Excel).

Standard library and xlwings only: no pytest, openpyxl or pandas here.
"""
from __future__ import annotations

import copy
import json
import os
import sys
import time
import types

#: button caption -> script of calpae_xl.xlwings_scripts
SCRIPTS = {"Recalculer": "recalculer", "Contrôler": "controler", "Générer les fiches": "generer_fiches"}
#: what the live path must never import
FORBIDDEN = ("pandas", "lxml", "openpyxl", "numpy", "tqdm", "defusedxml")

_main: types.ModuleType | None = None


def prepare(main_py: str) -> dict:
    """The licence, then the live path's imports and the Lite workbook's
    main.py as a module; what was imported, and how long it took."""
    global _main
    # before `import xlwings`: xlwings registers its remote engine at import
    # time only if the licence is already there
    os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    before = set(sys.modules)
    t0 = time.perf_counter()
    import xlwings as xw
    t1 = time.perf_counter()
    from xlwings.server import custom_scripts_meta
    _main = types.ModuleType("main")
    exec(compile(main_py, "main.py", "exec"), _main.__dict__)  # noqa: S102 - the workbook's own main.py
    t2 = time.perf_counter()
    new = set(sys.modules) - before
    return {
        "python": sys.version.split()[0],
        "platform": sys.platform,
        "xlwings": xw.__version__,
        "engines": [e.name for e in xw.engines],
        "import_xlwings_s": t1 - t0,
        "import_calpae_s": t2 - t1,
        "calpae_modules": sorted(m for m in new if m.startswith("calpae_xl")),
        "forbidden_loaded": sorted(m for m in FORBIDDEN if m in sys.modules),
        "scripts": {m["function_name"]: m["button"] for m in custom_scripts_meta(_main)},
    }


def remote_book(payload: dict):
    import xlwings as xw
    if "remote" not in [e.name for e in xw.engines]:  # xlwings imported before the licence was set
        from xlwings.pro import _xlremote
        xw.engines.add(xw.main.Engine(impl=_xlremote.engine))
    return xw.Book(json=copy.deepcopy(payload))  # the engine edits the payload it is given


def _take_flushed() -> list:
    """The batches ``book.flush()`` sent to Excel since the last call (Pyodide
    under Node: run_lite.mjs records them; elsewhere nothing can be flushed)."""
    if sys.platform != "emscripten":
        return []
    import js
    return [b["actions"] for b in json.loads(js.calpaeTakeFlushed())]


async def click(payload: dict, button: str) -> tuple[list, list, float]:
    """One click on a fresh book: (flushed batches, final actions, seconds)."""
    import xlwings as xw
    from xlwings.server import custom_scripts_call
    _take_flushed()
    t0 = time.perf_counter()
    book = remote_book(payload)
    returned = await custom_scripts_call(_main, SCRIPTS[button], typehint_to_value={xw.Book: book})
    assert returned is book, returned
    actions = book.json()["actions"]
    seconds = time.perf_counter() - t0
    return _take_flushed(), actions, seconds


async def run_cases(cases: dict, buttons: dict, repeat: int = 1, budget_s: float = 30.0) -> dict:
    """``cases``: name -> payload; ``buttons``: name -> captions. For each
    case and button, the first click's flushed batches and actions (JSON
    text) and the time of every click (``repeat`` clicks, fewer once they have
    taken ``budget_s``)."""
    out: dict = {}
    for name, payload in cases.items():
        out[name] = {}
        for button in buttons[name]:
            times: list[float] = []
            first = None
            for _ in range(max(1, repeat)):
                if sum(times) > budget_s:
                    break
                flushed, actions, seconds = await click(payload, button)
                times.append(seconds)
                if first is None:
                    first = (flushed, actions)
            out[name][button] = {"times_s": times, "n_actions": len(first[1]),
                                 "flushed_json": json.dumps(first[0], ensure_ascii=False, allow_nan=False),
                                 "actions_json": json.dumps(first[1], ensure_ascii=False, allow_nan=False)}
    return out


def absent(names=FORBIDDEN) -> list[str]:
    """Which of ``names`` cannot be imported here (in Pyodide: were not installed)."""
    import importlib.util
    return [n for n in names if importlib.util.find_spec(n) is None]
