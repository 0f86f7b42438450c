"""The three buttons inside Pyodide, the WebAssembly Python of xlwings Lite,
under Node: the Lite workbook's requirements.txt installed by micropip from
local wheels, and nothing else (the project's own, built by ``paquet-lite``'s
code from these sources), its main.py as the scripts module, and each click
giving the actions and cells CPython gives on the same payload.

Fetched once into a git-ignored cache (tests/helpers/pyodide.py): the npm
package ``pyodide`` and the pure-Python wheels of xlwings and micropip.
Skipped, with the reason, only when Node itself is missing; a failed
download fails.

Also here, without Node: the live path imports no batch library.
"""
import collections
import json
import os
import subprocess
import sys
import textwrap

import pytest

from calpae_xl.workbook import layout as L
from calpae_xl.xlwings_scripts import WORKING
from tests.helpers import pyodide as P
from tests.helpers.lite_runner import FORBIDDEN
from tests.helpers.remote import payload_from_file
from tests.helpers.samples import variant, write_variant

LITE = P.ROOT / "workbook" / "lite"
BUTTONS = ["Recalculer", "Contrôler", "Générer les fiches"]
CASES = {  # case -> buttons (2 000 new fiches take a minute in Pyodide: measured by the bench, not here)
    "loiret_lite": BUTTONS,  # the committed Lite workbook, with its three buttons
    "printed": BUTTONS,      # a maquette typed as printed, with fiches, no buttons drawn
    "clic_20": BUTTONS,      # the Loiret maquette after one amount typed, with the buttons
    "clic_2000": ["Recalculer", "Contrôler"],
}
WITH_BUTTONS = {"loiret_lite", "clic_20", "clic_2000"}
SHAPE_INDEX = {caption: i for i, (caption, _sub, _shape, _cell) in enumerate(L.BUTTONS)}


@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    """One Node process for every click (loading Pyodide costs seconds), then
    the same runner in this CPython, on the same JSON payloads."""
    reason = P.missing_node()
    if reason:
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("pyodide")
    dist = P.Dist()
    write_variant(str(work / "printed.xlsx"), variant(), fiches=True)
    payloads = {"loiret_lite": payload_from_file(str(LITE / "loiret_2020.xlsx")),
                "printed": payload_from_file(str(work / "printed.xlsx")),
                "clic_20": P.typed_payload(20, work), "clic_2000": P.typed_payload(2000, work)}
    files = P.write_payloads(payloads, work / "payloads")
    requirements = (LITE / "requirements.txt").read_text(encoding="utf-8")
    main_py = (LITE / "main.py").read_text(encoding="utf-8")
    py = P.run_pyodide(dist, files, CASES, work / "run", requirements, main_py)
    cp = P.run_cpython(files, CASES, main_py)
    return py, cp, P.compare(files, py, cp)


@pytest.mark.parametrize("case, button", [(c, b) for c, bs in CASES.items() for b in bs])
def test_pyodide_click_gives_the_cells_of_cpython(runs, case, button):
    _py, _cp, rows = runs
    row = rows[case, button]
    assert row["same_cells"], row["first_diffs"]
    assert row["same_actions"]
    alert = [a for a in row["actions"] if a["func"] == "alert"]
    assert len(alert) == 1 and alert[0]["args"][0].startswith(f"{button} : terminé."), alert


@pytest.mark.parametrize("case", sorted(CASES))
def test_pyodide_button_says_the_click_is_running(runs, case):
    """In Lite, the button's caption says « … en cours… » before the work (its
    batch flushed to Excel at once), and comes back just before the message.
    CPython (xlwings Server) cannot flush: there, the message only."""
    _py, _cp, rows = runs
    for button in CASES[case]:
        row, i = rows[case, button], SHAPE_INDEX[button]
        assert row["cpython_flushed"] == []
        feedback = [a for a in row["actions"] if a["func"] == P.FEEDBACK]
        if case not in WITH_BUTTONS:  # no shape to speak on: the same click, without it
            assert row["flushed"] == [] and feedback == []
            continue
        assert [[(a["func"], a["args"], a["sheet_position"]) for a in batch] for batch in row["flushed"]] == \
            [[(P.FEEDBACK, [i, WORKING[button]], 1)]]
        assert [(a["func"], a["args"]) for a in row["actions"][-2:]] == [
            (P.FEEDBACK, [i, button]), ("alert", row["actions"][-1]["args"])]


