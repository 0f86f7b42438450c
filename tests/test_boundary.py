"""What the tool writes is data, never code; and every command ends at one
boundary: a French message naming the file and exit status 2, never a
traceback — whatever the file names, the terminal's encoding, or a reader
that closes the pipe."""
from __future__ import annotations

import csv
import errno
import io
import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from calpae_xl.cli import main
from calpae_xl.core.texts import csv_text, json_text, shown
from tests.helpers.samples import variant, write_variant
from tests.test_save_frame import put, run_cli

HOSTILE = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://example.org/x","Cliquez ici")', "+1+1", "@SUM(1+1)",
           "-2+3"]
DEPARTEMENT = '=HYPERLINK("http://example.org/d","Loiret")'


def hostile_maquette():
    """The Loiret maquette whose département and first intitulés look like formulas, with a negative amount."""
    m = variant(departement=DEPARTEMENT)
    actions = list(m.actions)
    for i, text in enumerate(HOSTILE):
        actions[i] = replace(actions[i], intitule=text)
    actions[-1] = replace(actions[-1], autres_financeurs=Decimal("-5000"))
    return replace(m, actions=tuple(actions))


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """The consolidation (workbook and CSV) and the comparison of a hostile maquette."""
    d = tmp_path_factory.mktemp("hostile")
    (d / "maquettes").mkdir()
    write_variant(str(d / "maquettes" / "hostile.xlsx"), hostile_maquette())
    write_variant(str(d / "loiret.xlsx"), variant())
    assert main(["consolider", str(d / "maquettes"), "-o", str(d / "conso.xlsx"), "--csv", str(d / "csv")]) in (0, 1)
    assert main(["comparer", str(d / "loiret.xlsx"), str(d / "maquettes" / "hostile.xlsx"), "-o",
                 str(d / "ecarts.xlsx")]) == 0
    return d


def _texts(path: Path, data_only: bool = False) -> tuple[set, list]:
    """(every text cell's value, every formula cell) of a workbook."""
    wb = openpyxl.load_workbook(path, data_only=data_only)
    texts, formulas = set(), []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    formulas.append(f"{ws.title}!{c.coordinate}")
                elif isinstance(c.value, str):
                    texts.add(c.value)
    return texts, formulas


@pytest.mark.parametrize("report", ["conso.xlsx", "ecarts.xlsx"])
def test_texts_looking_like_formulas_stay_text_in_the_report_workbooks(reports, report):
    texts, formulas = _texts(reports / report)
    assert formulas == []
    for text in HOSTILE:
        assert text in texts, text
    if report == "conso.xlsx":
        assert DEPARTEMENT in texts


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) absent : .ci/run l'installe")
def test_libreoffice_reads_them_as_text_too(reports, tmp_path):
    """LibreOffice opens the reports, recalculates everything and saves them:
    a text it had taken for a formula would come back computed (« Cliquez
    ici », 2, an error) or as a formula."""
    from calpae_xl.reports import libreoffice as lo
    env_arg = lo.profile(tmp_path / "profil", recalc=True)
    out = tmp_path / "relu"
    proc = lo.convert(lo.soffice(), env_arg, "xlsx:Calc MS Excel 2007 XML", out,
                      [str(reports / "conso.xlsx"), str(reports / "ecarts.xlsx")], timeout=180)
    assert proc.returncode == 0, proc.stderr
    for report in ("conso.xlsx", "ecarts.xlsx"):
        texts, formulas = _texts(out / report, data_only=True)
        assert formulas == []
        for text in HOSTILE + ([DEPARTEMENT] if report == "conso.xlsx" else []):
            assert text in texts, (report, text)
        assert "Cliquez ici" not in texts and "Loiret" not in texts


# --- CSV ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, written", [
    ("=1+1", "'=1+1"), ("+1+1", "'+1+1"), ("-2+3", "'-2+3"), ("@SUM(1)", "'@SUM(1)"), ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"), ("Action 4.2", "Action 4.2"), ("1 201 409,00 €", "1 201 409,00 €"), ("", ""),
    (os.fsdecode(b"caf\xe9.xlsx"), "caf\ufffd.xlsx")])
