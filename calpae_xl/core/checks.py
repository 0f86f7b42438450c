"""Contrôler: every inconsistency of a maquette, as findings, never exceptions.

Each check is a function ``Maquette -> iterable of Finding``; :func:`run_checks`
runs them all and collects everything (lazy collection, as pandera does): a
finance officer wants the whole list at once, not the first problem. Codes
and their gravité come from the catalogue (:mod:`calpae_xl.core.catalogue`).
"""
from __future__ import annotations

import re
from collections import Counter
from contextvars import ContextVar
from decimal import Decimal
from typing import Callable, Iterable, Iterator, Optional

from .catalogue import severity
from .findings import Finding, Severity, Where, count_by_severity, has_errors, sort_findings
from .model import FICHE_TEXT_FIELDS, Action, Column, Maquette, SplitRule, theme_number
from .money import (ABSENT, DATE, ERROR, MERGED, NO_VALUE, SUB_CENT, TOO_LARGE, ZERO, Unreadable, format_eur, to_cent,
                    value_or_zero)
from .profile import profile_of
from .rules import COLUMNS, column_sum, derive, derived_of, drivers_of, inputs_of, report_etat, report_etat_total

__all__ = ["CHECKS", "Finding", "Severity", "Where", "count_by_severity", "has_errors", "run_checks",
           "sort_findings"]

#: A fiche may round the annex's amounts to the euro; differences below this are not reported.
FICHE_TOLERANCE = Decimal("1.00")


#: id(action) -> its place in the maquette being checked, so that each finding points at its own row even
#: when two actions share a N° (set by run_checks)
_PLACES: ContextVar[Optional[dict[int, int]]] = ContextVar("places", default=None)


def _at(action: Action, field: Optional[str] = None) -> Where:
    places = _PLACES.get()
    return Where(bloc=action.bloc, action=action.numero, field=field,
                 index=places.get(id(action)) if places else None)


def _f(code: str, message: str, action: Optional[Action] = None, field=None, where=None) -> Finding:
    """A finding with its catalogued gravité."""
    if where is None:
        where = _at(action, field) if action is not None else Where(field=field)
    return Finding(code, severity(code), message, where, action.label if action is not None else None)


def _name(action: Action) -> str:
    return f"{action.label} ({action.bloc.nom})"


def unreadable(v: Unreadable, what: str) -> tuple[str, str]:
    """(code, message) of a cell that is not an amount; ``what`` says where it is."""
    raw = v.raw if len(v.raw) <= 60 else v.raw[:57] + "…"
    if v.reason == SUB_CENT:
        return "MONTANT_SOUS_CENTIME", f"{what} : {raw} a plus de deux décimales. Saisissez le montant au centime."
    if v.reason == TOO_LARGE:
        return "MONTANT_DEMESURE", f"{what} : « {raw} » dépasse ce qu'une convention peut porter. Corrigez le montant."
    if v.reason == NO_VALUE:
        return "FORMULE_SANS_VALEUR", (f"{what} : la formule « {raw} » n'a pas de valeur enregistrée ; elle n'est "
                                       "pas comptée comme zéro. Ouvrez et enregistrez le classeur dans Excel ou "
                                       "LibreOffice.")
    if v.reason == MERGED:
        return "MONTANT_FUSIONNE", (f"{what} : la cellule est fusionnée avec {raw} ; le montant n'est compté pour "
                                    "aucune action. Annulez la fusion.")
    kind = {DATE: "une date", ERROR: "une valeur d'erreur"}.get(v.reason)
    tail = f" (c'est {kind})" if kind else ""
    return "MONTANT_ILLISIBLE", f"{what} : « {raw} » n'est pas un montant lisible{tail}. Saisissez un nombre en euros."


def check_has_actions(m: Maquette) -> Iterator[Finding]:
    """Annexe financière: one row per action of the convention. A table read
    whole with no action row programs nothing: never « Aucune erreur »."""
    if not m.actions:
        yield _f("AUCUNE_ACTION", "La maquette ne contient aucune action : rien n'est programmé. Saisissez une "
                 "ligne par action de la convention, puis cliquez sur « Recalculer ».")


