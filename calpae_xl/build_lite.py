"""The maquette for xlwings Lite (Python inside Excel, through Pyodide): no
Python to install on the workstation, no macro, Excel on the web included.

``calpae-xl paquet-lite DOSSIER [--url ADRESSE]`` writes what a Lite workbook
needs, built by the project itself:

- ``calpae_xl-<version>-py3-none-any.whl``: the project's wheel, built from the
  repository's sources (``pip wheel``, on a copy: an in-tree build would leave
  ``build/`` and ``*.egg-info`` behind). Its batch dependencies (openpyxl,
  pandas, lxml, tqdm) carry the marker ``sys_platform != "emscripten"``: the
  installer of Pyodide (micropip) leaves them out, the live path needs only
  xlwings.
- ``requirements.txt``: xlwings pinned, then the wheel's address (where the
  wheel is published: ``--url``; the project is not on PyPI).
- ``main.py``: the three scripts (:mod:`calpae_xl.xlwings_scripts`).
- ``maquette_vierge.xlsx`` and ``loiret_2020.xlsx``: the workbooks, whose
  Maquette sheet carries the three buttons as named shapes
  (``xl_recalculer``, ``xl_controler``, ``xl_fiches``), each a link to the
  cell under it, which is how xlwings Lite binds a sheet button to a script
  (``@script(button="[xl_recalculer]Maquette!N1")``).

Excel stores xlwings Lite's code inside the workbook: main.py and
requirements.txt are pasted once into the Lite editor, then the saved
workbook carries them.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional
from xml.sax.saxutils import escape, quoteattr

from . import __version__
from .workbook import layout as L
from .workbook.a1 import sheet_ref, split_ref

XLWINGS_VERSION = "0.37.8"  # as pinned by the extras of pyproject.toml
WHEEL = f"calpae_xl-{__version__}-py3-none-any.whl"
#: what requirements.txt names when the wheel's address is not given yet
PLACEHOLDER_URL = "https://ADRESSE-DE-PUBLICATION/calpae-xl/"
MAIN_PY = '''"""xlwings Lite : les trois boutons de la maquette financière CALPAE.

Les formes xl_recalculer, xl_controler et xl_fiches de la feuille Maquette
lancent Recalculer, Contrôler et Générer les fiches (calpae_xl.xlwings_scripts).
"""
from calpae_xl.xlwings_scripts import *  # noqa: F401,F403
'''
WORKBOOKS = {"maquette_vierge.xlsx": None, "loiret_2020.xlsx": "loiret-2020"}

#: the buttons: size in pixels (as the .xlsm's), colours of the header row
BUTTON_PX = (128, 30)
BUTTON_FILL, BUTTON_TEXT = "1F4E78", "FFFFFF"
EMU_PER_PX = 9525
_XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PR = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
DRAWING_REL = _R + "/drawing"
HYPERLINK_REL = _R + "/hyperlink"
DRAWING_TYPE = "application/vnd.openxmlformats-officedocument.drawing+xml"


class LiteBuildError(Exception):
    """The wheel could not be built (message in French, for the command)."""


# --- the wheel and the two text files -----------------------------------------------------

def source_root() -> Optional[Path]:
    """The repository the package runs from (an editable install), if any."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() else None


def build_wheel(out: Path, source: Optional[Path] = None) -> Path:
    """The project's pure-Python wheel, built from ``source`` (default: the
    repository this package runs from) into ``out``; returns its path."""
    source = source or source_root()
    if source is None or not (source / "pyproject.toml").is_file():
        raise LiteBuildError("le paquet se construit depuis une copie du dépôt de calpae-xl "
                             "(pip install -e . dans ce dépôt, puis relancer la commande)")
    out.mkdir(parents=True, exist_ok=True)
    target = out / WHEEL
    target.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="calpae-wheel-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(source / name, src / name)
        # symlinks followed: calpae_xl/data/calpae.bas is a link to macros/calpae.bas
        shutil.copytree(source / "calpae_xl", src / "calpae_xl", symlinks=False,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        built = Path(tmp) / "dist"
        cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(built), str(src)]
        # setuptools already here: no build environment to download; else pip makes one
        proc = subprocess.run(cmd[:5] + ["--no-build-isolation"] + cmd[5:], capture_output=True, text=True)
        if proc.returncode:
            proc = subprocess.run(cmd, capture_output=True, text=True)
        wheels = sorted(built.glob("calpae_xl-*.whl"))
        if proc.returncode or not wheels:
            raise LiteBuildError("pip n'a pas pu construire le paquet : " + (proc.stderr or proc.stdout)[-800:])
        if wheels[0].name != WHEEL:
            raise LiteBuildError(f"paquet {wheels[0].name} inattendu (version {__version__} attendue : "
                                 "pyproject.toml et calpae_xl/__init__.py doivent porter la même)")
        shutil.move(str(wheels[0]), target)
    return target


