"""LibreOffice headless, as the project uses it: a private profile (so that
no user setting and no running instance interferes), optionally French and
with recalculation forced on load, and one conversion command."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Optional, Sequence

_ITEM = ('<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>')


def soffice() -> Optional[str]:
    return shutil.which("soffice") or shutil.which("libreoffice")


def profile(folder: Path, french: bool = False, recalc: bool = True) -> str:
    """Create the profile in ``folder``; returns the -env argument that selects it.
    ``recalc``: formulas are recalculated on load, whatever the cached values say."""
    items = []
    if recalc:
        items += [_ITEM.format(path="/org.openoffice.Office.Calc/Formula/Load", name=n, value=0)
                  for n in ("OOXMLRecalcMode", "ODFRecalcMode")]
    if french:
        items += [_ITEM.format(path="/org.openoffice.Setup/L10N", name=n, value="fr-FR")
                  for n in ("ooSetupSystemLocale", "ooLocale")]
    (folder / "user").mkdir(parents=True, exist_ok=True)
    (folder / "user" / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        + "\n".join(items) + "\n</oor:items>\n", encoding="utf-8")
    return f"-env:UserInstallation=file://{folder.resolve()}"


def convert_command(exe: str, env_arg: str, target: str, outdir: Path, files: Sequence[str]) -> list[str]:
    """``target``: "xlsx:Calc MS Excel 2007 XML" or "pdf:calc_pdf_Export"."""
    return [exe, env_arg, "--headless", "--norestore", "--convert-to", target, "--outdir", str(outdir), *files]


def convert(exe: str, env_arg: str, target: str, outdir: Path, files: Sequence[str],
            timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(convert_command(exe, env_arg, target, outdir, files), capture_output=True, text=True,
                          timeout=timeout)