def test_a_csv_text_field(text, written):
    assert csv_text(text) == written


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_consolidation_csv_neutralises_texts_and_keeps_numbers(reports):
    actions = _csv((reports / "csv" / "actions.csv").read_text(encoding="utf-8-sig"))
    head = actions[0]
    rows = [dict(zip(head, r, strict=True)) for r in actions[1:]]
    intitules = [r["Intitulé"] for r in rows]
    for text in HOSTILE:
        assert "'" + text in intitules
    assert {r["Département"] for r in rows} == {"'" + DEPARTEMENT}
    from calpae_xl.core.model import Column
    assert "-5000,00" in [r[Column.AUTRES.label] for r in rows]  # a number we format stays a number
    assert all(r["Année"] == "2020" for r in rows)
    for name in ("fichiers", "par_bloc", "par_theme", "par_chorus", "par_departement"):
        for row in _csv((reports / "csv" / f"{name}.csv").read_text(encoding="utf-8-sig")):
            for field in row:
                assert not field.startswith(("=", "+", "@", "\t", "\r")), (name, field)
                assert not field.startswith("-") or field[1:].replace(",", "").isdigit(), (name, field)


def test_controler_and_lot_csv_neutralise_every_text_field(tmp_path, monkeypatch, capsys):
    names = ["=HYPERLINK(1).xlsx", "+somme.xlsx", "@cmd.xlsx"]
    for name in names:
        put(tmp_path / name)
    monkeypatch.chdir(tmp_path)
    for argv in (["controler", *names, "--format", "csv"], ["lot", ".", "--format", "csv", "--processus", "1"]):
        main(argv)
        rows = _csv(capsys.readouterr().out)
        assert {r[0] for r in rows[1:]} == {"'" + n for n in names}, argv
        for row in rows:
            for field in row:
                assert not field.startswith(("=", "+", "-", "@", "\t", "\r")), (argv, field)


# --- file names, encodings, pipes ------------------------------------------------------------------

def test_json_stays_valid_utf8_whatever_the_file_names():
    name = os.fsdecode(b"caf\xe9.xlsx")
    out = json_text({"fichier": name, "message": "Participation État : 1 201 409,00 €"})
    data = out.encode("utf-8")  # no surrogate left: valid UTF-8
    back = json.loads(data)
    assert back["fichier"] == name and os.fsencode(back["fichier"]) == b"caf\xe9.xlsx"
    assert "État" in out and "€" in out  # accents as they are
    assert shown(name) == "caf\ufffd.xlsx"


def test_a_file_name_that_is_not_utf8_works_in_every_command(tmp_path):
    folder = tmp_path / "dossier"
    raw = os.fsencode(str(folder)) + b"/caf\xe9.xlsx"
    put(Path(os.fsdecode(raw)))
    f = os.fsdecode(raw)
    env = {"PYTHONIOENCODING": "utf-8"}  # strict UTF-8: a surrogate would crash the print
    runs = {("controler", f, "--format", "json"): 1, ("controler", f): 1, ("recalculer", f): 0,
            ("lot", str(folder), "--format", "json", "--processus", "1"): 0,
            ("consolider", str(folder), "-o", str(tmp_path / "c.xlsx"), "--csv", str(tmp_path / "csv"),
             "--processus", "1"): 0,
            ("comparer", f, f, "-o", os.fsdecode(os.fsencode(str(tmp_path)) + b"/\xe9carts.xlsx")): 0}
    for argv, status in runs.items():
        proc = run_cli(list(argv), env=env)
        err = proc.stderr.decode("utf-8")
        assert proc.returncode == status and "Traceback" not in err, (argv, proc.stdout[-300:], err)
        out = proc.stdout.decode("utf-8")  # valid UTF-8
        if "json" in argv:
            doc = json.loads(out)
            assert os.fsencode(doc["fichiers"][0]["fichier"]) == raw
    wb = openpyxl.load_workbook(tmp_path / "c.xlsx")
    assert "caf\ufffd.xlsx" in [c.value for c in wb["Fichiers"]["A"]]
    assert (tmp_path / "csv" / "actions.csv").read_text(encoding="utf-8-sig").count("caf\ufffd.xlsx") == 20


