"""The catalogue of codes: complete French entries, printed by ``calpae-xl
codes``; a code the project emits must be catalogued (creating a finding or a
refusal with an unknown code raises), and every catalogued code is produced
here by a real input (a code nothing produces is dead and must go)."""
import json
import os
import zipfile
from pathlib import Path

import pytest

from calpae_xl.adapters import gate
from calpae_xl.adapters.openpyxl_adapter import OpenpyxlWorkbook
from calpae_xl.adapters.xlsx import PackageWorkbook
from calpae_xl.app.session import CONTROLER, RECALCULER, process_file, run
from calpae_xl.cli import main
from calpae_xl.core import checks, run_checks
from calpae_xl.core.catalogue import CATALOGUE, CONSTAT, FICHIER, UnknownCode, entry
from calpae_xl.errors import CalpaeError, UnreadableFile
from tests.helpers.hostile import build_corpus
from tests.helpers.parts import edit_parts
from tests.helpers.samples import variant, write_variant
from tests.test_checks_table import CASES, EXTRA_CHORUS, maquette

def test_every_entry_is_complete_and_french():
    for code, e in CATALOGUE.items():
        assert code == e.code and code.isupper() and " " not in code
        assert e.kind in (CONSTAT, FICHIER)
        for text in (e.titre, e.explication, e.que_faire):
            assert text and text[0].isupper(), (code, text)
        assert e.explication.endswith(".") and e.que_faire.endswith("."), code


def test_an_unknown_code_is_a_defect():
    with pytest.raises(UnknownCode):
        entry("CODE_INVENTE")
    with pytest.raises(UnknownCode):
        UnreadableFile("x.xlsx", "raison", "CODE_INVENTE")
    with pytest.raises(UnknownCode):
        gate.Refusal("CODE_INVENTE", "raison")


