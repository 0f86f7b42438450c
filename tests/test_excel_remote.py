"""The Excel buttons, run by the xlwings remote engine (the one behind xlwings
Server and Lite) on payloads built from our workbooks, as the Office.js client
would send them: applying the returned actions must give the cells the batch
writes, and one Recalculer must cost a constant, small number of actions."""
import pathlib
import asyncio
import collections
import shutil

import openpyxl
import pytest

xw = pytest.importorskip("xlwings", reason="xlwings absent : pip install \"calpae-xl[excel]\"")

from calpae_xl import excel
from calpae_xl.workbook import layout as L  # noqa: E402
from calpae_xl.adapters.openpyxl_adapter import OpenpyxlWorkbook  # noqa: E402
from calpae_xl.app.session import run  # noqa: E402
from tests.helpers.remote import apply_actions, click_after_typing, payload_from_file, remote_book  # noqa: E402
from tests.helpers.samples import variant, write_variant  # noqa: E402


@pytest.fixture(autouse=True)
def _one_clock(monkeypatch):
    """The remote click and the batch run it is compared with write the same check receipt: same date."""
    from calpae_xl.core import receipt
    monkeypatch.setattr(receipt, "now", lambda: "2024-05-03T10:00:00+02:00")


def _headless(path, button, tmp_path):
    """The batch path on a copy: (formulas view, values view) per sheet. The
    remote engine sends values only: a value typed in a computed cell cannot
    be told from the formula's, so the batch is run without journaling those
    (the README says so)."""
    from calpae_xl.app import session
    copy = tmp_path / ("batch-" + path.name)
    shutil.copy(path, copy)
    wb = OpenpyxlWorkbook.open(str(copy))
    wb.recalculates = True  # as Excel: the fiches' links are recomputed by the spreadsheet, not rewritten
    typed_over, session.typed_over = session.typed_over, lambda *a: []
    try:
        run(wb, excel.BUTTONS[button])
    finally:
        session.typed_over = typed_over
    wb.save(backup=False)
    f = openpyxl.load_workbook(copy)
    v = openpyxl.load_workbook(copy, data_only=True)
    return f, v


