"""Running one function over many workbooks: the files of a folder, and the
map over them on every core with a progress bar (``lot`` and ``consolider``)."""
from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Optional, Sequence, TypeVar

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
R = TypeVar("R")


def find_workbooks(folder: str) -> list[str]:
    """The workbooks below ``folder`` (sub-folders included), without Excel's
    owner files, the project's temporary files and its backups. A name of a
    workbook that is not a regular file (a FIFO, a device, a broken link) is
    listed too: the gate refuses it by name (PAS_UN_FICHIER), never silently
    left out."""
    out = []
    for p in sorted(Path(folder).rglob("*")):
        name = p.name
        if (not p.is_dir() and p.suffix.lower() in WORKBOOK_SUFFIXES and not name.startswith(("~$", ".~calpae-"))
                and ".bak." not in name):
            out.append(str(p))
    return out


def map_files(func: Callable[[str], R], files: Sequence[str], jobs: int = 1, progress: bool = False,
              desc: str = "calpae-xl") -> list[R]:
    """``[func(f) for f in files]``, in ``jobs`` processes when there is more
    than one file; ``func`` must never raise (each file's failure is its result)."""
    if jobs <= 1 or len(files) <= 1:
        return [func(f) for f in _progress(files, progress, len(files), desc)]
    with ProcessPoolExecutor(max_workers=min(jobs, len(files))) as pool:
        futures = [pool.submit(func, f) for f in files]
        return [fut.result() for fut in _progress(futures, progress, len(files), desc)]


def _progress(items, enabled: bool, total: Optional[int], desc: str):
    if not enabled:
        return items
    try:
        from tqdm import tqdm  # noqa: PLC0415
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return items
    return tqdm(items, total=total, unit="fichier", file=sys.stderr, desc=desc)
