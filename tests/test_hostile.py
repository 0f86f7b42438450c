"""Hostile and broken files: each refused with its own code, in little
memory, naming the file, and without echoing anything from outside the
workbook (XXE). The rest of a batch goes on. How fast each refusal is, is
measured by the bench (bench/run.py, measure "hostile"), not here."""
import json
import re
import subprocess
import sys

import pytest

from calpae_xl.adapters.openpyxl_adapter import OpenpyxlWorkbook
from calpae_xl.adapters.xlsx import PackageWorkbook
from calpae_xl.cli import main
from calpae_xl.errors import UnreadableFile
from tests.helpers.samples import variant, write_variant
from tests.helpers.hostile import SECRET, build_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    loiret = base / "loiret.xlsx"
    write_variant(str(loiret), variant(), fiches=False)
    return loiret, build_corpus(loiret, base / "corpus", base / "secret.txt")


CASES = ["billion_laughs", "quadratic", "xxe_sheet", "xxe_core", "xxe_workbook", "zip_bomb", "million_rows",
         "xfd1048576", "unique_count", "truncated", "not_a_zip", "old_xls", "old_xls_renamed", "password",
         "merge_bomb", "merges_many"]


@pytest.mark.parametrize("adapter", [PackageWorkbook, OpenpyxlWorkbook], ids=["paquet", "openpyxl"])
@pytest.mark.parametrize("case", CASES)
def test_refused_with_its_code(case, adapter, corpus):
    _, files = corpus
    if case not in files:
        pytest.skip("msoffcrypto-tool absent : pas de classeur protégé à construire")
    path, code = files[case]
    with pytest.raises(UnreadableFile) as e:
        adapter.open(str(path))
    assert e.value.code == code, e.value.message
    assert path.name in e.value.message and SECRET not in e.value.message


def test_a_batch_refuses_each_and_never_leaks(corpus, tmp_path):
    """The whole corpus through the command, in a child process: one refusal
    per file with its code, the good file processed, nothing from the secret
    file anywhere in the output."""
    loiret, files = corpus
    paths = [str(p) for p, _ in files.values()] + [str(loiret)]
    cmd = [sys.executable, "-m", "calpae_xl.cli", "controler", *paths, "--format", "json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2  # some files could not be read
    assert SECRET.encode() not in out + err
    doc = json.loads(out)
    by_file = {f["fichier"]: f for f in doc["fichiers"]}
    for path, code in files.values():
        assert by_file[str(path)]["code"] == code
        assert by_file[str(path)]["lisible"] is False
    assert by_file[str(loiret)]["lisible"] is True and by_file[str(loiret)]["constats"]


CHILD = """
import sys
from calpae_xl.adapters.xlsx import PackageWorkbook
try:
    PackageWorkbook.open(sys.argv[1])
except Exception as e:
    print(e.code)
with open("/proc/self/status") as fh:  # the child's own peak (ru_maxrss would count the forked parent)
    print(next(line.split()[1] for line in fh if line.startswith("VmHWM:")))
"""


def test_peak_memory_of_the_worst_refusals_is_small(corpus):
    _, files = corpus
    for case in ("zip_bomb", "million_rows", "billion_laughs", "unique_count"):
        path, code = files[case]
        out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True,
                             timeout=60, check=True).stdout.split()
        assert out[0] == code
        assert int(out[1]) / 1024 < 200, f"{case} : {int(out[1]) / 1024:.0f} Mio"


def test_the_cli_names_the_file_and_exits_2(corpus, capsys):
    _, files = corpus
    path, _ = files["zip_bomb"]
    assert main(["recalculer", str(path)]) == 2
    assert path.name in capsys.readouterr().out


def test_a_far_empty_row_as_libreoffice_writes_it_is_read(corpus, tmp_path):
    """LibreOffice writes an empty <row r="1048576"> after a row is deleted:
    the most ordinary edit must not make the file unreadable."""
    from tests.helpers.parts import edit_parts
    loiret, _ = corpus

    def edit(parts, sheets):
        part = sheets["Maquette"]
        parts[part] = parts[part].replace(b"</sheetData>", b'<row r="1048576" spans="1:12" ht="12.8"/></sheetData>')
        parts[part] = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:L1048576"/>', parts[part])
    path = edit_parts(loiret, edit, tmp_path / "libreoffice.xlsx")
    for adapter in (PackageWorkbook, OpenpyxlWorkbook):
        wb = adapter.open(str(path))
        assert wb.read_sheet("Maquette").n_rows < 100
    assert main(["controler", str(path)]) == 1  # the printed slips, found as on the file LibreOffice never touched
    assert main(["recalculer", str(path)]) == 0
