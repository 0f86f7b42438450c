"""Tests of the LibreOffice person-driver (tests/helpers/lo_calc.py), on which
the officer's loop test stands. Each edit is one open/edit/save cycle checked
with openpyxl in the saved .xlsx; then robustness: soffice killed, hung, shut
down. About a minute: run with the long tests (-m slow)."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import time
from pathlib import Path

import openpyxl
import pytest

from tests.helpers import lo_calc

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(lo_calc.soffice_path() is None, reason="LibreOffice (soffice) absent")]

HERE = Path(__file__).resolve().parent
LOIRET = HERE.parent / "workbook" / "loiret_2020.xlsx"
M = "Maquette"
MODES = ["inprocess", "bridge"] if lo_calc.inprocess_possible()[0] else ["bridge"]


@pytest.fixture(scope="module", params=MODES)
def office(request):
    with lo_calc.start_office(request.param, locale="fr-FR", timeout=60) as lo:
        yield lo


@pytest.fixture
def book(tmp_path):
    path = tmp_path / "loiret.xlsx"
    shutil.copy(LOIRET, path)
    return path


def values(path, data_only=False):
    return openpyxl.load_workbook(path, data_only=data_only)


EDITS = [
    (("set_number", M, "F5", 80000), lambda f, v: f[M]["F5"].value == 80000 and v[M]["G5"].value == 80000),
    (("set_text", M, "F6", "35 813 €"), lambda f, v: f[M]["F6"].value == "35 813 €" and f[M]["F6"].data_type == "s"),
    (("type", M, "F7", "35 813 €"), lambda f, v: f[M]["F7"].value == 35813),          # fr-FR: a number
    (("type", M, "F7", "'35 813 €"), lambda f, v: f[M]["F7"].value == "35 813 €"),     # apostrophe: text
    (("set_date", "Paramètres", "B8", "2020-03-15"),
     lambda f, v: v["Paramètres"]["B8"].value == dt.datetime(2020, 3, 15)),
    (("set_formula", M, "F8", "=40000*2"), lambda f, v: f[M]["F8"].value == "=40000*2" and v[M]["F8"].value == 80000),
    (("set_formula", M, "M5", "=SUM(F5:F6)"), lambda f, v: v[M]["M5"].value == 138000),
    (("set_formula", M, "M5", "=ROUND(F5/3,2)"), lambda f, v: v[M]["M5"].value == 24000),
    (("set_array_formula", M, "N5:N6", "=F16:F17*2"),
     lambda f, v: f[M]["N5"].value.ref == "N5:N6" and (v[M]["N5"].value, v[M]["N6"].value) == (72000, 62400)),
    (("set_formula", M, "M6", "=1/0"), lambda f, v: f[M]["M6"].value == "=1/0" and v[M]["M6"].value == "#DIV/0!"),
    (("clear", M, "F10"), lambda f, v: f[M]["F10"].value is None and v[M]["G10"].value == 0),
    (("insert_rows", M, 12),
     lambda f, v: f[M]["D13"].value == "Action 5" and f[M]["F28"].value == "=SUM(F5:F15,F17:F26)"),
    (("delete_rows", M, 12),
     lambda f, v: f[M]["D12"].value == "Action 6" and f[M]["F26"].value == "=SUM(F5:F13,F15:F24)"),
    (("merge", M, "M10:N11"), lambda f, v: "M10:N11" in {str(r) for r in f[M].merged_cells.ranges}),
    (("rename_sheet", "Paramètres", "Param"), lambda f, v: f.sheetnames[0] == "Param"
     and f.defined_names["Liste_Chorus"].attr_text.startswith("Param!")),
    (("add_sheet", "Notes"), lambda f, v: f.sheetnames[-1] == "Notes"),
]


@pytest.mark.parametrize("edit, check", EDITS, ids=[f"{e[0]}-{e[-1]}" for e, _ in EDITS])
def test_one_edit_per_cycle(office, book, edit, check):
    office.edit(book, [edit])
    assert check(values(book), values(book, data_only=True))


def test_unmerge_in_a_later_session(office, book):
    office.edit(book, [("merge", M, "M10:N11")])
    office.edit(book, [("unmerge", M, "N11")])
    assert not values(book)[M].merged_cells.ranges


def test_recalc_and_read_agrees_with_the_cached_values(office, book):
    office.edit(book, [("set_number", M, "F5", 80001), ("delete_rows", M, 8)])
    cells = office.recalc_and_read(book)
    f, v = values(book), values(book, data_only=True)
    checked = 0
    for ws in f.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    lo, ours = cells[ws.title][c.coordinate], v[ws.title][c.coordinate].value
                    assert lo.type == "formula" and lo.formula == c.value
                    assert lo.value == ours or (lo.value, ours) == ("", None) or abs(lo.value - ours) < 0.005
                    checked += 1
    assert checked > 250
    assert cells[M]["H5"].value == 40000.5 and cells[M]["L5"] == lo_calc.Cell("text", "parité")


def test_document_api_and_errors(office, book):
    with office.open(book) as doc:
        assert doc.sheet_names()[:2] == ["Paramètres", M]
        doc.set_formula(M, "M1", "=1/0")
        doc.recalc()
        assert doc.read_sheet(M)["M1"].error == "#DIV/0!"
        with pytest.raises(lo_calc.OfficeError):
            doc.set_number("Nope", "A1", 1)
        with pytest.raises(lo_calc.OfficeError):
            doc.apply(("format_disk",))
        doc.set_number(M, "F5", 1)   # still usable after the errors
        doc.save(book.with_name("copy.xlsx"))
    assert values(book.with_name("copy.xlsx"))[M]["F5"].value == 1
    assert values(book)[M]["F5"].value == 72000    # the original untouched


@pytest.mark.parametrize("mode", MODES)
def test_soffice_killed_or_hung_is_restarted(mode, book):
    with lo_calc.start_office(mode, timeout=4) as lo:
        os.kill(lo.pid, signal.SIGKILL)                    # dies between two cycles
        lo.edit(book, [("set_number", M, "F5", 1)])
        doc = lo.open(book)
        os.kill(lo.pid, signal.SIGSTOP)                    # hangs during a cycle
        t = time.monotonic()
        with pytest.raises(lo_calc.OfficeTimeout):
            doc.set_number(M, "F5", 2)
        assert time.monotonic() - t < 10
        with pytest.raises(lo_calc.OfficeDied):
            doc.save()                                     # that document is lost
        lo.edit(book, [("set_number", M, "F5", 3)])          # a new soffice
        assert values(book)[M]["F5"].value == 3
        assert lo.stats["restarts"] == 2
        pid = lo.pid
    time.sleep(0.2)
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
