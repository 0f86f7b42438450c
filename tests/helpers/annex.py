"""The seed's annex typed as a finance officer would have it in Excel: title
rows, its own headers and typos, bloc/thème/Chorus merged over rows, amounts
as text with non-breaking or narrow spaces, a user column and a user sheet."""
from __future__ import annotations

import openpyxl
from openpyxl.styles import Font, PatternFill

NB, NN = "\u00a0", "\u202f"
HEADERS = ["", "Thèmes de la contractualisation", "Imputation chorus\n(code chorus - description\nlongue)",
           "Fiche\naction\nN°", "Intitulé de l’action", " Budget global de \nl'action ", " Budget Etat + CD",
           "Partipation Etat", "Participation CD", "Report 2019",
           "Participation d'autres \nfinanceurs le cas \néchéant", "Commentaires"]
T1 = "1 - Prévenir toute « sortie sèche » pour les jeunes sortants de l’ASE"
T4 = "4 - Insertion des allocataires du RSA : Orientation et parcours des allocataires"
C01 = "0304 50 19 19 01 -\nAccompagnement des jeunes\nsortant de l’ASE"
C07 = "0304 50 19 19 07 - Garantie d’activité et insertion des BRSA"
SOCLE = [  # thème, chorus, N°, intitulé, global, état+cd, état, cd, report, autres
    (T1, C01, "Action 1.1", "Aide à l’insertion après la majorité  (soutien à l'Envolée)", "72 000 €", "72 000 €", "36 000 €", "36 000 €", "0 €", None),
    (T1, C01, "Action 1.2", "Coordination des sortants d’ASE (avenant 12/2019)", 66000, 66000, 33000, 33000, None, None),
    (T1, C01, "Action 1.3", "Mise en place d’un parcours individualisé \"PARI\"", f"1{NB}198{NB}276{NB}€", "1 198 276 €", "222 196 €", "222 196 €", f"753{NN}884 €", None),
    ("2 - Refonder et revaloriser le travail social au service de toutes les familles : Premier accueil social inconditionnel de proximité",
     "0304 50 19 19 03 - 1er accueil\nsocial inconditionnel", "Action 2", "Plateforme téléphonique d'accueil social", "110 000 €", "110 000 €", "55 000 €", "55 000 €", "0 €", None),
    ("3 - Refonder et revaloriser le travail social au service de toutes les familles – Référent de parcours",
     "0304 50 19 19 04 - Référents de parcours", "Action 3", "Référent de parcours", "80 000 €", "80 000 €", "40 000 €", "40 000 €", "0 €", None),
    (T4, C07, "Action 4.1", "Orientation et Parcours des allocataires", "56 470 €", "56 470 €", "28 235 €", "28 235 €", "0 €", None),
    (T4, C07, "Action 4.2", "Mise en place d'une équipe dédiée de référents professionnels pour les BRSA", "395 809 €", "395 809 €", "197 905 €", "197 905 €", None, None),
    ("5 - Insertion des allocataires du RSA : garantie d'activité", C07, "Action 5", "Garantie d'activité", "60 000 €", "60 000 €", "30 000 €", "30 000 €", "0 €", None),
    ("6 - Mise en place du plan de formation des TS\ntravailleurs sociaux des CD", "0304 50 19 19 02 - Formation travail social CD \ncontract",
     "Action 6", "Mise en place du plan de formation des TS", "115 906 €", "115 906 €", "57 953 €", "57 953 €", "0 €", None),
    ("7 - Innovation pour la formation des\nprofessionnels de la petite enfance", "0304 50 19 19 11 - Formation des\nprofessionnels de la petite enfance",
     "Action 7", "Innovation pour la formation des professionnels de la petite enfance : organisation \nde théâtres forums à destination des assistants maternels",
     "12 000 €", "12 000 €", "6 000 €", "6 000 €", None, None),
]
INIT = [  # N°, intitulé, global, état+cd, état, cd, report, autres
    ("Action 1", "Référencement unique des porteurs de projet d’activité non salariée", "36 000 €", "36 000 €", "18 000 €", "18 000 €", "0 €", None),
    ("Action 2", "Offre de service dédiée aux frais de reprise d’emploi/formation", "31 200 €", "31 200 €", "15 600 €", "15 600 €", "0 €", None),
    ("Action 3", "Accompagnement parental pour prévenir les difficultés langagières entre 0 et 3 ans", "360 000 €", "205 000 €", "65 000 €", "65 000 €", "75 000 €", "155 000 €"),
    ("Action 4", "Location de véhicules à 1€ par jour", "71 625 €", "71 625 €", "35 813 €", "35 813 €", None, None),
    ("Action 5.1", "Mutations dans le parc social (appel d'offre pour 50 logements en 2021)", "50 000 €", "50 000 €", "25 000 €", "25 000 €", "0 €", None),
    ("Action 5.2", "Aide au déménagement pour des ménages en précarité", "100 000 €", "100 000 €", "50 000 €", "50 000 €", None, None),
    ("Action 6", "SIAE recyclage matériel informatique Envie + lieu multiple", "34 000 €", "34 000 €", "17 000 €", "17 000 €", "0 €", None),
    ("Action 7", "Promotion et développement de l'IAE", "30 000 €", "30 000 €", "15 000 €", "15 000 €", "0 €", None),
    ("Action 8", "Accompagnement des SIAE", "500 674 €", "500 674 €", "250 337 €", "250 337 €", None, None),
    ("Action 9", "Rédaction d'un guide et incrémentation dans la plateforme ICI45", "6 742 €", "6 742 €", "3 371 €", "3 371 €", None, None),
]
SHEET = "Annexe financière"
HEADER_ROW = 5
COMMENT = "Vu avec la DDETS le 12/10"


