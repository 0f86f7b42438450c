"""A mutation fuzzer on the Loiret workbook: every mutant is either processed
or refused by the project's own errors; no crash, no hang, no other
exception, and every file written opens again. The size of the run is
``--mutants`` (1 000 by default, in CI)."""
import collections
import concurrent.futures as cf

import pytest

from tests.helpers.samples import variant, write_variant
from tests.helpers import fuzz


@pytest.mark.slow
def test_mutants_never_crash_hang_or_raise(tmp_path, request):
    n = request.config.getoption("--mutants")
    base_path = tmp_path / "loiret.xlsx"
    write_variant(str(base_path), variant(), fiches=False)
    work = tmp_path / "mutants"
    work.mkdir()
    outcomes = collections.Counter()
    failures = []
    with cf.ProcessPoolExecutor(max_workers=2, initializer=fuzz.init,
                                initargs=(base_path.read_bytes(), str(work))) as pool:
        futures = {pool.submit(fuzz.run_one, seed): seed for seed in range(n)}
        for fut in cf.as_completed(futures, timeout=max(600, n)):  # a hang fails the test here
            seed, code, message = fut.result()  # a crashed worker raises BrokenProcessPool here
            outcomes[code] += 1
            if code in ("ERREUR_INATTENDUE", "SORTIE_ILLISIBLE", "SORTIE_DEGRADEE"):
                failures.append((seed, code, message))
    print(f"\n{n} mutants : " + ", ".join(f"{k} {v}" for k, v in outcomes.most_common()))
    assert failures == [], failures[:10]
    assert sum(outcomes.values()) == n
    assert outcomes["ok"] > n // 5  # most mutations still leave a maquette to work on
