"""The benchmark of issue #5: builds its inputs, runs each measure several
times, prints medians and ratios measured in the same run, and writes
bench/RESULTS.md with the machine they came from.

    python3 bench/run.py                 # everything (about 10 minutes)
    python3 bench/run.py --repetitions 1 --fichiers 20   # a quick look

Ratios, not absolute times: these machines are noisy.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # the remote engine, for measure 4

from calpae_xl.reports import libreoffice as lo  # noqa: E402
from tests.helpers.samples import variant, write_variant  # noqa: E402

PY = sys.executable
CLI = [PY, "-m", "calpae_xl.cli"]


def timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """(seconds, peak resident MiB) of one child process. Python commands run
    through bench/peak.py, which reports the child's own peak (VmHWM): the
    ru_maxrss of a forked child would include this process's memory."""
    peak_file = Path(tempfile.mkstemp(prefix="calpae-peak-")[1])
    env = dict(os.environ, CALPAE_PEAK_FILE=str(peak_file),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    if cmd[:2] == [PY, "-m"]:
        cmd = [PY, str(ROOT / "bench" / "peak.py"), "-m", *cmd[2:]]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in (0, 1):  # 1 = erreurs remain in the maquette: a normal outcome
        raise RuntimeError(f"{' '.join(cmd)} -> {proc.returncode}\n{err[-2000:]}")
    text = peak_file.read_text().strip()
    peak_file.unlink()
    return elapsed, (int(text) / 1024 if text else usage.ru_maxrss / 1024)


def median_of(n: int, prepare, cmd) -> tuple[float, float]:
    times, peaks = [], []
    for _ in range(n):
        prepare()
        t, m = timed(cmd)
        times.append(t)
        peaks.append(m)
    return statistics.median(times), max(peaks)


def fresh_copy(src: Path, folder: Path):
    def prepare():
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        shutil.copy(src, folder / src.name)
    return prepare


def machine() -> list[str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(next(ln for ln in Path("/proc/meminfo").read_text().splitlines()
                      if ln.startswith("MemTotal")).split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    import openpyxl
    try:
        import lxml.etree as le
        lxml_v = ".".join(map(str, le.LXML_VERSION[:3]))
    except ImportError:
        lxml_v = "absent"
    try:
        import xlwings
        xlw = xlwings.__version__
    except ImportError:
        xlw = "absent"
    soffice = shutil.which("soffice")
    lo = subprocess.run([soffice, "--version"], capture_output=True, text=True).stdout.strip() if soffice else "absent"
    return [f"- Machine : {platform.platform()}, {cpu}, {os.cpu_count()} cœurs, {mem}",
            f"- Python {platform.python_version()}, openpyxl {openpyxl.__version__}, lxml {lxml_v}, "
            f"xlwings {xlw}, {lo or 'LibreOffice ?'}",
            f"- Date : {time.strftime('%Y-%m-%d %H:%M')}"]


def measure_1(work: Path, reps: int) -> list[tuple]:
    """lot on a folder holding the Loiret maquette vs load+save with openpyxl."""
    src = ROOT / "workbook" / "loiret_2020.xlsx"
    folder = work / "m1"
    prep = fresh_copy(src, folder)
    lot, lot_mem = median_of(reps, prep, CLI + ["lot", str(folder), "--processus", "1"])
    floor, floor_mem = median_of(reps, prep, [PY, "-m", "bench.floor", str(folder / src.name)])
    return [("1. Régénération du Loiret (lot, 1 fichier)", f"{lot:.2f} s", f"{lot_mem:.0f} Mio"),
            ("   plancher : chargement + enregistrement openpyxl", f"{floor:.2f} s", f"{floor_mem:.0f} Mio"),
            ("   rapport lot / plancher (cible ≤ 1,5)", f"{lot / floor:.2f}", "")], lot / floor


def measure_2(work: Path, reps: int, n_files: int) -> tuple[list[tuple], dict]:
    """lot on n variants, on 1 and 2 cores, vs LibreOffice recalculating them."""
    inputs = work / "m2-inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    for i in range(n_files):
        write_variant(str(inputs / f"maquette_{i:03d}.xlsx"),
                      variant(departement=f"Département {i:03d}", annee=2020 + i % 5, scale=0.5 + (i % 10) / 10),
                      fiches=True)
    folder = work / "m2"

    def prepare():
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(inputs, folder)
    one, _ = median_of(reps, prepare, CLI + ["lot", str(folder), "--processus", "1"])
    two, _ = median_of(reps, prepare, CLI + ["lot", str(folder), "--processus", "2"])
    rows = [(f"2. lot sur {n_files} maquettes, 1 cœur", f"{one:.2f} s", ""),
            (f"   lot sur {n_files} maquettes, 2 cœurs", f"{two:.2f} s", ""),
            ("   accélération 2 cœurs / 1 cœur (cible ≥ 1,6)", f"{one / two:.2f}", "")]
    ratios = {"cores": one / two}
    soffice = shutil.which("soffice")
    if soffice:
        env_arg = lo.profile(work / "lo-profile", recalc=True)
        out = work / "lo-out"
        files = sorted(str(p) for p in inputs.glob("*.xlsx"))
        cmd = lo.convert_command(soffice, env_arg, "xlsx:Calc MS Excel 2007 XML", out, files)
        timed(cmd)  # the first start of a profile builds it: not measured
        lo_time, _ = median_of(reps, lambda: shutil.rmtree(out, ignore_errors=True), cmd)
        rows += [(f"   LibreOffice headless, recalcul forcé des {n_files} fichiers", f"{lo_time:.2f} s", ""),
                 ("   rapport LibreOffice / lot sur 2 cœurs (cible ≥ 10)", f"{lo_time / two:.1f}", "")]
        ratios["libreoffice"] = lo_time / two
    else:
        rows.append(("   LibreOffice absent : comparaison non faite", "", ""))
    return rows, ratios


def measure_3(work: Path, reps: int) -> tuple[list[tuple], dict]:
    """recalculer (which also checks) on 1 000 and 10 000 actions."""
    rows, res = [], {}
    for n in (1000, 10000):
        src = work / f"actions_{n}.xlsx"
        write_variant(str(src), variant(n), fiches=False)
        out = work / f"m3-{n}"
        t, mem = median_of(reps, lambda out=out: shutil.rmtree(out, ignore_errors=True),
                           CLI + ["recalculer", str(src), "--sortie", str(out)])
        res[n] = (t, mem)
        rows.append((f"3. recalculer + contrôler, {n} actions", f"{t:.2f} s", f"{mem:.0f} Mio"))
    rows.append(("   croissance 10 000 / 1 000 (cible ≤ 12)", f"{res[10000][0] / res[1000][0]:.1f}", ""))
    rows.append(("   cibles à 10 000 : < 10 s et < 500 Mio", "", ""))
    return rows, res


def measure_4(work: Path) -> list[tuple]:
    """The count of xlwings actions of one Recalculer (remote engine)."""
    try:
        from tests.helpers.remote import click_after_typing
        import xlwings  # noqa: F401
    except ImportError:
        return [("4. xlwings absent : compte non fait", "", "")]
    rows = []
    for n in (20, 2000):
        t = time.perf_counter()
        _, actions = click_after_typing(n, str(work))
        elapsed = time.perf_counter() - t
        rows.append((f"4. Recalculer dans Excel (moteur distant), {n} actions",
                     f"{len(actions)} actions Excel", f"{elapsed:.2f} s (préparation comprise)"))
    return rows


def measure_5(work: Path, reps: int) -> list[tuple]:
    """How fast each hostile or broken file is refused (in this process: the gate's own time)."""
    from calpae_xl.adapters.xlsx import PackageWorkbook
    from calpae_xl.errors import CalpaeError
    from tests.helpers.hostile import build_corpus
    loiret = work / "hostile-loiret.xlsx"
    write_variant(str(loiret), variant(), fiches=False)
    corpus = build_corpus(loiret, work / "hostile", work / "secret.txt")
    worst, rows = ("", 0.0), []
    for name, (path, _code) in sorted(corpus.items()):
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            try:
                PackageWorkbook.open(str(path))
            except CalpaeError:
                pass
            times.append(time.perf_counter() - t)
        med = statistics.median(times)
        worst = max(worst, (name, med), key=lambda x: x[1])
    rows.append((f"5. refus des {len(corpus)} fichiers hostiles, le plus lent ({worst[0]}) (cible < 1 s)",
                 f"{worst[1]:.2f} s", ""))
    return rows


def measure_6(work: Path, reps: int) -> list[tuple]:
    """A click in xlwings Lite: the scripts in Pyodide under Node (the runner of
    tests/test_pyodide.py), next to the same click in this CPython (the remote
    engine, as xlwings Server runs it). Best of ``reps`` clicks, each on a fresh book."""
    from tests.helpers import pyodide as P
    from tests.helpers.remote import payload_from_file
    reason = P.missing_node()
    if reason:
        return [(f"6. {reason}", "", "")]
    dist = P.Dist()
    lite = ROOT / "workbook" / "lite"
    buttons = ["Recalculer", "Contrôler", "Générer les fiches"]
    payloads = {"Loiret (classeur Lite)": payload_from_file(str(lite / "loiret_2020.xlsx")),
                "2 000 actions, un montant saisi": P.typed_payload(2000, work)}
    files = P.write_payloads(payloads, work / "m6")
    cases = {name: buttons for name in files}
    main_py = (lite / "main.py").read_text(encoding="utf-8")
    py = P.run_pyodide(dist, files, cases, work / "m6-run", (lite / "requirements.txt").read_text(encoding="utf-8"),
                       main_py, repeat=reps)
    cp = P.run_cpython(files, cases, main_py, repeat=reps)
    t = py["timings"]
    rows = [(f"6. xlwings Lite : Pyodide {py['pyodide']} (Python {py['prepared']['python']}) sous Node, "
             "chargement / installation / imports", f"{t['load_s']:.1f} / {t['install_s']:.1f} / "
             f"{t['prepare_s']:.1f} s", "une fois, à l'ouverture du complément")]
    for case, by_button in py["clicks"].items():
        for button, r in by_button.items():
            a, b = min(r["times_s"]), min(cp["clicks"][case][button]["times_s"])
            rows.append((f"   {case}, {button} ({r['n_actions']} actions Excel à la fin)", f"{a:.2f} s (Pyodide)",
                         f"{b:.2f} s (CPython), × {a / b:.1f}"))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--fichiers", type=int, default=100)
    ap.add_argument("--resultats", default=str(ROOT / "bench" / "RESULTS.md"))
    ap.add_argument("--mesures", default="1,2,3,4,5,6", help="les mesures à faire (défaut : toutes)")
    args = ap.parse_args()
    wanted = set(args.mesures.split(","))
    work = Path(tempfile.mkdtemp(prefix="calpae-bench-"))
    try:
        rows: list[tuple] = []
        if "1" in wanted:
            rows += measure_1(work, args.repetitions)[0]
        if "2" in wanted:
            rows += measure_2(work, args.repetitions, args.fichiers)[0]
        if "3" in wanted:
            rows += measure_3(work, args.repetitions)[0]
        if "4" in wanted:
            rows += measure_4(work)
        if "5" in wanted:
            rows += measure_5(work, args.repetitions)
        if "6" in wanted:
            rows += measure_6(work, args.repetitions)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    width = max(len(r[0]) for r in rows)
    table = [f"{r[0]:<{width}}  {r[1]:>22}  {r[2]:>22}" for r in rows]
    print("\n".join(table))
    md = ["# Mesures (bench/run.py)", "", *machine(),
          f"- Commande : `python3 bench/run.py --repetitions {args.repetitions} --fichiers {args.fichiers}` "
          "(médianes ; mémoire : pic du processus)", "",
          "| Mesure | Temps / valeur | Mémoire / détail |", "| --- | ---: | ---: |",
          *[f"| {r[0].strip()} | {r[1]} | {r[2]} |" for r in rows], ""]
    Path(args.resultats).write_text("\n".join(md), encoding="utf-8")
    print(f"\nRésultats écrits dans {args.resultats}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
