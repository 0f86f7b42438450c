"""Money at the cent: parsing French amounts, exact halves, French formatting.

Amounts are ``decimal.Decimal`` everywhere; a float never enters the core.
Rounding happens only at the edges (``to_cent`` when a value is read or
written, ``format_eur`` when it is shown).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Optional, Union

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

#: Separators a French amount may use between groups of thousands.
_GROUP_SEPARATORS = " \u00a0\u202f\u2009\u2007"
_MINUS_SIGNS = "-\u2212\u2013"


#: why a cell is not an amount (the checks give each its own code or wording)
TEXT, DATE, ERROR, BOOLEAN, SUB_CENT, TOO_LARGE, NO_VALUE, MERGED = (
    "texte", "date", "erreur", "booleen", "sous_centime", "demesure", "formule", "fusion")
#: an amount of a column the reader did not find (its header not recognised): not a column of zeros
ABSENT = "colonne_absente"

#: an amount a convention can hold: beyond, a typing slip (ten billion euros)
MAX_AMOUNT = Decimal(10) ** 10

#: spreadsheet error values, as a cell or a formula's cached value shows them
ERROR_VALUES = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#GETTING_DATA", "#SPILL!",
                "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "Err:")


@dataclass(frozen=True)
class Unreadable:
    """A cell whose content is not an amount. Kept as typed so that it is
    reported, never turned into a silent zero; ``reason`` says why."""

    raw: str
    reason: str = TEXT

    def __str__(self) -> str:  # pragma: no cover - display helper
        return self.raw


#: What an amount field holds: a Decimal, nothing (blank cell), or unreadable text.
Amount = Union[Decimal, None, Unreadable]


class AmountError(ValueError):
    """Raised by :func:`parse_amount` with a French explanation."""


_AMOUNT_RE = re.compile(
    r"""^
    (?P<digits>[0-9]{1,3}(?:[ ][0-9]{3})+|[0-9]+)   # 1 201 409 or 1201409 (ASCII digits only)
    (?:[,.](?P<dec>[0-9]{1,2}))?                    # ,5 ,50 .5
    $""",
    re.VERBOSE,
)


def to_cent(value: Decimal) -> Decimal:
    """Round half up to the cent (the only rounding of the core)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(text: str) -> Optional[Decimal]:
    """Parse an amount as French users type it; ``None`` for an empty text.

    Accepts "1 201 409 €", "35 812,5", "35812.50", non-breaking and narrow
    spaces, "−1 234,5" and "(1 234,50)" for negatives. Refuses what is
    ambiguous or not money: "1.234" (thousands or decimals?), "12 34",
    "NaN", "1e3", more than two decimals.
    """
    s = text.strip()
    if not s:
        return None
    for sep in _GROUP_SEPARATORS:
        s = s.replace(sep, " ")
    s = re.sub(r"\s*(€|eur|euros?)$", "", s, flags=re.IGNORECASE).strip()
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    if s and s[0] in _MINUS_SIGNS:
        negative, s = True, s[1:].strip()
    elif s.startswith("+"):
        s = s[1:].strip()
    s = re.sub(r"\s*(€|eur|euros?)$", "", s, flags=re.IGNORECASE).strip()
    m = _AMOUNT_RE.match(s)
    if not m:
        raise AmountError(f"« {text.strip()} » n'est pas un montant en euros")
    digits = m.group("digits").replace(" ", "")
    value = Decimal(digits + "." + (m.group("dec") or "0"))
    if value >= MAX_AMOUNT:
        raise AmountError(f"« {text.strip()} » dépasse ce qu'une convention peut porter")
    return to_cent(-value if negative else value)


def amount_from_cell(value: object) -> Amount:
    """Turn a raw cell value into an :data:`Amount` (never raises).

    Numbers (int, Decimal, and floats coming from spreadsheet libraries) are
    kept at the cent; text is parsed with :func:`parse_amount`. What is not
    an amount is :class:`Unreadable`, with its reason: text, a date, an error
    value, a boolean, a number with a fraction of a cent (beyond a float's
    own noise), a number no convention can hold.
    """
    try:
        return _amount_from_cell(value)
    except (InvalidOperation, ValueError, OverflowError):
        return Unreadable(str(value)[:100], TOO_LARGE)


#: a float's representation error: 0.1 + 0.2 is 0.30000000000000004, not a sub-cent amount
FLOAT_NOISE = Decimal("1e-6")


def _number(d: Decimal, raw: object) -> Amount:
    if not d.is_finite():
        return Unreadable(str(raw), TEXT)
    if abs(d) >= MAX_AMOUNT:
        return Unreadable(str(raw), TOO_LARGE)
    cents = to_cent(d)
    if d != cents and abs(d - cents) > FLOAT_NOISE:
        return Unreadable(str(raw), SUB_CENT)
    return cents


def _amount_from_cell(value: object) -> Amount:
    if value is None:
        return None
    if isinstance(value, bool):
        return Unreadable(str(value), BOOLEAN)
    if isinstance(value, Decimal):
        return _number(value, value)
    if isinstance(value, int):
        return _number(Decimal(value), value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return Unreadable(str(value), TEXT)
        # repr gives the shortest decimal that round-trips: 35812.5 stays 35812.5
        return _number(Decimal(repr(value)), value)
    if isinstance(value, str):
        if value.strip().startswith(ERROR_VALUES):
            return Unreadable(value, ERROR)
        try:
            return parse_amount(value)
        except AmountError:
            return Unreadable(value, TOO_LARGE if _looks_too_large(value) else TEXT)
    if hasattr(value, "year") and hasattr(value, "month") or type(value).__name__ in ("time", "timedelta"):
        return Unreadable(str(value), DATE)
    return Unreadable(str(value), TEXT)


def _looks_too_large(text: str) -> bool:
    digits = re.sub(r"[^0-9]", "", text.split(",")[0])
    return len(digits) > 10


def value_or_zero(amount: Amount) -> Decimal:
    """Blank counts as zero in arithmetic (the annex leaves empty report
    cells); an unreadable amount must be checked before calling this."""
    if isinstance(amount, Decimal):
        return amount
    return ZERO


def split_half(amount: Decimal) -> tuple[Decimal, Decimal]:
    """Split an amount in two parts at the cent that add up exactly.

    Convention, article 2.3 (co-financement à parité): the State's part is
    the lower half when the cents are odd, so that the CD's part is never
    below the State's.
    """
    low = (amount / 2).quantize(CENT, rounding=ROUND_FLOOR)
    return low, amount - low


def format_eur(amount: Amount, *, cents: bool = True) -> str:
    """'1 201 409,00 €' with non-breaking spaces, as a French reader expects."""
    if amount is None:
        return "—"
    if isinstance(amount, Unreadable):
        return "(colonne non trouvée)" if amount.reason == ABSENT else f"« {amount.raw} »"
    q = to_cent(amount) if cents else amount.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    sign = "-" if q < 0 else ""
    q = abs(q)
    whole, _, dec = f"{q:f}".partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    text = "\u00a0".join(groups) or "0"
    if cents:
        text += "," + (dec or "00").ljust(2, "0")
    return f"{sign}{text}\u00a0€"
