"""The committed workbooks are what the project's commands build."""
import pathlib

from calpae_xl.cli import main
from tests.helpers.compare import diff, features, snapshot

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_committed_template_matches_the_command(tmp_path):
    target = tmp_path / "maquette_vierge.xlsx"
    assert main(["nouveau", str(target)]) == 0
    assert diff(snapshot(ROOT / "workbook" / "maquette_vierge.xlsx"), snapshot(target)) == []
    assert features(ROOT / "workbook" / "maquette_vierge.xlsx") == features(target)


def test_drop_down_lists_name_lists_that_exist_written_as_excel_writes_them():
    """A list's source is stored as a formula without "=" (as Excel and
    LibreOffice store it), and each one names a list the workbook defines,
    or is a list in quotes (the statuses of an answer in Contrôles)."""
    for name in ("maquette_vierge.xlsx", "loiret_2020.xlsx"):
        f = features(ROOT / "workbook" / name)
        sources = {src for sheet in f["sheets"].values() for _ref, src in sheet["validations"]}
        assert sources and all(not s.startswith("=") and (s in f["names"] or s.startswith('"') and s.endswith('"'))
                               for s in sources), (name, sources)
    statuses = f["sheets"]["Contrôles"]["validations"]
    assert statuses == [("G5:G20000", '"à corriger,justifié,accepté par l\'État"')]


def test_committed_loiret_matches_the_command(tmp_path, capsys):
    assert main(["exemple", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "TOTAL" in out and "1\u00a0201\u00a0409,00\u00a0€" in out
    assert not list(tmp_path.glob("*.bak.*"))
    assert diff(snapshot(ROOT / "workbook" / "loiret_2020.xlsx"), snapshot(tmp_path / "loiret_2020.xlsx")) == []
