"""The State's review of a region's files: consolidation workbook, JSON
(validated against the shipped schema), the HTML page in a real browser,
provenance, answers, comparisons; and the contract of every JSON the tool
prints. The folder is made by tests/helpers/region.py; the full acceptance
(a dozen départements, answers typed through LibreOffice) is in
tests/test_state_review_acceptance.py (slow)."""
import contextlib
import hashlib
import io
import json
import os
import shutil
from pathlib import Path

import openpyxl
import pytest

from calpae_xl.cli import main
from tests.helpers import browser
from tests.helpers.region import ANSWER, controles_rows, make_region, type_answers
from tests.helpers.review import check_html, check_json, check_workbook, table, validate
from tests.helpers.samples import variant, write_variant

ARTEFACTS = Path(__file__).resolve().parent / "artefacts"  # git-ignored: screenshots kept for a person to look at
def needs_chromium(test):
    absent = pytest.mark.skipif(browser.chromium_path() is None,
                                reason="chromium absent : .ci/run l'installe (apt-get install chromium)")
    return pytest.mark.chromium(absent(test))


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(args))
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    return make_region(tmp_path_factory.mktemp("etat") / "Centre-Val de Loire", departements=4)


@pytest.fixture(scope="module")
def consolidated(region, tmp_path_factory):
    out = tmp_path_factory.mktemp("rapports")
    status, text, _ = cli("consolider", str(region.folder), "-o", str(out / "consolidation.xlsx"), "--json",
                          str(out / "consolidation.json"), "--html", str(out / "rapport.html"), "--processus", "2")
    return status, text, out


def test_the_consolidation_says_what_each_file_is(region, consolidated):
    status, text, out = consolidated
    assert status == 2  # one file is unreadable: said, and everything else is written
    assert "illisible" in text and Path(region.unreadable).name in text
    assert all(f"modifié depuis son dernier contrôle : {rel}" in text for rel in region.changed)
    assert all(f"en double : {rel}" in text for rel in region.duplicate)
    check_workbook(region, out / "consolidation.xlsx")
    assert openpyxl.load_workbook(out / "consolidation.xlsx").sheetnames[:3] == ["Fichiers", "Actions", "Constats"]


def test_the_json_validates_and_says_what_the_workbook_says(region, consolidated):
    _status, _text, out = consolidated
    doc = json.loads((out / "consolidation.json").read_text("utf-8"))
    check_json(region, doc, out / "consolidation.xlsx")
    # the same document on the standard output, alone there
    status, text, err = cli("consolider", str(region.folder), "-o", str(out / "bis.xlsx"), "--json", "-")
    again = json.loads(text)
    assert status == 2 and "illisible" in err
    assert [f["fichier"] for f in again["fichiers"]] == [f["fichier"] for f in doc["fichiers"]]


@needs_chromium
def test_the_html_report_in_a_browser(region, consolidated):
    _status, _text, out = consolidated
    doc = json.loads((out / "consolidation.json").read_text("utf-8"))
    check_html(doc, out / "rapport.html", ARTEFACTS, "rapport_region")


def test_the_html_report_is_self_contained(consolidated):
    _status, _text, out = consolidated
    page = (out / "rapport.html").read_text("utf-8")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    for needle in ("http://", "https://", "src=", "@import", "url("):
        assert needle not in page, needle


