"""Compare workbooks on meaning: every cell's value (cached values for formulas),
formula, and the sheet list — not the bytes (zip timestamps differ)."""
from __future__ import annotations

import openpyxl


def snapshot(path, styles: bool = False) -> dict:
    out = {}
    f_wb = openpyxl.load_workbook(path)
    v_wb = openpyxl.load_workbook(path, data_only=True)
    out["__sheets__"] = f_wb.sheetnames
    for name in f_wb.sheetnames:
        fs, vs = f_wb[name], v_wb[name]
        cells = {}
        for row in fs.iter_rows():
            for c in row:
                v = vs[c.coordinate].value
                if c.value is None and v is None:
                    continue
                entry = (c.value, v if not isinstance(v, float) else round(v, 2))
                if styles:
                    entry += (c.fill.start_color.rgb, c.number_format, c.font.b)
                cells[c.coordinate] = entry
        out[name] = cells
    return out


def diff(a: dict, b: dict, limit: int = 10) -> list[str]:
    out = []
    if a.get("__sheets__") != b.get("__sheets__"):
        out.append(f"feuilles : {a.get('__sheets__')} != {b.get('__sheets__')}")
    for name in a.get("__sheets__", []):
        ca, cb = a.get(name, {}), b.get(name, {})
        for k in sorted(set(ca) | set(cb)):
            if ca.get(k) != cb.get(k):
                out.append(f"{name}!{k} : {ca.get(k)!r} != {cb.get(k)!r}")
                if len(out) >= limit:
                    return out
    return out
