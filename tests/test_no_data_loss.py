"""Nothing is lost: saves killed at random points, files held open, files
changed on disk, saves that would drop what openpyxl cannot keep, and the
cells the project does not own."""
import os
import random
import signal
import subprocess
import sys
import time
import zipfile

import openpyxl
import pytest

from calpae_xl.adapters.openpyxl_adapter import OpenpyxlWorkbook
from calpae_xl.cli import main
from calpae_xl.errors import UnwritableFile
from calpae_xl.app.session import CONTROLER, RECALCULER, run
from tests.helpers.samples import variant, write_variant
from tests.helpers.compare import diff, snapshot

SAVER = """
import sys
from calpae_xl.adapters.openpyxl_adapter import OpenpyxlWorkbook
from calpae_xl.workbook.port import Block
path, k = sys.argv[1], int(sys.argv[2])
while True:
    k += 1
    wb = OpenpyxlWorkbook.open(path)
    wb.apply([Block("Paramètres", 1, 26, [[k]])])  # a marker: which version is on disk
    wb.save()
    print(k, flush=True)
"""


def _marker(path):
    return openpyxl.load_workbook(path)["Paramètres"].cell(1, 26).value


@pytest.mark.slow
def test_a_save_killed_anywhere_leaves_the_old_or_the_new_file(tmp_path, request):
    n = request.config.getoption("--kills")
    path = tmp_path / "maquette.xlsx"
    write_variant(str(path), variant(), fiches=False)
    rng = random.Random(2020)
    last, kills = 0, 0
    while kills < n:
        proc = subprocess.Popen([sys.executable, "-c", SAVER, str(path), str(last)], stdout=subprocess.PIPE,
                                text=True)
        time.sleep(rng.uniform(0.3, 1.2))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        done = [int(x) for x in out.split()]
        kills += 1
        reported = done[-1] if done else last
        on_disk = _marker(path)  # loads: the file is whole
        on_disk = on_disk or 0
        assert on_disk in (reported, reported + 1), (reported, on_disk)
        with zipfile.ZipFile(path) as z:
            assert z.testzip() is None
        last = on_disk
    assert kills >= n and last > 0
    # the temporary files left behind prove that some kills landed in the middle of a save
    assert list(tmp_path.glob(".~calpae-*")), "aucune interruption pendant un enregistrement"


def test_a_file_open_in_excel_is_not_overwritten(tmp_path, capsys):
    path = tmp_path / "maquette.xlsx"
    write_variant(str(path), variant(), fiches=False)
    before = path.read_bytes()
    owner = tmp_path / ("~$" + path.name)
    name = "Claire Martin"
    owner.write_bytes(bytes([len(name)]) + name.encode("cp1252") + b"\0" * 40)
    assert main(["recalculer", str(path)]) == 2
    out = capsys.readouterr().out
    assert "ouvert par Claire Martin" in out
    assert path.read_bytes() == before
    owner.unlink()
    lo = tmp_path / f".~lock.{path.name}#"
    lo.write_text("Jean Dupont,jdupont,poste-12,27.11.2026 10:00,file:///home/jdupont/.config;")
    assert main(["recalculer", str(path)]) == 2
    assert "ouvert par Jean Dupont" in capsys.readouterr().out


def test_a_file_changed_on_disk_since_it_was_read_is_not_overwritten(tmp_path):
    path = tmp_path / "maquette.xlsx"
    write_variant(str(path), variant(), fiches=False)
    wb = OpenpyxlWorkbook.open(str(path))
    run(wb, [RECALCULER, CONTROLER])
    # meanwhile, a colleague saves the file
    other = openpyxl.load_workbook(path)
    other["Paramètres"]["D1"] = "saisi par une collègue"
    other.save(path)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    with pytest.raises(UnwritableFile) as e:
        wb.save()
    assert e.value.code == "FICHIER_MODIFIE"
    assert openpyxl.load_workbook(path)["Paramètres"]["D1"].value == "saisi par une collègue"


def _add_shape(path) -> str:
    """A text box drawn on the maquette, as Excel stores it: a DrawingML part,
    tied to the sheet by a relationship and a <drawing> element. Returns the
    sheet's part name."""
    from calpae_xl.adapters.ooxml import sheet_xml_paths
    from tests.helpers.parts import edit_parts
    drawing = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><xdr:wsDr xmlns:xdr="http://schemas.'
               'openxmlformats.org/drawingml/2006/spreadsheetDrawing" xmlns:a="http://schemas.openxmlformats.org/'
               'drawingml/2006/main"><xdr:twoCellAnchor><xdr:from><xdr:col>1</xdr:col><xdr:colOff>0</xdr:colOff>'
               '<xdr:row>1</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>4</xdr:col><xdr:colOff>0'
               '</xdr:colOff><xdr:row>3</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to><xdr:sp macro="" textlink="">'
               '<xdr:nvSpPr><xdr:cNvPr id="2" name="Note"/><xdr:cNvSpPr txBox="1"/></xdr:nvSpPr><xdr:spPr/>'
               '<xdr:txBody><a:bodyPr/><a:p><a:r><a:t>Validé en commission le 12/10</a:t></a:r></a:p></xdr:txBody>'
               '</xdr:sp><xdr:clientData/></xdr:twoCellAnchor></xdr:wsDr>')
    edit_parts(path, lambda parts, sheets: _tie_shape(parts, sheets["Maquette"], drawing))
    with zipfile.ZipFile(path) as z:
        return sheet_xml_paths(z)["Maquette"]


