"""Mutants of a workbook, for the fuzzer: deterministic by seed, at the
zip, XML and value levels, as a broken disk, a careless tool or an
attacker would make them."""
from __future__ import annotations

import io
import random
import re
import zipfile

TOKENS = ["", "-1", "1e308", "NaN", "abc", "#N/A", "=1+1", "9" * 30, "1,5", "35 813 €", "(1 234,50)",
          "\u22121 234,5", "&#1;", "Action 4.2", "TOTAL", "SOUS-TOTAL SOCLE", "parité", "libre", "0304 50 19 19 07",
          "x" * 40000, "-0", "0.000001", "1 201 409,00 €", "Engagements du socle", "Initiatives locales"]
TYPES = ["s", "n", "b", "e", "str", "inlineStr", "d", "zz", ""]
SHEET_NAMES = ["", "Maquette", "Contrôles", "calpae_technique", "x" * 40, "A/B", "'", "Fiche S 4.2", "Journal"]

_V = re.compile(rb"<v>[^<]*</v>")
_T = re.compile(rb"<t(?: [^>]*)?>[^<]*</t>")
_TATTR = re.compile(rb' t="[^"]*"')
_SATTR = re.compile(rb' s="\d+"')
_RATTR = re.compile(rb' r="[A-Z]*\d*"')
_ROW = re.compile(rb"<row [^>]*>.*?</row>", re.S)
_NAME = re.compile(rb'<sheet name="[^"]*"')


def _xml_escape(s: str) -> bytes:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode("utf-8")


def _sub_one(rng: random.Random, pattern: re.Pattern, data: bytes, make) -> bytes:
    matches = list(pattern.finditer(data))
    if not matches:
        return data
    m = rng.choice(matches)
    return data[:m.start()] + make(m.group(0)) + data[m.end():]


def mutate_part(rng: random.Random, name: str, data: bytes) -> bytes:
    op = rng.randrange(11)
    if op == 0:
        return _sub_one(rng, _V, data, lambda _: b"<v>" + _xml_escape(rng.choice(TOKENS)) + b"</v>")
    if op == 1:
        return _sub_one(rng, _T, data, lambda _: b"<t>" + _xml_escape(rng.choice(TOKENS)) + b"</t>")
    if op == 2:
        return _sub_one(rng, _TATTR, data, lambda _: f' t="{rng.choice(TYPES)}"'.encode())
    if op == 3:
        return _sub_one(rng, _SATTR, data, lambda _: f' s="{rng.choice([0, 1, 999, 10**9])}"'.encode())
    if op == 4:
        col = "".join(rng.choice("ABCXZ") for _ in range(rng.randint(0, 3)))
        return _sub_one(rng, _RATTR, data, lambda _: f' r="{col}{rng.choice(["", 0, 1, 5, 99999])}"'.encode())
    if op == 5:
        return _sub_one(rng, _ROW, data, lambda _: b"")
    if op == 6:
        return _sub_one(rng, _ROW, data, lambda m: m + m)
    if op == 7:
        return data[:rng.randrange(max(1, len(data)))]
    if op == 8:
        pos = rng.randrange(max(1, len(data)))
        return data[:pos] + rng.choice([b"<", b"&", b"\x00", b"]]>", b"<x>", "é".encode(), b"\xff"]) + data[pos:]
    if op == 9:
        return _sub_one(rng, _NAME, data, lambda _: b'<sheet name="' + _xml_escape(rng.choice(SHEET_NAMES)) + b'"')
    # several value changes at once
    for _ in range(rng.randint(2, 8)):
        data = _sub_one(rng, _V, data, lambda _: b"<v>" + _xml_escape(rng.choice(TOKENS)) + b"</v>")
    return data


def mutant(base: bytes, seed: int) -> bytes:
    """One mutant of the package ``base``."""
    rng = random.Random(seed)
    if rng.random() < 0.08:  # bytes flipped anywhere (a damaged disk)
        raw = bytearray(base)
        for _ in range(rng.randint(1, 10)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        return bytes(raw)
    with zipfile.ZipFile(io.BytesIO(base)) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    names = sorted(parts)
    weights = [8 if n.startswith("xl/worksheets/") else 3 if n in ("xl/workbook.xml", "xl/styles.xml") else 1
               for n in names]
    for _ in range(rng.randint(1, 3)):
        name = rng.choices(names, weights)[0]
        if rng.random() < 0.05:
            parts.pop(name, None)
            continue
        if name in parts:
            parts[name] = mutate_part(rng, name, parts[name])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in parts.items():
            z.writestr(n, d)
    return out.getvalue()


# --- the worker side (runs in pool processes) --------------------------------------------

_BASE: bytes = b""
_DIR = ""


def init(base: bytes, folder: str) -> None:
    global _BASE, _DIR
    _BASE, _DIR = base, folder


def run_one(seed: int) -> tuple[int, str, str]:
    """(seed, outcome code, message): "ok", a refusal code, or ERREUR_INATTENDUE."""
    import os  # noqa: PLC0415
    from calpae_xl.cli import process_file  # noqa: PLC0415
    from calpae_xl.app.session import CONTROLER, FICHES, RECALCULER  # noqa: PLC0415
    path = os.path.join(_DIR, f"mutant_{seed}.xlsx")
    with open(path, "wb") as fh:
        fh.write(mutant(_BASE, seed))
    ops = [RECALCULER, CONTROLER, FICHES] if seed % 10 == 0 else [RECALCULER, CONTROLER]
    out_dir = os.path.join(_DIR, f"sortie_{seed}")
    result = process_file(path, ops, sortie=out_dir)
    if result.lisible and result.sortie:
        # what we wrote opens again with our reader, every sheet; and the save never makes a file
        # less readable: when openpyxl refuses the copy, it refused the original too (the package
        # writer copies the parts it does not touch as they were, flaws included)
        from calpae_xl.adapters.openpyxl_adapter import OpenpyxlWorkbook  # noqa: PLC0415
        from calpae_xl.adapters.xlsx import PackageWorkbook  # noqa: PLC0415
        from calpae_xl.errors import CalpaeError  # noqa: PLC0415
        try:
            again = PackageWorkbook.open(result.sortie)
            for name in again.sheet_names():
                again.read_sheet(name)
        except CalpaeError as e:
            return seed, "SORTIE_ILLISIBLE", e.message
        try:
            OpenpyxlWorkbook.open(result.sortie)
        except CalpaeError as e:
            try:
                OpenpyxlWorkbook.open(path)
            except CalpaeError:
                pass  # already refused before the save
            else:
                return seed, "SORTIE_DEGRADEE", e.message
    for p in (path, os.path.join(out_dir, f"mutant_{seed}.xlsx")):
        if os.path.exists(p):
            os.unlink(p)
    return seed, ("ok" if result.lisible else result.code or "?"), result.erreur or ""
