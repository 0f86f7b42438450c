"""Writing a text report (JSON, HTML) the way workbooks are written: a
temporary file in the target's folder, synchronised, then moved into place,
so that a report interrupted half-way never replaces a good one."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import UnwritableFile


def write_text(target: str, text: str) -> str:
    """Write ``text`` (UTF-8) to ``target`` atomically; returns the path."""
    folder = Path(target).resolve().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".~calpae-", suffix=Path(target).suffix, dir=str(folder))
    except OSError as e:
        raise UnwritableFile(target, e.strerror or str(e)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, target)
    except OSError as e:
        raise UnwritableFile(target, e.strerror or str(e)) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return str(target)
