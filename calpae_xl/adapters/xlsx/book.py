"""The fast headless adapter: the workbook's package itself, through lxml.

openpyxl turns every part into objects and rewrites the whole package: for
the Loiret workbook that costs more than the three operations, and what it
cannot read (shapes, charts, x14 formats, slicers...) is lost. This adapter
checks that every XML part is well formed, indexes only the sheets it is
asked for (their cells held as text), changes only the cells, styles and
parts the plan names, and copies every other part of the package as it was.

Written the way openpyxl 3.1 writes them, so that both adapters give files
equal on meaning (a test compares them): strings inline, styles as new
``xf`` records merged over the cell's own, the cached value next to each
formula. calcChain is dropped and a full recalculation asked for on opening.
"""
from __future__ import annotations

import io
import zipfile
from typing import Any, Optional, Sequence
from xml.parsers import expat

from lxml import etree

from ...errors import CalpaeError, UnreadableFile, UnwritableFile
from ...workbook.port import (Block, ClearContents, ConditionalRule, DefineName, EnsureSheet, ForgetValue, Grid, Op,
                              PageSetup, SheetSetup, SheetVisibility, dispatch)
from .. import gate, safety, saveframe
from ..ooxml import part_name
from .sheet import Sheet, _string_item
from .styles import Styles
from .writer import PlanWriter
from .xml import (CALC_CHAIN_REL, CONTENT_TYPES, M, PACKAGE_PARTS, PARSER, PR, R, SHEET_ROOTS, SST_REL, STYLES_REL,
                  WB_ORDER, WORKBOOK, WORKBOOK_RELS, _local, child, q)