def test_odd_file_names_and_answers_are_escaped(tmp_path):
    """File names and texts come from users: nothing they hold becomes markup or script."""
    folder = tmp_path / 'dossier <b> "reçu" & <!--'
    sub = folder / "<script>alert('dossier')<\\script>"
    sub.mkdir(parents=True)
    name = "maquette <img src=x onerror=alert(1)> & \"guillemets\" 'apostrophe' #1 %20.xlsx"
    path = sub / name
    write_variant(str(path), variant(departement="Cher", annee=2020, scale=0.5))
    assert cli("recalculer", str(path))[0] in (0, 1)
    key = next(k for k in controles_rows(path) if k.startswith("ENVELOPPE") or k.startswith("INDICATEUR"))
    evil = "</script><script>alert('réponse')</script><img src=x onerror=alert(2)> & <!-- --> ]]>"
    type_answers(path, {key: ("justifié", evil)})
    # and a name that is not UTF-8 (a file copied from an old server): shown as �, linked by its own bytes
    latin = os.fsencode(sub) + b"/ch\xe9r_2021.xlsx"
    write_variant(os.fsdecode(latin), variant(departement="Cher", annee=2021, scale=0.5))
    page = tmp_path / "sortie" / "rapport <i>.html"
    status, _text, _err = cli("consolider", str(folder), "-o", str(tmp_path / "sortie" / "c.xlsx"), "--html",
                              str(page), "--json", str(tmp_path / "sortie" / "c.json"))
    assert status in (0, 1)
    raw = page.read_text("utf-8")
    assert raw.count("<script") == 1 and "<img" not in raw and "<b>" not in raw and "<i>" not in raw
    assert "&lt;/script&gt;&lt;script&gt;alert(&#x27;réponse&#x27;)" in raw
    doc = json.loads((tmp_path / "sortie" / "c.json").read_text("utf-8"))
    validate(doc)
    assert any(c["reponse"] == evil for f in doc["fichiers"] for c in f["constats"])
    assert "ch\ufffdr_2021.xlsx" in raw and "ch%E9r_2021.xlsx" in raw
    if browser.chromium_path():
        dom = browser.parse(browser.dump_dom(page))
        assert len(dom.find_all("script")) == 1 and not dom.find_all("img") and not dom.find_all("b")
        assert evil in dom.by_id("table-constats").text
        from urllib.parse import unquote_to_bytes
        links = {tr.attrs["data-fichier"]: tr.find_all("a")[0].attrs["href"]
                 for tr in browser.rows(dom.by_id("table-fichiers"))}
        targets = {os.path.realpath(os.fsencode(page.parent) + b"/" + unquote_to_bytes(h)) for h in links.values()}
        assert targets == {os.path.realpath(os.fsencode(path)), os.path.realpath(latin)}
        browser.screenshot(page, ARTEFACTS / "rapport_noms_etranges.png", height=1200)


# --- the JSON contract -----------------------------------------------------------------------------

def test_every_json_the_tool_prints_validates(tmp_path, region):
    files = [str(region.folder / rel) for rel in list(region.files)[:3]] + [str(region.folder / region.unreadable)]
    status, text, _ = cli("controler", *files, "--format", "json")
    assert status == 2
    doc = json.loads(text)
    validate(doc)
    assert doc["nature"] == "controle" and doc["fichiers"][-1]["code"] == "ZIP_ABIME"
    prov = doc["fichiers"][0]["provenance"]
    data = Path(files[0]).read_bytes()
    assert prov["sha256"] == hashlib.sha256(data).hexdigest() and prov["taille"] == len(data)
    status, text, _ = cli("codes", "--format", "json")
    validate(json.loads(text))
    status, text, _ = cli("profils", "--format", "json")
    validate(json.loads(text))
    lot = tmp_path / "lot"
    shutil.copytree(region.folder / "Cher", lot)
    status, text, _ = cli("lot", str(lot), "--format", "json", "--processus", "1")
    validate(json.loads(text))


def test_the_schema_refuses_what_the_contract_forbids():
    import jsonschema
    from tests.helpers.review import schema
    jsonschema.Draft202012Validator.check_schema(schema())
    finding = {"code": "X", "gravite": "erreur", "bloc": None, "action": None, "feuille": None, "cellule": None,
               "message": "m", "cle": "X|||", "statut": None, "reponse": None, "ouvert": True}
    prov = {"chemin": "a.xlsx", "taille": 1, "sha256": "0" * 64, "profil": "calpae", "profil_du_dernier_controle": None,
            "version_outil": None,
            "recu": None, "etat": "sans reçu", "message_recu": "", "empreinte": "sha256:" + "0" * 64, "avenant": None}
    doc = {"nature": "controle", "version_schema": "1.0", "outil": {"nom": "calpae-xl", "version": "0.1.0"},
           "fichiers": [{"fichier": "a.xlsx", "lisible": True, "erreur": None, "code": None, "provenance": prov,
                         "constats": [finding]}]}
    validate(doc)
    for broken in ({**finding, "statut": "vu"}, {**finding, "gravite": "grave"}, {**finding, "ligne": 12},
                   {k: v for k, v in finding.items() if k != "cle"}):
        bad = json.loads(json.dumps(doc))
        bad["fichiers"][0]["constats"] = [broken]
        with pytest.raises(AssertionError):
            validate(bad)
    bad = json.loads(json.dumps(doc))
    bad["version_schema"] = "2.0"
    with pytest.raises(AssertionError):
        validate(bad)