def _tie_shape(parts: dict, sheet: str, drawing: str) -> None:
    rels = sheet.replace("worksheets/", "worksheets/_rels/") + ".rels"
    parts[rels] = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/relationships"><Relationship Id="rIdDessin" Type="http://'
                   'schemas.openxmlformats.org/officeDocument/2006/relationships/drawing" Target="../drawings/'
                   'drawing9.xml"/></Relationships>').encode()
    parts["xl/drawings/drawing9.xml"] = drawing.encode()
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/drawings/drawing9.xml" ContentType="application/vnd.openxmlformats-'
                     b'officedocument.drawing+xml"/></Types>')
    parts[sheet] = parts[sheet].replace(b"</worksheet>", b'<drawing xmlns:r="http://schemas.openxmlformats.org/'
                                                         b'officeDocument/2006/relationships" r:id="rIdDessin"/>'
                                                         b'</worksheet>')


def test_a_shape_survives_the_batch_and_openpyxl_would_be_refused(tmp_path, capsys):
    """The batch writes only the parts it changes: a drawn text box (which an
    openpyxl save would drop) is still there, tied to its sheet. A save through
    openpyxl, which the project still uses for new workbooks, keeps its guard."""
    from calpae_xl.adapters.openpyxl_adapter import OpenpyxlWorkbook
    path = tmp_path / "maquette.xlsx"
    write_variant(str(path), variant(), fiches=False)
    sheet = _add_shape(path)
    before = {i.filename: zipfile.ZipFile(path).read(i) for i in zipfile.ZipFile(path).infolist()}
    assert main(["recalculer", str(path)]) == 0
    assert "ferait perdre" not in capsys.readouterr().out
    with zipfile.ZipFile(path) as z:
        after = {n: z.read(n) for n in z.namelist()}
    rels = sheet.replace("worksheets/", "worksheets/_rels/") + ".rels"
    for part in ("xl/drawings/drawing9.xml", rels, "xl/theme/theme1.xml", "docProps/core.xml"):
        assert after[part] == before[part], part
    assert b'r:id="rIdDessin"' in after[sheet] and b"drawing+xml" in after["[Content_Types].xml"]
    assert after[sheet] != before[sheet]  # the maquette itself was recalculated
    wb = OpenpyxlWorkbook.open(str(path))
    with pytest.raises(UnwritableFile) as e:
        wb.save()
    assert e.value.code == "ENREGISTREMENT_DESTRUCTEUR" and "des formes, zones de texte" in e.value.reason


def test_cells_the_project_does_not_own_are_kept_value_and_style(tmp_path):
    """The officer's own column, sheet and formatting: identical after a run,
    cell by cell; a second run changes nothing at all."""
    path = tmp_path / "maquette.xlsx"
    write_variant(str(path), variant(), fiches=True)
    wb = openpyxl.load_workbook(path)
    ws = wb["Maquette"]
    from openpyxl.styles import Font, PatternFill
    for r in range(1, ws.max_row + 1):  # a "Commentaires" column beside the table
        c = ws.cell(r, 14, f"note {r}" if r > 4 else ("Commentaires" if r == 4 else None))
        c.font = Font(italic=True, color="7030A0")
    ws["B2"].fill = PatternFill("solid", start_color="CCFFCC", end_color="CCFFCC")
    notes = wb.create_sheet("Notes du service")
    notes["A1"], notes["B3"] = "Réunion du 12/10", "=Maquette!F5*2"
    notes["A1"].font = Font(bold=True, size=16)
    wb.save(path)
    mine = {"Maquette": ("N", "B2"), "Notes du service": None}
    before = snapshot(path, styles=True)
    assert main(["lot", str(tmp_path), "--processus", "1"]) == 0
    after = snapshot(path, styles=True)
    for sheet, cells in mine.items():
        if cells is None:
            assert before[sheet] == after[sheet]
        else:
            col, cell = cells
            keep = {k: v for k, v in before[sheet].items() if k.startswith(col) or k == cell}
            assert {k: after[sheet][k] for k in keep} == keep
    second = snapshot(path, styles=True)
    assert main(["lot", str(tmp_path), "--processus", "1"]) == 0
    assert diff(second, snapshot(path, styles=True)) == []