class PackageWorkbook(PlanWriter):
    """A workbook file read and written as its package (``.xlsx`` or ``.xlsm``)."""

    def __init__(self, path: str, blob: bytes):
        self.path = str(path)
        self.blob = blob
        self.zip = zipfile.ZipFile(io.BytesIO(blob))
        self.names = set(self.zip.namelist())
        self.stamp: Optional[tuple[int, int]] = None
        self.modified: set[str] = set()  # package-level parts to rewrite
        self.dropped: set[str] = set()
        self._grids: dict[str, Grid] = {}
        self._sheets: dict[str, Sheet] = {}
        self._trees: dict[str, Any] = {}
        self._target = self.path
        self.wb = self._xml(WORKBOOK)
        if self.wb.tag != q("workbook"):
            raise UnreadableFile(path, "le classeur n'est pas au format Office Open XML transitionnel "
                                       "(enregistrez-le depuis Excel au format .xlsx)", "CLASSEUR_INVALIDE")
        self.rels = self._xml(WORKBOOK_RELS)
        self.types = self._xml(CONTENT_TYPES)
        self.targets = {r.get("Id"): r for r in self.rels.iterfind("{%s}Relationship" % PR)}
        self.parts: dict[str, str] = {}
        for s in self.sheet_elements():
            rel = self.targets.get(s.get("{%s}id" % R))
            if rel is None:
                raise KeyError(f"relation de la feuille « {s.get('name')} »")
            self.parts[s.get("name")] = part_name(rel.get("Target", ""))
        pr = self.wb.find(q("workbookPr"))
        self.date1904 = pr is not None and pr.get("date1904") in ("1", "true")
        self._sst: Optional[list[str]] = None
        self._styles: Optional[Styles] = None
        self._check_parts()

    # package ---------------------------------------------------------------------------
    def _xml(self, name: str):
        tree = self._trees.pop(name, None)
        return tree if tree is not None else etree.fromstring(self.zip.read(name), PARSER)

    def _check_parts(self) -> None:
        """Every XML part must be well formed, the ones this adapter copies
        without reading them too: a file it writes opens again (the trees
        of the parts it reads are kept)."""
        roots = {p: {q(tag)} for p, tag in ((self._rel_part(STYLES_REL), "styleSheet"),
                                             (self._rel_part(SST_REL), "sst")) if p}
        keep = set(self.parts.values()) | set(roots)
        for name in self.zip.namelist():
            if name.endswith((".xml", ".rels")) and name not in PACKAGE_PARTS:  # those are parsed already
                try:
                    tree = etree.fromstring(self.zip.read(name), PARSER)
                except etree.XMLSyntaxError as e:
                    raise UnreadableFile(self.path, f"la partie « {name} » du classeur est abîmée ({e.msg})",
                                         "CLASSEUR_INVALIDE") from None
                if name in keep:
                    expected = roots.get(name, SHEET_ROOTS)
                    if tree.tag not in expected:
                        raise UnreadableFile(self.path, f"la partie « {name} » du classeur n'a pas la forme attendue "
                                                        f"({_local(tree)})", "CLASSEUR_INVALIDE")
                    self._trees[name] = tree

    def _rel_part(self, rel_type: str) -> Optional[str]:
        for rel in self.targets.values():
            if rel.get("Type") == rel_type:
                return part_name(rel.get("Target", ""))
        return None

    def sheet_elements(self) -> list:
        sheets = self.wb.find(q("sheets"))
        return list(sheets.iterfind(q("sheet"))) if sheets is not None else []

    # opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str) -> "PackageWorkbook":
        gate.preflight(path)  # before any parser: hostile and broken files stop here
        stamp = safety.stamp(path)
        try:
            with open(path, "rb") as fh:
                blob = fh.read()
            wbk = cls(path, blob)
        except CalpaeError:
            raise
        except zipfile.BadZipFile:
            raise UnreadableFile(path, "ce n'est pas un classeur Excel (.xlsx) valide", "ZIP_ABIME") from None
        except KeyError as e:
            raise UnreadableFile(path, f"partie manquante dans le classeur ({e})", "PARTIE_MANQUANTE") from None
        except Exception as e:  # noqa: BLE001 - the boundary: any parser failure names the file
            raise UnreadableFile(path, f"{type(e).__name__} : {str(e)[:200]}", "CLASSEUR_INVALIDE") from None
        wbk.stamp = stamp
        return wbk

    # reading ---------------------------------------------------------------------------
    def sheet_names(self) -> list[str]:
        return [s.get("name") for s in self.sheet_elements()]

    @property
    def styles(self) -> Styles:
        if self._styles is None:
            part = self._rel_part(STYLES_REL)
            if part and part in self.names:
                root = self._xml(part)
            else:
                part = "xl/styles.xml"
                root = etree.fromstring(f'<styleSheet xmlns="{M}"><fonts count="1"><font><sz val="11"/></font>'
                                        '</fonts><fills count="2"><fill><patternFill patternType="none"/></fill>'
                                        '<fill><patternFill patternType="gray125"/></fill></fills>'
                                        '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf '
                                        'numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
                                        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" '
                                        'xfId="0"/></cellXfs></styleSheet>')
                self._add_part(part, STYLES_REL, "application/vnd.openxmlformats-officedocument."
                                                 "spreadsheetml.styles+xml", "styles.xml")
            self._styles = Styles(root)
            self._styles_part = part
        return self._styles

    @property
    def shared_strings(self) -> list[str]:
        if self._sst is None:
            part = self._rel_part(SST_REL)
            self._sst = []
            if part and part in self.names:
                self._sst = [_string_item(si) for si in self._xml(part).iterfind(q("si"))]
        return self._sst

    def value(self, t: str, text: Optional[str]):
        """A cell's value as openpyxl reads it, from its type and its <v>
        (numbers and inline strings are read by the sheet itself)."""
        if t == "s":
            sst = self.shared_strings
            return sst[int(text)] if text is not None and text.isdigit() and int(text) < len(sst) else None
        if t == "b":
            return text is not None and text.strip() not in ("0", "false", "")
        if t == "d":
            from openpyxl.utils.datetime import from_ISO8601  # noqa: PLC0415
            return from_ISO8601(text) if text else None
        return text  # str, e

    def date(self, v, style: int):
        """A number in a date (or duration) format, as openpyxl reads it."""
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel  # noqa: PLC0415
        try:
            return from_excel(v, CALENDAR_MAC_1904 if self.date1904 else CALENDAR_WINDOWS_1900,
                              timedelta=style in self.styles.date_styles()[1])
        except (OverflowError, ValueError):
            return "#VALUE!"

    def sheet(self, name: str) -> Sheet:
        if name not in self._sheets:
            part = self.parts[name]
            if part not in self.names:  # listed in workbook.xml, absent from the package
                raise UnreadableFile(self.path, f"partie manquante dans le classeur (feuille « {name} » : {part})",
                                     "PARTIE_MANQUANTE")
            self._sheets[name] = Sheet(name, part, self._xml(part), self)
        return self._sheets[name]

    def target(self, name: str) -> Sheet:
        """A sheet a plan writes to: a worksheet (a chart sheet of that name stops the save)."""
        sh = self.sheet(name)
        if not sh.is_worksheet:
            raise UnwritableFile(self.path, f"la feuille « {name} » n'est pas une feuille de calcul (graphique ?) ; "
                                            "renommez-la, puis recommencez", "FEUILLE_NON_CALCUL")
        sh.dirty = True
        return sh

    def read_sheet(self, sheet: str) -> Grid:
        if sheet not in self._grids:
            try:
                self._grids[sheet] = self.sheet(sheet).grid()
            except CalpaeError:
                raise
            except Exception as e:  # noqa: BLE001 - the boundary: a sheet that cannot be read names the file
                raise UnreadableFile(self.path, f"feuille « {sheet} » : {type(e).__name__} : {str(e)[:200]}",
                                     "CLASSEUR_INVALIDE") from None
        return self._grids[sheet]

    # writing ---------------------------------------------------------------------------
    def apply(self, ops: Sequence[Op]) -> None:
        self._grids.clear()
        dispatch(ops, {EnsureSheet: self._ensure, Block: self._block, ClearContents: self._clear,
                       SheetSetup: self._setup, ConditionalRule: self._rule, DefineName: self._define,
                       PageSetup: self._page, SheetVisibility: self._visibility, ForgetValue: self._forget})

    def save(self, target: Optional[str] = None, backup: bool = True, replace: bool = False,
             force: bool = False) -> Optional[str]:
        """Through the save frame (:func:`saveframe.write`). Every part the plan
        did not touch is copied as it was: nothing is lost, so no lossy-save guard."""
        target = self._target = str(target or self.path)
        self.saved = saveframe.write(target, self._write, verify=saveframe.verify_package(len(self.parts)),
                                     source=None if replace else self.path, stamp=self.stamp, backup=backup,
                                     force=force or replace)
        return self.saved.backup

    def _finish_workbook(self) -> None:
        """Formulas changed: a full recalculation on opening, and no calcChain
        (Excel rebuilds it; a stale one makes it repair the file)."""
        calc = child(self.wb, "calcPr", WB_ORDER)
        calc.set("fullCalcOnLoad", "1")
        if calc.get("calcId") is None:
            calc.set("calcId", "124519")
        for rid, rel in list(self.targets.items()):
            if rel.get("Type") == CALC_CHAIN_REL:
                self.dropped.add(part_name(rel.get("Target", "")))
                self.rels.remove(rel)
                del self.targets[rid]
        for o in list(self.types):
            if o.get("PartName", "").lstrip("/") in self.dropped:
                self.types.remove(o)
        self.modified |= set(PACKAGE_PARTS)

    def _write(self, tmp: str) -> None:
        out: dict[str, bytes] = {}
        if any(sh.dirty for sh in self._sheets.values()):
            self._finish_workbook()
        for sh in self._sheets.values():
            if sh.dirty:
                out[sh.part] = data = sh.serialize()
                try:  # the cells are written as text: the part is parsed again before it replaces anything
                    expat.ParserCreate().Parse(data, True)  # well-formedness only: no tree, 25 % faster than lxml
                except expat.ExpatError as e:
                    raise UnwritableFile(self._target, f"la feuille « {sh.name} » écrite est mal formée ({e}) ; "
                                                       "signalez-le avec le fichier", "ECRITURE_INVALIDE") from None
        if self._styles is not None and self._styles.dirty:
            out[self._styles_part] = self._styles.serialize()
        roots = dict(zip(PACKAGE_PARTS, (self.wb, self.rels, self.types), strict=True))
        for part in self.modified:
            out[part] = etree.tostring(roots[part], xml_declaration=True, encoding="UTF-8", standalone=True)
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in self.zip.infolist():
                if info.filename in self.dropped:
                    continue
                data = out.pop(info.filename, None)
                if data is None:
                    data = self.zip.read(info)
                zi = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                zi.compress_type = zipfile.ZIP_DEFLATED
                zi.external_attr = info.external_attr
                zout.writestr(zi, data)
            for name, data in out.items():
                zout.writestr(name, data)