def test_the_codes_command_prints_the_catalogue(capsys):
    assert main(["codes"]) == 0
    out = capsys.readouterr().out
    for code, e in CATALOGUE.items():
        assert f"{code} — {e.titre}" in out
    assert "Que faire :" in out
    assert main(["codes", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [c["code"] for c in doc["codes"]] == list(CATALOGUE)
    assert set(doc["codes"][0]) == {"code", "nature", "gravite", "titre", "explication", "que_faire"}


# --- every code, produced -----------------------------------------------------------------

def _finding_codes(tmp_path) -> set[str]:
    """The checks' codes, from the rule table, and a check that breaks."""
    codes = {f.code for cid, m, _ in CASES for f in run_checks(m, EXTRA_CHORUS.get(cid, ()))}
    broken = checks.CHECKS
    try:
        checks.CHECKS = broken + (lambda m: 1 / 0,)
        codes |= {f.code for f in run_checks(maquette())}
    finally:
        checks.CHECKS = broken
    return codes


def _loiret(tmp_path) -> Path:
    path = tmp_path / "loiret.xlsx"
    if not path.exists():
        write_variant(str(path), variant(), fiches=True)
    return path


def _reader_codes(tmp_path) -> set[str]:
    """PARAMETRE_ILLISIBLE (a credit typed "beaucoup"), FICHE_ORPHELINE (a fiche whose action left),
    FICHE_RENUMEROTEE (an action renumbered, its fiche kept)."""
    src = _loiret(tmp_path)
    wb = OpenpyxlWorkbook.open(str(src))
    ws = wb.wb["Paramètres"]
    row = next(c.row for c in ws["A"] if c.value and str(c.value).startswith("Crédits"))
    ws.cell(row, 2).value = "beaucoup"
    fiche = wb.wb["Fiche S 1.1"]
    row = next(c.row for c in fiche["A"] if c.value == "Budget exécuté")
    fiche.cell(row, 2).value = "à venir"  # FICHE_MONTANT_ILLISIBLE
    ws = wb.wb["Maquette"]
    row = next(c.row for c in ws["D"] if c.value == "Action 7")
    ws.delete_rows(row)
    row = next(c.row for c in ws["D"] if c.value == "Action 6")
    ws.cell(row, 4).value = "Action 6.1"  # renumbered, same intitulé: FICHE_RENUMEROTEE
    wb.save(str(tmp_path / "lu.xlsx"), backup=False)
    return {f.code for f in run(PackageWorkbook.open(str(tmp_path / "lu.xlsx")), [CONTROLER], write=False).findings}


def _unsure_codes(tmp_path) -> set[str]:
    """The reader's doubts, from the table of tests/test_reader_unsure.py."""
    from tests.test_reader_unsure import CASES as UNSURE, annex, codes as found
    out = set()
    for i, (edit, _expected) in enumerate(UNSURE.values()):
        out |= set(found(annex(tmp_path, edit, f"doute{i}.xlsx")))
    return out


def _refused(path) -> str:
    try:
        PackageWorkbook.open(str(path)).read_sheet("Maquette")
    except CalpaeError as e:
        return e.code
    raise AssertionError(f"{path} n'est pas refusé")


def _open_codes(tmp_path, monkeypatch) -> set[str]:
    loiret = _loiret(tmp_path)
    corpus = build_corpus(loiret, tmp_path / "corpus", tmp_path / "secret.txt")
    codes = {code for _path, code in corpus.values()}
    codes.add(_refused(tmp_path / "absent.xlsx"))
    (tmp_path / "dossier.xlsx").mkdir()
    codes.add(_refused(tmp_path / "dossier.xlsx"))  # PAS_UN_FICHIER
    codes.add(_refused(tmp_path / ("n" * 300 + ".xlsx")))  # FICHIER_INACCESSIBLE (a name the system refuses)
    (tmp_path / "tableau.csv").write_text("a;b\n")
    codes.add(_refused(tmp_path / "tableau.csv"))
    with zipfile.ZipFile(tmp_path / "parties.xlsx", "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        for i in range(6):
            z.writestr(f"x{i}.txt", "x")
    monkeypatch.setattr(gate, "MAX_ENTRIES", 5)
    codes.add(_refused(tmp_path / "parties.xlsx"))
    monkeypatch.setattr(gate, "MAX_ENTRIES", 10_000)
    monkeypatch.setattr(gate, "MAX_TOTAL", 1000)
    codes.add(_refused(loiret))
    monkeypatch.undo()
    no_root = edit_parts(loiret, lambda parts, _s: parts.update({"xl/workbook.xml": b"<autre/>"}),
                         tmp_path / "racine.xlsx")
    codes.add(_refused(no_root))
    missing = edit_parts(loiret, lambda parts, s: parts.pop(s["Maquette"]), tmp_path / "sans.xlsx")
    codes.add(_refused(missing))
    empty = tmp_path / "vide.xlsx"
    wb = OpenpyxlWorkbook.new(str(empty))
    wb.wb.create_sheet("Feuille")
    wb.save(backup=False, replace=True)
    codes.add(process_file(str(empty), [CONTROLER], write=False).code)
    return codes


def _save_codes(tmp_path, monkeypatch) -> set[str]:
    codes = set()
    loiret = _loiret(tmp_path)

    def save_code(path, target=None, prepare=None, adapter=PackageWorkbook):
        wb = adapter.open(str(path))
        run(wb, [RECALCULER, CONTROLER])
        if prepare:
            prepare()
        try:
            wb.save(target)
        except CalpaeError as e:
            return e.code
        raise AssertionError("enregistré")

    codes.add(save_code(loiret, str(tmp_path / "pas" / "de" / "dossier.xlsx")))
    lock = tmp_path / ".~lock.loiret.xlsx#"
    codes.add(save_code(loiret, prepare=lambda: lock.write_text("Agent,poste,")))
    lock.unlink()
    codes.add(save_code(loiret, prepare=lambda: os.utime(loiret, ns=(1, 1))))
    shape = edit_parts(loiret, lambda parts, _s: parts.update({"xl/charts/chart1.xml": b"<c/>"}),
                       tmp_path / "graphique.xlsx")
    codes.add(save_code(shape, adapter=OpenpyxlWorkbook))
    from calpae_xl.adapters.xlsx import sheet as S
    real = S.Sheet.serialize
    monkeypatch.setattr(S.Sheet, "serialize", lambda self: real(self).replace(b"</sheetData>", b"</sheetDat>"))
    codes.add(save_code(loiret))
    monkeypatch.undo()
    return codes


def _chart_sheet_code(tmp_path) -> str:
    """A chart sheet that the registry of the tool's sheets names as its
    Contrôles (a tampered file): it has not the tool's mark, so it is not
    taken for the tool's sheet (the run goes on, the Contrôles go beside it);
    a plan that would still write to a chart sheet is stopped by the port."""
    loiret = tmp_path / "registre.xlsx"
    write_variant(str(loiret), variant(), fiches=False)
    assert process_file(str(loiret), [CONTROLER], backup=False).lisible

    def edit(parts, sheets):
        tech = sheets["calpae_technique"]
        parts[tech] = parts[tech].replace("Contrôles=Contrôles".encode(), "Contrôles=Graphique".encode())
        part = sheets["Paramètres"]
        parts[part] = (b'<?xml version="1.0" encoding="UTF-8"?><chartsheet xmlns="http://schemas.openxmlformats.org/'
                       b'spreadsheetml/2006/main"><sheetViews><sheetView workbookViewId="0"/></sheetViews>'
                       b'</chartsheet>')
        wbx = parts["xl/workbook.xml"].decode()
        parts["xl/workbook.xml"] = wbx.replace('name="Paramètres"', 'name="Graphique"').encode()
        kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.{}+xml"
        parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
            f'PartName="/{part}" ContentType="{kind.format("worksheet")}"'.encode(),
            f'PartName="/{part}" ContentType="{kind.format("chartsheet")}"'.encode())
    path = edit_parts(loiret, edit, tmp_path / "chartsheet.xlsx")
    assert process_file(str(path), [RECALCULER, CONTROLER]).code is None
    with pytest.raises(CalpaeError) as e:
        PackageWorkbook.open(str(path)).target("Graphique")
    return e.value.code


def _pdf_codes(tmp_path, monkeypatch) -> set[str]:
    from calpae_xl.reports import annex_pdf
    from calpae_xl.reports.pdf import annex_pdf as make_pdf
    loiret = _loiret(tmp_path)

    def fail(*_a, **_k):
        raise ValueError("mise en page impossible")
    monkeypatch.setattr(annex_pdf, "write_annex_pdf", fail)
    with pytest.raises(CalpaeError) as e:
        make_pdf(str(loiret), str(tmp_path / "a.pdf"), forcer=True)
    return {e.value.code}


def _frame_codes(tmp_path, monkeypatch) -> set[str]:
    """The save frame's refusals, from the table of tests/test_save_frame.py."""
    from tests.test_save_frame import REFUSALS, refuse
    return {refuse(tmp_path / f"refus{i}", name, monkeypatch)[0] for i, name in enumerate(REFUSALS)}


def _unexpected_code(tmp_path, monkeypatch) -> str:
    from calpae_xl.app import session
    monkeypatch.setattr(session, "run", lambda *a, **k: 1 / 0)
    return process_file(str(_loiret(tmp_path)), [CONTROLER]).code


def _profile_codes(tmp_path) -> set[str]:
    """Conventions as data: profiles, split rules, multi-year contract, « suivant » (tests/test_profiles.py)."""
    from tests.test_profiles import profile_codes
    return profile_codes(tmp_path)


def test_every_catalogued_code_is_produced(tmp_path, monkeypatch):
    produced = _finding_codes(tmp_path) | _reader_codes(tmp_path) | _unsure_codes(tmp_path)
    produced |= _open_codes(tmp_path, monkeypatch) | _save_codes(tmp_path, monkeypatch)
    produced |= {_chart_sheet_code(tmp_path)} | _pdf_codes(tmp_path, monkeypatch)
    produced |= _frame_codes(tmp_path, monkeypatch)
    produced |= _profile_codes(tmp_path)
    produced.add(_unexpected_code(tmp_path, monkeypatch))
    produced |= _convertir_codes(tmp_path, monkeypatch)
    assert sorted(set(CATALOGUE) - produced) == [], "catalogués mais jamais produits"
    assert sorted(produced - set(CATALOGUE)) == [], "produits mais absents du catalogue"


def _convertir_codes(tmp_path, monkeypatch) -> set[str]:
    """« convertir »: an action the mapping leaves à classer, a bad mapping, a source that is not a CALPAE."""
    monkeypatch.undo()  # the unexpected error's broken session is over
    from calpae_xl.app.convertir import convert, mapping_for
    out = tmp_path / "converti.xlsx"
    assert main(["convertir", str(_loiret(tmp_path)), "-o", str(out)]) == 0
    codes = {f.code for f in run(PackageWorkbook.open(str(out)), [CONTROLER], write=False).findings}
    bad = tmp_path / "correspondance.toml"
    bad.write_text('correspondances = [{ theme = "1", axe = "axe9" }]', encoding="utf-8")
    for attempt in (lambda: mapping_for(str(bad), "cls-2024-2027"),
                    lambda: convert(PackageWorkbook.open(str(out)), str(tmp_path / "x.xlsx"),
                                    mapping_for(None, "cls-2024-2027"))):
        with pytest.raises(CalpaeError) as e:
            attempt()
        codes.add(e.value.code)
    return codes
