"""The package adapter (the batch's writer) against the openpyxl adapter
(the reference): same findings, and files equal on meaning — every cell's
value, cached value, formula and format, the sheets' merges, panes, widths,
lists and conditional formats, the workbook's names. And what it alone
promises: the parts it does not change are copied byte for byte."""
from __future__ import annotations

import datetime
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from calpae_xl.adapters.openpyxl_adapter import OpenpyxlWorkbook
from calpae_xl.adapters.xlsx import PackageWorkbook
from calpae_xl.app.session import CONTROLER, FICHES, RECALCULER, run
from tests.helpers.samples import variant, write_variant

from tests.helpers.annex import build_annex
from tests.helpers.compare import diff, snapshot
from tests.helpers.parts import edit_parts

ROOT = Path(__file__).resolve().parents[1]
ALL = [RECALCULER, CONTROLER, FICHES]


def _variant(path: Path) -> None:
    write_variant(str(path), variant(departement="Cher", annee=2022, scale=0.7), fiches=True)


def _copy(name: str):
    return lambda path: shutil.copy(ROOT / "workbook" / name, path)


SOURCES = {  # name -> (suffix, how to make it)
    "modèle vierge": (".xlsx", _copy("maquette_vierge.xlsx")),
    "Loiret 2020": (".xlsx", _copy("loiret_2020.xlsx")),
    "Loiret 2020 .xlsm": (".xlsm", _copy("loiret_2020.xlsm")),
    "annexe saisie comme un agent": (".xlsx", lambda p: build_annex(str(p))),
    "variante avec fiches": (".xlsx", _variant),
}


def _run(cls, path: Path, operations) -> list[dict]:
    wb = cls.open(str(path))
    outcome = run(wb, operations, None, None, write=True)
    if outcome.wrote:
        wb.save(str(path), backup=False)
    return [f.as_dict() for f in outcome.findings]


@pytest.mark.parametrize("name", list(SOURCES))
def test_same_findings_and_same_meaning_as_openpyxl(tmp_path, name):
    suffix, make = SOURCES[name]
    src = tmp_path / f"source{suffix}"
    make(src)
    ref, fast = tmp_path / f"openpyxl{suffix}", tmp_path / f"paquet{suffix}"
    shutil.copy(src, ref)
    shutil.copy(src, fast)
    for operations in (ALL, ALL):  # a second run on the result too
        assert _run(PackageWorkbook, fast, operations) == _run(OpenpyxlWorkbook, ref, operations)
        assert diff(snapshot(ref, full=True), snapshot(fast, full=True), limit=20) == []


def test_parts_it_does_not_change_are_copied_byte_for_byte(tmp_path):
    path = tmp_path / "loiret.xlsm"
    shutil.copy(ROOT / "workbook" / "loiret_2020.xlsm", path)
    with zipfile.ZipFile(path) as z:
        before = {n: z.read(n) for n in z.namelist()}
    _run(PackageWorkbook, path, ALL)
    with zipfile.ZipFile(path) as z:
        after = {n: z.read(n) for n in z.namelist()}
    kept = [n for n in before if n.startswith(("docProps/", "xl/theme/", "xl/vbaProject", "xl/drawings/",
                                                "customUI/", "xl/ctrlProps/"))]
    assert "xl/vbaProject.bin" in kept
    for n in kept:
        assert after[n] == before[n], n
    # and a second run on an up-to-date workbook leaves every sheet and the formats as they were
    # (formats already there are reused: runs do not pile them up)
    _run(PackageWorkbook, path, ALL)
    with zipfile.ZipFile(path) as z:
        again = {n: z.read(n) for n in z.namelist()}
    sheets = [n for n in after if n.startswith("xl/worksheets/sheet")] + ["xl/styles.xml"]
    assert sheets and [n for n in sheets if again[n] != after[n]] == []


