"""One row per rule: a small maquette that breaks it, and the finding expected."""
from decimal import Decimal as D

import pytest

from calpae_xl.core import Action, Bloc, Chorus, Column, Maquette, Severity, SplitRule, Unreadable, run_checks
from calpae_xl.core.model import Fiche, FicheBudget, Indicator, IndicatorValue, VentilationLine

SOCLE_CODE = Chorus("0304 50 19 19 07", "Garantie d'activité et insertion des BRSA")
INIT_CODE = Chorus("0304 50 19 19 10", "Initiatives locales")


def action(**kw) -> Action:
    base = dict(bloc=Bloc.SOCLE, numero="4.1", intitule="Orientation", theme="4 - Insertion des allocataires",
                chorus=SOCLE_CODE, budget_global=D("100"), budget_etat_cd=D("100"), part_etat=D("50"),
                part_cd=D("50"), report=D("0"), autres_financeurs=None,
                indicateurs=(Indicator("Bénéficiaires", valeurs=(IndicatorValue(2020, cible=D(10)),)),))
    base.update(kw)
    return Action(**base)


def maquette(*actions, **kw) -> Maquette:
    base = dict(departement="Test", annee=2020, actions=actions or (action(),), credits_etat=None,
                report_etat_notifie=None)
    base.update(kw)
    return Maquette(**base)


CASES = [
    # (id, maquette, expected code, severity, action N° or None)
    ("clean", maquette(), None, None, None),
    ("identity etat+cd", maquette(action(budget_etat_cd=D("101"), budget_global=D("101"))), "IDENTITE_ETAT_CD", "erreur", "4.1"),
    ("identity global", maquette(action(budget_global=D("130"), autres_financeurs=D("20"))), "IDENTITE_GLOBAL", "erreur", "4.1"),
    ("parity broken", maquette(action(part_etat=D("40"), part_cd=D("60"))), "PARITE_ROMPUE", "erreur", "4.1"),
    ("libre cd below", maquette(action(regle=SplitRule.LIBRE, part_etat=D("60"), part_cd=D("40"))), "CD_INFERIEUR_ETAT", "erreur", "4.1"),
    ("libre cd above ok", maquette(action(regle=SplitRule.LIBRE, part_etat=D("40"), part_cd=D("60"))), None, None, None),
    ("envelope exceeded", maquette(credits_etat=D("49")), "ENVELOPPE_DEPASSE", "erreur", None),
    ("envelope short", maquette(credits_etat=D("51")), "ENVELOPPE_NON_CONSOMME", "avertissement", None),
    ("envelope unknown", maquette(), "PARAMETRE_MANQUANT", "info", None),
    ("report exceeded", maquette(action(report=D("20"), budget_etat_cd=D("100"), budget_global=D("100"), part_etat=D("40"), part_cd=D("40")),
                                 report_etat_notifie=D("9")), "REPORT_DEPASSE", "erreur", None),
    ("report short", maquette(report_etat_notifie=D("5")), "REPORT_NON_CONSOMME", "avertissement", None),
    ("typed subtotal", maquette(sous_totaux_saisis={Bloc.SOCLE: {Column.PART_ETAT: D("51")}}), "SOUS_TOTAL_FAUX", "erreur", None),
    ("typed total", maquette(total_saisi={Column.BUDGET_GLOBAL: D("99")}), "TOTAL_FAUX", "erreur", None),
    ("negative", maquette(action(report=D("-10"), part_etat=D("55"), part_cd=D("55"))), "MONTANT_NEGATIF", "erreur", "4.1"),
    ("not a number", maquette(action(part_cd=Unreadable("cinquante"))), "MONTANT_ILLISIBLE", "erreur", "4.1"),
    ("missing global", maquette(action(budget_global=None)), "MONTANT_MANQUANT", "erreur", "4.1"),
    ("not recalculated", maquette(action(budget_etat_cd=None, part_etat=None, part_cd=None)), "A_RECALCULER", "avertissement", "4.1"),
    ("duplicate", maquette(action(), action(intitule="Autre")), "NUMERO_EN_DOUBLE", "erreur", "4.1"),
    ("same N° other bloc ok", maquette(action(), action(bloc=Bloc.INITIATIVES, chorus=INIT_CODE, theme="Initiatives locales")), None, None, None),
    ("no intitulé", maquette(action(intitule="  ")), "INTITULE_MANQUANT", "erreur", "4.1"),
    ("no N°", maquette(action(numero="")), "NUMERO_MANQUANT", "erreur", ""),
    ("chorus missing", maquette(action(chorus=None)), "CHORUS_MANQUANT", "erreur", "4.1"),
    ("chorus malformed", maquette(action(chorus=Chorus("0304 50 19"))), "CHORUS_MALFORME", "erreur", "4.1"),
    ("chorus unknown", maquette(action(chorus=Chorus("0304 50 19 19 09"), theme="")), "CHORUS_INCONNU", "avertissement", "4.1"),
    ("initiative not on 10", maquette(action(bloc=Bloc.INITIATIVES, theme="Initiatives locales")), "CHORUS_BLOC", "erreur", "4.1"),
    ("socle on 10", maquette(action(chorus=INIT_CODE)), "CHORUS_BLOC", "erreur", "4.1"),
    ("theme/code mismatch", maquette(action(theme="1 - Sorties sèches")), "CHORUS_THEME", "avertissement", "4.1"),
    ("chorus written with dashes ok", maquette(action(chorus=Chorus("0304-50-19-19-07"))), None, None, None),
    ("ventilation", maquette(action(ventilation=(VentilationLine("a", D("60")), VentilationLine("b", D("30"))))), "VENTILATION_ECART", "avertissement", "4.1"),
    ("execution above", maquette(action(budget_execute=D("120"))), "EXECUTION_DEPASSEE", "avertissement", "4.1"),
    ("execution rate", maquette(action(budget_execute=D("75"))), "EXECUTION_TAUX", "info", "4.1"),
    ("fiche global", maquette(action(fiche=Fiche(budget=FicheBudget(budget_global=D("120"))))), "FICHE_ECART", "avertissement", "4.1"),
    ("fiche rounding tolerated", maquette(action(fiche=Fiche(budget=FicheBudget(part_etat=D("50.5"))))), None, None, None),
    ("fiche report", maquette(action(fiche=Fiche(budget=FicheBudget(part_etat=D("25"), report_etat=D("25"))))), "FICHE_ECART", "avertissement", "4.1"),
    ("indicator empty", maquette(action(indicateurs=(Indicator("X"),))), "INDICATEUR_SANS_VALEUR", "info", "4.1"),
    ("no indicator", maquette(action(indicateurs=())), "INDICATEUR_ABSENT", "info", "4.1"),
]