def build_annex(path: str) -> dict:
    """Write the annex workbook; returns where things are (rows by N°)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    ws["A1"] = "MAQUETTE FINANCIERE"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = "Avenant n°3 – Loiret – 2020"
    for c, h in enumerate(HEADERS, 1):
        ws.cell(HEADER_ROW, c, h)
    r = HEADER_ROW + 1
    rows = {}
    first = r
    theme_runs = {}
    for theme, chorus, num, title, *amounts in SOCLE:
        ws.cell(r, 2, theme)
        ws.cell(r, 3, chorus)
        ws.cell(r, 4, num)
        ws.cell(r, 5, title)
        for j, v in enumerate(amounts):
            ws.cell(r, 6 + j, v)
        theme_runs.setdefault(theme, []).append(r)
        rows[("socle", num)] = r
        r += 1
    ws.cell(first, 1, "Engagements \ndu socle")
    ws.merge_cells(start_row=first, start_column=1, end_row=r - 1, end_column=1)
    # merged thème and Chorus cells over several rows, as in the annex:
    # thème 1 and thème 4 span their actions; code 07 spans 4.1, 4.2 and 5
    r41, r5 = rows[("socle", "Action 4.1")], rows[("socle", "Action 5")]
    merges = [(c, rs[0], rs[-1]) for rs in theme_runs.values() if len(rs) > 1 for c in (2,)]
    merges += [(3, rows[("socle", "Action 1.1")], rows[("socle", "Action 1.3")]), (3, r41, r5)]
    for c, top, bottom in merges:
        for rr in range(top + 1, bottom + 1):
            ws.cell(rr, c).value = None
        ws.merge_cells(start_row=top, start_column=c, end_row=bottom, end_column=c)
    ws.cell(r, 4, "SOUS-TOTAL SOCLE")
    ws.merge_cells(start_row=r, start_column=4, end_row=r, end_column=5)
    for j, v in enumerate(["2 166 461 €", "2 166 461 €", "706 289 €", "706 289 €", "753 884 €", "0 €"]):
        ws.cell(r, 6 + j, v)
    rows["sous-total socle"] = r
    r += 1
    first = r
    for num, title, *amounts in INIT:
        ws.cell(r, 4, num)
        ws.cell(r, 5, title)
        for j, v in enumerate(amounts):
            ws.cell(r, 6 + j, v)
        rows[("initiatives", num)] = r
        r += 1
    ws.cell(first, 1, "Initiatives locales")
    ws.merge_cells(start_row=first, start_column=1, end_row=r - 1, end_column=1)
    ws.cell(first, 3, "0304 50 19 19 10 - Initiatives locales")
    ws.merge_cells(start_row=first, start_column=3, end_row=r - 1, end_column=3)
    ws.cell(first, 2, "Initiatives locales")
    ws.merge_cells(start_row=first, start_column=2, end_row=r - 1, end_column=2)
    ws.cell(r, 4, "SOUS-TOTAL INITIATIVES DEPARTEMENTALES")
    for j, v in enumerate(["1 220 241 €", "1 065 241 €", "495 121 €", "495 121 €", "75 000 €", "155 000 €"]):
        ws.cell(r, 6 + j, v)
    rows["sous-total initiatives"] = r
    r += 1
    ws.cell(r, 4, "TOTAL")
    for j, v in enumerate(["3 386 702 €", "3 231 702 €", "1 201 409 €", "1 201 409 €", "828 884 €", "155 000 €"]):
        ws.cell(r, 6 + j, v)
    rows["total"] = r
    # the user's own column and sheet
    ws.cell(rows[("socle", "Action 4.2")], 12, COMMENT)
    ws.cell(rows[("socle", "Action 4.2")], 12).fill = PatternFill("solid", start_color="CCFFCC", end_color="CCFFCC")
    notes = wb.create_sheet("Notes du service")
    notes["A1"] = "Réunion du 10 juillet 2020 : commission permanente."
    notes["B3"] = 42
    notes["C3"] = "=B3*2"
    wb.save(path)
    return rows