def test_pyodide_recalculer_costs_the_same_few_operations_for_20_and_2000_actions(runs):
    """Everything Excel receives for one Recalculer in Lite, the button's
    feedback included: the same operations at 20 and at 2 000 actions."""
    _py, _cp, rows = runs

    def ops(case):
        row = rows[case, "Recalculer"]
        return collections.Counter(a["func"] for a in [*sum(row["flushed"], []), *row["actions"]])
    assert ops("clic_20") == ops("clic_2000")
    assert sum(ops("clic_20").values()) <= 22, ops("clic_20")
    assert sum(ops("loiret_lite").values()) <= 22, ops("loiret_lite")


def test_pyodide_installs_the_lite_requirements_without_the_batch_libraries(runs):
    py, _cp, _rows = runs
    prepared = py["prepared"]
    assert prepared["platform"] == "emscripten"
    assert "remote" in prepared["engines"]
    # micropip resolved requirements.txt with dependencies: the batch libraries were left out
    assert {n.lower() for n in py["installed"]["installed"]} <= {"calpae-xl", "xlwings", "micropip"}
    assert prepared["absent"] == list(FORBIDDEN)
    assert prepared["forbidden_loaded"] == []
    # main.py of the Lite workbook declares the three scripts, each bound to its shape
    assert prepared["scripts"] == {
        {"Recalculer": "recalculer", "Contrôler": "controler", "Générer les fiches": "generer_fiches"}[caption]:
        f"[{shape}]{L.MAQUETTE}!{cell}" for caption, _sub, shape, cell in L.BUTTONS}


# --- the live path, in CPython, without Node ------------------------------------------------

LIVE_PROBE = textwrap.dedent('''
    import asyncio, importlib.abc, json, os, sys, traceback
    FORBIDDEN = %r
    attempts = []

    class Refuse(importlib.abc.MetaPathFinder):
        """As in Pyodide, where they are not installed; notes who asked."""
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] not in FORBIDDEN:
                return None
            importer = next((f.f_globals.get("__name__", "") for f, _ in traceback.walk_stack(None)
                             if not f.f_globals.get("__name__", "").startswith(("importlib", "_frozen", "__main__"))),
                            "")
            attempts.append((name, importer))
            raise ImportError(f"{name} refusé (chemin des boutons)")

    for m in [m for m in sys.modules if m.split(".")[0] in FORBIDDEN]:
        del sys.modules[m]
    sys.meta_path.insert(0, Refuse())
    os.environ["XLWINGS_LICENSE_KEY"] = "noncommercial"
    import xlwings as xw
    from xlwings.server import custom_scripts_call
    from calpae_xl import xlwings_scripts
    payload = json.load(open(sys.argv[1], encoding="utf-8"))
    book = xw.Book(json=payload)
    asyncio.run(custom_scripts_call(xlwings_scripts, "recalculer", typehint_to_value={xw.Book: book}))
    actions = book.json()["actions"]
    print(json.dumps({"attempts": attempts, "loaded": sorted(m for m in FORBIDDEN if m in sys.modules),
                      "calpae": sorted(m for m in sys.modules if m.startswith("calpae_xl")),
                      "alert": [a["args"][0] for a in actions if a["func"] == "alert"]}))
''') % (FORBIDDEN,)


def test_live_path_imports_no_batch_library(tmp_path):
    """excel.py -> app.session -> workbook.reader -> the xlwings adapter, through
    the Lite scripts: a click runs in a CPython that refuses pandas, lxml,
    openpyxl, numpy, tqdm and defusedxml (xlwings asks for some of them itself,
    in a try: that is allowed), and calpae_xl asks for none."""
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps(payload_from_file(str(LITE / "loiret_2020.xlsx"))), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", LIVE_PROBE, str(payload)], capture_output=True, text=True,
                          cwd=P.ROOT, env=dict(os.environ, PYTHONPATH=str(P.ROOT)), timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [a for a in out["attempts"] if a[1].startswith("calpae_xl")] == []
    assert out["loaded"] == []
    assert out["alert"] and out["alert"][0].startswith("Recalculer : terminé.")
    for module in ("calpae_xl.excel", "calpae_xl.app.session", "calpae_xl.workbook.reader",
                   "calpae_xl.adapters.xlwings_adapter"):
        assert module in out["calpae"]
    assert not any(m.startswith(("calpae_xl.adapters.xlsx", "calpae_xl.reports")) for m in out["calpae"])