def check_amounts(m: Maquette) -> Iterator[Finding]:
    """Every amount is a number at the cent that a convention can hold, not
    negative, and the amounts that drive the action's split rule are filled in."""
    for a in m.actions:
        bad_input = any(isinstance(a.amount(c), Unreadable) or (a.amount(c) is None and c in drivers_of(a.regle))
                        for c in inputs_of(a.regle))
        for col in COLUMNS:
            v = a.amount(col)
            if isinstance(v, Unreadable):
                if v.reason == ABSENT:
                    continue  # COLONNE_ABSENTE says it once, for the whole column
                if v.reason in (NO_VALUE, ERROR) and bad_input and col not in inputs_of(a.regle):
                    # a computed cell without value, or with the error the spreadsheet computed, because an
                    # input is wrong: that input is said (whichever program saved the file last)
                    continue
                code, message = unreadable(v, f"{_name(a)}, colonne « {col.label} »")
                yield _f(code, message, a, col.value)
            elif isinstance(v, Decimal) and v < 0 and not not_known(a, col):
                # (a part the spreadsheet computed from an unreadable or blank input is no figure: that input
                # is said)
                yield _f("MONTANT_NEGATIF", f"{_name(a)} : montant négatif ({format_eur(v)}) dans la "
                         f"colonne « {col.label} ».", a, col.value)
        for col in drivers_of(a.regle):
            if a.amount(col) is None:
                yield _f("MONTANT_MANQUANT", f"{_name(a)} : « {col.label} » n'est pas renseigné "
                         f"(répartition {a.regle.value}).", a, col.value)
    for bloc, typed in list(m.sous_totaux_saisis.items()) + [(None, m.total_saisi)]:
        rows = m.bloc(bloc) if bloc else m.actions
        for col, v in typed.items():
            # a total without value, or with an error one of its rows gave it: its rows are said
            if isinstance(v, Unreadable) and v.reason not in (NO_VALUE, ABSENT) and not (
                    v.reason == ERROR and any(not_known(a, col) for a in rows)):
                what = f"Sous-total {bloc.label}" if bloc else "Total"
                code, message = unreadable(v, f"{what}, colonne « {col.label} »")
                yield _f(code, message, where=Where(bloc=bloc, field=col.value, total=True))


