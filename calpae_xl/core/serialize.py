"""Maquette <-> plain dict (JSON): the embedded reference data and exchanges.

Amounts travel as strings ("35812.5") so that no float ever touches them.
"""
from __future__ import annotations

from decimal import Decimal
from importlib import resources
import json
from typing import Any, Optional

from .model import (FICHE_TEXT_FIELDS, Action, Chorus, Column, Fiche, FicheBudget, Indicator,
                    IndicatorValue, Maquette, SplitRule, VentilationLine)
from .money import Amount, Unreadable, amount_from_cell, to_cent


def _dec(v: Any) -> Optional[Decimal]:
    return None if v is None or v == "" else Decimal(str(v))


def _amount(v: Any) -> Amount:
    return amount_from_cell(v if not isinstance(v, (int, float)) else str(v))


def _totals(d: dict) -> dict[Column, Amount]:
    return {Column(k): _amount(v) for k, v in (d or {}).items()}


def action_from_dict(d: dict, p=None) -> Action:
    from .profile import profile  # noqa: PLC0415 - profile imports model, as this module does
    p = p or profile()
    fiche = dict(d.get("fiche") or {})
    budget = fiche.pop("budget", None)
    fb = FicheBudget(**{k: _dec(v) for k, v in budget.items()}) if budget else None
    chorus = d.get("chorus")
    return Action(
        bloc=p.group(d["bloc"]),
        numero=str(d["numero"]),
        libelle_numero=d.get("libelle_numero", ""),
        intitule=d.get("intitule", ""),
        theme=d.get("theme", ""),
        chorus=Chorus(chorus["code"], chorus.get("libelle", "")) if chorus else None,
        regle=SplitRule(d.get("regle", "parité")),
        budget_execute=_dec(d.get("budget_execute")),
        periode_execution=d.get("periode_execution", ""),
        fapi=d.get("fapi"),
        ventilation=tuple(VentilationLine(lib, to_cent(Decimal(str(m)))) for lib, m in d.get("ventilation", [])),
        fiche=Fiche(budget=fb, **fiche),
        indicateurs=tuple(
            Indicator(
                libelle=i["libelle"], unite=i.get("unite", "nombre"), source=i.get("source", ""),
                valeurs=tuple(IndicatorValue(int(v["annee"]), _dec(v.get("cible")), _dec(v.get("resultat")),
                                             v.get("commentaire", "")) for v in i.get("valeurs", [])),
            )
            for i in d.get("indicateurs", [])
        ),
        **{c.value: _amount(d.get(c.value)) for c in Column},
    )


def maquette_from_dict(d: dict) -> Maquette:
    from .profile import profile  # noqa: PLC0415
    p = profile(d.get("profil", "calpae"))
    return Maquette(
        departement=d.get("departement", ""),
        annee=int(d.get("annee", 0)),
        credits_etat=_dec(d.get("credits_etat")),
        report_etat_notifie=_dec(d.get("report_etat_notifie")),
        regle_defaut=SplitRule(d.get("regle_defaut", "parité")),
        actions=tuple(action_from_dict(a, p) for a in d.get("actions", [])),
        profile=p,
        credits_groupes={k: _dec(v) for k, v in (d.get("credits_groupes") or {}).items()},
        sous_totaux_saisis={p.group(b): _totals(t) for b, t in (d.get("sous_totaux_saisis") or {}).items()},
        total_saisi=_totals(d.get("total_saisi") or {}),
    )


def _plain(v: Amount) -> Optional[str]:
    if v is None:
        return None
    if isinstance(v, Unreadable):
        return v.raw
    return format(v.normalize(), "f") if v == v.to_integral_value() else format(v, "f")


def maquette_to_dict(m: Maquette, amount_text=None) -> dict:
    """The inverse of :func:`maquette_from_dict` (for exports and tests).
    ``amount_text``: how an amount becomes text (default: as the reference data
    writes it)."""
    _out = amount_text or _plain
    def action(a: Action) -> dict:
        fb = a.fiche.budget
        fiche = {k: getattr(a.fiche, k) for k in FICHE_TEXT_FIELDS}
        fiche["budget"] = {k: _out(getattr(fb, k)) for k in FicheBudget.__dataclass_fields__
                           if getattr(fb, k) is not None} if fb else None
        return {
            "bloc": a.bloc.value, "numero": a.numero, "libelle_numero": a.libelle_numero, "intitule": a.intitule,
            "theme": a.theme, "chorus": {"code": a.chorus.code, "libelle": a.chorus.libelle} if a.chorus else None,
            **{c.value: _out(a.amount(c)) for c in Column},
            "regle": a.regle.value, "budget_execute": _out(a.budget_execute),
            "periode_execution": a.periode_execution, "fapi": a.fapi,
            "ventilation": [[v.libelle, _out(v.montant)] for v in a.ventilation],
            "fiche": fiche,
            "indicateurs": [{"libelle": i.libelle, "unite": i.unite, "source": i.source,
                             "valeurs": [{"annee": v.annee, "cible": _out(v.cible), "resultat": _out(v.resultat),
                                          "commentaire": v.commentaire} for v in i.valeurs]}
                            for i in a.indicateurs],
        }

    return {
        "profil": m.profile.id if m.profile is not None else "calpae",
        "departement": m.departement, "annee": m.annee,
        "credits_etat": _out(m.credits_etat), "report_etat_notifie": _out(m.report_etat_notifie),
        "regle_defaut": m.regle_defaut.value,
        "credits_groupes": {k: _out(v) for k, v in m.credits_groupes.items()},
        "sous_totaux_saisis": {b.value: {c.value: _out(v) for c, v in t.items()}
                               for b, t in m.sous_totaux_saisis.items()},
        "total_saisi": {c.value: _out(v) for c, v in m.total_saisi.items()},
        "actions": [action(a) for a in m.actions],
    }


EXAMPLES = {"loiret-2020": "loiret_2020.json", "cls-exemple": "cls_exemple.json",
            "rsa-exemple": "rsa_exemple.json"}


def load_example(name: str = "loiret-2020") -> Maquette:
    """The embedded reference data: the Loiret's avenant n°3 (2020), figures as printed."""
    text = resources.files("calpae_xl.data").joinpath(EXAMPLES[name]).read_text(encoding="utf-8")
    return maquette_from_dict(json.loads(text))


def maquettes_from_dict(d: dict) -> list[Maquette]:
    """A yearly maquette, or the years of a multi-year contract: the actions
    once, their amounts per year under « montants » {"2024": {...}, ...}, the
    envelope per year under « annees » {"2024": {"credits_etat": ...}}."""
    if "annees" not in d:
        return [maquette_from_dict(d)]
    from dataclasses import replace  # noqa: PLC0415
    years = []
    for year, env in sorted(d["annees"].items()):
        flat = {**d, **(env or {}), "annee": int(year)}
        flat.pop("annees", None)
        flat["actions"] = [{**{k: v for k, v in a.items() if k != "montants"}, **(a.get("montants", {}).get(year, {}))}
                           for a in d.get("actions", [])]
        years.append(maquette_from_dict(flat))
    return [replace(m) for m in years]


def load_years(name: str = "loiret-2020") -> list[Maquette]:
    """An embedded example: its maquette, or its contract's years."""
    text = resources.files("calpae_xl.data").joinpath(EXAMPLES[name]).read_text(encoding="utf-8")
    return maquettes_from_dict(json.loads(text))
