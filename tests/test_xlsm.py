"""The macro-enabled maquette: built on Linux from the installed xlwings, its
VBA read back by olevba, its buttons bound to the Subs, and a headless
Recalculer that keeps both."""
import hashlib
import pathlib
import re
import shutil
import zipfile

import pytest

pytest.importorskip("pyopenvba", reason="pyopenvba absent : pip install \"calpae-xl[xlsm]\"")
olevba = pytest.importorskip("oletools.olevba", reason="oletools absent (dépendance de test)")

from calpae_xl import excel  # noqa: E402
from calpae_xl.workbook.layout import BUTTONS as _BUTTONS  # noqa: E402

BUTTONS = [(caption, sub) for caption, sub, _shape, _cell in _BUTTONS]
from calpae_xl.cli import main  # noqa: E402
from tests.helpers.compare import diff, snapshot  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "workbook" / "loiret_2020.xlsm"
SUB_RE = re.compile(r"^\s*Public Sub (\w+)\(\)(.*?)^End Sub", re.S | re.M)
RUNPYTHON_RE = re.compile(r'RunPython "import calpae_xl\.excel as calpae; calpae\.(\w+)\(\)"')


def vba_modules(path) -> dict[str, str]:
    parser = olevba.VBA_Parser(str(path))
    try:
        return {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def buttons(path) -> dict[str, str]:
    """Caption -> macro of the form buttons of the Maquette sheet (its VML drawing)."""
    with zipfile.ZipFile(path) as z:
        from calpae_xl.adapters.ooxml import sheet_xml_paths
        part = sheet_xml_paths(z)["Maquette"]
        rels = z.read(part.replace("worksheets/", "worksheets/_rels/") + ".rels").decode()
        target = re.search(r'Target="([^"]*vmlDrawing[^"]*)"', rels).group(1)
        vml = z.read("xl/drawings/" + target.rsplit("/", 1)[-1]).decode("utf-8", "replace")
    out = {}
    for shape in re.findall(r"<v:shape .*?</v:shape>", vml, re.S):
        macro = re.search(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", shape)
        caption = re.sub(r"<[^>]+>", "", re.search(r"<v:textbox.*?</v:textbox>", shape, re.S).group(0)).strip()
        if macro:
            out[caption] = macro.group(1)
    return out


def vba_hash(path) -> str:
    with zipfile.ZipFile(path) as z:
        return hashlib.sha256(z.read("xl/vbaProject.bin")).hexdigest()


def test_the_module_has_three_subs_calling_existing_entry_points():
    modules = vba_modules(COMMITTED)
    assert "xlwings" in modules  # standalone: the xlwings VBA travels in the workbook
    subs = dict(SUB_RE.findall(modules["calpae"]))
    assert set(subs) == {"Recalculer", "Controler", "GenererFiches"}
    for sub, body in subs.items():
        target = RUNPYTHON_RE.findall(body)
        assert len(target) == 1, body
        assert callable(getattr(excel, target[0])), target
        assert excel.TARGETS[sub] is getattr(excel, target[0])
        assert "On Error GoTo" in body  # a message box, not a VBA debugger, when the call fails
    # the workbook carries the module kept under version control
    source = (ROOT / "macros" / "calpae.bas").read_bytes().decode("cp1252").splitlines()
    assert [ln for ln in modules["calpae"].splitlines() if ln.strip() and not ln.startswith("Attribute ")] == \
        [ln for ln in source if ln.strip() and not ln.startswith("Attribute ")]


def test_each_button_is_bound_to_one_of_those_subs():
    assert buttons(COMMITTED) == dict(BUTTONS)
    subs = set(dict(SUB_RE.findall(vba_modules(COMMITTED)["calpae"])))
    assert set(buttons(COMMITTED).values()) <= subs


def test_headless_recalculer_keeps_the_vba_and_the_buttons(tmp_path):
    path = tmp_path / "maquette.xlsm"
    shutil.copy(COMMITTED, path)
    before = vba_hash(path)
    # an amount typed, then the batch Recalculer
    import openpyxl
    wb = openpyxl.load_workbook(path, keep_vba=True)
    wb["Maquette"]["F5"] = 70000  # less than before: the envelope still holds
    wb.save(path)
    assert main(["recalculer", str(path)]) == 0
    assert vba_hash(path) == before
    assert buttons(path) == dict(BUTTONS)
    with zipfile.ZipFile(path) as z:
        assert "macroEnabled" in z.read("[Content_Types].xml").decode()
    v = openpyxl.load_workbook(path, data_only=True)["Maquette"]
    assert v["H5"].value == pytest.approx(35000)


@pytest.mark.parametrize("name, args", [("loiret_2020.xlsm", ["--exemple", "loiret-2020"]),
                                        ("maquette_vierge.xlsm", [])])
def test_committed_xlsm_is_what_the_command_builds(name, args, tmp_path):
    """Reproducible: same cells, same VBA project byte for byte, same buttons."""
    target = tmp_path / name
    assert main(["nouveau", str(target), *args]) == 0
    committed = ROOT / "workbook" / name
    assert diff(snapshot(committed), snapshot(target)) == []
    assert vba_hash(committed) == vba_hash(target)
    assert buttons(committed) == buttons(target) == dict(BUTTONS)