def check_identities(m: Maquette) -> Iterator[Finding]:
    """Annexe financière: Budget État + CD = part État + part CD + report N-1,
    and Budget global = Budget État + CD + autres financeurs."""
    for a in m.actions:
        vals = {c: a.amount(c) for c in COLUMNS}
        if any(isinstance(v, Unreadable) for v in vals.values()):
            continue
        if any(vals[c] is None for c in drivers_of(a.regle)):
            continue  # MONTANT_MANQUANT says it; a blank is never compared as 0
        missing = [c for c in COLUMNS if blank_due(vals[c], c) and c not in inputs_of(a.regle)]
        z = {c: value_or_zero(v) for c, v in vals.items()}
        if missing:
            # an error: the maquette would be sent with a blank where its rule computes a figure (campaign,
            # seed 51202: a budget global cleared, the row put under « libre », « Aucune erreur »)
            yield _f("A_RECALCULER", f"{_name(a)} : « {missing[0].label} » est vide : la ligne n'est pas à "
                     "jour. Cliquez sur « Recalculer » pour la compléter.", a, missing[0].value)
            # what is there is still compared: a blank Budget État + CD must not hide a budget that the parts
            # do not add up to
            if vals[Column.BUDGET_ETAT_CD] is None and vals[Column.PART_ETAT] is not None \
                    and vals[Column.PART_CD] is not None and vals[Column.BUDGET_GLOBAL] is not None:
                expected = z[Column.PART_ETAT] + z[Column.PART_CD] + z[Column.REPORT] + z[Column.AUTRES]
                if z[Column.BUDGET_GLOBAL] != expected:
                    yield _f("IDENTITE_GLOBAL",
                             f"{_name(a)} : le budget global ({format_eur(z[Column.BUDGET_GLOBAL])}) diffère de "
                             f"part État + part CD + report + autres financeurs ({format_eur(expected)}) de "
                             f"{format_eur(abs(z[Column.BUDGET_GLOBAL] - expected))}.", a, Column.BUDGET_GLOBAL.value)
            continue
        expected = z[Column.PART_ETAT] + z[Column.PART_CD] + z[Column.REPORT]
        if z[Column.BUDGET_ETAT_CD] != expected:
            gap = z[Column.BUDGET_ETAT_CD] - expected
            yield _f("IDENTITE_ETAT_CD",
                     f"{_name(a)} : le budget État + CD ({format_eur(z[Column.BUDGET_ETAT_CD])}) diffère de "
                     f"part État + part CD + report ({format_eur(expected)}) de {format_eur(abs(gap))}.",
                     a, Column.BUDGET_ETAT_CD.value)
        expected_global = z[Column.BUDGET_ETAT_CD] + z[Column.AUTRES]
        if z[Column.BUDGET_GLOBAL] != expected_global:
            gap = z[Column.BUDGET_GLOBAL] - expected_global
            yield _f("IDENTITE_GLOBAL",
                     f"{_name(a)} : le budget global ({format_eur(z[Column.BUDGET_GLOBAL])}) diffère de "
                     f"budget État + CD + autres financeurs ({format_eur(expected_global)}) de "
                     f"{format_eur(abs(gap))}.", a, Column.BUDGET_GLOBAL.value)


def check_split(m: Maquette) -> Iterator[Finding]:
    """Convention § 2.3: parts État and CD are equal under "parité" (the odd
    cent, if any, to the CD); under "libre" the CD's part is not below the State's."""
    for a in m.actions:
        etat, cd = a.part_etat, a.part_cd
        if not (isinstance(etat, Decimal) and isinstance(cd, Decimal)):
            continue
        if a.regle is SplitRule.ETAT_100 and cd != 0:
            yield _f("ETAT_100_ROMPU", f"{_name(a)} : action financée à 100 % par l'État, mais la part CD vaut "
                     f"{format_eur(cd)}. Cliquez sur « Recalculer ».", a, Column.PART_CD.value)
        elif a.regle is SplitRule.PARITE and not Decimal(0) <= cd - etat <= Decimal("0.01"):
            yield _f("PARITE_ROMPUE", f"{_name(a)} : répartition à parité attendue, mais part État = "
                     f"{format_eur(etat)} et part CD = {format_eur(cd)}. Passez la règle en « libre » ou "
                     "cliquez sur « Recalculer ».", a, Column.PART_ETAT.value)
        elif cd < etat and (a.regle is SplitRule.CD_MAJORITAIRE or (
                a.regle is SplitRule.LIBRE and getattr(getattr(m, "profile", None), "libre_cd_au_moins_etat", True))):
            yield _f("CD_INFERIEUR_ETAT", f"{_name(a)} : la part CD ({format_eur(cd)}) est inférieure à la "
                     f"part État ({format_eur(etat)}).", a, Column.PART_CD.value)


def check_rules_allowed(m: Maquette) -> Iterator[Finding]:
    """The convention says which split rules each group allows (a volet the
    State finances alone: « 100 % État » only)."""
    p = profile_of(m)
    for a in m.actions:
        if a.bloc.regles and a.regle not in a.bloc.regles:
            allowed = ", ".join(f"« {r.value} »" for r in a.bloc.regles)
            yield _f("REGLE_NON_PERMISE", f"{_name(a)} : la règle « {a.regle.value} » n'est pas permise dans le "
                     f"{p.word} « {a.bloc.label} » (règles permises : {allowed}).", a, "regle")


