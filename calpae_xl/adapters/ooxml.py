"""What the headless adapters share about the package format: where a
sheet's part is, how a formula's cached value is read and written, and what
text a cell can hold."""
from __future__ import annotations

import re
import zipfile
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Optional
from xml.etree import ElementTree as ET

from ..core.checks import MAX_TEXT

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}
_NUMBER = re.compile(r"-?\d+(\.\d+)?(E[-+]?\d+)?", re.I)


def part_name(target: str) -> str:
    """The part a relationship of xl/workbook.xml points at ("worksheets/sheet1.xml",
    "/xl/worksheets/sheet1.xml", "../xl/..." all name a part from the package's root)."""
    if target.startswith("/"):
        return target.lstrip("/")
    parts: list[str] = []
    for seg in (PurePosixPath("xl") / target).parts:
        if seg == "..":
            if parts:
                parts.pop()
        elif seg != ".":
            parts.append(seg)
    return "/".join(parts)


def sheet_xml_paths(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> part name inside the package (through workbook.xml.rels)."""
    wb = ET.fromstring(z.read("xl/workbook.xml"))
    rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.findall("rel:Relationship", NS)}
    return {s.get("name"): part_name(targets.get(s.get("{%s}id" % NS["r"])) or "")
            for s in wb.findall("m:sheets/m:sheet", NS)}


def cached_value(t: str, text: Optional[str]):
    """A formula's cached value from its cell type and its <v> text (entities
    already resolved): a number is a Decimal (anything else in a number cell
    is no value), a boolean a bool, the rest text."""
    if text is None:
        return None
    if t == "n":
        return Decimal(text) if _NUMBER.fullmatch(text) else None
    if t == "b":
        return text == "1"
    return text


def value_text(v: object) -> Optional[tuple[str, str]]:
    """(t attribute, text before XML escaping) of a value written in a <v>."""
    if v is None:
        return None
    if isinstance(v, bool):
        return ("b", "1" if v else "0")
    if isinstance(v, (int, Decimal, float)):
        d = Decimal(str(v))
        return ("n", format(d.normalize(), "f") if d == d.to_integral_value() else format(d, "f"))
    return ("str", str(v))


# the control characters a cell cannot hold (openpyxl.cell.cell defines the same set; importing
# openpyxl for it would cost the batch 0.2 s per process)
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def clean_text(text: str) -> str:
    """What a cell can hold: no control characters, at most 32 767 characters
    (the checks report both as findings, on the user's text)."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return text[:MAX_TEXT]
