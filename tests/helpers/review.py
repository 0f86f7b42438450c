"""What the State's reports must say about a region's folder (test helper):
each check compares a report with the truth the fixture generator kept
(tests/helpers/region.py), or one report with another (the HTML page as the
browser built it with the JSON), never the tool with itself."""
from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from urllib.parse import unquote

import openpyxl

from tests.helpers import browser
from tests.helpers.region import Region


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(resources.files("calpae_xl.data").joinpath("rapport.schema.json").read_text("utf-8"))


def validate(doc: dict) -> None:
    """The document validates against the shipped schema (every error said)."""
    import jsonschema
    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)} : {e.message[:300]}" for e in errors[:10])


def table(path: Path, sheet: str, header_row: int = 1) -> list[dict]:
    ws = openpyxl.load_workbook(path, data_only=True)[sheet]
    rows = list(ws.iter_rows(min_row=header_row, values_only=True))
    head = rows[0]
    return [dict(zip(head, r, strict=False)) for r in rows[1:]]


def check_workbook(region: Region, workbook: Path) -> None:
    """The consolidation workbook against the truth of the folder."""
    files = {r["Fichier"]: r for r in table(workbook, "Fichiers")}
    assert set(files) == set(region.files) | {region.unreadable}
    for rel, row in files.items():
        data = (region.folder / rel).read_bytes()
        assert row["SHA-256"] == hashlib.sha256(data).hexdigest() and row["Taille (octets)"] == len(data), rel
    bad = files[region.unreadable]
    assert bad["Lisible"] == "non" and bad["Code"] == "ZIP_ABIME" and region.unreadable in bad["Motif"]
    assert str(region.folder) not in bad["Motif"]  # the folder's path, not the machine's
    assert bad["Statut"] == "illisible"
    assert {rel for rel, r in files.items() if str(r["En double"]).startswith("oui")} == set(region.duplicate)
    # the duplicates: the first (in the folder's order) counted in the totals, the other listed, not added
    first, second = sorted(region.duplicate)
    assert (files[first]["En double"], files[second]["En double"]) == ("oui", "oui — non compté dans les totaux")
    actions = table(workbook, "Actions")
    assert {r["Compté dans les totaux"] for r in actions if r["Fichier"] == second} == {"non — fichier en double"}
    counted = [r for r in actions if r["Compté dans les totaux"] == "oui"]
    total = next(r for r in table(workbook, "Par département") if str(r["Département"]).startswith("TOTAL"))
    assert sum(Decimal(str(r["Participation État"] or 0)) for r in counted) == \
        Decimal(str(total["Participation État"])), "the totals add each maquette once"
    for rel in region.changed:
        assert files[rel]["Depuis le dernier contrôle"] == "modifié", rel
    for rel in region.checked:
        assert files[rel]["Depuis le dernier contrôle"] == "inchangé", rel
        assert files[rel]["Version de l'outil (contrôle)"] and files[rel]["Date du dernier contrôle"], rel
    never = set(region.files) - set(region.changed) - set(region.checked)
    for rel in never:
        assert files[rel]["Depuis le dernier contrôle"] == "sans reçu", rel
    for rel, info in region.files.items():
        assert (files[rel]["Département"], files[rel]["Année"], files[rel]["Avenant"]) == (
            info["departement"], info["annee"], info["avenant"]), rel
    findings = table(workbook, "Constats")
    for rel, answers in region.answered.items():
        assert files[rel]["Justifiés"] == len(answers), rel
        got = {r["Identifiant"]: r for r in findings if r["Fichier"] == rel}
        for key, (status, text) in answers.items():
            assert got[key]["Statut"] == (status or "justifié") and got[key]["Réponse"] == text, (rel, key)