def check_envelope(m: Maquette) -> Iterator[Finding]:
    """Article 2 of the avenant (the profile's envelope): the parts État add up
    to the credits notified, and the State's half of the reports to the report
    notified; for a convention whose groups are not fungible (the RSA / France
    Travail volets), each group against its own credits."""
    p = profile_of(m)
    pairs = []
    if p.fongible:
        pairs.append(("ENVELOPPE", "la somme des parts État", column_sum(m.actions, Column.PART_ETAT),
                      m.credits_etat, "les crédits notifiés", "aux crédits notifiés", Column.PART_ETAT, None))
    else:
        for g in p.groupes:
            acts = m.bloc(g)
            if not acts and g.value not in m.credits_groupes:
                continue
            pairs.append(("ENVELOPPE", f"la somme des parts État du {p.word} « {g.label} »",
                          column_sum(acts, Column.PART_ETAT), m.credits_groupes.get(g.value),
                          f"les crédits notifiés pour ce {p.word}", f"aux crédits notifiés pour ce {p.word}",
                          Column.PART_ETAT, g))
    if p.report:
        pairs.append(("REPORT", "la part État des reports N-1 (moitié de la colonne report)", report_etat_total(m),
                      m.report_etat_notifie, "le report notifié", "au report notifié", Column.REPORT, None))
    for code, what, used, notified, name, to_name, col, group in pairs:
        where = Where(bloc=group, field=col.value, total=True)
        rows = m.bloc(group) if group is not None else m.actions
        if notified is None:
            yield _f("PARAMETRE_MANQUANT", f"{_cap(name)} ne sont pas renseignés (feuille "
                     "« Paramètres » ou option) : contrôle de l'enveloppe non effectué."
                     if code == "ENVELOPPE" else f"{_cap(name)} n'est pas renseigné : contrôle du "
                     "report non effectué.", where=where)
            continue
        unsure = [a for a in rows if not_known(a, col)]
        lost = sorted({c.label for a in unsure for c in COLUMNS if absent(a, c)})
        if lost:  # the reader did not find a column the sum depends on
            yield _f("CONTROLE_INCOMPLET", f"{_cap(what)} n'est pas comparée {to_name} : la colonne "
                     f"« {lost[0]} » n'a pas été trouvée dans les en-têtes. Corrigez l'en-tête, puis contrôlez "
                     "à nouveau.", where=where)
            continue
        if unsure:  # a sum with a cell left out, or computed from an unreadable input, would be a wrong figure
            yield _f("CONTROLE_INCOMPLET", f"{_cap(what)} n'est pas comparée {to_name} : le montant de "
                     f"{len(unsure)} action(s) n'est pas lisible ou découle d'un montant illisible ou manquant "
                     f"({', '.join(_name(a) for a in unsure[:3])}{' …' if len(unsure) > 3 else ''}). Corrigez-le, "
                     "puis contrôlez à nouveau.", where=where)
            continue
        gap = used - notified
        if gap > 0:
            yield _f(f"{code}_DEPASSE", f"{_cap(what)} ({format_eur(used)}) dépasse {name} "
                     f"({format_eur(notified)}) de {format_eur(gap)}.", where=where)
        elif gap < 0:
            yield _f(f"{code}_NON_CONSOMME", f"{_cap(what)} ({format_eur(used)}) est inférieure "
                     f"{to_name} ({format_eur(notified)}) : {format_eur(-gap)} non programmés.", where=where)


def not_known(a: Action, col: Column) -> bool:
    """Whether an action's amount in ``col`` cannot be counted: unreadable, or
    derived by its rule from an input that is, or from a driving amount left
    blank (the budget global; under a rule of typed parts, both parts) —
    whatever value the spreadsheet keeps there: it computed it from a date, a
    text, an error, or a blank as 0. Recalculer writes exactly those cells
    without value, so the verdict does not depend on which program saved the
    file last. Annexe financière: MONTANT_MANQUANT says the blank."""
    if isinstance(a.amount(col), Unreadable):
        return True
    return col in derived_of(a.regle) and derive(a) is None  # what Recalculer writes without value


