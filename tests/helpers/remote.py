"""The xlwings remote engine without Excel: what the Office.js client would
send for a workbook file, and what its answer does to the cells.

Used by the tests and the benchmark to run the Excel entry points on Linux
(``xw.Book(json=payload)``, the engine behind xlwings Server and Lite), and to
check that applying the returned actions gives the cells the batch writes.
"""
from __future__ import annotations

import copy
import datetime as dt
import os
from decimal import Decimal
from typing import Any, Optional

from calpae_xl.workbook.a1 import col_letter

#: the remote engine's licence for non-commercial use (public bodies included)
LICENSE_ENV = "XLWINGS_LICENSE_KEY"


def _json_value(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def shapes_of(path: str) -> dict[str, list[dict]]:
    """Sheet name -> the drawn shapes of that sheet as Office.js describes them
    (name, type, position and size in points): the buttons of an xlwings Lite
    workbook."""
    import zipfile  # noqa: PLC0415
    from xml.etree import ElementTree as ET  # noqa: PLC0415

    from calpae_xl.adapters.ooxml import NS, part_name, sheet_xml_paths  # noqa: PLC0415
    xdr = "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}"
    a = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
    out: dict[str, list[dict]] = {}
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        for sheet, part in sheet_xml_paths(z).items():
            folder, base = part.rsplit("/", 1)
            rels = f"{folder}/_rels/{base}.rels"
            if rels not in names:
                continue
            for rel in ET.fromstring(z.read(rels)).findall("rel:Relationship", NS):
                if not rel.get("Type", "").endswith("/drawing"):
                    continue
                drawing = part_name(folder.removeprefix("xl/") + "/" + rel.get("Target"))
                for sp in ET.fromstring(z.read(drawing)).iter(xdr + "sp"):
                    pr = sp.find(f"{xdr}nvSpPr/{xdr}cNvPr")
                    off, ext = sp.find(f"{xdr}spPr/{a}xfrm/{a}off"), sp.find(f"{xdr}spPr/{a}xfrm/{a}ext")
                    out.setdefault(sheet, []).append({
                        "id": pr.get("id"), "name": pr.get("name"), "type": "GeometricShape",
                        "left": int(off.get("x")) / 12700, "top": int(off.get("y")) / 12700,
                        "width": int(ext.get("cx")) / 12700, "height": int(ext.get("cy")) / 12700})
    return out


def payload_from_file(path: str) -> dict:
    """The request Office.js sends for a workbook: every sheet's values, the
    values of formula cells being their saved (cached) results, and its shapes."""
    import openpyxl  # noqa: PLC0415
    import xlwings as xw  # noqa: PLC0415
    wb = openpyxl.load_workbook(path, data_only=True)
    shapes = shapes_of(path)
    sheets = []
    for ws in wb.worksheets:
        rows = [[_json_value(c) for c in row] for row in ws.iter_rows(values_only=True)] or [[""]]
        width = max(len(r) for r in rows)
        rows = [r + [""] * (width - len(r)) for r in rows]
        sheets.append({"name": ws.title, "values": rows, "pictures": [], "tables": [],
                       "shapes": shapes.get(ws.title, []),
                       "charts": [], "notes": [], "visibility": "Visible" if ws.sheet_state == "visible"
                       else "Hidden", "used_range_address": f"A1:{col_letter(width)}{len(rows)}",
                       "pivot_tables": [], "show_gridlines": True, "print_area": None})
    return {"client": "Office.js", "version": xw.__version__,
            "book": {"name": os.path.basename(path), "active_sheet_index": 0, "selection": "A1"},
            "names": [], "sheets": sheets}


def remote_book(payload: dict):
    """An ``xlwings.Book`` on the remote engine. The caller chooses the licence
    (``XLWINGS_LICENSE_KEY``; the tests use "noncommercial")."""
    if not os.environ.get(LICENSE_ENV):
        raise RuntimeError(f"Le moteur distant d'xlwings demande une licence : définissez {LICENSE_ENV}.")
    import xlwings as xw  # noqa: PLC0415
    if "remote" not in [e.name for e in xw.engines]:  # xlwings was imported before the key was set
        from xlwings.pro import _xlremote  # noqa: PLC0415
        xw.engines.add(xw.main.Engine(impl=_xlremote.engine))
    return xw.Book(json=copy.deepcopy(payload))  # the engine edits the payload it is given


def apply_actions(payload: dict, actions: list[dict], touched: Optional[set] = None) -> dict[str, list[list]]:
    """Sheet name -> cell contents after the actions, as Excel would store them
    ("=..." for formulas, the quote prefix removed from text). Only the actions
    that change contents are simulated; formats are ignored. ``touched``
    receives (sheet, row, column) of every cell written, 1-based."""
    sheets = [{"name": s["name"], "cells": [list(r) for r in s["values"]]} for s in payload["sheets"]]
    for a in actions:
        f = a["func"]
        if f == "addSheet":
            ix, name = a["args"]
            sheets.insert(ix, {"name": name, "cells": [[""]]})
        elif f == "setValues":
            cells = sheets[a["sheet_position"]]["cells"]
            r0, c0 = a["start_row"], a["start_column"]
            name = sheets[a["sheet_position"]]["name"]
            for i, row in enumerate(a["values"]):
                for j, v in enumerate(row):
                    _put(cells, r0 + i, c0 + j, v)
                    if touched is not None:
                        touched.add((name, r0 + i + 1, c0 + j + 1))
        elif f in ("rangeClearContents", "rangeClear"):
            cells = sheets[a["sheet_position"]]["cells"]
            name = sheets[a["sheet_position"]]["name"]
            for r in range(a["start_row"], min(a["start_row"] + a["row_count"], len(cells))):
                for c in range(a["start_column"], min(a["start_column"] + a["column_count"], len(cells[r]))):
                    cells[r][c] = ""
                    if touched is not None:
                        touched.add((name, r + 1, c + 1))
        elif f in ("sheetClear", "sheetClearContents"):
            sheets[a["sheet_position"]]["cells"] = [[""]]
        elif f == "setSheetName":
            sheets[a["sheet_position"]]["name"] = a["args"][0]
        elif f == "sheetDelete":
            sheets.pop(a["sheet_position"])
    return {s["name"]: [[_stored(v) for v in row] for row in s["cells"]] for s in sheets}


def _put(cells: list[list], r: int, c: int, v: Any) -> None:
    while len(cells) <= r:
        cells.append([""] * len(cells[0]))
    for row in cells:
        if len(row) <= c:
            row.extend([""] * (c + 1 - len(row)))
    cells[r][c] = v


def _stored(v: Any) -> Any:
    if v is None or v == "":
        return None
    if isinstance(v, str) and v.startswith("'"):
        return v[1:]
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def click_after_typing(n_actions: int, folder: str, button: str = "Recalculer"):
    """The live path's typical click, for the tests and the benchmark: a
    maquette of ``n_actions`` as the project leaves it (recalculated,
    checked), one amount typed by the officer (the first action's budget
    global, +1 000 €), then ``button`` on the remote engine.
    Returns (outcome, actions sent to Excel)."""
    from calpae_xl import excel  # noqa: PLC0415
    from calpae_xl.workbook import layout as L  # noqa: PLC0415
    from calpae_xl.adapters.openpyxl_adapter import OpenpyxlWorkbook  # noqa: PLC0415
    from calpae_xl.app.session import CONTROLER, RECALCULER, run  # noqa: PLC0415
    from tests.helpers.samples import variant, write_variant  # noqa: PLC0415
    path = os.path.join(folder, f"clic_{n_actions}.xlsx")
    write_variant(path, variant(n_actions), fiches=False)
    wb = OpenpyxlWorkbook.open(path)
    run(wb, [RECALCULER, CONTROLER])
    wb.save(backup=False)
    payload = payload_from_file(path)
    maquette = next(s for s in payload["sheets"] if s["name"] == L.MAQUETTE)["values"]
    maquette[L.MAQUETTE_FIRST_ROW - 1][L.template_col("budget_global") - 1] += 1000  # 0-based
    book = remote_book(payload)
    outcome = excel.click(button, book)
    return outcome, book.json()["actions"]
