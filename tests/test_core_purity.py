import ast
import pathlib
import subprocess
import sys

CORE = pathlib.Path(__file__).resolve().parents[1] / "calpae_xl" / "core"
FORBIDDEN = {"openpyxl", "xlwings", "pandas", "xlsxwriter", "python_calamine"}


def test_core_modules_import_no_spreadsheet_library():
    for path in CORE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for n in names:
                assert n.split(".")[0] not in FORBIDDEN, f"{path.name} importe {n}"


def test_importing_the_core_loads_no_spreadsheet_library():
    code = ("import sys, calpae_xl.core as c; c.run_checks(c.load_example()); "
            f"print(sorted(m for m in {sorted(FORBIDDEN)!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
