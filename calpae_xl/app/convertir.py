"""« convertir »: a CALPAE maquette as the first year of a contrat local des
solidarités (CLS 2024-2027), in a new workbook.

Each action goes to the axe the mapping (:mod:`calpae_xl.core.correspondance`)
gives it, with its N° de fiche, intitulé, thème, fiche texts and indicators;
its budget global, budget État + CD, parts and autres financeurs go, as
typed, to the columns of the contract's first year (or ``annee``): no figure
is changed, none re-split — the checks say what the CLS rules find there
(parité, identities). The CALPAE's report N-1, crédits, imputations and
execution do not carry to a new contract: the cells are left blank and each
figure left behind is in the Journal. An action the mapping does not place
is never dropped: its « Axe » cell says « À classer », it is counted in the
first axe until the officer chooses (finding ACTION_NON_CLASSEE), and it is
listed in the Journal and by the command.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Optional

from ..core.correspondance import Line, Mapping
from ..core.model import Action, Bloc, Column, Maquette
from ..core.money import format_eur
from ..errors import CalpaeError
from ..workbook import layout as L
from ..workbook.port import Block, Op, Text, Workbook
from ..workbook.reader import ReadResult, named, read_parametres, read_workbook
from .session import CONTROLER, FICHES, Outcome, run


class ConversionImpossible(CalpaeError):
    default_code = "CONVERSION_IMPOSSIBLE"
    template = "« {path} » : {reason}"


class InvalidMapping(CalpaeError):
    default_code = "CORRESPONDANCE_INVALIDE"
    template = "{reason}"


@dataclass
class Placed:
    """One action of the CALPAE, and what it became."""

    source: Action
    action: Action  # in the new maquette (its group: the axe, or the first axe while « à classer »)
    axe: Optional[Bloc]  # None: à classer
    line: Optional[Line]  # the mapping's line that placed it (None: no line names it)

    @property
    def renumbered(self) -> bool:
        return self.action.numero != self.source.numero


@dataclass
class Conversion:
    source: str
    target: str
    annee_source: int
    annee: int  # the contract's year that receives the figures
    mapping: Mapping
    placed: list[Placed] = field(default_factory=list)
    outcome: Optional[Outcome] = None

    @property
    def classees(self) -> list[Placed]:
        return [p for p in self.placed if p.axe is not None]

    @property
    def a_classer(self) -> list[Placed]:
        return [p for p in self.placed if p.axe is None]

    @property
    def reports(self) -> list[Placed]:
        return [p for p in self.placed if isinstance(p.source.report, Decimal) and p.source.report]


def default_name(path: str, target_id: str) -> str:
    """loiret_2020.xlsx -> loiret_2020_cls-2024-2027.xlsx (same suffix)."""
    p = Path(path)
    return str(p.with_name(f"{p.stem}_{target_id}{p.suffix}"))


def _name(a: Action, profile) -> str:
    return f"{a.label} ({a.bloc.nom if a.bloc in profile.groupes else a.bloc.value})"


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def check_source(read: ReadResult, path: str, mapping: Mapping) -> None:
    """Only a maquette of the mapping's source convention is converted."""
    unknown = [f for f in read.findings if f.code == "PROFIL_INCONNU"]
    if unknown:
        raise ConversionImpossible(path, f"{unknown[0].message} La conversion part d'une maquette "
                                         f"« {mapping.source.id} » : elle ne se fait pas sur un profil inconnu.")
    if read.profile is None or read.profile.id != mapping.source.id:
        raise ConversionImpossible(path, f"c'est une maquette « {getattr(read.profile, 'id', '?')} » "
                                         f"({getattr(read.profile, 'intitule', '')}), pas une maquette "
                                         f"« {mapping.source.id} » : il n'y a rien à convertir")


def place_actions(m: Maquette, mapping: Mapping) -> list[Placed]:
    """Each action in its axe (the unplaced ones in the first axe, last); a N°
    already taken in an axe gets its CALPAE bloc's short name (« IL 7 »)."""
    target = mapping.target
    out: list[Placed] = []
    for a in m.actions:
        axe, line = mapping.place(a)
        out.append(Placed(a, a, axe, line))
    out.sort(key=lambda p: p.axe is None)  # stable: the source's order within each kind
    taken: set[tuple[str, str]] = set()
    for p in out:
        group = p.axe or target.first
        numero, label = p.source.numero, p.source.libelle_numero
        if numero and (group.value, numero) in taken:
            base = f"{p.source.bloc.court} {numero}"
            numero, k = base, 2
            while (group.value, numero) in taken:
                numero, k = f"{base}-{k}", k + 1
            label = f"Action {numero}"
        taken.add((group.value, numero))
        p.action = replace(p.source, bloc=group, numero=numero, libelle_numero=label, chorus=None, report=None,
                           budget_execute=None, periode_execution="", fapi=None)
    return out


