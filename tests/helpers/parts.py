"""Editing a workbook's package part by part: how the tests build odd files."""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Callable, Optional

from calpae_xl.adapters.ooxml import sheet_xml_paths


def edit_parts(src: Path, edit: Callable[[dict, dict], None], dst: Optional[Path] = None) -> Path:
    """Rewrite the package ``src`` into ``dst`` (default: in place).
    ``edit(parts, sheets)`` changes, adds or deletes entries of ``parts``
    ({part name: bytes}); ``sheets`` maps each sheet's name to its part."""
    with zipfile.ZipFile(src) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
        sheets = sheet_xml_paths(z)
    edit(parts, sheets)
    dst = dst or src
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return dst