def requirements_text(url: Optional[str] = None) -> str:
    """requirements.txt of the Lite workbook: xlwings and this version's wheel, pinned."""
    base = (url or PLACEHOLDER_URL).rstrip("/") + "/"
    return (f"xlwings=={XLWINGS_VERSION}\n"
            f"{base}{WHEEL}\n")


# --- the buttons: a drawing part with three named shapes ----------------------------------

def _col_px(width: Optional[float]) -> int:
    return int((width if width is not None else 8.43) * 7 + 5)


def _shape(i: int, caption: str, name: str, cell: str, rid: str, col_widths: dict[int, float]) -> str:
    row, col = split_ref(cell)
    w, h = BUTTON_PX
    x = sum(_col_px(col_widths.get(c)) for c in range(1, col)) * EMU_PER_PX
    y = (row - 1) * 20 * EMU_PER_PX
    cx, cy = w * EMU_PER_PX, h * EMU_PER_PX
    text = escape(caption)
    return (f'<xdr:oneCellAnchor><xdr:from><xdr:col>{col - 1}</xdr:col><xdr:colOff>0</xdr:colOff>'
            f'<xdr:row>{row - 1}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:ext cx="{cx}" cy="{cy}"/>'
            f'<xdr:sp macro="" textlink=""><xdr:nvSpPr>'
            f'<xdr:cNvPr id="{i + 2}" name="{name}" descr={quoteattr(caption)}>'
            f'<a:hlinkClick r:id="{rid}" tooltip={quoteattr(caption)}/></xdr:cNvPr><xdr:cNvSpPr/></xdr:nvSpPr>'
            f'<xdr:spPr><a:xfrm><a:off x="{x}" y="{y}"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
            '<a:prstGeom prst="roundRect"><a:avLst/></a:prstGeom>'
            f'<a:solidFill><a:srgbClr val="{BUTTON_FILL}"/></a:solidFill>'
            f'<a:ln w="9525"><a:solidFill><a:srgbClr val="{BUTTON_FILL}"/></a:solidFill></a:ln></xdr:spPr>'
            '<xdr:txBody><a:bodyPr vertOverflow="clip" horzOverflow="clip" wrap="square" rtlCol="0" anchor="ctr"/>'
            '<a:lstStyle/><a:p><a:pPr algn="ctr"/>'
            f'<a:r><a:rPr lang="fr-FR" sz="1100" b="1"><a:solidFill><a:srgbClr val="{BUTTON_TEXT}"/></a:solidFill>'
            f'</a:rPr><a:t>{text}</a:t></a:r></a:p></xdr:txBody></xdr:sp>'
            # a button is not part of the printed annex
            '<xdr:clientData fPrintsWithSheet="0"/></xdr:oneCellAnchor>')


def _rels_path(part: str) -> str:
    folder, name = part.rsplit("/", 1)
    return f"{folder}/_rels/{name}.rels"


