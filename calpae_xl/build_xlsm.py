"""Build the macro-enabled maquette (``.xlsm``) on Linux, without Excel.

1. The VBA project: xlwings' ``quickstart_standalone.xlsm`` carries the xlwings
   VBA module of the installed xlwings version (standalone: no add-in to
   install; its VBA names that version, so rebuild when xlwings changes). Our
   module ``macros/calpae.bas`` is added to it with pyopenvba, and the
   quickstart's sample module is emptied.
2. A skeleton workbook written by XlsxWriter: that VBA project, the sheets
   Paramètres and Maquette, and the three form buttons on Maquette bound to the
   Subs Recalculer, Controler and GenererFiches.
3. The maquette itself, written into the skeleton through the openpyxl adapter
   (which keeps vbaProject.bin byte for byte and the buttons), then the three
   operations, as ``calpae-xl exemple`` does for the ``.xlsx``.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Optional

from .errors import MissingExtra
from .workbook import layout as L

#: macros/calpae.bas, through the package's link to it (so that an installed
#: package finds it too)
MODULE_PATH = Path(__file__).parent / "data" / "calpae.bas"
MODULE_NAME = "calpae"
BUTTON_SIZE = {"width": 128, "height": 30}


def module_source() -> str:
    """The VBA module as kept in the repository (Windows-1252, as Excel exports)."""
    return MODULE_PATH.read_bytes().decode("cp1252")


def _requirements():
    try:
        import pyopenvba  # noqa: PLC0415
        import xlsxwriter  # noqa: PLC0415
        import xlwings  # noqa: PLC0415
    except ImportError as e:
        raise MissingExtra("La construction du classeur .xlsm", e.name or "xlwings", "xlsm") from None
    return pyopenvba, xlsxwriter, xlwings


def vba_project(workdir: str) -> bytes:
    """vbaProject.bin: xlwings' standalone VBA plus our module."""
    pyopenvba, _, xlwings = _requirements()
    quickstart = Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"
    src = os.path.join(workdir, "vba.xlsm")
    shutil.copy(quickstart, src)
    body = module_source()
    if not body.startswith("Attribute VB_Name"):
        body = f'Attribute VB_Name = "{MODULE_NAME}"\r\n' + body
    with pyopenvba.ExcelFile(src) as wb:
        if "Module1" in wb.module_names():  # the quickstart's sample calls a module we do not have
            wb.set_module("Module1", "Attribute VB_Name = \"Module1\"\r\nOption Explicit\r\n")
        wb.vba_project().add_module(MODULE_NAME, body)
        wb.save(src)
    with zipfile.ZipFile(src) as z:
        return z.read("xl/vbaProject.bin")


def skeleton(target: str, vba: bytes, workdir: str) -> None:
    """An .xlsm with the VBA project, the first two sheets and the buttons."""
    _, xlsxwriter, _ = _requirements()
    bin_path = os.path.join(workdir, "vbaProject.bin")
    Path(bin_path).write_bytes(vba)
    wb = xlsxwriter.Workbook(target)
    wb.set_vba_name("ThisWorkbook")
    wb.add_worksheet(L.PARAMETRES).set_vba_name("Sheet1")
    ws = wb.add_worksheet(L.MAQUETTE)
    ws.set_vba_name("Sheet2")
    wb.add_vba_project(bin_path)
    for caption, sub, _shape, cell in L.BUTTONS:
        ws.insert_button(cell, {"macro": sub, "caption": caption, **BUTTON_SIZE})
    ws.activate()
    wb.close()


def build(target: str, example: Optional[str] = "loiret-2020", departement: str = "", annee: int = 0,
          empty_rows: int = 10, profile=None, years=None) -> None:
    """The macro-enabled maquette: the embedded example (figures as printed, then
    recalculated, checked and with its fiches), an empty template, or the
    given years (``years``: « suivant », which runs the operations itself)."""
    from .adapters.openpyxl_adapter import OpenpyxlWorkbook  # noqa: PLC0415
    from .app.session import CONTROLER, FICHES, RECALCULER, run  # noqa: PLC0415
    from .app.template import create, template_years  # noqa: PLC0415
    from .core.serialize import load_years  # noqa: PLC0415
    if not target.lower().endswith(".xlsm"):
        raise ValueError("le classeur à macros doit avoir l'extension .xlsm")
    with tempfile.TemporaryDirectory() as workdir:
        vba = vba_project(workdir)
        base = os.path.join(workdir, "squelette.xlsm")
        skeleton(base, vba, workdir)
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        wb = OpenpyxlWorkbook.open(base)
        wb.path = target
        if years:
            create(wb, years, typed=True)
        elif example:
            create(wb, load_years(example), typed=True)
        else:
            create(wb, template_years(profile, departement, annee), empty_rows=empty_rows, typed=False)
        wb.save(target, backup=False, replace=True)
    if example:
        wb = OpenpyxlWorkbook.open(target)
        run(wb, [RECALCULER, CONTROLER, FICHES])
        wb.save(backup=False)