def unknown_columns(a: Action) -> frozenset[Column]:
    """The columns of ``a`` that :func:`not_known` says, with the rule applied once."""
    derived = derived_of(a.regle) if derive(a) is None else ()
    return frozenset(c for c in COLUMNS if isinstance(a.amount(c), Unreadable) or c in derived)


#: the columns where a blank reads as 0, as the annex reads it (no report, no other financeur)
ZERO_IF_BLANK = (Column.REPORT, Column.AUTRES)


def blank_due(v: object, col: Column) -> bool:
    """A blank where a figure is due: a blank report or autres financeurs is 0
    (annexe financière), any other blank amount is a figure not given."""
    return v is None and col not in ZERO_IF_BLANK


def absent(a: Action, col: Column) -> bool:
    """Whether ``col`` of ``a`` is in a column the reader did not find."""
    v = a.amount(col)
    return isinstance(v, Unreadable) and v.reason == ABSENT


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def check_typed_totals(m: Maquette) -> Iterator[Finding]:
    """A sub-total or total typed in the annex equals the sum of its rows."""
    for bloc, typed in list(m.sous_totaux_saisis.items()) + [(None, m.total_saisi)]:
        rows = m.bloc(bloc) if bloc else m.actions
        for col in COLUMNS:
            v = typed.get(col)
            if not isinstance(v, Decimal) or any(not_known(a, col) for a in rows):
                continue  # a sum with a cell left out would be a wrong figure: the unreadable cell is said
            s = column_sum(rows, col)
            if v != s:
                code, what = ("SOUS_TOTAL_FAUX", f"Le sous-total {bloc.label}") if bloc else ("TOTAL_FAUX", "Le total")
                yield _f(code, f"{what} de la colonne « {col.label} » ({format_eur(v)}) diffère de la "
                         f"somme des lignes ({format_eur(s)}) de {format_eur(abs(v - s))}.",
                         where=Where(bloc=bloc, field=col.value, total=True))


def check_identity_of_actions(m: Maquette) -> Iterator[Finding]:
    """An action is identified by (bloc, N°) and has an intitulé."""
    counts = Counter(a.key for a in m.actions)
    for a in m.actions:
        if not a.numero:
            yield _f("NUMERO_MANQUANT", f"Une action du bloc {a.bloc.label} (« {a.intitule[:60]} ») n'a pas "
                     "de N° de fiche.", a, "numero")
        elif counts[a.key] > 1:  # each occurrence, at its own row
            yield _f("NUMERO_EN_DOUBLE", f"Le N° {a.label} apparaît {counts[a.key]} fois dans le bloc "
                     f"{a.bloc.label} (ici : « {a.intitule[:60]} ») : renumérotez l'une des actions, sa fiche ne "
                     "peut être rattachée qu'à une seule.", a, "numero")
        if not a.intitule.strip():
            yield _f("INTITULE_MANQUANT", f"{_name(a)} n'a pas d'intitulé.", a, "intitule")


#: Excel's limit for the text of one cell
MAX_TEXT = 32767
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def check_texts(m: Maquette) -> Iterator[Finding]:
    """Texts that a spreadsheet cannot hold as typed (control characters
    pasted from another program, more than 32 767 characters): reported, and
    cleaned in what the project writes (fiche titles, Contrôles)."""
    for a in m.actions:
        texts = {"intitule": a.intitule, "theme": a.theme, **{k: getattr(a.fiche, k) for k in FICHE_TEXT_FIELDS}}
        for field, text in texts.items():
            if not text:
                continue
            if _CONTROL.search(text):
                yield _f("TEXTE_CARACTERES_INVALIDES", f"{_name(a)} : le texte « {field} » contient des "
                         "caractères de contrôle invisibles (copiés d'un autre logiciel) ; ils sont retirés des "
                         "feuilles écrites par l'outil.", a, field)
            if len(text) > MAX_TEXT:
                yield _f("TEXTE_TROP_LONG", f"{_name(a)} : le texte « {field} » fait {len(text)} caractères ; "
                         f"une cellule en contient au plus {MAX_TEXT} : il est tronqué dans les fiches.", a, field)