def add_buttons(path: str, sheet: str = L.MAQUETTE) -> None:
    """Draw the three buttons on ``sheet`` of the workbook at ``path``: named
    shapes, each linked to the cell it covers. The other parts are copied as
    they are. A sheet that already has a drawing is refused (nothing to merge
    into, in a workbook the project has just built)."""
    from lxml import etree  # noqa: PLC0415 - a build step, never on the live path

    from .adapters.ooxml import sheet_xml_paths  # noqa: PLC0415
    from .adapters.xlsx.xml import PARSER, WS_ORDER, place  # noqa: PLC0415
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
        infos = {i.filename: i for i in z.infolist()}
        part = sheet_xml_paths(z)[sheet]
    root = etree.fromstring(parts[part], PARSER)
    m = root.nsmap.get(None)
    if root.find("{%s}drawing" % m) is not None:
        raise ValueError(f"la feuille {sheet} a déjà des dessins")
    widths: dict[int, float] = {}
    for c in root.iterfind("{%s}cols/{%s}col" % (m, m)):
        for k in range(int(c.get("min")), int(c.get("max")) + 1):
            widths[k] = float(c.get("width", "8.43"))
    n = 1
    while f"xl/drawings/drawing{n}.xml" in parts:
        n += 1
    drawing = f"xl/drawings/drawing{n}.xml"
    links, shapes = [], []
    for i, (caption, _sub, shape, cell) in enumerate(L.BUTTONS):
        rid = f"rId{i + 1}"
        links.append(f'<Relationship Id="{rid}" Type="{HYPERLINK_REL}" Target="#{sheet_ref(sheet)}!{cell}"/>')
        shapes.append(_shape(i, caption, shape, cell, rid, widths))
    decl = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    parts[drawing] = (f'{decl}<xdr:wsDr xmlns:xdr="{_XDR}" xmlns:a="{_A}" xmlns:r="{_R}">'
                      + "".join(shapes) + "</xdr:wsDr>").encode()
    parts[_rels_path(drawing)] = (f'{decl}<Relationships xmlns="{_PR}">' + "".join(links)
                                  + "</Relationships>").encode()
    # the sheet's relationship to its drawing, and the <drawing> element at its place
    rels_name = _rels_path(part)
    if rels_name in parts:
        rels = etree.fromstring(parts[rels_name], PARSER)
    else:
        rels = etree.Element("{%s}Relationships" % _PR, nsmap={None: _PR})
    ids = {r.get("Id") for r in rels}
    k = 1
    while f"rId{k}" in ids:
        k += 1
    etree.SubElement(rels, "{%s}Relationship" % _PR, Id=f"rId{k}", Type=DRAWING_REL,
                     Target=f"../drawings/drawing{n}.xml")
    parts[rels_name] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8", standalone=True)
    el = etree.Element("{%s}drawing" % m)
    el.set("{%s}id" % _R, f"rId{k}")
    place(root, el, WS_ORDER)
    parts[part] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    types = etree.fromstring(parts["[Content_Types].xml"], PARSER)
    etree.SubElement(types, "{%s}Override" % _CT, PartName="/" + drawing, ContentType=DRAWING_TYPE)
    parts["[Content_Types].xml"] = etree.tostring(types, xml_declaration=True, encoding="UTF-8", standalone=True)
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            info = infos.get(name) or zipfile.ZipInfo(name, date_time=infos[part].date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(info, data)
    os.replace(tmp, path)


def write_workbook(target: str, example: Optional[str] = None, departement: str = "", annee: int = 0,
                   empty_rows: int = 10) -> None:
    """A workbook for xlwings Lite: the same sheets as ``calpae-xl nouveau``
    (an example is recalculated, checked and given its fiches, as
    ``calpae-xl exemple`` does), plus the three buttons."""
    from .app.session import CONTROLER, FICHES, RECALCULER, process_file  # noqa: PLC0415
    from .app.template import write_example, write_template  # noqa: PLC0415
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    if example:
        write_example(target, example)
    else:
        write_template(target, departement, annee, empty_rows)
    add_buttons(target)
    if example:  # through the commands' writer, which keeps the drawing as it is
        result = process_file(target, [RECALCULER, CONTROLER, FICHES], backup=False)
        if not result.lisible:
            raise LiteBuildError(result.erreur or "classeur illisible")


@dataclass
class Placed:
    """What ``paquet-lite`` did with one file."""

    path: str
    changed: bool = False
    backup: Optional[str] = None
    kept: bool = False  # a workbook modified since: left as it is (``--force`` replaces it)


def build(folder: str, url: Optional[str] = None, wheel: bool = True, force: bool = False) -> list[Placed]:
    """Everything ``paquet-lite`` writes into ``folder``, made whole in a
    private folder, then placed through the save frame, under the files'
    locks. A file already there and the same is left alone (read-only too).
    A workbook that differs (the officer typed in it) is kept as it is, and
    said; ``force`` replaces it, its previous version kept as NAME.bak.xlsx.
    requirements.txt, main.py and the wheel are replaced when a previous
    ``paquet-lite`` wrote them (re-running with ``--url``; without it, the
    address requirements.txt names already stays); a main.py or a
    requirements.txt that is not the tool's stops the command before
    anything is written, even with ``force``: no backup could be promised."""
    from functools import partial  # noqa: PLC0415

    from .adapters import saveframe  # noqa: PLC0415
    from .errors import UnwritableFile  # noqa: PLC0415
    out = Path(folder)
    saveframe.ensure_folder(str(out))
    names = list(WORKBOOKS) + ["requirements.txt", "main.py"] + ([WHEEL] if wheel else [])
    for name in names[len(WORKBOOKS):]:
        if not _ours(out / name):
            raise UnwritableFile(str(out / name), "ce fichier n'est pas celui qu'écrit paquet-lite (il a été modifié, "
                                                  "ou il est à vous) : il n'est pas remplacé, même avec --force. "
                                                  "Choisissez un autre dossier, ou déplacez-le", "FICHIER_EXISTANT")
    url = url or _published(out / "requirements.txt")  # run again without --url: the address given before stays
    with saveframe.exclusive(*(str(out / n) for n in names)), \
            tempfile.TemporaryDirectory(prefix="calpae-") as work:
        staged = Path(work)
        for name, example in WORKBOOKS.items():
            with saveframe.said_about(str(out / name)):
                write_workbook(str(staged / name), example)
        for name, text in (("requirements.txt", requirements_text(url)), ("main.py", MAIN_PY)):
            with saveframe.said_about(str(out / name)):
                (staged / name).write_text(text, encoding="utf-8")
        if wheel:
            build_wheel(staged)
        placed = {n: Placed(str(out / n)) for n in names}
        outputs = []
        for n in names:
            target = out / n
            if os.path.lexists(target) and saveframe.same_content(str(staged / n), str(target)):
                continue  # the same: left as it is
            if n in WORKBOOKS and os.path.isfile(target) and not force:
                placed[n].kept = True
                continue
            outputs.append(saveframe.Output(str(target), partial(shutil.copyfile, staged / n),
                                            saveframe.verify_package() if n in WORKBOOKS else None))
        for w in saveframe.write_all(outputs, force=True):  # every check before the first file is replaced
            name = Path(w.path).name
            placed[name].changed, placed[name].backup = w.changed, w.backup
    return [placed[n] for n in ([WHEEL] if wheel else []) + ["requirements.txt", "main.py"] + list(WORKBOOKS)]


def _ours(path: Path) -> bool:
    """``path`` is absent, or a file ``paquet-lite`` writes: the wheel, a
    requirements.txt of exactly its two lines (any versions, any address),
    a main.py exactly as it writes it."""
    if not os.path.lexists(path):
        return True
    if path.name.startswith("calpae_xl-") and path.suffix == ".whl":
        return True
    try:
        if not os.path.isfile(path) or os.path.getsize(path) > 4096:
            return False
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if path.name == "main.py":
        return text == MAIN_PY
    lines = text.splitlines()
    return len(lines) == 2 and re.fullmatch(r"xlwings==[\w.]+", lines[0]) is not None and \
        re.fullmatch(r"\S+/calpae_xl-[\w.]+-py3-none-any\.whl", lines[1]) is not None


def _published(path: Path) -> Optional[str]:
    """The address a requirements.txt of ``paquet-lite`` names, unless it is
    the placeholder (None then)."""
    if not os.path.isfile(path) or not _ours(path):
        return None
    base = path.read_text(encoding="utf-8").splitlines()[1].rsplit("/", 1)[0] + "/"
    return None if base == PLACEHOLDER_URL else base
