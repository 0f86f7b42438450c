"""What ``calpae-xl paquet-lite`` writes for xlwings Lite: the workbooks with
their three buttons (named shapes, each a link to the cell under it, as the
scripts declare them), the same sheets as the plain workbooks, the committed
copies in workbook/lite/, and the wheel that requirements.txt names.
(Running the scripts in Pyodide: tests/test_pyodide.py.)"""
import re
import shutil
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from calpae_xl import build_lite
from calpae_xl.adapters.ooxml import NS, sheet_xml_paths
from calpae_xl.cli import main
from calpae_xl.workbook import layout as L
from calpae_xl.workbook.a1 import col_letter
from tests.helpers import pyodide as P
from tests.helpers.compare import diff, features, snapshot

ROOT = P.ROOT
LITE = ROOT / "workbook" / "lite"
XDR = "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
RID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def drawing_parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith("xl/drawings/")}


def buttons(path) -> dict[str, dict]:
    """Shape name -> caption, linked cell, anchor cell, printed? — for the shapes of the Maquette sheet."""
    with zipfile.ZipFile(path) as z:
        part = sheet_xml_paths(z)[L.MAQUETTE]
        folder, base = part.rsplit("/", 1)
        rels = ET.fromstring(z.read(f"{folder}/_rels/{base}.rels"))
        sheet = ET.fromstring(z.read(part))
        rid = sheet.find("m:drawing", NS).get(RID)
        target = next(r.get("Target") for r in rels.findall("rel:Relationship", NS) if r.get("Id") == rid)
        drawing = "xl/drawings/" + target.rsplit("/", 1)[-1]
        links = {r.get("Id"): r.get("Target") for r in
                 ET.fromstring(z.read(drawing.replace("drawings/", "drawings/_rels/") + ".rels"))}
        out = {}
        for anchor in ET.fromstring(z.read(drawing)):
            pr = anchor.find(f"{XDR}sp/{XDR}nvSpPr/{XDR}cNvPr")
            start = anchor.find(f"{XDR}from")
            col, row = int(start.find(f"{XDR}col").text), int(start.find(f"{XDR}row").text)
            out[pr.get("name")] = {
                "caption": "".join(t.text for t in anchor.iter(f"{A}t")),
                "link": links[pr.find(f"{A}hlinkClick").get(RID)],
                "anchor": f"{col_letter(col + 1)}{row + 1}",
                "printed": anchor.find(f"{XDR}clientData").get("fPrintsWithSheet") != "0"}
        return out


WANTED = {shape: {"caption": caption, "link": f"#{L.MAQUETTE}!{cell}", "anchor": cell, "printed": False}
          for caption, _sub, shape, cell in L.BUTTONS}


@pytest.mark.parametrize("name", sorted(build_lite.WORKBOOKS))
def test_lite_buttons_are_named_shapes_linked_to_the_cell_under_them(name):
    assert buttons(LITE / name) == WANTED


def test_the_scripts_name_those_shapes_and_cells():
    """xlwings Lite binds ``@script(button="[shape]Sheet!cell")``: the shape's
    name and the cell its link selects."""
    from xlwings.server import custom_scripts_meta

    from calpae_xl import xlwings_scripts
    declared = {m["button"] for m in custom_scripts_meta(xlwings_scripts)}
    assert declared == {f"[{shape}]{w['link'][1:]}" for shape, w in WANTED.items()}


@pytest.mark.parametrize("lite, plain", [("loiret_2020.xlsx", "loiret_2020.xlsx"),
                                         ("maquette_vierge.xlsx", "maquette_vierge.xlsx")])
def test_lite_workbooks_have_the_sheets_and_cells_of_the_plain_ones(lite, plain):
    assert diff(snapshot(ROOT / "workbook" / plain, full=True), snapshot(LITE / lite, full=True)) == []


def test_committed_lite_files_are_what_the_command_writes(tmp_path, capsys):
    assert main(["paquet-lite", str(tmp_path), "--sans-paquet"]) == 0
    assert "requirements.txt" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in LITE.iterdir()
                                                                if not p.name.endswith(".whl"))
    for name in ("main.py", "requirements.txt"):
        assert (tmp_path / name).read_text(encoding="utf-8") == (LITE / name).read_text(encoding="utf-8")
    for name in build_lite.WORKBOOKS:
        assert diff(snapshot(LITE / name, full=True), snapshot(tmp_path / name, full=True)) == []
        assert features(LITE / name) == features(tmp_path / name)
        assert drawing_parts(LITE / name) == drawing_parts(tmp_path / name)


def test_the_commands_keep_the_buttons(tmp_path):
    """A recalculer, then a lot, by the commands' writer: the drawing is copied byte for byte."""
    path = tmp_path / "lot" / "loiret_2020.xlsx"
    path.parent.mkdir()
    shutil.copy(LITE / "loiret_2020.xlsx", path)
    before = drawing_parts(path)
    assert main(["recalculer", str(path)]) in (0, 1)
    assert main(["lot", str(path.parent)]) in (0, 1)
    assert drawing_parts(path) == before
    assert buttons(path) == WANTED