def check_json(region: Region, doc: dict, workbook: Path) -> None:
    """The JSON validates, and says what the workbook says."""
    validate(doc)
    files = {f["fichier"]: f for f in doc["fichiers"]}
    rows = {r["Fichier"]: r for r in table(workbook, "Fichiers")}
    assert set(files) == set(rows)
    for rel, f in files.items():
        r = rows[rel]
        assert (f["comptes"]["erreur"], f["comptes"]["avertissement"], f["comptes"]["justifies"]) == (
            r["Erreurs"], r["Avertissements"], r["Justifiés"]), rel
        assert f["provenance"]["sha256"] == r["SHA-256"], rel
        assert f["en_double"] == str(r["En double"]).startswith("oui"), rel
        assert f["compte_dans_totaux"] == (r["Lisible"] == "oui" and "non compté" not in str(r["En double"])), rel
    total = next(r for r in table(workbook, "Par thème") if str(r["Thème"]).startswith("TOTAL"))
    assert Decimal(doc["totaux"]["total"]["part_etat"]) == Decimal(str(total["Participation État"])).quantize(
        Decimal("0.01"))
    for rel, answers in region.answered.items():
        got = {c["cle"]: c for c in files[rel]["constats"]}
        for key, (status, text) in answers.items():
            assert (got[key]["statut"], got[key]["reponse"], got[key]["ouvert"]) == (status or "justifié", text,
                                                                                      False)


def french_amount(text: str) -> Decimal:
    """'1 201 409,00 €' -> Decimal('1201409.00')."""
    s = text.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("€", "").replace(",", ".")
    return Decimal(s)


def visible(rows) -> list:
    return [r for r in rows if "hidden" not in r.attrs]


def check_html(doc: dict, page: Path, artefacts: Path, name: str = "rapport") -> dict:
    """The page in a real browser: it renders, its figures are the JSON's, the
    filters work, and screenshots are kept (``artefacts``). Returns the counts."""
    dom = browser.parse(browser.dump_dom(page))
    assert dom.find_all("title")[0].text.startswith("Consolidation des maquettes financières")
    assert len(dom.find_all("script")) == 1  # the page's own, nothing a file name or an answer brought
    # one line per file, its figures those of the JSON
    by_file = {f["fichier"]: f for f in doc["fichiers"]}
    lines = browser.rows(dom.by_id("table-fichiers"))
    assert len(lines) == len(doc["fichiers"])
    for tr in lines:
        f = by_file[tr.attrs["data-fichier"]]
        cells = tr.find_all("td")
        counted = {td.attrs["data-compte"]: td.text for td in cells if "data-compte" in td.attrs}
        readable = f["lisible"] and not f["ignore"]
        for k in ("erreur", "avertissement", "justifies"):
            assert counted[k] == (str(f["comptes"][k]) if readable else "—"), (f["fichier"], k)
        rate = next(td for td in cells if "data-taux" in td.attrs)
        assert rate.attrs["data-taux"] == (f["enveloppe_utilisee"] or "")
        if f["enveloppe_utilisee"]:
            shown = Decimal(rate.text.replace("\u00a0%", "").replace(",", "."))
            assert shown == (Decimal(f["enveloppe_utilisee"]) * 100).quantize(Decimal("0.1"))
        state = next(td for td in cells if "data-etat" in td.attrs)
        assert state.attrs["data-etat"] == ((f["provenance"] or {}).get("etat") or "")
        assert f["statut"] in tr.text
        link = tr.find_all("a")[0]
        target = (page.parent / unquote(link.attrs["href"])).resolve()
        assert target.exists() and target.name == Path(f["fichier"]).name, link.attrs["href"]
    # totals: each amount shown in French is the JSON's
    for table_id, key in (("table-par-theme", "par_theme"), ("table-par-bloc", "par_bloc"),
                          ("table-par-departement", "par_departement")):
        trs = browser.rows(dom.by_id(table_id))
        assert len(trs) == len(doc["totaux"][key]) + 1
        for tr, line in zip(trs, doc["totaux"][key] + [doc["totaux"]["total"]], strict=True):
            amounts = [td for td in tr.find_all("td") if "data-montant" in td.attrs]
            for td, col in zip(amounts, ("budget_global", "part_etat", "part_cd", "report", "autres_financeurs"),
                               strict=True):
                assert td.attrs["data-montant"] == (line[col] or "")
                if line[col] is not None:
                    assert french_amount(td.text) == Decimal(line[col]), (table_id, col, td.text)
    chart = dom.by_id("graphique-themes")
    bars = [r for r in chart.find_all("rect") if "data-montant" in r.attrs]
    assert [Decimal(b.attrs["data-montant"]) for b in bars] == [
        Decimal(line[col] or 0) for line in doc["totaux"]["par_theme"] for col in ("part_etat", "part_cd")]
    # findings: every one is in the page; by default errors and warnings show
    findings = [(f, c) for f in doc["fichiers"] for c in f["constats"]]
    trs = browser.rows(dom.by_id("table-constats"))
    assert len(trs) == len(findings)
    assert len(visible(trs)) == sum(1 for _f, c in findings if c["gravite"] != "info")
    answered = [c for _f, c in findings if c["reponse"]]
    page_text = dom.by_id("table-constats").text
    assert all(c["reponse"] in page_text for c in answered)
    # the filter by code, as a link would open it
    codes = sorted({c["code"] for _f, c in findings})
    counts = {}
    for code in codes[:3] + [c for c in ("ENVELOPPE_DEPASSE",) if c in codes]:
        filtered = browser.parse(browser.dump_dom(page, f"code={code}&gravite=tout"))
        shown = visible(browser.rows(filtered.by_id("table-constats")))
        assert shown and {tr.attrs["data-code"] for tr in shown} == {code}
        assert len(shown) == sum(1 for _f, c in findings if c["code"] == code)
        assert filtered.find_all("body")[0].attrs.get("data-filtre") == code
        counts[code] = len(shown)
    justified = browser.parse(browser.dump_dom(page, "gravite=tout&statut=justifies"))
    assert len(visible(browser.rows(justified.by_id("table-constats")))) == sum(
        1 for _f, c in findings if not c["ouvert"])
    unknown = browser.parse(browser.dump_dom(page, "code=%3Cimg%20src%3Dx%3E"))  # an unknown code: no filter
    assert len(visible(browser.rows(unknown.by_id("table-constats")))) == len(visible(trs))
    check_filters_by_keyboard(doc, page)
    browser.screenshot(page, artefacts / f"{name}.png")
    if "ENVELOPPE_DEPASSE" in codes:
        # the whole page in the window: a page scrolled to the findings is captured blank by headless chromium
        browser.screenshot(page, artefacts / f"{name}_filtre.png", height=3400,
                           fragment="code=ENVELOPPE_DEPASSE&gravite=tout")
    return counts


