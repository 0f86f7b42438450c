"""Compare workbooks on meaning: every cell's value (cached values for formulas),
formula, and the sheet list — not the bytes (zip timestamps differ)."""
from __future__ import annotations

import openpyxl

RECEIPT_SHEET = "calpae_technique"


def _style(c) -> tuple:
    """Everything a cell's format says, as openpyxl reads it."""
    f, al, b = c.font, c.alignment, c.border
    # a flag left out and a flag written "false" say the same thing
    return (c.fill.fill_type, c.fill.start_color.rgb, c.number_format, bool(f.b), bool(f.i), f.sz, f.name,
            f.color.rgb if f.color else None, bool(al.wrap_text), al.vertical, al.horizontal, b.left.style,
            b.top.style, bool(c.quotePrefix))


def _print(ws) -> tuple:
    """How the sheet prints: page setup, print titles and area, margins, footer."""
    ps, pr, m = ws.page_setup, ws.sheet_properties.pageSetUpPr, ws.page_margins
    return (ps.orientation, ps.paperSize, bool(pr and pr.fitToPage), ps.fitToWidth, ps.fitToHeight, ps.scale,
            ws.print_title_rows, ws.print_area, tuple(round(x or 0, 4) for x in (m.left, m.right, m.top, m.bottom)),
            ws.oddFooter.center.text)


def _sheet_features(ws) -> dict:
    cf = sorted((str(r.sqref), tuple(rule.formula or ()), rule.dxf.fill.fgColor.rgb if rule.dxf and rule.dxf.fill
                 else None, rule.dxf.font.color.rgb if rule.dxf and rule.dxf.font and rule.dxf.font.color else None)
                for r in ws.conditional_formatting for rule in r.rules)
    return {"state": ws.sheet_state, "merged": sorted(str(m) for m in ws.merged_cells.ranges),
            "freeze": ws.freeze_panes,
            "tab": ws.sheet_properties.tabColor.rgb if ws.sheet_properties.tabColor else None,
            "widths": {k: d.width for k, d in ws.column_dimensions.items() if d.customWidth},
            "validations": sorted((str(dv.sqref), dv.formula1) for dv in ws.data_validations.dataValidation),
            "conditional": cf, "print": _print(ws),
            "heights": {r: d.height for r, d in ws.row_dimensions.items() if d.height is not None}}


def features(path) -> dict:
    """The sheets' own features and the workbook's names."""
    wb = openpyxl.load_workbook(path)
    return {"names": {k: v.attr_text for k, v in wb.defined_names.items()},
            "sheets": {ws.title: _sheet_features(ws) for ws in wb.worksheets}}


def snapshot(path, styles: bool = False, full: bool = False) -> dict:
    """``styles``: fill, number format, bold; ``full``: every format, and the
    sheets' own features (merges, panes, widths, lists, conditional formats)
    and the workbook's names."""
    out = {}
    f_wb = openpyxl.load_workbook(path)
    v_wb = openpyxl.load_workbook(path, data_only=True)
    out["__sheets__"] = f_wb.sheetnames
    if full:
        out["__names__"] = {k: v.attr_text for k, v in f_wb.defined_names.items()}
        out["__features__"] = {ws.title: _sheet_features(ws) for ws in f_wb.worksheets}
    for name in f_wb.sheetnames:
        fs, vs = f_wb[name], v_wb[name]
        cells = {}
        for row in fs.iter_rows():
            for c in row:
                v = vs[c.coordinate].value
                if c.value is None and v is None and not (full and c.has_style):
                    continue
                if name == RECEIPT_SHEET and isinstance(c.value, str) and c.value.startswith("date="):
                    v = "date=(date du contrôle)"  # the check receipt's date: when the file was built
                    entry = (v, v)
                else:
                    entry = (c.value, v if not isinstance(v, float) else round(v, 2))
                if full:
                    entry += _style(c)
                elif styles:
                    entry += (c.fill.start_color.rgb, c.number_format, c.font.b)
                cells[c.coordinate] = entry
        out[name] = cells
    return out


def diff(a: dict, b: dict, limit: int = 10) -> list[str]:
    out = []
    if a.get("__sheets__") != b.get("__sheets__"):
        out.append(f"feuilles : {a.get('__sheets__')} != {b.get('__sheets__')}")
    for key in ("__names__", "__features__"):
        if a.get(key) != b.get(key):
            for k in sorted(set(a.get(key) or {}) | set(b.get(key) or {})):
                if (a.get(key) or {}).get(k) != (b.get(key) or {}).get(k):
                    out.append(f"{key} {k} : {(a.get(key) or {}).get(k)!r} != {(b.get(key) or {}).get(k)!r}")
    for name in a.get("__sheets__", []):
        ca, cb = a.get(name, {}), b.get(name, {})
        for k in sorted(set(ca) | set(cb)):
            if ca.get(k) != cb.get(k):
                out.append(f"{name}!{k} : {ca.get(k)!r} != {cb.get(k)!r}")
                if len(out) >= limit:
                    return out
    return out