IGNORED_WHEN_CLEAN = {"PARAMETRE_MANQUANT"}


@pytest.mark.parametrize("case_id, m, code, severity, numero", CASES, ids=[c[0] for c in CASES])
def test_rule(case_id, m, code, severity, numero):
    findings = run_checks(m)
    if code is None:
        assert [f.code for f in findings if f.code not in IGNORED_WHEN_CLEAN] == []
        return
    hits = [f for f in findings if f.code == code]
    assert hits, f"{code} attendu, trouvé {[f.code for f in findings]}"
    f = hits[0]
    assert f.severity.value == severity
    assert f.message and f.message[0].isupper()
    if numero is not None:
        assert f.where.action == numero


def test_findings_are_sorted_worst_first():
    m = maquette(action(budget_execute=D("75"), part_etat=D("40"), part_cd=D("60")), credits_etat=D("60"))
    ranks = [f.severity.rank for f in run_checks(m)]
    assert ranks == sorted(ranks) and ranks[0] == 0


def test_json_contract_of_a_finding():
    f = next(f for f in run_checks(maquette(action(part_etat=D("40"), part_cd=D("60")))) if f.code == "PARITE_ROMPUE")
    assert f.as_dict() == {"code": "PARITE_ROMPUE", "gravite": "erreur", "bloc": "socle", "action": "Action 4.1",
                           "feuille": None, "cellule": None, "message": f.message}
    assert f.located("Maquette", "G7").as_dict()["cellule"] == "G7"


def test_a_broken_check_becomes_a_finding(monkeypatch):
    from calpae_xl.core import checks

    def boom(m):
        raise RuntimeError("x")
    monkeypatch.setattr(checks, "CHECKS", checks.CHECKS + (boom,))
    found = checks.run_checks(maquette())
    assert any(f.code == "CONTROLE_IMPOSSIBLE" and f.severity is Severity.ERREUR for f in found)
