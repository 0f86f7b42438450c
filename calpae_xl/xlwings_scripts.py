"""The three buttons as xlwings Lite / xlwings Server scripts.

In xlwings Lite, main.py holds ``from calpae_xl.xlwings_scripts import *`` and
requirements.txt names xlwings and the project's wheel (both written by
``calpae-xl paquet-lite``, see :mod:`calpae_xl.build_lite`); with xlwings
Server, point the server's scripts module at this one. Each script is bound
to a shape of the Maquette sheet, named ``xl_recalculer``, ``xl_controler``
and ``xl_fiches``, whose link points at the cell under it (the workbooks of
``paquet-lite`` carry them). The work is done by :mod:`calpae_xl.excel`, as
for the ``.xlsm`` buttons.

While a click runs, xlwings Lite shows it on the button itself (« Recalcul
en cours… »): Office.js gives add-ins no status bar, and a Lite script's
changes reach Excel only when it ends, unless they are flushed.
"""
from __future__ import annotations

import sys

import xlwings as xw

from . import excel
from .workbook import layout as L

try:  # the registering decorator (xlwings Server / Lite); plain xlwings has a no-op one
    from xlwings.server import script
except ImportError:  # pragma: no cover - depends on the xlwings build
    script = xw.script

__all__ = ["recalculer", "controler", "generer_fiches"]

#: what a button says while its click runs, in xlwings Lite
WORKING = {"Recalculer": "Recalcul en cours…", "Contrôler": "Contrôle en cours…",
           "Générer les fiches": "Fiches en cours…"}


def _button(caption: str) -> str:
    """Where xlwings Lite finds a button: '[shape name]Sheet!cell'."""
    return f"[{L.BUTTON_SHAPE[caption]}]{L.MAQUETTE}!{L.BUTTON_CELL[caption]}"


def _shape(book, caption: str):
    """The button's shape on the Maquette sheet, or None (renamed, deleted,
    or a payload without shapes)."""
    try:
        shapes = book.sheets[L.MAQUETTE].shapes
        name = L.BUTTON_SHAPE[caption]
        return shapes[name] if name in shapes else None
    except Exception:  # noqa: BLE001 - no Maquette sheet, an engine without shapes: no feedback, same click
        return None


async def click(book, caption: str) -> None:
    """One button. In xlwings Lite (Pyodide), the button first says the click
    is running — its new caption is sent to Excel at once (``book.flush()``) —
    and gets its caption back with the click's own changes; if the click
    fails, the caption is put back before the error shows."""
    shape = _shape(book, caption) if sys.platform == "emscripten" and hasattr(book, "flush") else None
    if shape is None:  # xlwings Server, or no button to speak on: the final message only
        excel.click(caption, book)
        return
    shape.text = WORKING[caption]
    await book.flush()

    def restore():
        shape.text = caption
    try:
        excel.click(caption, book, done=restore)
    except BaseException:
        restore()  # a failed script's pending changes are dropped: send this one first
        await book.flush()
        raise


@script(name="Recalculer", button=_button("Recalculer"), show_taskpane=False)
async def recalculer(book: xw.Book):
    """Totaux, parts État / CD en parité, puis contrôles."""
    await click(book, "Recalculer")


@script(name="Contrôler", button=_button("Contrôler"), show_taskpane=False)
async def controler(book: xw.Book):
    """Contrôles de la maquette, sans rien modifier d'autre que la feuille Contrôles."""
    await click(book, "Contrôler")


@script(name="Générer les fiches", button=_button("Générer les fiches"), show_taskpane=False)
async def generer_fiches(book: xw.Book):
    """Une feuille par action ; le texte déjà saisi dans les fiches est conservé."""
    await click(book, "Générer les fiches")
