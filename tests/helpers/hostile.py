"""A corpus of hostile and broken files, built by the tests from the Loiret
workbook: each one must be refused with its own code."""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from tests.helpers.parts import edit_parts

SECRET = "SECRET-CALPAE-7f3a9"  # must never appear in any output


def _rewrite(src: Path, dst: Path, edit) -> Path:
    """Copy the package, ``edit(name, bytes) -> bytes | None`` per part (None: the part is left out)."""
    def each(parts: dict, _sheets: dict) -> None:
        for name in list(parts):
            data = edit(name, parts[name])
            if data is None:
                del parts[name]
            else:
                parts[name] = data
    return edit_parts(src, each, dst)


def _with_dtd(part: str, dtd: str, body_entity: str):
    def edit(name, data):
        if name != part:
            return data
        text = data.decode("utf-8")
        text = re.sub(r"^<\?xml[^>]*\?>", "", text)
        root_end = text.index(">", text.index("<", 0)) + 1
        # the entity is used in the first text node we can find, or right after the root tag
        return ('<?xml version="1.0" encoding="UTF-8"?>' + dtd + text[:root_end] + body_entity +
                text[root_end:]).encode("utf-8")
    return edit


def build_corpus(loiret: Path, folder: Path, secret_file: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, expected refusal code)."""
    folder.mkdir(parents=True, exist_ok=True)
    secret_file.write_text(SECRET)
    sheet = "xl/worksheets/sheet2.xml"  # Maquette
    out: dict[str, tuple[Path, str]] = {}
    laughs = "<!DOCTYPE lolz [<!ENTITY lol \"lol\">" + "".join(
        f"<!ENTITY lol{i} \"{('&lol' + (str(i - 1) if i > 1 else '') + ';') * 10}\">" for i in range(1, 10)) + "]>"
    out["billion_laughs"] = (_rewrite(loiret, folder / "billion_laughs.xlsx", _with_dtd(sheet, laughs, "")), "XML_DTD")
    blow = "<!DOCTYPE q [<!ENTITY a \"" + "x" * 50_000 + "\">]>"
    out["quadratic"] = (_rewrite(loiret, folder / "quadratic.xlsx", _with_dtd(sheet, blow, "")), "XML_DTD")
    xxe = f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret_file}">]>'
    out["xxe_sheet"] = (_rewrite(loiret, folder / "xxe_sheet.xlsx", _with_dtd(sheet, xxe, "")), "XML_DTD")
    out["xxe_core"] = (_rewrite(loiret, folder / "xxe_core.xlsx", _with_dtd("docProps/core.xml", xxe, "")),
                       "XML_DTD")
    out["xxe_workbook"] = (_rewrite(loiret, folder / "xxe_workbook.xlsx", _with_dtd("xl/workbook.xml", xxe, "")),
                           "XML_DTD")

    def bomb(name, data):
        return data

    path = _rewrite(loiret, folder / "zip_bomb.xlsx", bomb)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/bombe.bin", b"\0" * (64 * 2**20))
    out["zip_bomb"] = (path, "ZIP_BOMBE")

    def million(name, data):
        if name != sheet:
            return data
        text = data.decode("utf-8")
        text = re.sub(r"<dimension [^>]*/>", "", text)
        rows = "".join(f'<row r="{r}"><c r="A{r}"><v>1</v></c></row>' for r in range(1, 1_000_001))
        return re.sub(r"<sheetData>.*</sheetData>|<sheetData/>", "<sheetData>" + rows + "</sheetData>", text,
                      flags=re.S).encode("utf-8")
    out["million_rows"] = (_rewrite(loiret, folder / "million_rows.xlsx", million), "FEUILLE_DEMESUREE")

    def far(name, data):
        if name != sheet:
            return data
        return data.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
    out["xfd1048576"] = (_rewrite(loiret, folder / "xfd1048576.xlsx", far), "FEUILLE_DEMESUREE")

    def merge(refs):
        def edit(name, data):
            if name != sheet:
                return data
            cells = "".join(f'<mergeCell ref="{r}"/>' for r in refs)
            text = re.sub(r"<mergeCells[^>]*>.*?</mergeCells>", "", data.decode("utf-8"), flags=re.S)
            return re.sub(r"(</sheetData>)", r"\1" + f'<mergeCells count="{len(refs)}">{cells}</mergeCells>',
                          text, count=1).encode("utf-8")
        return edit
    out["merge_bomb"] = (_rewrite(loiret, folder / "merge_bomb.xlsx", merge(["A1:XFD1048576"])), "FEUILLE_DEMESUREE")
    many = [f"A{r}:B{r}" for r in range(100, 100 + 2 * 30_000, 2)]
    out["merges_many"] = (_rewrite(loiret, folder / "merges_many.xlsx", merge(many)), "FEUILLE_DEMESUREE")

    def strings(name, data):
        return data
    path = _rewrite(loiret, folder / "unique_count.xlsx", strings)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z:  # a shared-string table announcing 4 billion
        z.writestr("xl/sharedStrings.xml", '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
                   'openxmlformats.org/spreadsheetml/2006/main" count="4000000000" uniqueCount="4000000000">'
                   '<si><t>x</t></si></sst>')
    out["unique_count"] = (path, "TEXTES_DEMESURES")

    data = loiret.read_bytes()
    (folder / "tronque.xlsx").write_bytes(data[: len(data) // 2])
    out["truncated"] = (folder / "tronque.xlsx", "ZIP_ABIME")
    (folder / "pas_un_zip.xlsx").write_text("Département;Action;Montant\nLoiret;4.2;197904,50\n", encoding="utf-8")
    out["not_a_zip"] = (folder / "pas_un_zip.xlsx", "PAS_UN_CLASSEUR")
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + "Workbook".encode("utf-16-le") + b"\0" * 4000
    (folder / "ancien.xls").write_bytes(ole)
    out["old_xls"] = (folder / "ancien.xls", "XLS_ANCIEN")
    (folder / "ancien_renomme.xlsx").write_bytes(ole)
    out["old_xls_renamed"] = (folder / "ancien_renomme.xlsx", "XLS_ANCIEN")
    try:
        import msoffcrypto  # noqa: PLC0415
        from msoffcrypto.format.ooxml import OOXMLFile  # noqa: PLC0415
    except ImportError:
        msoffcrypto = None
    if msoffcrypto is not None:
        buf = io.BytesIO()
        with open(loiret, "rb") as fh:
            OOXMLFile(fh).encrypt("motdepasse", buf)
        (folder / "protege.xlsx").write_bytes(buf.getvalue())
        out["password"] = (folder / "protege.xlsx", "CLASSEUR_CHIFFRE")
    return out