def contract_years(m: Maquette, placed: list[Placed], target, annee: int) -> list[Maquette]:
    """The contract's years: the figures in ``annee``, the other years' amounts to type."""
    actions = tuple(p.action for p in placed)
    blank = tuple(replace(a, **{c.value: None for c in Column}) for a in actions)
    return [Maquette(m.departement, y, actions if y == annee else blank, profile=target,
                     regle_defaut=target.first.regle) for y in target.years]


def _journal(read: ReadResult, conv: Conversion, source_name: str) -> list[list]:
    """Every action converted (to which axe), every one to classify, and every
    figure of the CALPAE left behind."""
    view = read.years[[y.maquette.annee for y in read.years].index(conv.annee)]
    table, first = view.table, read.table
    source, target = conv.mapping.source, conv.mapping.target
    rows: list[list] = []

    index = {a.key: i for i, a in enumerate(read.maquette.actions)}

    def cell(p: Placed, key: str, t=first) -> Text:
        i = index.get(p.action.key)
        return Text(t.cell(t.action_rows[i], key) or "") if i is not None and i < len(t.action_rows) else Text("")

    for p in conv.placed:
        a, src = p.action, p.source
        head = f"{_name(src, source)} « {_short(src.intitule)} »"
        if p.axe is not None:
            why = f" (correspondance, ligne n°{p.line.n} : {p.line.says(source)})" if p.line else ""
            rows.append([Text(f"{head} — convertie vers {p.axe.nom}{why}"), Text(target.word.capitalize()),
                         Text(src.bloc.label), Text(p.axe.label), cell(p, L.F_BLOC)])
        else:
            why = (f"la correspondance, ligne n°{p.line.n} ({p.line.says(source)}), la laisse à classer" if p.line
                   else "aucune ligne de la correspondance ne la classe")
            rows.append([Text(f"{head} — À CLASSER : {why} ; comptée provisoirement dans {a.bloc.nom}"),
                         Text(target.word.capitalize()), Text(src.bloc.label), Text(L.A_CLASSER),
                         cell(p, L.F_BLOC)])
        if p.renumbered:
            rows.append([Text(f"{head} — N° déjà pris dans {a.bloc.nom} : préfixé par son bloc"),
                         Text(L.HEADERS[L.F_NUMERO]), Text(src.label), Text(a.label), cell(p, L.F_NUMERO)])
        if src.chorus is not None:
            rows.append([Text(f"{head} — imputation de la CALPAE non reprise (le contrat s'impute sur ses propres "
                              f"codes, exemple « {target.imputation_exemple} »)"),
                         Text(L.HEADERS[L.F_CHORUS]), Text(src.chorus.normalized), Text("(vide)"),
                         cell(p, L.F_CHORUS)])
        if isinstance(src.report, Decimal) and src.report:
            rows.append([Text(f"{head} — report N-1 de la CALPAE non repris (il ne passe pas à un nouveau contrat) ; "
                              "le budget global et le budget État + CD saisis le comprennent encore : à revoir"),
                         Text(f"{Column.REPORT.label} {conv.annee}"), src.report, Text("(vide)"),
                         cell(p, Column.REPORT.value, table)])
        if src.budget_execute is not None:
            rows.append([Text(f"{head} — budget exécuté {conv.annee_source} de la CALPAE non repris (il reste dans "
                              f"« {source_name} »)"), Text("Budget exécuté"), src.budget_execute, Text("(vide)"),
                         Text("")])
    return rows


def _note(conv: Conversion, source_name: str, m: Maquette) -> str:
    other = [y for y in conv.mapping.target.years if y != conv.annee]
    return (f"Converti par « calpae-xl convertir » depuis « {source_name} » (CALPAE {m.annee or ''}) avec la "
            f"correspondance « {Path(conv.mapping.name).name} » : {len(conv.classees)} action(s) classée(s), "
            f"{len(conv.a_classer)} à classer (colonne « {conv.mapping.target.word.capitalize()} » : "
            f"« {L.A_CLASSER} »). Montants {m.annee or 'de la CALPAE'} repris tels que saisis dans les colonnes "
            f"{conv.annee}, sans nouvelle répartition ; montants {', '.join(map(str, other))} à saisir. Non repris "
            "(ils ne passent pas à un nouveau contrat) : reports N-1, crédits et report notifiés, imputations "
            "Chorus, budgets exécutés, valeurs des indicateurs des années de la CALPAE.").strip()


