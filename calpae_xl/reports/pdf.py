"""The annex as PDF, ready to attach to the avenant: the maquette and the
fiches, through LibreOffice headless.

A copy of the workbook gets its page setup (landscape maquette fitted to
the page width, header rows repeated on each page, portrait fiches) and only
the sheets to print left visible; LibreOffice, started with a private
profile in French (so that "#,##0.00 €" prints as 1 201 409,00 €), converts it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Optional

from ..core.texts import shown
from ..errors import CalpaeError
from ..workbook import layout as L
from ..workbook.port import PageSetup, SheetSetup, SheetVisibility
from . import libreoffice as lo


class NoLibreOffice(CalpaeError):
    default_code = "LIBREOFFICE_ABSENT"
    template = ("Impossible de produire le PDF de « {path} » : {reason}. Installez LibreOffice "
                "(sous Debian/Ubuntu : apt-get install libreoffice-calc-nogui), puis recommencez.")


class PdfFailed(CalpaeError):
    default_code = "PDF_ECHEC"
    template = "Le PDF de « {path} » n'a pas pu être produit : {reason}."


def prepare(src: str, dst: str, include_controles: bool = False) -> list[str]:
    """The copy to print: page setup, and only the maquette and fiches visible.
    Returns the printed sheets."""
    from ..adapters.openpyxl_adapter import OpenpyxlWorkbook  # noqa: PLC0415
    from ..workbook.reader import read_workbook  # noqa: PLC0415
    wb = OpenpyxlWorkbook.open(src)
    names = wb.sheet_names()
    read = read_workbook(names, wb.read_sheet, src)
    printed = [read.table.sheet] + sorted({f.sheet for f in read.fiches.values()}, key=names.index)
    if include_controles and L.CONTROLES in names:
        printed.insert(1, L.CONTROLES)
    table = read.table
    last = table.total_row or table.last_row or table.header_row
    ops: list = [SheetVisibility(read.table.sheet, True)]
    ops += [SheetVisibility(s, s in printed) for s in names if s != read.table.sheet]
    ops.append(SheetSetup(table.sheet, widths=_amount_widths(read)))
    ops.append(PageSetup(table.sheet, landscape=True, title_rows=(table.header_row, table.header_row),
                         area=f"A1:{L.a1(last, max(table.cols.values()))}", footer="Page &P / &N"))
    for name in printed[1:]:
        controles = name == L.CONTROLES
        n_rows = wb.read_sheet(name).n_rows
        ops.append(PageSetup(name, landscape=controles,
                             area=f"A1:{L.a1(max(n_rows, 1), len(L.CONTROLES_HEADERS) if controles else 2)}",
                             footer="&A — page &P / &N"))
    wb.apply(ops)
    wb.save(dst, backup=False)
    return printed


def _amount_widths(read) -> dict[int, float]:
    """Amount columns wide enough for the widest figure of the table, totals
    in bold included: a printed annex never shows « ### » (at the template's
    width, 14-character totals such as 1 201 409,00 € do not fit in bold
    with Calibri or its metric twin Carlito)."""
    from ..core.money import format_eur  # noqa: PLC0415
    from ..core.rules import grand_total  # noqa: PLC0415
    totals = grand_total(read.maquette)
    longest = max([len(format_eur(v)) for v in totals.values() if v is not None] + [0])
    width = float(max(L.AMOUNT_WIDTH, longest + 5))
    return {col: width for field, col in read.table.cols.items() if field in L.AMOUNT_FIELDS}


def to_pdf(src: str, target: Optional[str] = None, include_controles: bool = False, timeout: int = 300,
           force: bool = False) -> str:
    """Write ``target`` (default: next to the workbook, same name, .pdf)
    through the save frame: never over the workbook itself, nor over an
    existing file without ``force`` (a PDF is never byte-identical to the
    previous one: the refusal comes before LibreOffice runs)."""
    from ..adapters import saveframe  # noqa: PLC0415
    target = target or str(Path(src).with_suffix(".pdf"))
    saveframe.check_output(target, inputs=[src], force=force)
    exe = lo.soffice()
    if exe is None:
        raise NoLibreOffice(src, "LibreOffice (soffice) n'est pas installé sur ce poste")
    with saveframe.staging(target) as work:
        copy = os.path.join(work, shown(Path(src).stem) + ".xlsx")  # LibreOffice opens UTF-8 names only
        prepare(src, copy, include_controles)
        env_arg = lo.profile(Path(work) / "profil", french=True)
        out = Path(work) / "pdf"
        try:
            proc = lo.convert(exe, env_arg, "pdf:calc_pdf_Export", out, [copy], timeout)
        except subprocess.TimeoutExpired:
            raise PdfFailed(src, f"LibreOffice n'a pas répondu en {timeout} s") from None
        produced = out / (Path(copy).stem + ".pdf")
        if proc.returncode != 0 or not produced.exists():
            raise PdfFailed(src, (proc.stderr or proc.stdout or "LibreOffice n'a rien produit").strip()[-300:])
        saveframe.ensure_folder(str(Path(target).parent))
        saveframe.write(target, lambda tmp: shutil.copyfile(produced, tmp), inputs=[src], force=force,
                        verify=saveframe.verify_pdf)
    return target
