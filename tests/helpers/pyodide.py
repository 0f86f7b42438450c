"""Pyodide (the WebAssembly Python of xlwings Lite) under Node, for the tests
and the bench: what has to be fetched once, and one Node run of the clicks.

Fetched into a cache (``CALPAE_PYODIDE_CACHE``, default ``.cache/pyodide`` in
the repository, which git ignores), once per version:

- ``pyodide-<version>/node_modules/pyodide``: ``npm install pyodide@<version>``
  (about 14 MB; Python 3.14 for 314.x). Its packages live on a CDN that is
  never used: the wheels below are installed from local files.
- ``wheels/``: the pure-Python wheels of xlwings (the one Pyodide can import;
  xlwings also publishes wheels with a Rust extension) and of micropip at the
  version of this Pyodide (``pip download``).

The project's own wheel is built for each run by ``calpae_xl.build_lite``,
from the sources under test.
"""
from __future__ import annotations

import atexit
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PYODIDE_VERSION = "314.0.7"  # npm "pyodide"; Python 3.14.2
RUNNER, RUN_LITE = HERE / "lite_runner.py", HERE / "run_lite.mjs"


def cache_dir() -> Path:
    return Path(os.environ.get("CALPAE_PYODIDE_CACHE") or ROOT / ".cache" / "pyodide")


def missing_node() -> Optional[str]:
    """Why Pyodide cannot run here, or None."""
    if shutil.which("node") is None:
        return "Node.js absent (commande node) : Pyodide ne peut pas tourner"
    return None


def ensure_pyodide(cache: Path, version: str = PYODIDE_VERSION) -> Path:
    """The npm package, fetched once per version."""
    prefix = cache / f"pyodide-{version}"
    pkg = prefix / "node_modules" / "pyodide"
    if not (pkg / "pyodide.asm.wasm").exists():
        if shutil.which("npm") is None:
            raise RuntimeError(f"npm absent : impossible d'obtenir pyodide@{version} (installer npm, ou le "
                               f"paquet npm dans {prefix})")
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--save-exact",
                        f"pyodide@{version}"], check=True, stdout=subprocess.DEVNULL)
    return pkg


def pyodide_lock(pkg: Path) -> dict:
    return json.loads((pkg / "pyodide-lock.json").read_text(encoding="utf-8"))


def ensure_wheel(cache: Path, name: str, version: str, python: str) -> Path:
    """A pure-Python wheel from PyPI (``--platform any``: the one Pyodide can
    import), for the Python of this Pyodide (micropip 0.11 requires >= 3.13)."""
    wheels = cache / "wheels"
    pattern = f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    found = sorted(wheels.glob(pattern))
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                        "--platform", "any", "--python-version", ".".join(python.split(".")[:2]),
                        "-d", str(wheels), f"{name}=={version}"], check=True)
        found = sorted(wheels.glob(pattern))
    return found[0]


@functools.lru_cache(maxsize=None)
def project_wheel() -> Path:
    """The project's wheel, built once per process from the sources under test
    (by the code of ``calpae-xl paquet-lite``), in a temporary folder."""
    from calpae_xl.build_lite import build_wheel
    folder = Path(tempfile.mkdtemp(prefix="calpae-lite-wheel-"))
    atexit.register(shutil.rmtree, folder, True)
    return build_wheel(folder, ROOT)


class Dist:
    """What a Pyodide run needs, fetched or built: the npm package, micropip,
    xlwings, and the project's wheel."""

    def __init__(self, cache: Optional[Path] = None):
        from calpae_xl.build_lite import XLWINGS_VERSION
        cache = cache or cache_dir()
        self.timings: dict[str, float] = {}
        t = time.perf_counter()
        self.pkg = ensure_pyodide(cache)
        self.timings["npm pyodide"] = time.perf_counter() - t
        lock = pyodide_lock(self.pkg)
        self.python = lock["info"]["python"]
        t = time.perf_counter()
        self.micropip = ensure_wheel(cache, "micropip", lock["packages"]["micropip"]["version"], self.python)
        self.xlwings = ensure_wheel(cache, "xlwings", XLWINGS_VERSION, self.python)
        self.timings["pip download"] = time.perf_counter() - t
        t = time.perf_counter()
        self.project = project_wheel()
        self.timings["pip wheel calpae-xl"] = time.perf_counter() - t

    @property
    def wheels(self) -> dict[str, str]:
        return {"xlwings": str(self.xlwings), "calpae-xl": str(self.project)}


def run_pyodide(dist: Dist, cases: dict[str, Path], buttons: dict[str, list[str]], workdir: Path,
                requirements: str, main_py: str, repeat: int = 1, timeout: float = 1800) -> dict:
    """run_lite.mjs in a Node process: its JSON answer (see run_lite.mjs)."""
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / "pyodide_result.json"
    request = {"pyodide_dir": str(dist.pkg), "micropip": str(dist.micropip), "wheels": dist.wheels,
               "requirements": requirements, "main_py": main_py, "runner": str(RUNNER),
               "cases": {k: str(v) for k, v in cases.items()}, "buttons": buttons, "repeat": repeat,
               "out": str(out)}
    (workdir / "request.json").write_text(json.dumps(request, ensure_ascii=False, indent=1), encoding="utf-8")
    t0 = time.perf_counter()
    proc = subprocess.run(["node", str(RUN_LITE), str(workdir / "request.json")], capture_output=True, text=True,
                          timeout=timeout)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise RuntimeError(f"run_lite.mjs a échoué ({proc.returncode}) :\n{proc.stderr[-4000:]}")
    result = json.loads(out.read_text(encoding="utf-8"))
    result["timings"]["node_wall_s"] = wall
    result["stdout"] = proc.stdout.strip()
    return result


