"""``calpae-xl pdf``: the annex a préfecture attaches to the avenant, from a
workbook. The workbook is read through the package adapter, checked like
``controler`` does, and printed from the model by :mod:`.annex_pdf`
(ReportLab). While errors remain nothing is printed, unless the user insists
(``forcer``): the PDF then says « PROJET — erreurs non corrigées » on every page.

The workbook itself is never changed. The PDF is written through the save
frame (:func:`calpae_xl.adapters.saveframe.write`): never over the workbook,
an existing different PDF replaced only with ``force``, a failed or killed
run leaving the previous PDF as it was. The PDF is the same, byte for byte,
for the same workbook and options, so a second run leaves the file alone.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Optional

from ..core.findings import Finding, Severity, is_open
from ..errors import CalpaeError, UnwritableFile


class PdfFailed(CalpaeError):
    default_code = "PDF_ECHEC"
    template = "Le PDF de « {path} » n'a pas pu être produit : {reason}."


@dataclass
class PdfOutcome:
    """What ``pdf`` did: the PDF written (None when refused), the findings,
    whether it is a draft, its number of pages."""

    source: str
    target: Optional[str] = None
    findings: list[Finding] = field(default_factory=list)
    draft: bool = False
    pages: int = 0
    written: Optional[object] = None  # the save frame's Written (changed or left as it was)

    @property
    def errors(self) -> list[Finding]:
        """The erreurs still open (one the Département justified, or the State accepted, no longer stops it)."""
        return [f for f in self.findings if f.severity is Severity.ERREUR and is_open(f)]


def default_target(src: str) -> str:
    return str(Path(src).with_suffix(".pdf"))


def annex_pdf(src: str, target: Optional[str] = None, *, avenant: str = "", controles: bool = False,
              forcer: bool = False, credits: Optional[Decimal] = None, report: Optional[Decimal] = None,
              force: bool = False, profile=None) -> PdfOutcome:
    """Read ``src``, check it, and write its annex to ``target`` (default: the
    workbook's name with .pdf) — unless errors remain and ``forcer`` is not
    set: then nothing is written and ``target`` stays None. ``force``: an
    existing, different PDF is replaced (the save frame's rule)."""
    from ..adapters import saveframe  # noqa: PLC0415
    from ..adapters.xlsx import PackageWorkbook  # noqa: PLC0415 - the batch adapter, imported when used
    from .annex_pdf import AnnexOptions, LayoutImpossible, write_annex_pdf  # noqa: PLC0415
    target = str(target or default_target(src))
    saveframe.check_output(target, inputs=[src])  # before the work: the workbook itself, a folder, a file open…
    if Path(target).suffix.lower() != ".pdf":
        raise UnwritableFile(target, "le nom du PDF doit finir par .pdf (un classeur n'est jamais écrasé par le PDF)")
    from ..app.session import CONTROLER, run  # noqa: PLC0415
    from ..core.profile import profile_of  # noqa: PLC0415
    wb = PackageWorkbook.open(src)
    # the checks as « controler » runs them (every year of a contract, then the contract; the answers read),
    # and the model they read: the workbook is read once
    checked = run(wb, [CONTROLER], credits, report, write=False, profile=profile)
    findings = checked.findings
    outcome = PdfOutcome(src, findings=findings)
    if outcome.errors and not forcer:
        return outcome
    outcome.draft = bool(outcome.errors)
    p = profile_of(checked.maquette)
    years = checked.years if len(checked.years) > 1 else []
    options = AnnexOptions(avenant=avenant or (f"Avenant n°{checked.avenant}" if checked.avenant else ""),
                           draft=outcome.draft, findings=findings if controles else None,
                           convention=p.intitule, group_header=p.word.capitalize(),
                           period=f"{p.annees[0]}-{p.annees[1]}" if years else "")
    buf = io.BytesIO()
    try:
        outcome.pages = write_annex_pdf(checked.maquette, buf, options, years=years).pages
    except CalpaeError:
        raise
    except LayoutImpossible as e:
        raise PdfFailed(src, str(e)) from None
    except Exception as e:  # noqa: BLE001 - the boundary: a layout the engine cannot build names the file
        raise PdfFailed(src, f"{type(e).__name__} : {str(e)[:300]}") from None
    data = buf.getvalue()

    def produce(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)
    saveframe.ensure_folder(str(Path(target).parent))
    outcome.written = saveframe.write(target, produce, inputs=[src], force=force, verify=saveframe.verify_pdf)
    outcome.target = target
    return outcome
