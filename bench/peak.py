"""Run a module as ``python -m`` would, then write this process's peak
resident memory (VmHWM, in KiB) to the file named by CALPAE_PEAK_FILE.

ru_maxrss of a child started by fork carries the parent's memory at the
fork; VmHWM belongs to the process image after exec, so it is the child's own.
"""
import atexit
import os
import runpy
import sys


def _report() -> None:
    target = os.environ.get("CALPAE_PEAK_FILE")
    if not target:
        return
    with open("/proc/self/status") as fh:
        kib = next(line.split()[1] for line in fh if line.startswith("VmHWM:"))
    with open(target, "w") as out:
        out.write(kib)


if __name__ == "__main__":
    atexit.register(_report)
    module = sys.argv[2]
    sys.argv = [module] + sys.argv[3:]
    runpy.run_module(module, run_name="__main__", alter_sys=True)  # atexit reports, SystemExit included
