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
import tempfile
from pathlib import Path
from typing import Optional

from . import layout as L
from . import libreoffice as lo
from .errors import CalpaeError



class NoLibreOffice(CalpaeError):
    template = ("Impossible de produire le PDF de « {path} » : {reason}. Installez LibreOffice "
                "(sous Debian/Ubuntu : apt-get install libreoffice-calc-nogui), puis recommencez.")


class PdfFailed(CalpaeError):
    template = "Le PDF de « {path} » n'a pas pu être produit : {reason}."


def prepare(src: str, dst: str, include_controles: bool = False) -> list[str]:
    """The copy to print: page setup, and only the maquette and fiches visible.
    Returns the printed sheets."""
    from .adapters.openpyxl_adapter import OpenpyxlWorkbook  # noqa: PLC0415
    from .reader import read_workbook  # noqa: PLC0415
    wb = OpenpyxlWorkbook.open(src)
    read = read_workbook(wb.sheet_names(), wb.read_sheet, src)
    printed = [read.table.sheet] + sorted({f.sheet for f in read.fiches.values()},
                                          key=wb.sheet_names().index)
    if include_controles and L.CONTROLES in wb.sheet_names():
        printed.insert(1, L.CONTROLES)
    book = wb.wb
    for ws in book.worksheets:
        ws.sheet_state = "visible" if ws.title in printed else "hidden"
    book.active = book.sheetnames.index(read.table.sheet)
    m = book[read.table.sheet]
    m.page_setup.orientation = "landscape"
    m.page_setup.paperSize = m.PAPERSIZE_A4
    m.sheet_properties.pageSetUpPr.fitToPage = True
    m.page_setup.fitToWidth, m.page_setup.fitToHeight = 1, 0
    m.print_title_rows = f"{read.table.header_row}:{read.table.header_row}"
    last = read.table.total_row or read.table.last_row or m.max_row
    m.print_area = f"A1:{L.col_letter(max(read.table.cols.values()))}{last}"
    m.oddFooter.center.text = "Page &P / &N"
    for name in printed[1:]:
        ws = book[name]
        ws.page_setup.orientation = "portrait" if name != L.CONTROLES else "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.print_area = f"A1:B{ws.max_row}" if name != L.CONTROLES else f"A1:F{ws.max_row}"
        ws.oddFooter.center.text = "&A — page &P / &N"
    wb.save(dst, backup=False)
    return printed


def to_pdf(src: str, target: Optional[str] = None, include_controles: bool = False, timeout: int = 300) -> str:
    """Write ``target`` (default: next to the workbook, same name, .pdf)."""
    exe = lo.soffice()
    if exe is None:
        raise NoLibreOffice(src, "LibreOffice (soffice) n'est pas installé sur ce poste")
    target = target or str(Path(src).with_suffix(".pdf"))
    with tempfile.TemporaryDirectory(prefix="calpae-pdf-") as work:
        copy = os.path.join(work, Path(src).stem + ".xlsx")
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
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(produced), target)
    return target