def _officer_column(tmp_path) -> Path:
    """The Loiret maquette with a column the officer added in N, filled down
    with one shared formula (as Excel stores a formula dragged down)."""
    path = tmp_path / "loiret.xlsx"
    shutil.copy(ROOT / "workbook" / "loiret_2020.xlsx", path)

    def edit(parts, sheets):
        part = sheets["Maquette"]
        xml = parts[part].decode()
        for r in range(5, 9):
            f = '<f t="shared" ref="N5:N8" si="0">F5*2</f>' if r == 5 else '<f t="shared" si="0"/>'
            xml = xml.replace(f'<row r="{r}">', f'<row r="{r}">', 1)
            end = xml.index("</row>", xml.index(f'<row r="{r}"'))
            xml = xml[:end] + f'<c r="N{r}">{f}<v>1</v></c>' + xml[end:]
        parts[part] = xml.encode()
    edit_parts(path, edit)
    return path


def test_shared_formulas_of_the_officer_stay_right(tmp_path):
    """Excel stores a formula dragged down once (shared): the adapter reads
    each cell's own formula, as openpyxl does, and writes them so."""
    path = _officer_column(tmp_path)
    grid = PackageWorkbook.open(str(path)).read_sheet("Maquette")
    assert [grid.formula(r, 14) for r in range(5, 9)] == ["F5*2", "F6*2", "F7*2", "F8*2"]
    _run(PackageWorkbook, path, ALL)
    ws = openpyxl.load_workbook(path)["Maquette"]
    assert [ws.cell(r, 14).value for r in range(5, 9)] == ["=F5*2", "=F6*2", "=F7*2", "=F8*2"]