# --- answers, on files and through the command line -------------------------------------------------

def test_answers_in_a_file_show_in_every_report_and_end_in_the_journal(tmp_path):
    path = tmp_path / "loiret.xlsx"
    assert main(["nouveau", str(path), "--exemple", "loiret-2020"]) == 0
    status, _text, _ = cli("recalculer", str(path))  # parity and totals fixed: 0 erreur
    errors = [k for k in controles_rows(path) if k.startswith(("FICHE_ECART", "INDICATEUR_ABSENT|socle|1.2"))]
    assert errors
    type_answers(path, {errors[0]: ("", ANSWER)})
    status, text, _ = cli("controler", str(path))
    assert "[justifié] " in text and f"Réponse : {ANSWER}" in text and "1 justifié(s)" in text
    status, text, _ = cli("controler", str(path), "--format", "csv")
    import csv
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][-3:] == ["statut", "réponse", "clé"]
    assert [r[-3:] for r in rows if r[-1] == errors[0]] == [["justifié", ANSWER, errors[0]]]
    # answers survive the département's own runs
    assert cli("recalculer", str(path))[0] == 0
    ws = openpyxl.load_workbook(path)["Contrôles"]
    row = controles_rows(path)[errors[0]]
    assert (ws.cell(row, 7).value, ws.cell(row, 8).value) == ("justifié", ANSWER)
    assert [dv.formula1 for dv in ws.data_validations.dataValidation] == ['"à corriger,justifié,accepté par l\'État"']


def test_all_errors_justified_the_verdict_says_so_and_the_exit_status_is_0(tmp_path):
    path = tmp_path / "loiret.xlsx"
    assert main(["nouveau", str(path), "--exemple", "loiret-2020"]) == 0
    wb_path = str(path)
    assert cli("controler", wb_path)[0] == 1
    from calpae_xl.adapters.xlsx import PackageWorkbook
    from calpae_xl.app.session import CONTROLER, run
    wb = PackageWorkbook.open(wb_path)
    run(wb, [CONTROLER])
    wb.save(backup=False)
    errors = [k for k in controles_rows(path) if not k.startswith(("INDICATEUR", "EXECUTION", "FICHE"))]
    type_answers(path, {k: ("justifié", "Montants de l'avenant signé, arrondis à l'euro.") for k in errors})
    status, text, _ = cli("controler", wb_path)
    assert status == 0 and "justifié(s)" in text
    wb = PackageWorkbook.open(wb_path)
    run(wb, [CONTROLER])
    wb.save(backup=False)
    assert openpyxl.load_workbook(path)["Contrôles"]["A2"].value.startswith("Toutes les erreurs sont justifiées")
    # Recalculer corrects them: the answers go to the Journal, with their date
    assert cli("recalculer", wb_path)[0] == 0
    ws = openpyxl.load_workbook(path)["Journal"]
    assert ws["G1"].value == "Constats répondus puis disparus"
    traced = [ws.cell(r, 14).value for r in range(5, ws.max_row + 1) if ws.cell(r, 14).value]
    assert set(errors) <= set(traced)


# --- the receipt, on files ------------------------------------------------------------------------------

def test_controler_says_whether_a_received_file_is_the_one_checked(tmp_path):
    path = tmp_path / "cher.xlsx"
    write_variant(str(path), variant(departement="Cher", annee=2020, scale=0.5))
    assert "Aucun reçu de contrôle" in cli("controler", str(path))[1]
    cli("recalculer", str(path))
    text = cli("controler", str(path))[1]
    assert "Inchangé depuis le contrôle du " in text and "calpae-xl 0.1.0, profil calpae" in text
    # saved again by another program (openpyxl: styles and cached values rewritten) then recalculated
    # by the tool's own rules: the figures are the same
    doc = json.loads(cli("controler", str(path), "--format", "json")[1])
    receipt = doc["fichiers"][0]["provenance"]["recu"]
    assert doc["fichiers"][0]["provenance"]["etat"] == "inchangé"
    assert receipt["empreinte"] == doc["fichiers"][0]["provenance"]["empreinte"]
    wb = openpyxl.load_workbook(path)
    wb["Maquette"]["E5"] = "Un autre intitulé"
    wb.save(path)
    text = cli("controler", str(path))[1]
    assert "Modifié depuis le contrôle du " in text


# --- comparer: findings too, and the workbook holds every difference the terminal shows ----------------

