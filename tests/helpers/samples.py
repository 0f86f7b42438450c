"""Generated maquettes, for tests, the benchmark and demonstrations: variants
of the embedded Loiret 2020 one (another Département, another year, more
actions), built from its actions so that every rule and check applies."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Optional

from calpae_xl.core.model import Fiche, Maquette
from calpae_xl.core.serialize import load_example
from tests.helpers.calpae import CALPAE, INITIATIVES, SOCLE  # noqa: F401


def variant(n_actions: Optional[int] = None, departement: Optional[str] = None, annee: Optional[int] = None,
            scale: Optional[float] = None) -> Maquette:
    """The Loiret 2020 maquette as printed, changed: ``n_actions`` actions
    (cycled through the Loiret ones, renumbered, same proportion of socle and
    initiatives locales), amounts scaled by ``scale`` (whole euros), another
    Département or year. Deterministic."""
    base = load_example("loiret-2020")
    actions = list(base.actions)
    if n_actions is not None and n_actions != len(actions):
        socle = [a for a in actions if a.bloc == SOCLE]
        initiatives = [a for a in actions if a.bloc == INITIATIVES]
        n_socle = max(1, round(n_actions * len(socle) / len(actions)))
        out = []
        for bloc_actions, n in ((socle, n_socle), (initiatives, n_actions - n_socle)):
            for i in range(n):
                a = bloc_actions[i % len(bloc_actions)]
                numero = a.numero if i < len(bloc_actions) else f"{a.numero}.{i // len(bloc_actions)}"
                out.append(replace(a, numero=numero, libelle_numero=f"Action {numero}", fiche=Fiche(),
                                   indicateurs=(), ventilation=()))
        actions = out
    factor = Decimal(str(scale)) if scale is not None else None
    if factor is not None:
        def sc(v):
            return (v * factor).quantize(Decimal(1)) if isinstance(v, Decimal) else v
        actions = [replace(a, budget_global=sc(a.budget_global), budget_etat_cd=sc(a.budget_etat_cd),
                           part_etat=sc(a.part_etat), part_cd=sc(a.part_cd), report=sc(a.report),
                           autres_financeurs=sc(a.autres_financeurs)) for a in actions]
    ratio = Decimal(len(actions)) / Decimal(len(base.actions))
    credits = base.credits_etat * ratio * (factor or 1) if base.credits_etat is not None else None
    report = base.report_etat_notifie * ratio * (factor or 1) if base.report_etat_notifie is not None else None
    same = len(actions) == len(base.actions) and factor is None
    return replace(base, departement=departement or base.departement, annee=annee or base.annee,
                   actions=tuple(actions),
                   credits_etat=credits.quantize(Decimal(1)) if credits is not None else None,
                   report_etat_notifie=report.quantize(Decimal(1)) if report is not None else None,
                   sous_totaux_saisis=base.sous_totaux_saisis if same else {},
                   total_saisi=base.total_saisi if same else {})


def write_variant(path: str, maquette: Maquette, fiches: bool = False) -> None:
    """The maquette as the project's workbook, figures as given (not recalculated)."""
    from calpae_xl.adapters.openpyxl_adapter import OpenpyxlWorkbook  # noqa: PLC0415
    from calpae_xl.app.template import create  # noqa: PLC0415
    wb = OpenpyxlWorkbook.new(path)
    create(wb, maquette, empty_rows=0, typed=True, fiches=fiches)
    wb.save(backup=False, replace=True)