def with_buttons(payload: dict) -> dict:
    """A payload whose Maquette sheet carries the three buttons of the Lite
    workbook (as Office.js lists its shapes): generated maquettes have none."""
    from calpae_xl.workbook import layout as L
    from tests.helpers.remote import shapes_of
    buttons = shapes_of(str(ROOT / "workbook" / "lite" / "maquette_vierge.xlsx"))[L.MAQUETTE]
    for sheet in payload["sheets"]:
        if sheet["name"] == L.MAQUETTE:
            sheet["shapes"] = [dict(b) for b in buttons]
    return payload


def typed_payload(n_actions: int, folder: Path) -> dict:
    """The state of ``click_after_typing``: a maquette of ``n_actions`` as the
    project leaves it (recalculated, checked, no fiches yet), then one amount
    typed by the officer (the first action's budget global, +1 000 €); with
    the Lite buttons."""
    from calpae_xl.adapters.openpyxl_adapter import OpenpyxlWorkbook
    from calpae_xl.app.session import CONTROLER, RECALCULER, run
    from calpae_xl.workbook import layout as L
    from tests.helpers.remote import payload_from_file
    from tests.helpers.samples import variant, write_variant
    path = folder / f"clic_{n_actions}.xlsx"
    write_variant(str(path), variant(n_actions), fiches=False)
    wb = OpenpyxlWorkbook.open(str(path))
    run(wb, [RECALCULER, CONTROLER])
    wb.save(backup=False)
    payload = payload_from_file(str(path))
    maquette = next(s for s in payload["sheets"] if s["name"] == L.MAQUETTE)["values"]
    maquette[L.MAQUETTE_FIRST_ROW - 1][L.template_col("budget_global") - 1] += 1000  # 0-based
    return with_buttons(payload)


def write_payloads(payloads: dict[str, dict], folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, payload in payloads.items():
        files[name] = folder / f"{name}.json"
        files[name].write_text(json.dumps(payload, ensure_ascii=False, allow_nan=False), encoding="utf-8")
    return files


def run_cpython(files: dict[str, Path], buttons: dict[str, list[str]], main_py: str, repeat: int = 1) -> dict:
    """The same lite_runner in this CPython, on the same JSON payloads."""
    import asyncio
    from tests.helpers import lite_runner
    prepared = lite_runner.prepare(main_py)
    cases = {k: json.loads(f.read_text(encoding="utf-8")) for k, f in files.items()}
    return {"prepared": prepared, "clicks": asyncio.run(lite_runner.run_cases(cases, buttons, repeat))}


FEEDBACK = "setShapeText"  # what only xlwings Lite sends: the button saying the click runs


_CHECK_DATE = re.compile(r"^'?date=\d{4}-\d{2}-\d{2}T[0-9:+-]+$")


def _undated(value):
    """The receipt's « date=… » line (the second the check ran) made equal:
    the two runs happen at different seconds, everything else must match."""
    if isinstance(value, str):
        return "date=(heure du contrôle)" if _CHECK_DATE.match(value) else value
    if isinstance(value, list):
        return [_undated(v) for v in value]
    if isinstance(value, dict):
        return {k: _undated(v) for k, v in value.items()}
    return value


def compare(files: dict[str, Path], py: dict, cp: dict) -> dict[tuple[str, str], dict]:
    """Per (case, button): same actions (the button's feedback apart), same
    cells after applying them; the feedback itself. The check receipt's date
    is the only difference allowed (each run records its own second)."""
    from tests.helpers.remote import apply_actions
    rows = {}
    for name, f in files.items():
        payload = json.loads(f.read_text(encoding="utf-8"))
        for button, a in py["clicks"][name].items():
            b = cp["clicks"][name][button]
            acts_py, acts_cp = _undated(json.loads(a["actions_json"])), _undated(json.loads(b["actions_json"]))
            content = [x for x in acts_py if x["func"] != FEEDBACK]
            cells_py, cells_cp = _undated(apply_actions(payload, acts_py)), _undated(apply_actions(payload, acts_cp))
            diffs = [(s, r, c) for s in cells_py for r, row in enumerate(cells_py[s]) for c, v in enumerate(row)
                     if s not in cells_cp or r >= len(cells_cp[s]) or c >= len(cells_cp[s][r])
                     or cells_cp[s][r][c] != v]
            rows[name, button] = {"same_actions": content == acts_cp, "same_cells": cells_py == cells_cp,
                                  "first_diffs": diffs[:5], "actions": acts_py,
                                  "flushed": json.loads(a["flushed_json"]),
                                  "cpython_flushed": json.loads(b["flushed_json"])}
    return rows