def _same(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(a - b) < 0.005
    return a == b


def _compare(remote_cells, touched, f_wb, v_wb):
    assert list(remote_cells) == f_wb.sheetnames
    diffs = []
    for name, rows in remote_cells.items():
        fws, vws = f_wb[name], v_wb[name]
        n_rows = max(len(rows), fws.max_row)
        n_cols = max(max((len(r) for r in rows), default=0), fws.max_column)
        for r in range(1, n_rows + 1):
            for c in range(1, n_cols + 1):
                ours = rows[r - 1][c - 1] if r <= len(rows) and c <= len(rows[r - 1]) else None
                if (name, r, c) in touched:
                    want = fws.cell(r, c).value
                else:  # untouched: the payload carried the saved value
                    want = vws.cell(r, c).value
                if not _same(ours, want):
                    diffs.append(f"{name}!{L.a1(r, c)} : distant {ours!r}, lot {want!r}")
    assert diffs == [], diffs[:20]
    return len(touched)


ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture
def printed(tmp_path):
    path = tmp_path / "loiret.xlsx"
    write_variant(str(path), variant(), fiches=True)
    return path


@pytest.fixture
def without_fiches(tmp_path):
    path = tmp_path / "sans_fiches.xlsx"
    write_variant(str(path), variant(), fiches=False)
    return path


@pytest.mark.parametrize("button, source", [
    ("Recalculer", "printed"), ("Contrôler", "printed"), ("Générer les fiches", "without_fiches"),
    ("Recalculer", "committed")])
def test_remote_engine_writes_the_cells_of_the_batch(button, source, request, tmp_path):
    if source == "committed":
        path = tmp_path / "loiret_2020.xlsx"
        shutil.copy(ROOT / "workbook" / "loiret_2020.xlsx", path)
    else:
        path = request.getfixturevalue(source)
    payload = payload_from_file(str(path))
    book = remote_book(payload)
    outcome = {"Recalculer": excel.recalculer, "Contrôler": excel.controler,
               "Générer les fiches": excel.generer_fiches}[button](book)
    assert outcome is not None
    actions = book.json()["actions"]
    touched = set()
    cells = apply_actions(payload, actions, touched)
    written = _compare(cells, touched, *_headless(path, button, tmp_path))
    assert written > 0
    alert = [a for a in actions if a["func"] == "alert"]
    assert len(alert) == 1 and alert[0]["args"][0].startswith(f"{button} : terminé.")


def _recalculer_actions(n, tmp_path):
    """A maquette of n actions as the project leaves it, then one amount typed
    by the officer, then the Recalculer button on the remote engine."""
    outcome, actions = click_after_typing(n, str(tmp_path))
    assert outcome.changes  # the typed amount moved the parts and the totals
    return actions


def test_recalculer_costs_the_same_few_actions_for_20_and_2000_actions(tmp_path):
    small, large = _recalculer_actions(20, tmp_path), _recalculer_actions(2000, tmp_path)
    count = lambda acts: collections.Counter(a["func"] for a in acts)  # noqa: E731
    assert count(small) == count(large)
    # 15 for the cells and formats; the printing of the Maquette, Contrôles and Journal adds one print area
    # and one auto-fit of the row heights per sheet, and the wrapping of the Contrôles and Journal texts
    assert len(small) <= 20, count(small)
    assert count(small)["setAutofit"] >= 1 and count(small)["setPrintArea"] >= 1  # Excel sizes the rows itself
    # the maquette: the derived columns of each bloc's rows, each sub-total, the total (joined with the last
    # sub-total): four writes, none over a typed column of an action row (budget global, report, autres)
    maquette_writes = [a for a in large if a["func"] == "setValues" and a["sheet_position"] == 1]
    assert len(maquette_writes) == 4
    assert sum(a["row_count"] for a in maquette_writes) == 2000 + 3
    for a in maquette_writes:
        if a["row_count"] > 2:  # action rows: the three derived columns only (G:I, 0-based 6)
            assert (a["start_column"], a["column_count"]) == (6, 3)


def test_first_click_on_a_bare_maquette_is_constant_too(tmp_path):
    """No Contrôles, Journal or technical sheet yet: they are created, at a cost
    that does not depend on the number of actions either."""
    counts = []
    for n in (20, 2000):
        path = tmp_path / f"bare{n}.xlsx"
        write_variant(str(path), variant(n), fiches=False)
        book = remote_book(payload_from_file(str(path)))
        excel.recalculer(book)
        counts.append(collections.Counter(a["func"] for a in book.json()["actions"]))
    assert counts[0] == counts[1]
    assert counts[0]["addSheet"] == 3


def test_server_runs_the_scripts_like_the_buttons(printed):
    """xlwings Server calls the scripts through custom_scripts_call: same actions
    as the RunPython target."""
    from xlwings.server import custom_scripts_call
    from calpae_xl import xlwings_scripts
    direct = remote_book(payload_from_file(str(printed)))
    excel.recalculer(direct)
    served = remote_book(payload_from_file(str(printed)))
    returned = asyncio.run(custom_scripts_call(xlwings_scripts, "recalculer",
                                               typehint_to_value={xw.Book: served}))
    assert returned is served
    assert served.json()["actions"] == direct.json()["actions"]
    meta = {m["function_name"]: m for m in __import__("xlwings.server").server.custom_scripts_meta(xlwings_scripts)}
    assert set(meta) == {"recalculer", "controler", "generer_fiches"}
    assert all(m["button"].startswith("[xl_") and "]Maquette!" in m["button"] for m in meta.values())


def test_a_workbook_without_maquette_gets_a_message_not_a_traceback(tmp_path):
    path = tmp_path / "autre.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Budget de la cantine"
    wb.save(path)
    book = remote_book(payload_from_file(str(path)))
    assert excel.recalculer(book) is None
    actions = book.json()["actions"]
    assert [a["func"] for a in actions] == ["alert"]
    assert "maquette" in actions[0]["args"][0].lower() and actions[0]["args"][3] == "critical"


def test_without_xlwings_the_message_says_what_to_install(monkeypatch):
    import sys
    from calpae_xl.errors import MissingExtra
    monkeypatch.setitem(sys.modules, "xlwings", None)
    with pytest.raises(MissingExtra) as e:
        excel.recalculer()
    assert 'pip install "calpae-xl[excel]"' in e.value.message


def test_generating_fiches_costs_a_bounded_number_of_actions_per_fiche(without_fiches):
    """Creating a sheet per action grows with the actions by nature; each
    fiche's formats are gathered into rectangles, so the cost per fiche stays small."""
    book = remote_book(payload_from_file(str(without_fiches)))
    outcome = excel.generer_fiches(book)
    n = len(outcome.fiches_created)
    actions = book.json()["actions"]
    assert n == 20
    assert len(actions) <= 55 * n, collections.Counter(a["func"] for a in actions)


def test_excel_status_bar_says_the_click_is_running_then_gives_it_back(printed):
    """On the desktop (the .xlsm), the status bar says the click is running and
    is given back to Excel before the message; the remote engine has none and
    sends nothing for it (the counts above)."""
    book = remote_book(payload_from_file(str(printed)))
    seen = []

    class App:  # the desktop App's part a click uses
        def __init__(self, real):
            self.real = real

        @property
        def status_bar(self):
            return seen[-1][1] if seen else False

        @status_bar.setter
        def status_bar(self, value):
            seen.append(("status_bar", value))

        def alert(self, *args, **kwargs):
            seen.append(("alert", args[0].split("\n")[0]))
            return self.real.alert(*args, **kwargs)

    class Desktop:
        def __init__(self, real):
            self.real, self.app = real, App(real.app)

        def __getattr__(self, name):
            return getattr(self.real, name)

    assert excel.recalculer(Desktop(book)) is not None
    assert seen == [("status_bar", "Recalculer : calcul en cours… (CALPAE)"), ("status_bar", False),
                    ("alert", "Recalculer : terminé.")]