def test_a_cp1252_terminal_gets_no_error_on_euros_accents_and_arrows(tmp_path):
    a, b = put(tmp_path / "a.xlsx"), tmp_path / "b.xlsx"
    write_variant(str(b), variant(scale=1.1))
    env = {"PYTHONIOENCODING": "cp1252"}
    for argv in (["comparer", str(a), str(b)], ["exemple", str(tmp_path / "ex")]):
        proc = run_cli(argv, env=env)
        assert proc.returncode == 0 and not proc.stderr, (argv, proc.stderr.decode("cp1252"))
        assert "€" in proc.stdout.decode("cp1252") and "Écarts" in proc.stdout.decode("cp1252") or "exemple" in argv


def test_a_reader_that_closes_the_pipe_gets_no_traceback(tmp_path):
    m = put(tmp_path / "m.xlsx")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]),
                                                        os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "calpae_xl.cli", "controler", str(m)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1 and err == ""  # the verdict (errors remain), nothing else
    files = " ".join([str(m)] * 25)  # more than a pipe holds
    shell = subprocess.run(["bash", "-c", f"{sys.executable} -m calpae_xl.cli controler {files} | head -1"],
                           env=env, capture_output=True, timeout=120)
    assert shell.stdout.decode().startswith("== ") and shell.stderr == b""


