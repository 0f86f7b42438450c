"""A region's folder of maquettes, as the State receives it (test fixture):
a dozen départements over two years, variants of the Loiret maquette
(tests/helpers/samples.py), in one sub-folder per département, in every state
a reviewer meets — checked by the département (a receipt in the file) or
never checked, answered (answers typed in Contrôles by a person, then the
département's own runs), changed after their check, one unreadable file, one
file sent twice. ``make_region`` says what it made, so that a test checks
the reports against the truth and not against the tool.

Answers are typed with openpyxl (a person saving from Excel), or through
LibreOffice when ``calc`` (tests/helpers/lo_calc.py) is given.
"""
from __future__ import annotations

import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl

from calpae_xl.app.session import CONTROLER, RECALCULER, process_file
from tests.helpers.samples import variant, write_variant

DEPARTEMENTS = ("Cher", "Eure-et-Loir", "Indre", "Indre-et-Loire", "Loir-et-Cher", "Loiret", "Allier", "Nièvre",
                "Yonne", "Sarthe", "Orne", "Vienne")
YEARS = (2020, 2021)
ANSWER = "Arrondi à l'euro de l'avenant signé ; la DDETS en a été informée le 2 mai."


@dataclass
class Region:
    folder: Path
    files: dict[str, dict] = field(default_factory=dict)  # relative path -> what was made
    answered: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)  # path -> key -> (statut, text)
    changed: list[str] = field(default_factory=list)  # changed after their check
    checked: list[str] = field(default_factory=list)  # carry a receipt that matches (unchanged)
    unreadable: str = ""
    duplicate: tuple[str, str] = ("", "")


def slug(text: str) -> str:
    s = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in s if not unicodedata.combining(ch)).lower().replace(" ", "-")


def controles_rows(path: Path) -> dict[str, int]:
    """Finding key -> row of the Contrôles sheet (read as a person would: the last column)."""
    ws = openpyxl.load_workbook(path, read_only=True)["Contrôles"]
    out = {}
    for r, row in enumerate(ws.iter_rows(min_row=1, values_only=True), 1):
        if r >= 5 and len(row) >= 9 and row[8]:
            out[str(row[8])] = r
    return out


def type_answers(path: Path, answers: dict[str, tuple[str, str]], calc=None) -> None:
    """A person types a status and a justification beside findings, and saves
    (through LibreOffice with ``calc``)."""
    rows = controles_rows(path)
    if calc is not None:
        edits = []
        for key, (status, text) in answers.items():
            r = rows[key]
            if status:
                edits.append(("set_text", "Contrôles", f"G{r}", status))
            edits.append(("set_text", "Contrôles", f"H{r}", text))
        calc.edit(str(path), edits)
        return
    # as Excel saves: the two cells typed, everything else as it was (openpyxl would drop the cached values)
    from calpae_xl.adapters.xlsx import PackageWorkbook
    from calpae_xl.workbook.port import Block, Text
    wb = PackageWorkbook.open(str(path))
    wb.apply([Block("Contrôles", rows[key], 7, [[Text(status) if status else None, Text(text)]])
              for key, (status, text) in answers.items()])
    wb.save(backup=False)


def change_after_check(path: Path, calc=None) -> None:
    """Something typed after the check: through LibreOffice, a budget global
    (LibreOffice recomputes the row); without it, the intitulé of the first
    action (a text no formula reads: the file stays consistent)."""
    ws = openpyxl.load_workbook(path, read_only=True)["Maquette"]
    row = next(r for r, (num,) in enumerate(ws.iter_rows(min_col=4, max_col=4, values_only=True), 1)
               if num and str(num).startswith("Action"))
    if calc is not None:
        value = openpyxl.load_workbook(path, data_only=True)["Maquette"].cell(row, 6).value or 0
        calc.edit(str(path), [("set_number", "Maquette", f"F{row}", float(value) + 1000)])
        return
    from calpae_xl.adapters.xlsx import PackageWorkbook
    from calpae_xl.workbook.port import Block, Text
    wb = PackageWorkbook.open(str(path))
    wb.apply([Block("Maquette", row, 5, [[Text("Intitulé revu après le contrôle")]])])
    wb.save(backup=False)


def set_avenant(path: Path, number: int) -> None:
    """The optional « N° de l'avenant » line of the Paramètres sheet."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Paramètres"]
    ws.insert_rows(3)
    ws["A3"], ws["B3"] = "N° de l'avenant", number
    wb.save(path)


def make_region(folder: Path, departements: int = len(DEPARTEMENTS), years=YEARS, calc=None) -> Region:
    region = Region(Path(folder))
    folder = Path(folder)
    for i, dep in enumerate(DEPARTEMENTS[:departements]):
        for j, year in enumerate(years):
            rel = f"{dep}/{slug(dep)}_{year}.xlsx"
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            scale = 0.3 + 0.07 * i + 0.05 * j
            write_variant(str(path), variant(departement=dep, annee=year, scale=scale))
            set_avenant(path, 2 + j)
            info = {"departement": dep, "annee": year, "avenant": str(2 + j)}
            region.files[rel] = info
            n = i * len(years) + j
            if n % 4 == 3:
                continue  # never checked by the département: no receipt
            assert process_file(str(path), [RECALCULER, CONTROLER], backup=False).lisible
            if n % 3 == 0:  # the département answers what Recalculer left, then runs again
                keys = [k for k in controles_rows(path) if k.startswith(("ENVELOPPE", "REPORT", "INDICATEUR_ABSENT"))]
                answers = {k: ("justifié" if m % 2 == 0 else "", f"{ANSWER} ({k.split('|')[0]})")
                           for m, k in enumerate(keys[:3])}
                type_answers(path, answers, calc if n == 0 else None)
                region.answered[rel] = answers
                assert process_file(str(path), [RECALCULER, CONTROLER], backup=False).lisible
            if n % 5 == 1:
                change_after_check(path, calc)
                region.changed.append(rel)
            else:
                region.checked.append(rel)
    first = next(iter(region.files))
    dup = f"envoi du 12 mars/{Path(first).name}"
    (folder / dup).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(folder / first, folder / dup)
    region.files[dup] = dict(region.files[first])
    region.duplicate = (first, dup)
    if first in region.checked:
        region.checked.append(dup)
    if first in region.answered:
        region.answered[dup] = region.answered[first]
    last = list(region.files)[-2]  # a département's file, sent again truncated (a broken attachment)
    region.unreadable = str(Path(last).with_name(Path(last).stem + " (copie abîmée).xlsx").as_posix())
    (folder / region.unreadable).write_bytes((folder / last).read_bytes()[:2000])
    return region
