"""What Excel calls: the three buttons of the maquette.

- In the macro-enabled maquette (``.xlsm``), the VBA Subs of ``macros/calpae.bas``
  call ``RunPython "import calpae_xl.excel as c; c.recalculer()"``: the workbook
  is ``xw.Book.caller()``.
- In xlwings Lite and xlwings Server, the same functions are scripts
  (``calpae_xl/xlwings_scripts.py``) that receive the book.
- From a Python prompt, to debug a click against a workbook open in Excel::

      python -m calpae_xl.excel workbook/loiret_2020.xlsm Recalculer

Each click reads the workbook, runs the operations of :mod:`calpae_xl.app.session`
(the same code as the batch), writes the result and says in one message box
what it did. A workbook without a maquette gets a message, not a traceback.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Optional

from .app.session import CONTROLER, FICHES, RECALCULER, Outcome, run
from .core.findings import Severity, summary_line
from .errors import CalpaeError, MissingExtra

#: button caption -> operations (Recalculer also refreshes Contrôles: stale
#: highlights after a recalcul would point at cells that are now right)
BUTTONS = {
    "Recalculer": (RECALCULER, CONTROLER),
    "Contrôler": (CONTROLER,),
    "Générer les fiches": (FICHES, CONTROLER),
}
TITLE = "CALPAE — maquette financière"


def require_xlwings():
    try:
        import xlwings  # noqa: PLC0415
    except ImportError:
        raise MissingExtra("Le classeur Excel (boutons Recalculer, Contrôler, Générer les fiches)") from None
    return xlwings


def message(button: str, outcome: Outcome) -> str:
    """The message box after a click, in the officer's words."""
    parts = [f"{button} : terminé."]
    if RECALCULER in BUTTONS[button]:
        n = len(outcome.changes)
        parts.append(f"{n} valeur(s) recalculée(s) (détail dans la feuille Journal)." if n
                     else "Aucune valeur à changer : la maquette était déjà à jour.")
    if FICHES in BUTTONS[button]:
        n = len(outcome.fiches_created)
        parts.append(f"{n} fiche(s) créée(s) ; les fiches existantes ont été mises à jour sans toucher au texte saisi."
                     if n else "Aucune fiche à créer ; les fiches existantes ont été mises à jour.")
    parts.append(f"Contrôles : {summary_line(outcome.findings)}.")
    if any(f.severity is Severity.ERREUR for f in outcome.findings):
        parts.append("Les cellules en erreur sont en rouge ; la feuille Contrôles dit pourquoi.")
    return "\n".join(parts)


#: the status bar while a click runs (Excel on the desktop; Office.js add-ins have no status bar:
#: xlwings Lite shows it on the button, see calpae_xl.xlwings_scripts)
WORKING = "{button} : calcul en cours… (CALPAE)"


@contextmanager
def status_bar(book, text: str):
    """``text`` in Excel's status bar for the time of the block, where the engine
    has one (Windows, macOS); the remote engine has none: nothing is sent."""
    shown = False
    try:
        book.app.status_bar = text
        shown = True
    except Exception:  # noqa: BLE001 - NotImplementedError on the remote engine, or an Excel without one
        pass
    try:
        yield
    finally:
        if shown:
            try:
                book.app.status_bar = False  # Excel's own messages again
            except Exception:  # noqa: BLE001 - never hide the click's own outcome
                pass


def click(button: str, book=None, done: Optional[Callable[[], None]] = None) -> Optional[Outcome]:
    """Run one button on ``book`` (the calling workbook when None). ``done``
    is called once the work is over, before the message (xlwings Lite puts
    its button's caption back there)."""
    xw = require_xlwings()
    from .adapters.xlwings_adapter import XlwingsWorkbook  # noqa: PLC0415
    book = book if book is not None else xw.Book.caller()
    wb = XlwingsWorkbook(book)
    outcome: Optional[Outcome] = None
    with status_bar(book, WORKING.format(button=button)):
        try:
            outcome = run(wb, BUTTONS[button])
        except CalpaeError as e:
            failure = e.message
        else:
            failure = None
    if done is not None:
        done()
    if failure is not None:
        book.app.alert(failure, title=TITLE, mode="critical")
        return None
    book.app.alert(message(button, outcome), title=TITLE, mode="info")
    return outcome


# --- the RunPython targets (names used by macros/calpae.bas) -------------------------

def recalculer(book=None) -> Optional[Outcome]:
    return click("Recalculer", book)


def controler(book=None) -> Optional[Outcome]:
    return click("Contrôler", book)


def generer_fiches(book=None) -> Optional[Outcome]:
    return click("Générer les fiches", book)


TARGETS = {"Recalculer": recalculer, "Controler": controler, "GenererFiches": generer_fiches}


def main(argv: Optional[list[str]] = None) -> int:
    """Debug a click from a prompt: the workbook must be open in Excel."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[1] not in TARGETS:
        print("usage : python -m calpae_xl.excel CLASSEUR.xlsm Recalculer|Controler|GenererFiches")
        return 2
    xw = require_xlwings()
    xw.Book(argv[0]).set_mock_caller()
    TARGETS[argv[1]]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
