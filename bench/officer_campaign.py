"""A long campaign of the officer's editing loop (tests/test_officer_loop.py),
with one line per sequence as it goes, so that a campaign of thousands of
sequences can run in several processes and be followed (and resumed):

    python3 bench/officer_campaign.py --de 0 --a 1000 --journal campagne_a.txt &
    python3 bench/officer_campaign.py --de 1000 --a 2000 --journal campagne_b.txt &
    python3 bench/officer_campaign.py --bilan campagne_a.txt campagne_b.txt

Each line: « graine étapes ok » or « graine étapes RUPTURE … » with the steps
and the broken invariants. A seed already in the journal is not run again.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from calpae_xl.app.session import CONTROLER, FICHES, RECALCULER, process_file  # noqa: E402
from calpae_xl.app.template import write_example  # noqa: E402
from tests.helpers import lo_calc  # noqa: E402
from tests.helpers.annex import build_annex  # noqa: E402
from tests.helpers.officer import run_sequence  # noqa: E402


def done_seeds(journal: Path) -> set[int]:
    if not journal.exists():
        return set()
    return {int(line.split()[0]) for line in journal.read_text(encoding="utf-8").splitlines() if line.strip()}


def campaign(first: int, last: int, journal: Path) -> None:
    seen = done_seeds(journal)
    with tempfile.TemporaryDirectory() as tmp, lo_calc.start_office(locale="fr-FR", timeout=90) as calc:
        work = Path(tmp)
        exemple = work / "loiret_2020.xlsx"
        write_example(str(exemple))
        assert process_file(str(exemple), [RECALCULER, CONTROLER, FICHES], backup=False).lisible
        annexe = work / "annexe_saisie.xlsx"
        build_annex(str(annexe))
        bases = [exemple, annexe]
        with journal.open("a", encoding="utf-8") as out:
            for seed in range(first, last):
                if seed in seen:
                    continue
                t0 = time.perf_counter()
                seq = run_sequence(calc, seed, work, bases[seed % len(bases)])
                took = time.perf_counter() - t0
                if seq.breaks:
                    detail = " | ".join(seq.steps) + " => " + " ; ".join(seq.breaks[:5])
                    detail = " ".join(detail.split())  # one line per sequence, whatever a message holds
                    out.write(f"{seed} {len(seq.steps)} RUPTURE {took:.1f}s {detail}\n")
                else:
                    out.write(f"{seed} {len(seq.steps)} ok {took:.1f}s\n")
                out.flush()
                for p in work.glob("sequence_*"):
                    p.unlink()


def bilan(journals: list[Path]) -> int:
    lines = [line.split() for j in journals for line in j.read_text(encoding="utf-8").splitlines() if line.strip()]
    seeds = {int(x[0]) for x in lines}
    steps = sum(int(x[1]) for x in lines)
    broken = [x for x in lines if x[2] == "RUPTURE"]
    secs = sum(float(x[3].rstrip("s")) for x in lines)
    print(f"{len(seeds)} séquences, {steps} étapes, {len(broken)} rupture(s) d'invariant, "
          f"{secs / max(len(lines), 1):.1f} s par séquence")
    return 1 if broken else 0


def main() -> int:
    ap = argparse.ArgumentParser(description="campagne longue de la boucle de l'agent (LibreOffice)")
    ap.add_argument("--de", type=int, default=0, help="première graine")
    ap.add_argument("--a", type=int, default=2000, help="graine de fin (exclue)")
    ap.add_argument("--journal", type=Path, default=Path("campagne.txt"))
    ap.add_argument("--bilan", type=Path, nargs="+", help="résumer des journaux de campagne")
    args = ap.parse_args()
    if args.bilan:
        return bilan(args.bilan)
    campaign(args.de, args.a, args.journal)
    return 0


if __name__ == "__main__":
    sys.exit(main())
