"""The national referential the annex relies on: thèmes of the socle and their
imputations Chorus (programme 304, action 50, as printed in the Loiret 2020
annex). A Département can add codes (Paramètres sheet) without code changes."""
from __future__ import annotations

import re

CHORUS_PATTERN = re.compile(r"^\d{4} \d{2} \d{2} \d{2} \d{2}$")

#: code -> libellé, as printed in the annex (merged cells: 4.1, 4.2 and 5 share 07)
CHORUS_CODES: dict[str, str] = {
    "0304 50 19 19 01": "Accompagnement des jeunes sortant de l'ASE",
    "0304 50 19 19 02": "Formation travail social CD contract",
    "0304 50 19 19 03": "1er accueil social inconditionnel",
    "0304 50 19 19 04": "Référents de parcours",
    "0304 50 19 19 07": "Garantie d'activité et insertion des BRSA",
    "0304 50 19 19 10": "Initiatives locales",
    "0304 50 19 19 11": "Formation des professionnels de la petite enfance",
}

#: thème N° of the socle -> the Chorus suffix it is imputed on
THEME_CHORUS_SUFFIX: dict[str, str] = {
    "1": "01",
    "2": "03",
    "3": "04",
    "4": "07",
    "5": "07",
    "6": "02",
    "7": "11",
}

THEMES: dict[str, str] = {
    "1": "1 - Prévenir toute « sortie sèche » pour les jeunes sortants de l'ASE",
    "2": "2 - Refonder et revaloriser le travail social au service de toutes les familles : "
    "Premier accueil social inconditionnel de proximité",
    "3": "3 - Refonder et revaloriser le travail social au service de toutes les familles – "
    "Référent de parcours",
    "4": "4 - Insertion des allocataires du RSA : Orientation et parcours des allocataires",
    "5": "5 - Insertion des allocataires du RSA : garantie d'activité",
    "6": "6 - Mise en place du plan de formation des TS travailleurs sociaux des CD",
    "7": "7 - Innovation pour la formation des professionnels de la petite enfance",
}

THEME_INITIATIVES = "Initiatives locales"
INITIATIVES_SUFFIX = "10"



def chorus_choices() -> list[str]:
    """The drop-down entries: 'code - libellé'."""
    return [f"{c} - {label}" for c, label in CHORUS_CODES.items()]


#: the départements (and collectivities exercising their powers), to find one named in a title
DEPARTEMENTS = (
    "Ain", "Aisne", "Allier", "Alpes-de-Haute-Provence", "Hautes-Alpes", "Alpes-Maritimes", "Ardèche", "Ardennes",
    "Ariège", "Aube", "Aude", "Aveyron", "Bouches-du-Rhône", "Calvados", "Cantal", "Charente", "Charente-Maritime",
    "Cher", "Corrèze", "Corse-du-Sud", "Haute-Corse", "Côte-d'Or", "Côtes-d'Armor", "Creuse", "Dordogne", "Doubs",
    "Drôme", "Eure", "Eure-et-Loir", "Finistère", "Gard", "Haute-Garonne", "Gers", "Gironde", "Hérault",
    "Ille-et-Vilaine", "Indre", "Indre-et-Loire", "Isère", "Jura", "Landes", "Loir-et-Cher", "Loire", "Haute-Loire",
    "Loire-Atlantique", "Loiret", "Lot", "Lot-et-Garonne", "Lozère", "Maine-et-Loire", "Manche", "Marne",
    "Haute-Marne", "Mayenne", "Meurthe-et-Moselle", "Meuse", "Morbihan", "Moselle", "Nièvre", "Nord", "Oise", "Orne",
    "Pas-de-Calais", "Puy-de-Dôme", "Pyrénées-Atlantiques", "Hautes-Pyrénées", "Pyrénées-Orientales", "Bas-Rhin",
    "Haut-Rhin", "Rhône", "Haute-Saône", "Saône-et-Loire", "Sarthe", "Savoie", "Haute-Savoie", "Paris",
    "Seine-Maritime", "Seine-et-Marne", "Yvelines", "Deux-Sèvres", "Somme", "Tarn", "Tarn-et-Garonne", "Var",
    "Vaucluse", "Vendée", "Vienne", "Haute-Vienne", "Vosges", "Yonne", "Territoire de Belfort", "Essonne",
    "Hauts-de-Seine", "Seine-Saint-Denis", "Val-de-Marne", "Val-d'Oise", "Guadeloupe", "Martinique", "Guyane",
    "La Réunion", "Mayotte", "Métropole de Lyon", "Collectivité européenne d'Alsace",
)