def check_chorus(m: Maquette, extra_codes: Iterable[str] = ()) -> Iterator[Finding]:
    """The imputation is there (when the profile requires it), has the
    profile's form, is in its referential, and is the one of its group (the
    CALPAE's initiatives locales: « … 10 ») and of its thème (annexe financière)."""
    p = profile_of(m)
    pattern = re.compile(p.imputation_forme)
    known = set(p.imputations) | set(extra_codes)
    exclusive = {g.imputation: g for g in p.groupes if g.imputation}
    for a in m.actions:
        if a.chorus is None or not a.chorus.code.strip():
            if p.imputation_requise:
                yield _f("CHORUS_MANQUANT", f"{_name(a)} n'a pas d'imputation Chorus.", a, "chorus")
            continue
        code = a.chorus.normalized
        if not pattern.match(code):
            yield _f("CHORUS_MALFORME", f"{_name(a)} : le code Chorus « {a.chorus.code} » n'a pas la forme "
                     f"attendue (par exemple « {p.imputation_exemple} »).", a, "chorus")
            continue
        if p.imputations and code not in known:
            yield _f("CHORUS_INCONNU", f"{_name(a)} : le code Chorus {code} ne figure pas au référentiel.",
                     a, "chorus")
        own = a.bloc.imputation or next((g.imputation for g in p.groupes if g == a.bloc and g.imputation), "")
        if own and code != own:
            yield _f("CHORUS_BLOC", f"{_name(a)} : une action du {p.word} « {a.bloc.label} » s'impute sur « {own} – "
                     f"{p.imputations.get(own, a.bloc.label)} », pas sur {code}.", a, "chorus")
        elif code in exclusive and exclusive[code] != a.bloc:
            yield _f("CHORUS_BLOC", f"{_name(a)} : le code {code} est réservé au {p.word} « "
                     f"{exclusive[code].label} ».", a, "chorus")
        else:
            number = theme_number(a.theme)
            expected = p.theme_imputation(number) if number else next(
                (t.imputation for t in p.themes if a.theme.strip() and t.libelle == a.theme.strip()), None)
            if expected and code != expected:
                yield _f("CHORUS_THEME", f"{_name(a)} : le thème {theme_number(a.theme)} s'impute "
                         f"habituellement sur {expected}, pas sur {code}.", a, "chorus")


def check_ventilation(m: Maquette) -> Iterator[Finding]:
    """The fiche's budget breakdown adds up to the action's budget global."""
    for a in m.actions:
        if not a.ventilation or not isinstance(a.budget_global, Decimal):
            continue
        s = sum((line.montant for line in a.ventilation), ZERO)
        if s != a.budget_global:
            yield _f("VENTILATION_ECART", f"{_name(a)} : la ventilation du budget totalise {format_eur(s)} "
                     f"pour un budget global de {format_eur(a.budget_global)} (écart "
                     f"{format_eur(abs(s - a.budget_global))}).", a, "ventilation")


def check_execution(m: Maquette) -> Iterator[Finding]:
    """Budget exécuté: not above the budget; its rate is reported."""
    for a in m.actions:
        if a.budget_execute is None or not isinstance(a.budget_global, Decimal):
            continue
        period = f" ({a.periode_execution})" if a.periode_execution else ""
        if a.budget_global == 0:
            rate = ""
        else:
            pct = (a.budget_execute * 100 / a.budget_global).quantize(Decimal("0.1"))
            rate = f" : taux d'exécution {str(pct).replace('.', ',')} %"
        if a.budget_execute > a.budget_global:
            yield _f("EXECUTION_DEPASSEE", f"{_name(a)} : le budget exécuté{period} "
                     f"({format_eur(a.budget_execute)}) dépasse le budget global ({format_eur(a.budget_global)})"
                     f"{rate}.", a, "budget_execute")
        else:
            yield _f("EXECUTION_TAUX", f"{_name(a)} : {format_eur(a.budget_execute)} exécutés{period} sur "
                     f"{format_eur(a.budget_global)}{rate}.", a, "budget_execute")


