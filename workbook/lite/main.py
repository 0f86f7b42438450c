"""xlwings Lite : les trois boutons de la maquette financière CALPAE.

Les formes xl_recalculer, xl_controler et xl_fiches de la feuille Maquette
lancent Recalculer, Contrôler et Générer les fiches (calpae_xl.xlwings_scripts).
"""
from calpae_xl.xlwings_scripts import *  # noqa: F401,F403
