"""The three buttons as xlwings Lite / xlwings Server scripts.

In xlwings Lite, paste ``from calpae_xl.xlwings_scripts import *`` in main.py
(with ``calpae-xl`` in requirements.txt); with xlwings Server, point the
server's scripts module at this one. Each script is bound to a shape on the
Maquette sheet: draw three shapes there and name them ``xl_recalculer``,
``xl_controler`` and ``xl_fiches`` (Excel: Format de la forme > Nom).
The work is done by :mod:`calpae_xl.excel`, as for the ``.xlsm`` buttons.
"""
from __future__ import annotations

import xlwings as xw

from . import excel
from .workbook import layout as L

try:  # the registering decorator (xlwings Server / Lite); plain xlwings has a no-op one
    from xlwings.server import script
except ImportError:  # pragma: no cover - depends on the xlwings build
    script = xw.script



def _button(caption: str) -> str:
    """Where xlwings Lite finds a button: '[shape name]Sheet!cell'."""
    return f"[{L.BUTTON_SHAPE[caption]}]{L.MAQUETTE}!{L.BUTTON_CELL[caption]}"


@script(name="Recalculer", button=_button("Recalculer"), show_taskpane=False)
def recalculer(book: xw.Book):
    """Totaux, parts État / CD en parité, puis contrôles."""
    excel.recalculer(book)


@script(name="Contrôler", button=_button("Contrôler"), show_taskpane=False)
def controler(book: xw.Book):
    """Contrôles de la maquette, sans rien modifier d'autre que la feuille Contrôles."""
    excel.controler(book)


@script(name="Générer les fiches", button=_button("Générer les fiches"), show_taskpane=False)
def generer_fiches(book: xw.Book):
    """Une feuille par action ; le texte déjà saisi dans les fiches est conservé."""
    excel.generer_fiches(book)