def test_cells_without_references_and_dates_read_as_openpyxl_reads_them(tmp_path):
    """Cells may omit their reference (some generators do); a number in a
    date format is a date."""
    path = tmp_path / "loiret.xlsx"
    shutil.copy(ROOT / "workbook" / "loiret_2020.xlsx", path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Paramètres"]
    ws["F1"] = datetime.datetime(2020, 12, 31)
    ws["F1"].number_format = "DD/MM/YYYY"
    wb.save(path)

    def drop_refs(parts, sheets):
        import re
        parts[sheets["Indicateurs"]] = re.sub(rb'<c r="[A-Z]+[0-9]+"', b"<c", parts[sheets["Indicateurs"]])
    edit_parts(path, drop_refs)
    fast = PackageWorkbook.open(str(path))
    assert fast.read_sheet("Paramètres").get(1, 6) == datetime.datetime(2020, 12, 31)
    ref = OpenpyxlWorkbook.open(str(path))
    assert fast.read_sheet("Indicateurs").values == ref.read_sheet("Indicateurs").values
    _run(PackageWorkbook, path, ALL)
    back = openpyxl.load_workbook(path)["Indicateurs"]
    assert back.cell(5, 1).coordinate == "A5" and back.max_row == ref.wb["Indicateurs"].max_row


def test_a_sheet_inserted_before_others_keeps_local_names_on_their_sheet(tmp_path):
    """Contrôles goes right after the maquette: a print area local to a later
    sheet must still point at that sheet (names count sheets by position)."""
    path = tmp_path / "loiret.xlsx"
    shutil.copy(ROOT / "workbook" / "loiret_2020.xlsx", path)
    wb = openpyxl.load_workbook(path)
    for name in [n for n in wb.sheetnames if n in ("Contrôles", "calpae_technique", "Journal")]:
        del wb[name]
    last = wb.sheetnames[-1]
    wb[last].print_title_rows = "1:2"
    wb.save(path)
    _run(PackageWorkbook, path, ALL)
    back = openpyxl.load_workbook(path)
    assert "Contrôles" in back.sheetnames
    assert back.sheetnames.index("Contrôles") < back.sheetnames.index(last)
    assert back[last].print_title_rows == "$1:$2"


def test_column_widths_split_a_range_the_officer_set(tmp_path):
    from lxml import etree

    from calpae_xl.adapters.xlsx.xml import M
    from calpae_xl.adapters.xlsx.features import _set_width
    cols = etree.fromstring(f'<cols xmlns="{M}"><col min="1" max="5" width="20" customWidth="1" style="3"/></cols>')
    _set_width(cols, 3, 44)
    got = [(c.get("min"), c.get("max"), c.get("width"), c.get("style")) for c in cols]
    assert got == [("1", "2", "20", "3"), ("3", "3", "44", "3"), ("4", "5", "20", "3")]
    _set_width(cols, 9, 12.5)
    assert [(c.get("min"), c.get("width")) for c in cols][-1] == ("9", "12.5")


def test_a_chart_sheet_is_read_as_empty_and_never_written_to(tmp_path, capsys):
    """A chart sheet (no cells) among the sheets is read as an empty grid; if
    it bears the name of a sheet the project writes, it has not the tool's
    mark: it is the user's, kept as it is, and the tool's sheet goes beside
    it (a plan that would still write to it is stopped by the port:
    tests/test_catalogue.py)."""
    from openpyxl.chart import BarChart, Reference

    from calpae_xl.cli import main
    path = tmp_path / "loiret.xlsx"
    shutil.copy(ROOT / "workbook" / "loiret_2020.xlsx", path)
    wb = openpyxl.load_workbook(path)
    for name in [n for n in wb.sheetnames if n in ("Contrôles", "calpae_technique")]:
        del wb[name]
    chart = BarChart()
    chart.add_data(Reference(wb["Maquette"], min_col=6, min_row=5, max_row=10))
    wb.create_chartsheet("Graphique").add_chart(chart)
    wb.save(path)
    assert PackageWorkbook.open(str(path)).read_sheet("Graphique").values == []
    assert main(["recalculer", str(path)]) == 0
    assert "Graphique" in openpyxl.load_workbook(path).sheetnames

    wb = openpyxl.load_workbook(path)
    del wb["Contrôles"]
    wb.create_chartsheet("Contrôles").add_chart(chart)
    wb.save(path)
    capsys.readouterr()
    assert main(["recalculer", str(path)]) == 0
    after = openpyxl.load_workbook(path)
    assert "Contrôles" in [c.title for c in after.chartsheets]  # the user's chart, kept
    ours = [n for n in after.sheetnames if n.startswith("Contrôles") and n != "Contrôles"]
    assert ours and after[ours[0]]["A1"].value.startswith("Contrôles de la maquette")


@pytest.mark.parametrize("code", [
    "General", "0.00", '#,##0.00\\ "€";[Red]\\-#,##0.00\\ "€"', "0.00%", "dd/mm/yyyy", "DD/MM/YYYY", "[h]:mm",
    "[h]", "[ss]", "mmm-yy", "h:mm AM/PM", '[$-40C]d mmmm yyyy', '"jour "0', "0_);(0)", "yyyy-mm-dd hh:mm:ss",
    '[Red]"du "0', "#,##0\\ \"m\"", "@", "[$€-40C] #,##0.00"])
def test_a_format_openpyxl_reads_as_a_date_is_never_skipped(code):
    """The batch imports openpyxl (0.2 s) only when a format may show a
    date; the quick test must say "maybe" whenever openpyxl says "date"."""
    from openpyxl.styles.numbers import is_date_format

    from calpae_xl.adapters.xlsx.styles import _maybe_date
    if is_date_format(code):
        assert _maybe_date(code), code
    if code.startswith(("General", "0.00", "#,##0.00")):
        assert not _maybe_date(code), code


def test_a_sheet_written_badly_never_replaces_the_file(tmp_path, monkeypatch):
    """Cells are written as text: each rewritten sheet is parsed again before
    the temporary file replaces anything. A broken one stops the save, and the
    officer's file is the one that was there."""
    from calpae_xl.adapters.xlsx import sheet as P
    from calpae_xl.errors import UnwritableFile
    path = tmp_path / "loiret.xlsx"
    shutil.copy(ROOT / "workbook" / "loiret_2020.xlsx", path)
    before = path.read_bytes()
    real = P.Sheet.serialize
    monkeypatch.setattr(P.Sheet, "serialize", lambda self: real(self).replace(b"</sheetData>", b"</sheetDat>"))
    wb = PackageWorkbook.open(str(path))
    run(wb, ALL, None, None, write=True)
    with pytest.raises(UnwritableFile) as e:
        wb.save(str(path))
    assert e.value.code == "ECRITURE_INVALIDE" and "mal formée" in e.value.message
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["loiret.xlsx"]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) absent : .ci/run l'installe")
def test_a_workbook_saved_by_libreoffice_gives_the_same_result(tmp_path):
    """Another producer than openpyxl: LibreOffice writes shared strings, its
    own styles and explicit flags. Same findings, same values, formulas,
    fills, number formats and bold, same sheet features, twice in a row."""
    from calpae_xl.reports import libreoffice as lo

    from tests.helpers.compare import features
    env = lo.profile(tmp_path / "profil", recalc=True)
    (tmp_path / "lo").mkdir()
    proc = lo.convert(lo.soffice(), env, "xlsx:Calc MS Excel 2007 XML", tmp_path / "lo",
                      [str(ROOT / "workbook" / "loiret_2020.xlsx")])
    src = tmp_path / "lo" / "loiret_2020.xlsx"
    assert src.exists(), proc.stderr
    with zipfile.ZipFile(src) as z:
        assert "xl/sharedStrings.xml" in z.namelist()
    ref, fast = tmp_path / "openpyxl.xlsx", tmp_path / "paquet.xlsx"
    shutil.copy(src, ref)
    shutil.copy(src, fast)
    for _ in range(2):
        assert _run(PackageWorkbook, fast, ALL) == _run(OpenpyxlWorkbook, ref, ALL)
        assert diff(snapshot(ref, styles=True), snapshot(fast, styles=True), limit=20) == []
        assert features(ref) == features(fast)