VISIBLE = "document.querySelectorAll('#table-constats tbody tr:not([hidden])').length"


def check_filters_by_keyboard(doc: dict, page: Path) -> None:
    """The filters used as a person does: the focus on a list, the arrow keys."""
    findings = [c for f in doc["fichiers"] for c in f["constats"]]
    codes = sorted({c["code"] for c in findings})
    with browser.Page(page) as p:
        assert p.evaluate(VISIBLE) == sum(1 for c in findings if c["gravite"] != "info")
        p.evaluate("document.getElementById('filtre-code').focus()")
        p.press("ArrowDown", 40)  # the first code of the list
        assert p.evaluate("document.getElementById('filtre-code').value") == codes[0]
        assert p.evaluate("location.hash") == f"#code={codes[0]}"
        assert p.evaluate(VISIBLE) == sum(1 for c in findings if c["code"] == codes[0] and c["gravite"] != "info")
        p.evaluate("document.getElementById('filtre-gravite').focus()")
        p.press("End", 35)  # « toutes »
        assert p.evaluate(VISIBLE) == sum(1 for c in findings if c["code"] == codes[0])
        assert "constat(s) affiché(s) sur " + str(len(findings)) in p.evaluate(
            "document.getElementById('filtre-compte').textContent")
        p.evaluate("document.getElementById('filtre-code').focus()")
        p.press("Home", 36)  # all the codes again
        assert p.evaluate(VISIBLE) == len(findings)
        assert p.evaluate("location.hash") == "#gravite=tout"