def _year_param(wb: Workbook, annee: int) -> list[Op]:
    sheet = named(wb.sheet_names(), L.PARAMETRES)
    if sheet is None:
        return []
    _params, _codes, rows = read_parametres(wb.read_sheet(sheet))
    row = rows.get("@" + L.P_ANNEE)
    return [Block(sheet, row, L.PARAM_VALUE_COL, [[annee]])] if row else []


def convert(source_wb: Workbook, staged: str, mapping: Mapping, annee: Optional[int] = None) -> Conversion:
    """The contract's workbook, made whole at ``staged`` (the caller places it
    through the save frame; ``source_wb`` is only read)."""
    from ..adapters.openpyxl_adapter import OpenpyxlWorkbook  # noqa: PLC0415
    from ..adapters.xlsx import PackageWorkbook  # noqa: PLC0415
    from .template import create  # noqa: PLC0415
    target = mapping.target
    read = read_workbook(source_wb.sheet_names(), source_wb.read_sheet, source_wb.path)
    check_source(read, source_wb.path, mapping)
    annee = annee or target.years[0]
    if annee not in target.years:
        raise ConversionImpossible(source_wb.path, f"l'année {annee} n'est pas une année du contrat "
                                                   f"({target.annees[0]}-{target.annees[1]})")
    m = read.maquette
    conv = Conversion(source_wb.path, staged, m.annee, annee, mapping, place_actions(m, mapping))
    years = contract_years(m, conv.placed, target, annee)
    if staged.lower().endswith(".xlsm"):
        from ..build_xlsm import build  # noqa: PLC0415
        build(staged, None, years=years)
    else:
        new = OpenpyxlWorkbook.new(staged)
        create(new, years, typed=True)
        new.save(backup=False, replace=True)
    wb = PackageWorkbook.open(staged)
    fresh = read_workbook(wb.sheet_names(), wb.read_sheet, staged, profile=target)
    ops: list[Op] = []
    col = fresh.table.cols.get(L.F_BLOC)
    index = {a.key: i for i, a in enumerate(fresh.maquette.actions)}
    for p in conv.a_classer:
        if col and p.action.key in index:
            ops.append(Block(fresh.table.sheet, fresh.table.action_rows[index[p.action.key]], col,
                             [[Text(L.A_CLASSER)]]))
    if annee != target.years[0]:
        ops += _year_param(wb, annee)
    wb.apply(ops)
    name = os.path.basename(source_wb.path)
    conv.outcome = run(wb, [CONTROLER, FICHES], profile=target, carried=_journal(fresh, conv, name),
                       carried_note=_note(conv, name, m))
    conv.workbook = wb  # type: ignore[attr-defined] - saved by the caller
    return conv


def summary_lines(conv: Conversion) -> list[str]:
    """What the command prints after the file line: every action, where it went."""
    source, target = conv.mapping.source, conv.mapping.target
    out = [f"  {len(conv.classees)} action(s) convertie(s) :"]
    for p in conv.classees:
        renum = f", devenue {p.action.label}" if p.renumbered else ""
        out.append(f"    {_name(p.source, source)} « {_short(p.source.intitule, 50)} » → {p.axe.label}{renum}")
    if conv.a_classer:
        out.append(f"  {len(conv.a_classer)} action(s) À CLASSER (colonne « {target.word.capitalize()} » : "
                   f"« {L.A_CLASSER} », comptées provisoirement dans {target.first.nom}) :")
        for p in conv.a_classer:
            renum = f", devenue {p.action.label}" if p.renumbered else ""
            out.append(f"    {_name(p.source, source)} « {_short(p.source.intitule, 50)} »{renum}")
    else:
        out.append("  Aucune action à classer.")
    reports = conv.reports
    out.append(f"  Montants {conv.annee_source or 'de la CALPAE'} repris tels que saisis dans les colonnes "
               f"{conv.annee} (aucune nouvelle répartition).")
    if reports:
        total = sum((p.source.report for p in reports), Decimal(0))
        out.append(f"  Reports N-1 de la CALPAE non repris : {len(reports)} action(s), {format_eur(total)} "
                   "(voir la feuille « Journal »).")
    return out


def mapping_for(path: Optional[str], target_id: str, source_id: str = "calpae") -> Mapping:
    """The mapping a user gives (``--correspondance``), else the shipped one."""
    from ..core.correspondance import MappingError, load_mapping, shipped_mapping  # noqa: PLC0415
    from ..core.profile import profile  # noqa: PLC0415
    source, target = profile(source_id), profile(target_id)
    try:
        return load_mapping(path, source, target) if path else shipped_mapping(source, target)
    except MappingError as e:
        raise InvalidMapping(e.source, str(e)) from None