def test_in_a_package_excel_wrote_the_template_and_the_operations_mean_the_same(tmp_path):
    """xlwings' quickstart workbook was saved by Excel (its styles with
    extensions, shared strings, macro project, namespaces Excel declares):
    building the maquette in it and running the three operations through the
    package adapter gives what openpyxl gives, and the macros stay."""
    xlwings = pytest.importorskip("xlwings")
    from calpae_xl.app.template import create
    base = Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"
    results = {}
    for name, cls in (("openpyxl", OpenpyxlWorkbook), ("paquet", PackageWorkbook)):
        path = tmp_path / f"{name}.xlsm"
        shutil.copy(base, path)
        wb = cls.open(str(path))
        create(wb, variant(), empty_rows=0, typed=True, fiches=True)
        wb.save(str(path), backup=False, replace=True)
        results[name] = _run(cls, path, ALL)
    assert results["paquet"] == results["openpyxl"] and results["paquet"]
    assert diff(snapshot(tmp_path / "openpyxl.xlsm", full=True), snapshot(tmp_path / "paquet.xlsm", full=True)) == []
    with zipfile.ZipFile(base) as a, zipfile.ZipFile(tmp_path / "paquet.xlsm") as b:
        assert a.read("xl/vbaProject.bin") == b.read("xl/vbaProject.bin")


def test_a_sheet_missing_from_the_package_is_named(tmp_path):
    """workbook.xml lists a sheet whose part is gone: refused with the sheet's
    name and part, not read as an empty sheet."""
    from calpae_xl.cli import process_file
    path = tmp_path / "loiret.xlsx"
    edit_parts(ROOT / "workbook" / "loiret_2020.xlsx", lambda parts, sheets: parts.pop(sheets["Fiche S 1.2"]), path)
    with zipfile.ZipFile(path) as z:
        from calpae_xl.adapters.ooxml import sheet_xml_paths
        gone = sheet_xml_paths(z)["Fiche S 1.2"]
        assert gone not in z.namelist()
    result = process_file(str(path), ALL, write=False)
    assert not result.lisible and result.code == "PARTIE_MANQUANTE"
    assert "Fiche S 1.2" in result.erreur and gone in result.erreur