def test_an_output_that_cannot_be_written_or_is_closed(tmp_path):
    m = put(tmp_path / "m.xlsx")
    with open("/dev/full", "wb") as full:  # stdout on a full disk: said about the output, exit 2
        proc = run_cli(["controler", str(m)], stdout=full, stderr=subprocess.PIPE, capture_output=False)
    err = proc.stderr.decode()
    assert proc.returncode == 2 and "la sortie de la commande : le disque est plein" in err and "Traceback" not in err
    proc = run_cli(["controler", str(m)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, capture_output=False,
                   close_fds=True, preexec_fn=lambda: os.close(1))  # started with stdout closed
    assert proc.returncode == 1 and proc.stderr == b""


# --- every failure: exit 2, a French message naming the file ----------------------------------------

def _fake_pdf(monkeypatch):
    from calpae_xl.reports import libreoffice as lo

    def convert(exe, env_arg, target, outdir, files, timeout=300):
        outdir.mkdir(parents=True, exist_ok=True)
        (outdir / (Path(files[0]).stem + ".pdf")).write_bytes(b"%PDF-1.4 faux")
        return subprocess.CompletedProcess([], 0, "", "")
    monkeypatch.setattr(lo, "soffice", lambda: "/bin/true")
    monkeypatch.setattr(lo, "convert", convert)


WRITERS = {
    "exemple": lambda t, a, b: (["exemple", str(t / "ex")], t / "ex" / "loiret_2020.xlsx"),
    "nouveau": lambda t, a, b: (["nouveau", str(t / "n.xlsx")], t / "n.xlsx"),
    "comparer -o": lambda t, a, b: (["comparer", str(a), str(b), "-o", str(t / "e.xlsx")], t / "e.xlsx"),
    "consolider -o": lambda t, a, b: (["consolider", str(a.parent), "-o", str(t / "c.xlsx")], t / "c.xlsx"),
    "consolider --csv": lambda t, a, b: (["consolider", str(a.parent), "-o", str(t / "c.xlsx"), "--csv",
                                          str(t / "csv")], t / "c.xlsx"),
    "pdf -o": lambda t, a, b: (["pdf", str(a), "-o", str(t / "a.pdf"), "--forcer"], t / "a.pdf"),
    "recalculer": lambda t, a, b: (["recalculer", str(a)], a),
}


@pytest.mark.parametrize("name", list(WRITERS))
def test_a_full_disk_while_writing_is_a_french_message_and_exit_2(name, tmp_path, monkeypatch, capsys):
    a, b = put(tmp_path / "D" / "a.xlsx"), put(tmp_path / "D" / "b.xlsx")
    argv, target = WRITERS[name](tmp_path, a, b)
    _fake_pdf(monkeypatch)
    real = os.replace

    def full(src, dst, *args, **kw):
        if ".~calpae-" in os.fspath(src):
            raise OSError(errno.ENOSPC, "No space left on device", os.fspath(dst))
        return real(src, dst, *args, **kw)
    monkeypatch.setattr(os, "replace", full)
    assert main(argv) == 2
    out = capsys.readouterr()
    text = out.out + out.err
    assert "le disque est plein" in text and str(target) in text and "Traceback" not in text, text
    assert ".~calpae-" not in text  # the file the user asked for is named, not a temporary one
    assert not list(tmp_path.rglob(".~calpae-*"))


def test_an_unexpected_error_is_a_french_message_and_exit_2(tmp_path, monkeypatch, capsys):
    from calpae_xl.reports import compare
    a, b = put(tmp_path / "a.xlsx"), put(tmp_path / "b.xlsx")
    monkeypatch.setattr(compare, "compare", lambda *x: 1 / 0)
    assert main(["comparer", str(a), str(b)]) == 2
    err = capsys.readouterr().err
    assert "Erreur inattendue" in err and str(a) in err and str(b) in err and "Traceback" not in err
    assert "[ERREUR_INATTENDUE]" in err
    monkeypatch.setenv("CALPAE_DEBUG", "1")
    assert main(["comparer", str(a), str(b)]) == 2
    assert "Traceback" in capsys.readouterr().err  # for the developer who asks


def test_what_is_not_a_workbook_in_a_folder_is_listed_not_left_out(tmp_path, capsys):
    """A FIFO or a broken link named like a workbook, inside a consolidated
    folder: refused by name (never opened, never hanging) and counted as
    unreadable, so that the totals say they are incomplete."""
    d = tmp_path / "dossier"
    d.mkdir()
    write_variant(str(d / "loiret.xlsx"), variant(), fiches=False)
    os.mkfifo(d / "tube.xlsx")
    (d / "lien.xlsx").symlink_to(tmp_path / "absent.xlsx")
    assert main(["consolider", str(d), "-o", str(tmp_path / "c.xlsx")]) == 2
    out = capsys.readouterr().out
    assert "tube.xlsx" in out and "lien.xlsx" in out and "2 fichier(s) illisible(s)" in out
    files = {r[0]: r[1] for r in openpyxl.load_workbook(tmp_path / "c.xlsx")["Fichiers"].iter_rows(
        min_row=2, values_only=True)}
    assert files == {"lien.xlsx": "non", "loiret.xlsx": "oui", "tube.xlsx": "non"}
    assert main(["lot", str(d), "--sortie", str(tmp_path / "lot")]) == 2
    assert "[PAS_UN_FICHIER]" in capsys.readouterr().out


@pytest.mark.parametrize("command", [["consolider", "{d}"], ["comparer", "{f}", "{f}"]])
@pytest.mark.parametrize("name", ["sortie/", "sortie", "sortie.txt", "sortie.csv"])
def test_a_report_workbook_is_named_xlsx(command, name, tmp_path, capsys):
    """« -o rapport/ » or « -o rapport.txt » would write a workbook under a
    name nothing opens: refused, nothing written."""
    d = tmp_path / "d"
    d.mkdir()
    write_variant(str(d / "f.xlsx"), variant(), fiches=False)
    args = [a.format(d=d, f=d / "f.xlsx") for a in command]
    target = str(tmp_path / name)
    assert main(args + ["-o", target]) == 2
    assert "doit finir par .xlsx" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


def test_python_m_calpae_xl_is_the_command_line(tmp_path):
    """« python3 -m calpae_xl » where the scripts folder is not on the PATH."""
    run = subprocess.run([sys.executable, "-m", "calpae_xl", "codes", "--format", "json"], capture_output=True,
                         text=True, encoding="utf-8", cwd=tmp_path, check=False)
    assert run.returncode == 0 and "AUCUNE_ACTION" in run.stdout, run.stderr[-500:]
    bad = subprocess.run([sys.executable, "-m", "calpae_xl", "controler", str(tmp_path / "absent.xlsx")],
                         capture_output=True, text=True, encoding="utf-8", check=False)
    assert bad.returncode == 2 and "absent.xlsx" in bad.stderr + bad.stdout and "Traceback" not in bad.stderr