def check_fiches(m: Maquette) -> Iterator[Finding]:
    """A fiche action's stated budget agrees with the maquette (differences
    below one euro are the fiche's rounding and are not reported)."""
    for a in m.actions:
        fb = a.fiche.budget
        if fb is None:
            continue
        cols = (a.part_etat, a.part_cd, a.report, a.budget_global, a.autres_financeurs)
        if any(isinstance(v, Unreadable) for v in cols):
            continue
        ours_report = report_etat(a)
        if fb.report_etat is not None or fb.report_cd is not None:
            stated = fb.report_etat if fb.report_etat is not None else fb.report_cd
            if abs(stated - ours_report) >= FICHE_TOLERANCE:
                tail = "que la maquette ne porte pas" if ours_report == 0 else \
                    f"alors que la maquette porte {format_eur(ours_report)} (moitié du report de l'action)"
                yield _f("FICHE_ECART", f"La fiche {_name(a)} mentionne un report N-1 de {format_eur(stated)} "
                         f"par financeur {tail}.", a, Column.REPORT.value)
                continue
        pairs = [
            ("part État (report compris)", _sum(fb.part_etat, fb.report_etat),
             value_or_zero(a.part_etat) + ours_report, Column.PART_ETAT),
            ("part CD (report compris)", _sum(fb.part_cd, fb.report_cd),
             value_or_zero(a.part_cd) + value_or_zero(a.report) - ours_report, Column.PART_CD),
            ("autres financeurs", fb.autres, value_or_zero(a.autres_financeurs), Column.AUTRES),
            ("budget global", fb.budget_global, value_or_zero(a.budget_global), Column.BUDGET_GLOBAL),
        ]
        for label, stated, ours, col in pairs:
            if stated is not None and abs(stated - ours) >= FICHE_TOLERANCE:
                yield _f("FICHE_ECART", f"La fiche {_name(a)} indique {label} = {format_eur(stated)}, la "
                         f"maquette {format_eur(ours)}.", a, col.value)


def _sum(part: Optional[Decimal], report: Optional[Decimal]) -> Optional[Decimal]:
    if part is None:
        return None
    return part + (report or ZERO)


def check_indicators(m: Maquette) -> Iterator[Finding]:
    """Article 3 of the avenant: the indicators matrix is completed (target or
    result) for the year."""
    for a in m.actions:
        if not a.indicateurs:
            yield _f("INDICATEUR_ABSENT", f"{_name(a)} n'a aucun indicateur dans la matrice.", a, "indicateurs")
            continue
        empty = [i for i in a.indicateurs if not (i.value_for(m.annee) and i.value_for(m.annee).has_value)]
        if empty:
            names = " ; ".join(i.libelle for i in empty[:3]) + (" ; …" if len(empty) > 3 else "")
            yield _f("INDICATEUR_SANS_VALEUR", f"{_name(a)} : {len(empty)} indicateur(s) sur "
                     f"{len(a.indicateurs)} sans cible ni résultat pour {m.annee} ({names}).", a, "indicateurs")


CHECKS: tuple[Callable[[Maquette], Iterable[Finding]], ...] = (
    check_has_actions,
    check_amounts,
    check_rules_allowed,
    check_identities,
    check_split,
    check_envelope,
    check_typed_totals,
    check_identity_of_actions,
    check_chorus,
    check_ventilation,
    check_execution,
    check_fiches,
    check_indicators,
    check_texts,
)


