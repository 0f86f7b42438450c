"""The pure core of calpae_xl: money, model, split rules, totals, checks.

It imports neither openpyxl nor xlwings (a test enforces it), so the rules
are the same whether a maquette comes from Excel, a batch or a JSON file.
"""
from .catalogue import CATALOGUE, entry
from .checks import run_checks
from .findings import Finding, Severity, Where, count_by_severity, has_errors, sort_findings, summary_line
from .model import Action, Bloc, Chorus, Column, Fiche, FicheBudget, Indicator, Maquette, SplitRule
from .money import Unreadable, format_eur, parse_amount, split_half
from .rules import Change, recalculate
from .serialize import load_example, maquette_from_dict, maquette_to_dict

__all__ = [
    "CATALOGUE", "count_by_severity", "entry", "sort_findings", "summary_line",
    "Action", "Bloc", "Change", "Chorus", "Column", "Fiche", "FicheBudget", "Finding", "Indicator", "Maquette",
    "Severity", "SplitRule", "Unreadable", "Where", "format_eur", "has_errors", "load_example",
    "maquette_from_dict", "maquette_to_dict", "parse_amount", "recalculate", "run_checks", "split_half",
]
