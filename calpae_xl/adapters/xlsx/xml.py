"""OOXML plumbing shared by the package adapter's modules: namespaces, the
hardened parser, the schema's element orders and how to insert a child at
its place."""
from __future__ import annotations

from typing import Optional, Sequence

from lxml import etree

M = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PR = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
WS_REL = R + "/worksheet"
WS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CALC_CHAIN_REL = R + "/calcChain"
STYLES_REL = R + "/styles"
SST_REL = R + "/sharedStrings"
WORKBOOK, WORKBOOK_RELS, CONTENT_TYPES = "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"
PACKAGE_PARTS = (WORKBOOK, WORKBOOK_RELS, CONTENT_TYPES)

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=False,
                         huge_tree=False)


def q(tag: str) -> str:
    return "{%s}%s" % (M, tag)


SHEET_ROOTS = {q(t) for t in ("worksheet", "chartsheet", "dialogsheet")}

# element orders of the schema: a child must be inserted at its place
WS_ORDER = ("sheetPr dimension sheetViews sheetFormatPr cols sheetData sheetCalcPr sheetProtection "
            "protectedRanges scenarios autoFilter sortState dataConsolidate customSheetViews mergeCells "
            "phoneticPr conditionalFormatting dataValidations hyperlinks printOptions pageMargins pageSetup "
            "headerFooter rowBreaks colBreaks customProperties cellWatches ignoredErrors smartTags drawing "
            "legacyDrawing legacyDrawingHF drawingHF picture oleObjects controls webPublishItems tableParts "
            "extLst").split()
WB_ORDER = ("fileVersion fileSharing workbookPr workbookProtection bookViews sheets functionGroups "
            "externalReferences definedNames calcPr oleSize customWorkbookViews pivotCaches smartTagPr "
            "smartTagTypes webPublishing fileRecoveryPr webPublishObjects extLst").split()
STYLE_ORDER = "numFmts fonts fills borders cellStyleXfs cellXfs cellStyles dxfs tableStyles colors extLst".split()

NEW_SHEET = (f'<worksheet xmlns="{M}" xmlns:r="{R}"><sheetPr><outlinePr summaryBelow="1" summaryRight="1"/>'
             '<pageSetUpPr/></sheetPr><dimension ref="A1"/><sheetViews><sheetView workbookViewId="0">'
             '<selection activeCell="A1" sqref="A1"/></sheetView></sheetViews>'
             '<sheetFormatPr baseColWidth="8" defaultRowHeight="15"/><sheetData/>'
             '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/></worksheet>')


def _local(el) -> Optional[str]:
    tag = el.tag
    if not isinstance(tag, str):
        return None  # comments, processing instructions
    return tag.rsplit("}", 1)[-1]


def place(parent, el, order: Sequence[str]):
    """Insert ``el`` among ``parent``'s children at its place in the schema's
    order (after the last child of the same or an earlier kind)."""
    rank = {n: i for i, n in enumerate(order)}
    k = rank[_local(el)]
    for i, ch in enumerate(parent):
        if rank.get(_local(ch) or "", -1) > k:
            parent.insert(i, el)
            return el
    parent.append(el)
    return el


def child(parent, name: str, order: Sequence[str], create: bool = True):
    el = parent.find(q(name))
    if el is None and create:
        el = place(parent, etree.Element(q(name)), order)
    return el


def _canon(el) -> bytes:
    """An element's canonical form (attribute order, namespace prefixes) to find an identical one."""
    return etree.tostring(el, method="c14n", exclusive=True)


def _color(rgb: str) -> str:
    return rgb if len(rgb) == 8 else "00" + rgb


# built-in number formats that are not dates (ECMA-376 18.8.30)