def test_requirements_name_xlwings_and_this_version_of_the_wheel(tmp_path, monkeypatch):
    built = P.project_wheel()
    monkeypatch.setattr(build_lite, "build_wheel", lambda out, source=None: Path(shutil.copy(built, out)))
    assert main(["paquet-lite", str(tmp_path), "--url", "https://intranet.example/outils/calpae/"]) == 0
    assert (tmp_path / build_lite.WHEEL).is_file()
    assert (tmp_path / "requirements.txt").read_text(encoding="utf-8").splitlines() == [
        "xlwings==0.37.8", f"https://intranet.example/outils/calpae/{build_lite.WHEEL}"]
    import calpae_xl
    assert build_lite.WHEEL == f"calpae_xl-{calpae_xl.__version__}-py3-none-any.whl"
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(rf'^version = "{re.escape(calpae_xl.__version__)}"$', pyproject, re.M)
    assert f"xlwings=={build_lite.XLWINGS_VERSION}" in pyproject


def test_the_wheel_holds_the_package_and_leaves_the_batch_libraries_to_cpython():
    wheel = P.project_wheel()
    assert wheel.name == build_lite.WHEEL
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        meta = z.read(f"calpae_xl-{build_lite.__version__}.dist-info/METADATA").decode()
    package = ROOT / "calpae_xl"
    files = {p.relative_to(ROOT).as_posix() for p in package.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts}
    assert files <= names, sorted(files - names)  # data/calpae.bas (a link) and the profiles' TOML included
    required = [ln.split(":", 1)[1].strip() for ln in meta.splitlines() if ln.startswith("Requires-Dist:")]
    base = [r for r in required if "extra ==" not in r]
    assert {re.split(r"[<>=;]", r)[0] for r in base} == {"openpyxl", "pandas", "tqdm", "lxml", "reportlab"}
    assert all('sys_platform != "emscripten"' in r for r in base), base



def _state(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_paquet_lite_never_replaces_a_workbook_the_officer_typed_in_without_force(tmp_path, capsys):
    """The lite workbooks are data-entry files: run again over a folder where the officer worked, paquet-lite
    keeps the one they changed (said), and still rewrites its own requirements.txt (--url); --force replaces
    it, the officer's version kept as NAME.bak.xlsx. A run that produces the same files changes nothing, a
    read-only file the same included; run again without --url, the address given before stays."""
    import openpyxl
    folder = tmp_path / "lite"
    assert main(["paquet-lite", str(folder), "--sans-paquet"]) == 0
    first = _state(folder)
    (folder / "maquette_vierge.xlsx").chmod(0o444)
    assert main(["paquet-lite", str(folder), "--sans-paquet"]) == 0
    assert _state(folder) == first and capsys.readouterr().out.count("fichier inchangé") == 4
    book = folder / "loiret_2020.xlsx"
    wb = openpyxl.load_workbook(book)
    wb["Maquette"]["F5"] = 80000  # the officer's edit
    wb.save(book)
    edited = book.read_bytes()
    assert main(["paquet-lite", str(folder), "--sans-paquet", "--url", "https://intranet.example/calpae/"]) == 0
    assert "conservé : modifié depuis" in capsys.readouterr().out
    assert book.read_bytes() == edited
    assert (folder / "requirements.txt").read_text(encoding="utf-8").splitlines()[1] == \
        f"https://intranet.example/calpae/{build_lite.WHEEL}"
    assert main(["paquet-lite", str(folder), "--sans-paquet"]) == 0
    out = capsys.readouterr().out
    assert "intranet.example" in (folder / "requirements.txt").read_text(encoding="utf-8")  # the address stays
    assert "adresse à remplacer" not in out
    assert main(["paquet-lite", str(folder), "--sans-paquet", "--force"]) == 0
    assert "version précédente" in capsys.readouterr().out
    assert (folder / "loiret_2020.bak.xlsx").read_bytes() == edited
    assert openpyxl.load_workbook(book)["Maquette"]["F5"].value != 80000


@pytest.mark.parametrize("name, content", [("main.py", "print('mon script')\n"),
                                           ("main.py", build_lite.MAIN_PY + "# mon bouton à moi\n"),
                                           ("requirements.txt", "requests\n")])
def test_paquet_lite_never_replaces_a_main_py_or_requirements_that_are_not_its_own(tmp_path, capsys, name,
                                                                                   content):
    """A main.py or requirements.txt that is not exactly what paquet-lite writes (a person's own, or theirs
    edited) stops the command before anything is written, even with --force: there would be no backup."""
    folder = tmp_path / "lite"
    folder.mkdir()
    (folder / name).write_text(content, encoding="utf-8")
    for force in ([], ["--force"]):
        assert main(["paquet-lite", str(folder), "--sans-paquet", *force]) == 2
        err = capsys.readouterr().err
        assert name in err and "[FICHIER_EXISTANT]" in err
        assert sorted(p.name for p in folder.iterdir()) == [name]  # nothing else written either
        assert (folder / name).read_text(encoding="utf-8") == content
