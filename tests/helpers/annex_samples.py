"""Maquettes for the annex PDF: what a real workbook may contain."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from calpae_xl.core import load_example
from calpae_xl.core.model import Chorus, Fiche, Indicator, IndicatorValue, VentilationLine
from calpae_xl.core.money import Unreadable
from calpae_xl.core.rules import totals
from calpae_xl.reports.annex_pdf import Group

LONG_INTITULE = ("Accompagnement renforcé des bénéficiaires du RSA vers l'emploi durable, " * 12).strip()
LONG_THEME = ("4 - Insertion des allocataires du RSA : orientation, parcours, garantie d'activité, " * 5).strip()
URL = "https://www.example-departement.fr/" + "tres-long-chemin-sans-espace-" * 8 + "fin.html"
MULTILINE = ("Objectifs de l'action :\n- garantir l'accueil inconditionnel de tout jeune de l'ASE ;\n"
             "- développer le parrainage & le soutien par les pairs (< 25 ans, > 18 ans) ;\n"
             "- suivre les indicateurs opérationnels.\n\n" + "Texte long de description. " * 180 + URL)


def hostile():
    """The Loiret example with: a 900-character intitulé, a 400-character
    thème, an unbreakable URL, a fiche of several pages, blank and
    unreadable amounts, indicator values, four groups (as a CLS has axes)."""
    m = load_example("loiret-2020")
    acts = list(m.actions)
    acts[0] = replace(acts[0], intitule=LONG_INTITULE, fiche=replace(
        acts[0].fiche, description=MULTILINE, partenaires=URL, bilan="Bilan : « réussi »\n" * 40),
        indicateurs=(Indicator("Jeunes accompagnés", "nombre",
                               (IndicatorValue(2020, Decimal("1250"), Decimal("1312.5"), "suivi mensuel"),)),))
    acts[1] = replace(acts[1], theme=LONG_THEME, report=Unreadable("à voir"), budget_global=None)
    acts[2] = replace(acts[2], chorus=Chorus("0304 50 19 19 01", "Libellé Chorus " * 10), fiche=Fiche())
    acts[3] = replace(acts[3], ventilation=tuple(
        VentilationLine(f"Poste {i} : " + "frais divers " * 6, Decimal(1000 + i)) for i in range(30)))
    m = replace(m, actions=tuple(acts))
    chunks = [acts[0:4], acts[4:10], acts[10:15], acts[15:]]
    labels = ["Axe 1 : Prévenir les ruptures de parcours des jeunes", "Axe 2 : Travail social",
              "Axe 3 : Insertion et mobilité", "Axe 4 : Logement et inclusion numérique"]
    groups = [Group(lab, ch, totals(ch)) for lab, ch in zip(labels, chunks, strict=True)]
    return m, groups
