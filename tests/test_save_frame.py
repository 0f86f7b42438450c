"""The save frame: every file the tool writes goes through it, and each of
its promises is tried here as a user would meet it, from the command line.

REFUSALS is the table of what must be refused: the command, the code, the
file the message names — and nothing in the folder may change (bytes,
dates, modes, links). The tests below it check what must happen instead:
a second run that changes nothing, backups, owners, links, full disks,
two commands started together on one file.
"""
from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from calpae_xl.adapters import saveframe
from calpae_xl.app.session import FICHES, RECALCULER, process_file
from calpae_xl.cli import main
from tests.helpers.samples import variant, write_variant

ROOT = Path(__file__).resolve().parents[1]
_PRINTED: dict[str, bytes] = {}


def printed() -> bytes:
    """The Loiret maquette as printed (Recalculer changes 8 values), without fiches."""
    if "m" not in _PRINTED:
        path = Path(os.environ.get("TMPDIR", "/tmp")) / f"calpae-frame-{os.getpid()}.xlsx"
        write_variant(str(path), variant(), fiches=False)
        _PRINTED["m"] = path.read_bytes()
        path.unlink()
    return _PRINTED["m"]


def put(path: Path, data: bytes | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(printed() if data is None else data)
    return path


def tree(folder: Path) -> dict:
    """Everything in a folder: kind, bytes, date and mode of each entry (a
    FIFO or a device is never opened)."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = os.path.join(root, name)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                v = ("lien", os.readlink(p))
            elif stat.S_ISREG(st.st_mode):
                v = ("fichier", Path(p).read_bytes(), st.st_mtime_ns, stat.S_IMODE(st.st_mode), st.st_uid)
            elif stat.S_ISDIR(st.st_mode):
                v = ("dossier", stat.S_IMODE(st.st_mode))
            else:
                v = ("spécial", stat.S_IFMT(st.st_mode))
            out[os.path.relpath(p, folder)] = v
    return out


# --- what is refused -------------------------------------------------------------------------

HELD: list = []  # locks a case holds while the command runs


def _two(t):
    return put(t / "D" / "A.xlsx"), put(t / "D" / "B.xlsx")


def _comparer_onto_b(t):
    a, b = _two(t)
    return ["comparer", str(a), str(b), "-o", str(b)], b


def _comparer_onto_link_to_a(t):
    a, b = _two(t)
    link = t / "lien.xlsx"
    link.symlink_to(a)
    return ["comparer", str(a), str(b), "-o", str(link)], link


def _consolider_onto_a_maquette_it_reads(t):
    a, _b = _two(t)
    return ["consolider", str(t / "D"), "-o", str(a), "--force"], a  # --force never allows it


def _pdf_onto_its_workbook(t):
    a, _ = _two(t)
    return ["pdf", str(a), "-o", str(a), "--force"], a


def _comparer_onto_existing(t):
    a, b = _two(t)
    out = put(t / "ecarts.xlsx")
    return ["comparer", str(a), str(b), "-o", str(out)], out


def _consolider_onto_existing(t):
    _two(t)
    out = put(t / "conso.xlsx")
    return ["consolider", str(t / "D"), "-o", str(out)], out


def _consolider_csv_onto_existing(t):
    """One CSV of six exists: nothing is written, not even the workbook."""
    _two(t)
    mine = t / "csv" / "fichiers.csv"
    mine.parent.mkdir()
    mine.write_text("mes chiffres;1\n", encoding="utf-8")
    return ["consolider", str(t / "D"), "-o", str(t / "conso.xlsx"), "--csv", str(t / "csv")], mine


def _pdf_onto_existing(t):
    a, _ = _two(t)
    out = t / "annexe.pdf"
    out.write_bytes(b"%PDF-1.4 mon annexe signee")
    return ["pdf", str(a), "-o", str(out), "--forcer"], out  # --forcer: past the errors, up to the save frame


def _exemple_over_an_edited_example(t):
    assert main(["exemple", str(t / "ex")]) == 0
    path = t / "ex" / "loiret_2020.xlsx"
    wb = openpyxl.load_workbook(path)
    wb["Maquette"]["B2"] = "ma note"
    wb.save(path)
    return ["exemple", str(t / "ex")], path


def _nouveau_over_a_maquette(t):
    m = put(t / "m.xlsx")
    return ["nouveau", str(m)], m


def _sortie_onto_a_different_copy(t):
    m = put(t / "m.xlsx")
    put(t / "out" / "m.xlsx", b"PK autre chose")
    return ["recalculer", str(m), "--sortie", str(t / "out")], t / "out" / "m.xlsx"


def _folder(t, argv_tail):
    a, b = _two(t)
    (t / "dossier.xlsx").mkdir()
    return argv_tail(a, b, t / "dossier.xlsx"), t / "dossier.xlsx"


def _file_as_folder(t, argv):
    a, _ = _two(t)
    f = t / "fichier"
    f.write_text("un fichier\n")
    return argv(a, f), f


def _fifo_in(t):
    fifo = t / "tube.xlsx"
    os.mkfifo(fifo)
    return ["controler", str(fifo)], fifo


def _fifo_out(t):
    a, b = _two(t)
    fifo = t / "tube.xlsx"
    os.mkfifo(fifo)
    return ["comparer", str(a), str(b), "-o", str(fifo)], fifo


def _device(t):
    link = t / "zero.xlsx"
    link.symlink_to("/dev/zero")
    return ["controler", str(link)], link


def _read_only(t):
    m = put(t / "m.xlsx")
    m.chmod(0o444)
    return ["recalculer", str(m)], m


def _read_only_output_even_forced(t):
    a, b = _two(t)
    out = put(t / "ecarts.xlsx")
    out.chmod(0o440)
    return ["comparer", str(a), str(b), "-o", str(out), "--force"], out


def _output_open_in_excel(t):
    a, b = _two(t)
    out = put(t / "ecarts.xlsx")
    (t / "~$ecarts.xlsx").write_bytes(bytes([6]) + b"Claire" + b"\0" * 40)
    return ["comparer", str(a), str(b), "-o", str(out), "--force"], out


def _fifo_as_libreoffice_lock(t):
    m = put(t / "m.xlsx")
    os.mkfifo(t / ".~lock.m.xlsx#")  # read, it would block for ever
    return ["recalculer", str(m)], m


def _backup_name_taken_by(kind):
    def setup(t):
        m = put(t / "m.xlsx")
        if kind == "texte":
            (t / "m.bak.xlsx").write_text("mes notes, pas une sauvegarde\n")
        else:
            (t / "m.bak.xlsx").mkdir()
        return ["recalculer", str(m)], m
    return setup


def _busy(t):
    m = put(t / "m.xlsx")
    hold = saveframe.exclusive(str(m))
    hold.__enter__()
    HELD.append(hold)
    return ["fiches", str(m)], m


REFUSALS = {
    # never an input of the same command
    "comparer A B -o B": (_comparer_onto_b, "SORTIE_SUR_ENTREE"),
    "comparer A B -o lien vers A": (_comparer_onto_link_to_a, "SORTIE_SUR_ENTREE"),
    "consolider D -o D/A.xlsx --force": (_consolider_onto_a_maquette_it_reads, "SORTIE_SUR_ENTREE"),
    "pdf A -o A --force": (_pdf_onto_its_workbook, "SORTIE_SUR_ENTREE"),
    # never an existing file without --force
    "comparer -o existant": (_comparer_onto_existing, "FICHIER_EXISTANT"),
    "consolider -o existant": (_consolider_onto_existing, "FICHIER_EXISTANT"),
    "consolider --csv : un CSV existe": (_consolider_csv_onto_existing, "FICHIER_EXISTANT"),
    "pdf -o existant": (_pdf_onto_existing, "FICHIER_EXISTANT"),
    "exemple sur un exemple modifié": (_exemple_over_an_edited_example, "FICHIER_EXISTANT"),
    "nouveau sur une maquette": (_nouveau_over_a_maquette, "FICHIER_EXISTANT"),
    "recalculer --sortie sur une copie différente": (_sortie_onto_a_different_copy, "FICHIER_EXISTANT"),
    # folders, FIFOs, devices
    "comparer -o dossier": (lambda t: _folder(t, lambda a, b, d: ["comparer", str(a), str(b), "-o", str(d)]),
                            "PAS_UN_FICHIER"),
    "consolider -o dossier": (lambda t: _folder(t, lambda a, b, d: ["consolider", str(a.parent), "-o", str(d)]),
                              "PAS_UN_FICHIER"),
    "pdf -o dossier": (lambda t: _folder(t, lambda a, b, d: ["pdf", str(a), "-o", str(d)]), "PAS_UN_FICHIER"),
    "exemple FICHIER": (lambda t: _file_as_folder(t, lambda a, f: ["exemple", str(f)]), "PAS_UN_FICHIER"),
    "consolider --csv FICHIER": (lambda t: _file_as_folder(t, lambda a, f: ["consolider", str(a.parent), "-o",
                                                                           str(t / "c.xlsx"), "--csv", str(f)]),
                                 "PAS_UN_FICHIER"),
    "recalculer --sortie FICHIER": (lambda t: _file_as_folder(t, lambda a, f: ["recalculer", str(a), "--sortie",
                                                                              str(f)]), "PAS_UN_FICHIER"),
    "controler FIFO.xlsx": (_fifo_in, "PAS_UN_FICHIER"),
    "comparer -o FIFO.xlsx": (_fifo_out, "PAS_UN_FICHIER"),
    "controler lien vers /dev/zero": (_device, "PAS_UN_FICHIER"),
    # read-only, open, backups, another command at work
    "recalculer lecture seule": (_read_only, "FICHIER_LECTURE_SEULE"),
    "comparer -o lecture seule --force": (_read_only_output_even_forced, "FICHIER_LECTURE_SEULE"),
    "comparer -o ouvert dans Excel --force": (_output_open_in_excel, "FICHIER_OUVERT"),
    "verrou de LibreOffice qui est un FIFO": (_fifo_as_libreoffice_lock, "FICHIER_OUVERT"),
    "NOM.bak.xlsx est un texte": (_backup_name_taken_by("texte"), "SAUVEGARDE_IMPOSSIBLE"),
    "NOM.bak.xlsx est un dossier": (_backup_name_taken_by("dossier"), "SAUVEGARDE_IMPOSSIBLE"),
    "une autre commande tient le fichier": (_busy, "FICHIER_OCCUPE"),
}
# a regression would hang: a real process, a timeout
IN_A_PROCESS = {"controler FIFO.xlsx", "comparer -o FIFO.xlsx", "verrou de LibreOffice qui est un FIFO"}


def run_cli(argv, cwd=None, env=None, timeout=60, capture_output=True, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           **(env or {})}
    return subprocess.run([sys.executable, "-m", "calpae_xl.cli", *argv], cwd=cwd, env=env,
                          capture_output=capture_output, timeout=timeout, **kw)


def refuse(folder: Path, name: str, monkeypatch) -> tuple[str, str, Path, dict, dict]:
    """Run one case of REFUSALS: (code shown, output, file named, folder before, after)."""
    setup, _code = REFUSALS[name]
    folder.mkdir(parents=True, exist_ok=True)
    monkeypatch.setattr(saveframe, "LOCK_WAIT", 0.3)
    try:
        argv, named = setup(folder)
        before = tree(folder)
        if name in IN_A_PROCESS:
            proc = run_cli(argv, timeout=30)
            rc, out = proc.returncode, (proc.stdout + proc.stderr).decode("utf-8", "replace")
        else:
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
                rc = main(argv)
            out = buf.getvalue()
    finally:
        while HELD:
            HELD.pop().__exit__(None, None, None)
    assert rc == 2, (name, rc, out)
    codes = re.findall(r"\[([A-Z_]+)\]", out)
    return (codes[-1] if codes else ""), out, named, before, tree(folder)


@pytest.mark.parametrize("name", list(REFUSALS))
def test_refused_with_its_code_naming_the_file_and_nothing_changes(name, tmp_path, monkeypatch):
    code, out, named, before, after = refuse(tmp_path / "cas", name, monkeypatch)
    assert code == REFUSALS[name][1], out
    assert str(named) in out, out
    assert "Traceback" not in out
    assert after == before, "un fichier a changé dans le dossier"


# --- what happens instead --------------------------------------------------------------------------

def test_a_second_run_that_changes_nothing_leaves_the_file_and_its_backup_untouched(tmp_path, capsys):
    m = put(tmp_path / "m.xlsx")
    assert main(["recalculer", str(m)]) == 0
    assert "version précédente" in capsys.readouterr().out
    bak = tmp_path / "m.bak.xlsx"
    assert bak.read_bytes() == printed()  # the version before the tool
    state = tree(tmp_path)
    time.sleep(0.01)
    for argv in (["recalculer", str(m)], ["controler", str(m)], ["lot", str(tmp_path), "--processus", "1"]):
        main(argv)
    assert tree(tmp_path) != state  # lot made the fiches: the file changed, the backup moved on
    state = tree(tmp_path)
    for argv in (["recalculer", str(m)], ["fiches", str(m)], ["lot", str(tmp_path), "--processus", "1"]):
        assert main(argv) == 0
        assert "déjà à jour" in capsys.readouterr().out
        assert tree(tmp_path) == state, argv


def test_outputs_equal_to_what_is_there_are_left_alone_and_force_replaces(tmp_path, capsys):
    a, b = put(tmp_path / "D" / "A.xlsx"), put(tmp_path / "D" / "B.xlsx")
    runs = [["exemple", str(tmp_path / "ex")], ["comparer", str(a), str(b), "-o", str(tmp_path / "e.xlsx")],
            ["consolider", str(tmp_path / "D"), "-o", str(tmp_path / "D" / "conso.xlsx"), "--csv",
             str(tmp_path / "csv")], ["nouveau", str(tmp_path / "vierge.xlsx")]]
    for argv in runs:
        assert main(argv) == 0, argv
    capsys.readouterr()
    state = tree(tmp_path)
    for argv in runs:  # the same again: nothing to replace, no --force needed (an earlier consolidation in
        assert main(argv) == 0, argv  # the folder read is known and not read as a maquette)
        assert "inchangé" in capsys.readouterr().out
    assert tree(tmp_path) == state
    ex = tmp_path / "ex" / "loiret_2020.xlsx"
    wb = openpyxl.load_workbook(ex)
    wb["Maquette"]["B2"] = "ma note"
    wb.save(ex)
    assert main(["exemple", str(tmp_path / "ex")]) == 2
    capsys.readouterr()
    assert main(["exemple", str(tmp_path / "ex"), "--force"]) == 0
    assert openpyxl.load_workbook(ex)["Maquette"]["B2"].value != "ma note"
    # the edited workbook --force replaced is kept beside it, and the message says where
    bak = tmp_path / "ex" / "loiret_2020.bak.xlsx"
    assert openpyxl.load_workbook(bak)["Maquette"]["B2"].value == "ma note"
    assert f"version précédente : {bak}" in capsys.readouterr().out
    # a report replaced with --force as well; a name there that is no workbook is never overwritten
    (tmp_path / "e.xlsx").unlink()
    put(tmp_path / "e.xlsx")
    (tmp_path / "e.bak.xlsx").write_text("mes notes\n")
    assert main(runs[1] + ["--force"]) == 2
    assert "SAUVEGARDE_IMPOSSIBLE" in capsys.readouterr().err
    assert (tmp_path / "e.xlsx").read_bytes() == printed() and (tmp_path / "e.bak.xlsx").read_text() == "mes notes\n"
    (tmp_path / "e.bak.xlsx").unlink()
    assert main(runs[1] + ["--force"]) == 0
    assert (tmp_path / "e.bak.xlsx").read_bytes() == printed()
    # …nor over a file the command reads (a workbook named like that backup, compared here)
    capsys.readouterr()
    before = (tmp_path / "e.bak.xlsx").read_bytes(), (tmp_path / "e.xlsx").read_bytes()
    assert main(["comparer", str(tmp_path / "e.bak.xlsx"), str(a), "-o", str(tmp_path / "e.xlsx"), "--force"]) == 2
    assert "SAUVEGARDE_IMPOSSIBLE" in capsys.readouterr().err
    assert ((tmp_path / "e.bak.xlsx").read_bytes(), (tmp_path / "e.xlsx").read_bytes()) == before


def test_a_symlink_named_like_the_backup_is_replaced_never_written_through(tmp_path):
    secret = tmp_path / "ailleurs" / "secret.xlsx"
    put(secret, b"PK le fichier de quelqu'un d'autre")
    m = put(tmp_path / "m.xlsx")
    (tmp_path / "m.bak.xlsx").symlink_to(secret)
    assert main(["recalculer", str(m)]) == 0
    assert secret.read_bytes() == b"PK le fichier de quelqu'un d'autre"
    bak = tmp_path / "m.bak.xlsx"
    assert not bak.is_symlink() and bak.read_bytes() == printed()


def test_a_symlinked_workbook_is_written_at_its_real_path_and_stays_a_link(tmp_path):
    real = put(tmp_path / "partage" / "vrai.xlsx")
    link = tmp_path / "raccourci.xlsx"
    link.symlink_to(real)
    assert main(["recalculer", str(link)]) == 0
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert real.read_bytes() != printed()
    assert (tmp_path / "partage" / "vrai.bak.xlsx").read_bytes() == printed()
    assert not (tmp_path / "raccourci.bak.xlsx").exists()


def test_owner_group_and_mode_are_kept(tmp_path):
    m = put(tmp_path / "m.xlsx")
    m.chmod(0o640)
    root = os.geteuid() == 0
    if root:  # root runs the tool on an officer's file: the file stays the officer's
        os.chown(m, 4321, 4321)
    assert main(["recalculer", str(m)]) == 0
    for path in (m, tmp_path / "m.bak.xlsx"):
        st = os.stat(path)
        assert stat.S_IMODE(st.st_mode) == 0o640, path
        if root:
            assert (st.st_uid, st.st_gid) == (4321, 4321), path


def test_the_previous_backup_survives_a_full_disk(tmp_path, monkeypatch, capsys):
    """Where a hard link cannot be made, the backup is copied: a disk that
    fills up half-way through leaves the previous backup whole, the file
    untouched, and says so in French."""
    m = put(tmp_path / "m.xlsx")
    assert main(["recalculer", str(m)]) == 0  # m.bak.xlsx: the printed version
    state = tree(tmp_path)
    wb = openpyxl.load_workbook(m)
    wb["Maquette"]["B2"] = "modifié"
    wb.save(m)
    state = tree(tmp_path)

    def no_link(*a, **k):
        raise OSError(errno.EPERM, "Operation not permitted")

    def half_then_full(src, dst, *, follow_symlinks=True):
        Path(dst).write_bytes(Path(src).read_bytes()[:1000])
        raise OSError(errno.ENOSPC, "No space left on device", dst)
    monkeypatch.setattr(os, "link", no_link)
    monkeypatch.setattr(shutil, "copyfile", half_then_full)
    assert main(["recalculer", str(m)]) == 2
    out = capsys.readouterr().out
    assert "le disque est plein" in out and "ENREGISTREMENT_IMPOSSIBLE" in out and str(m) in out
    assert tree(tmp_path) == state  # the file, its previous backup, no temporary file left


def _small_disk(path: Path, size: str):
    path.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip("monter un petit disque (tmpfs) demande les droits d'administrateur")


def test_a_really_full_disk(tmp_path):
    """A real small disk, filled: the tool says it is full, and the file and its backup are as they were."""
    disk = tmp_path / "disque"
    _small_disk(disk, "400k")
    try:
        m = put(disk / "m.xlsx")
        assert main(["recalculer", str(m)]) == 0
        wb = openpyxl.load_workbook(m)
        wb["Maquette"]["B2"] = "modifié"
        wb.save(m)
        fd = os.open(disk / "remplissage", os.O_WRONLY | os.O_CREAT)
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\0" * 512)
        os.close(fd)
        state = tree(disk)
        proc = run_cli(["recalculer", str(m)])
        out = proc.stdout.decode()
        assert proc.returncode == 2 and "le disque est plein" in out and "Traceback" not in out
        assert tree(disk) == state
        proc = run_cli(["exemple", str(disk / "ex")])
        assert proc.returncode == 2 and "le disque est plein" in proc.stderr.decode()
        assert not (disk / "ex" / "loiret_2020.xlsx").exists()
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_a_file_saved_meanwhile_is_never_overwritten_even_right_before_the_replace(tmp_path, monkeypatch):
    """The colleague saves while the tool is writing its copy: the last look,
    right before the move, sees it."""
    from calpae_xl.adapters.xlsx import book
    m = put(tmp_path / "m.xlsx")
    real = book.PackageWorkbook._write

    def write_while_a_colleague_saves(self, tmp):
        real(self, tmp)
        wb = openpyxl.load_workbook(m)
        wb["Paramètres"]["D1"] = "saisi par une collègue"
        wb.save(m)
        os.utime(m, ns=(time.time_ns(), time.time_ns() + 10**9))
    monkeypatch.setattr(book.PackageWorkbook, "_write", write_while_a_colleague_saves)
    result = process_file(str(m), [RECALCULER])
    assert result.code == "FICHIER_MODIFIE"
    assert openpyxl.load_workbook(m)["Paramètres"]["D1"].value == "saisi par une collègue"
    assert not (tmp_path / "m.bak.xlsx").exists()


@pytest.mark.parametrize("rounds", [pytest.param(6, id="6"), pytest.param(40, id="40", marks=pytest.mark.slow)])
def test_two_commands_started_together_on_one_file_lose_no_update(tmp_path, rounds):
    """recalculer and fiches, two real processes started at once, many times
    (either first): both say they saved, and both results are in the file."""
    for i in range(rounds):
        m = put(tmp_path / f"m{i}.xlsx")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        procs = [subprocess.Popen([sys.executable, "-m", "calpae_xl.cli", cmd, str(m)], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for cmd in (("recalculer", "fiches") if i % 2 else ("fiches", "recalculer"))]
        outs = [p.communicate(timeout=120) for p in procs]
        for p, (out, err) in zip(procs, outs, strict=True):
            assert p.returncode in (0, 1) and "enregistré" in out and not err, (out, err)
        wb = openpyxl.load_workbook(m)
        assert "Journal" in wb.sheetnames, "le recalcul est perdu"
        assert sum(1 for s in wb.sheetnames if s.startswith("Fiche")) == 20, "les fiches sont perdues"
        values = openpyxl.load_workbook(m, data_only=True)["Maquette"]
        row = next(c.row for c in values["D"] if c.value == "Action 4.2")
        assert 197904.5 in [values.cell(row, c).value for c in range(1, 16)], "le recalcul est perdu"


def test_the_lock_is_taken_before_reading_and_only_by_commands_that_write(tmp_path, monkeypatch):
    m = put(tmp_path / "m.xlsx")
    monkeypatch.setattr(saveframe, "LOCK_WAIT", 0.2)
    with saveframe.exclusive(str(tmp_path / "." / "m.xlsx")):  # the same file, however named
        assert process_file(str(m), [FICHES]).code == "FICHIER_OCCUPE"
        assert process_file(str(m), ["controler"], write=False).lisible  # reading needs no lock
    assert process_file(str(m), [FICHES]).lisible
    import hashlib
    import tempfile
    key = hashlib.sha256(os.fsencode(os.path.realpath(m))).hexdigest()[:40]
    assert not (Path(tempfile.gettempdir()) / "calpae-xl-verrous" / f"{key}.lock").exists()  # none left behind


def test_lot_into_a_sub_folder_does_not_copy_its_own_copies_again(tmp_path, capsys):
    """« lot D --sortie D/copies » run twice: the copies the first run wrote are its outputs, not
    maquettes (they were copied again into D/copies/copies, one level deeper at each run)."""
    put(tmp_path / "D" / "m.xlsx")
    argv = ["lot", str(tmp_path / "D"), "--sortie", str(tmp_path / "D" / "copies"), "--processus", "1"]
    assert main(argv) == 0
    capsys.readouterr()
    state = tree(tmp_path)
    assert main(argv) == 0
    said = capsys.readouterr()
    assert "1 classeur(s) du dossier de sortie" in said.err and "1 fichier(s)" in said.out
    assert tree(tmp_path) == state
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.xlsx")) == ["D/copies/m.xlsx",
                                                                                          "D/m.xlsx"]
    # nothing left but the copies: said, nothing written
    (tmp_path / "D" / "m.xlsx").unlink()
    capsys.readouterr()
    assert main(argv) == 2
    assert "hors du dossier de sortie" in capsys.readouterr().err