def test_comparer_compares_findings_and_writes_every_difference(tmp_path):
    from dataclasses import replace
    from decimal import Decimal
    old = variant(departement="Cher", annee=2020, scale=0.5)
    p_old = tmp_path / "avenant2.xlsx"
    write_variant(str(p_old), old)
    cli("recalculer", str(p_old))
    p_new = tmp_path / "avenant3.xlsx"
    acts = list(old.actions)
    acts[1] = replace(acts[1], numero="1.9", libelle_numero="Action 1.9")  # renumbered: its findings follow it
    write_variant(str(p_new), replace(old, actions=tuple(acts), credits_etat=old.credits_etat + Decimal(1000)))
    cli("recalculer", str(p_new))
    keys = controles_rows(p_new)
    ind = next(k for k in keys if k.startswith("INDICATEUR"))
    type_answers(p_new, {ind: ("accepté par l'État", "Indicateurs fixés au comité de suivi.")})
    target = tmp_path / "ecarts.xlsx"
    status, text, _ = cli("comparer", str(p_old), str(p_new), "-o", str(target))
    assert status == 0
    lines = [line.strip() for line in text.splitlines()]
    assert "« avenant2.xlsx » : Inchangé depuis le contrôle du" in text  # what each file is
    assert any(line.startswith("Crédits État notifiés :") for line in lines)
    assert any(line.startswith("Constats :") for line in lines)
    assert any(line.startswith("Constat justifié :") and "accepté par l'État" in line for line in lines)
    assert any(line.startswith("Constat nouveau : [avertissement] ENVELOPPE_NON_CONSOMME") or
               line.startswith("Constat toujours ouvert") for line in lines)
    assert not any("INDICATEUR_ABSENT" in line and "1.9" in line and "nouveau" in line for line in lines), \
        "a renumbered action's findings are the same findings"
    ecarts = table(target, "Écarts", header_row=5)  # title, note, what each file is (two lines)
    constats = table(target, "Constats", header_row=3)
    natures = {r["Nature"] for r in ecarts}
    # every difference line of the terminal has its row
    for line in lines:
        if line.startswith("Crédits État notifiés"):
            row = next(r for r in ecarts if r["Nature"] == "Paramètre modifié")
            assert row["Intitulé"] == "Crédits État notifiés" and row["Écart"] == pytest.approx(1000)
        elif line.startswith("Action renumérotée"):
            assert "Action renumérotée" in natures
        elif line.startswith("Enveloppe"):
            assert "Enveloppe" in natures
        elif line.startswith("Constat ") and not line.startswith("Constats"):
            kind = {"nouveau": "nouveau", "toujours": "toujours ouvert", "résolu": "résolu",
                    "justifié": "justifié"}[line.split()[1]]
            code = line.split("] ")[1].split(" —")[0]
            assert any(r["Évolution"] == kind and r["Code"] == code for r in constats), line
    justified = next(r for r in constats if r["Identifiant du constat"] == ind)
    assert (justified["Évolution"], justified["Statut"], justified["Déjà présent"]) == (
        "justifié", "accepté par l'État", "oui")
    summary = next(line for line in lines if line.startswith("Constats :"))
    sheet = openpyxl.load_workbook(target)["Constats"]
    assert sheet["A2"].value == summary


def test_checking_the_same_content_again_leaves_a_copy_as_it_is(tmp_path, monkeypatch, capsys):
    """The receipt's date says when, not what: a copy that differs only by it is « déjà à jour »."""
    from calpae_xl.core import receipt
    path = tmp_path / "cher.xlsx"
    write_variant(str(path), variant(departement="Cher", annee=2020, scale=0.5))
    monkeypatch.setattr(receipt, "now", lambda: "2024-05-03T10:00:00+02:00")
    assert main(["recalculer", str(path), "--sortie", str(tmp_path / "copies")]) in (0, 1)
    copy = tmp_path / "copies" / "cher.xlsx"
    before = copy.read_bytes()
    monkeypatch.setattr(receipt, "now", lambda: "2024-06-01T08:00:00+02:00")
    capsys.readouterr()
    assert main(["recalculer", str(path), "--sortie", str(tmp_path / "copies")]) in (0, 1)
    assert copy.read_bytes() == before and "déjà à jour" in capsys.readouterr().out
    assert "contrôle du 03/05/2024" in cli("controler", str(copy))[1]
