"""README's « Écrire son profil »: the example profile printed there, used as
a finance officer would — the maquette created with it, two actions and the
credits typed through LibreOffice, then « recalculer » and « controler » —
so that what README shows works as README says."""
import json
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from calpae_xl.cli import main
from calpae_xl.core.profile import load_profile
from tests.helpers import lo_calc

CREDITS_V1 = "Crédits État notifiés — Volet 1 – Accompagnement vers l'emploi"
CREDITS_V2 = "Crédits État notifiés — Volet 2 – Mobilité"
ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.libreoffice,
              pytest.mark.skipif(lo_calc.soffice_path() is None, reason="LibreOffice (soffice) absent")]


def readme_profile() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Écrire son profil"):]
    return re.search(r"```toml\n(.*?)```", section, re.S).group(1)


def _rows(path, sheet, col="A"):
    ws = openpyxl.load_workbook(path)[sheet]
    return {str(c.value): c.row for c in ws[col] if c.value is not None}


def _json(capsys, *args):
    capsys.readouterr()
    code = main(["controler", *args, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)["fichiers"][0]


def test_the_readme_profile_makes_a_maquette_that_works(tmp_path, capsys):
    profile_file = tmp_path / "insertion.toml"
    profile_file.write_text(readme_profile(), encoding="utf-8")
    p = load_profile(str(profile_file))
    assert (p.id, p.word, [g.court for g in p.groupes]) == ("insertion-2025", "volet", ["V1", "V2"])
    book = tmp_path / "cher.xlsx"
    assert main(["nouveau", str(book), "--profil", str(profile_file), "--departement", "Cher",
                 "--annee", "2025"]) == 0
    params = _rows(book, "Paramètres")
    maquette = _rows(book, "Maquette")
    v1 = maquette["Volet 1 – Accompagnement vers l'emploi"]
    v2 = maquette["Volet 2 – Mobilité"]
    with lo_calc.start_office(locale="fr-FR", timeout=120) as lo:
        lo.edit(str(book), [
            ("set_number", "Paramètres", f"B{params[CREDITS_V1]}", 100000),
            ("set_number", "Paramètres", f"B{params[CREDITS_V2]}", 30000),
            ("set_text", "Maquette", "F4", "Coût total de l'action"),  # the profile's own header ([entetes])
            ("set_text", "Maquette", f"D{v1}", "Action 1.1"), ("set_text", "Maquette", f"E{v1}", "Référents emploi"),
            ("set_number", "Maquette", f"F{v1}", 200000.01),
            ("set_text", "Maquette", f"D{v2}", "Action 2.1"), ("set_text", "Maquette", f"E{v2}", "Garage solidaire"),
            ("set_number", "Maquette", f"F{v2}", 30000),
        ])
    assert main(["recalculer", str(book)]) == 0  # no --profil: the workbook carries its own
    ws = openpyxl.load_workbook(book, data_only=True)["Maquette"]
    got = {ws[f"D{r}"].value: tuple(Decimal(str(ws.cell(r, c).value)) for c in (7, 8, 9)) for r in (v1, v2)}
    assert got == {"Action 1.1": (Decimal("200000.01"), Decimal("100000"), Decimal("100000.01")),  # parité
                   "Action 2.1": (Decimal("30000"), Decimal("30000"), Decimal("0"))}  # 100 % État
    code, doc = _json(capsys, str(book))
    assert code == 0
    assert sorted(c["code"] for c in doc["constats"]) == ["INDICATEUR_ABSENT", "INDICATEUR_ABSENT"]
    assert doc["provenance"]["profil"] == "insertion-2025"
    # the volets are not fungible: 10 000 € of credits moved from volet 2 to volet 1 leaves volet 2 over its
    # credits (an error) and volet 1 under them (a warning), although the grand total is the same
    with lo_calc.start_office(locale="fr-FR", timeout=120) as lo:
        lo.edit(str(book), [("set_number", "Paramètres", f"B{params[CREDITS_V1]}", 110000),
                            ("set_number", "Paramètres", f"B{params[CREDITS_V2]}", 20000)])
    code, doc = _json(capsys, str(book))
    envelope = sorted((c["gravite"], c["code"], c["bloc"]) for c in doc["constats"] if c["code"].startswith("ENV"))
    assert code == 1 and envelope == [("avertissement", "ENVELOPPE_NON_CONSOMME", "accompagnement"),
                                      ("erreur", "ENVELOPPE_DEPASSE", "mobilite")], envelope