def run_checks(m: Maquette, extra_chorus_codes: Iterable[str] = ()) -> list[Finding]:
    """All findings, worst first. A check that fails internally is itself
    reported as a finding (CONTROLE_IMPOSSIBLE): Contrôler never raises."""
    findings: list[Finding] = []
    extra = tuple(extra_chorus_codes)
    token = _PLACES.set({id(a): i for i, a in enumerate(m.actions)})
    try:
        for check in CHECKS:
            try:
                found = check(m, extra) if check is check_chorus else check(m)
                findings.extend(found)
            except Exception as exc:  # noqa: BLE001 - the boundary that turns bugs into findings
                findings.append(_f("CONTROLE_IMPOSSIBLE", f"Le contrôle {check.__name__} n'a pas pu être "
                                        f"mené : {exc!r}. Signalez-le à l'équipe calpae_xl."))
    finally:
        _PLACES.reset(token)
    return sort_findings(findings)



def executed_etat(a: Action) -> Optional[Decimal]:
    """The State's share of an action's budget exécuté: each financer's share
    of the execution in proportion of its share of the budget global (part
    État / budget global; part État / (part État + part CD) when the budget
    global is not known), at the cent."""
    if a.budget_execute is None or not isinstance(a.part_etat, Decimal):
        return None
    if isinstance(a.budget_global, Decimal) and a.budget_global > 0:
        base = a.budget_global
    else:
        base = a.part_etat + (a.part_cd if isinstance(a.part_cd, Decimal) else ZERO)
    if base == 0:
        return ZERO
    return to_cent(min(a.budget_execute * a.part_etat / base, a.part_etat))  # half up, as every amount


def run_contract_checks(years: list[Maquette]) -> list[Finding]:
    """Over a multi-year contract (the contrats locaux des solidarités: « montants
    annuels plafonds constants »): the ceiling the same every year, the parts
    État of the contract within its ceilings, and each year's report within
    what the year before left unspent."""
    if not years:
        return []
    p = profile_of(years[0])
    out: list[Finding] = []
    try:
        credits = [m.credits_etat for m in years]
        known = [c for c in credits if c is not None]
        if p.plafond_annuel_constant and len(set(known)) > 1:
            shown = ", ".join(f"{m.annee} : {format_eur(m.credits_etat)}" for m in years if m.credits_etat is not None)
            out.append(_f("PLAFOND_NON_CONSTANT", f"Le contrat prévoit un montant annuel plafond constant, mais les "
                          f"crédits notifiés varient selon l'année ({shown}).", where=Where(total=True)))
        # a part État unreadable, or computed from an input that is (or from a blank budget global): no sum
        if len(known) == len(years) and not any(not_known(a, Column.PART_ETAT) for m in years for a in m.actions):
            used = sum((column_sum(m.actions, Column.PART_ETAT) for m in years), ZERO)
            ceiling = sum(known, ZERO)
            span = f"{years[0].annee}-{years[-1].annee}"
            if used > ceiling:
                out.append(_f("CONTRAT_DEPASSE", f"Sur le contrat {span}, la somme des parts État ({format_eur(used)}) "
                              f"dépasse la somme des plafonds annuels ({format_eur(ceiling)}) de "
                              f"{format_eur(used - ceiling)}.", where=Where(field=Column.PART_ETAT.value, total=True)))
        for before, after in zip(years, years[1:], strict=False):
            for a in after.actions:
                prev = before.find(a.bloc, a.numero)
                if prev is None or not isinstance(a.report, Decimal) or a.report == 0:
                    continue
                spent = executed_etat(prev)
                if spent is None or not isinstance(prev.part_etat, Decimal):
                    continue
                left = prev.part_etat - spent
                if report_etat(a) > left:
                    out.append(_f("REPORT_SANS_RELIQUAT", f"{_name(a)} : {after.annee}, la part État du report "
                                  f"({format_eur(report_etat(a))}) dépasse ce que {before.annee} a laissé non "
                                  f"consommé (part État {format_eur(prev.part_etat)} − exécuté État "
                                  f"{format_eur(spent)} = {format_eur(left)}).", a, Column.REPORT.value))
    except Exception as exc:  # noqa: BLE001 - the boundary that turns bugs into findings
        out.append(_f("CONTROLE_IMPOSSIBLE", f"Le contrôle du contrat n'a pas pu être mené : {exc!r}. Signalez-le à "
                      "l'équipe calpae_xl."))
    return out
