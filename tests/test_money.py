from decimal import Decimal as D

import datetime as dt

import pytest

from calpae_xl.core.money import AmountError, Unreadable, amount_from_cell, format_eur, parse_amount, split_half


@pytest.mark.parametrize("text, expected", [
    ("1 201 409 €", D("1201409.00")),
    ("1\u00a0201\u00a0409\u00a0€", D("1201409.00")),
    ("1\u202f201\u202f409 €", D("1201409.00")),
    ("35 812,5", D("35812.50")),
    ("35812.50", D("35812.50")),
    ("35 812.5  €", D("35812.50")),
    ("0 €", D("0.00")),
    ("(1 234,50)", D("-1234.50")),
    ("\u22121 234,5", D("-1234.50")),
    ("-12", D("-12.00")),
    ("72000 euros", D("72000.00")),
    ("", None),
    ("   ", None),
])
def test_parse_amount_accepts_french_amounts(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.parametrize("text", ["1.234", "12 34", "NaN", "1e3", "abc", "1,234", "12,3,4", "--5", "€"])
def test_parse_amount_refuses_ambiguous_or_non_money(text):
    with pytest.raises(AmountError):
        parse_amount(text)


@pytest.mark.parametrize("raw, expected", [
    (72000, D("72000.00")),
    (35812.5, D("35812.50")),
    (0.1 + 0.2, D("0.30")),  # a float's own noise is not a fraction of a cent
    (D("1.005"), Unreadable("1.005", "sous_centime")),  # never rounded in silence
    (100.005, Unreadable("100.005", "sous_centime")),
    ("35 813 €", D("35813.00")),
    (None, None),
    ("n.c.", Unreadable("n.c.")),
    ("#DIV/0!", Unreadable("#DIV/0!", "erreur")),
    ("١٢٣", Unreadable("١٢٣")),  # digits that are not 0-9
    ("１２３", Unreadable("１２３")),
    (6e16, Unreadable("6e+16", "demesure")),
    (10**23, Unreadable(str(10**23), "demesure")),
    ("12 345 678 901 €", Unreadable("12 345 678 901 €", "demesure")),
    (dt.datetime(2020, 5, 4), Unreadable("2020-05-04 00:00:00", "date")),
    (dt.date(2020, 5, 4), Unreadable("2020-05-04", "date")),
    (float("nan"), Unreadable("nan")),
    (True, Unreadable("True", "booleen")),
])
def test_amount_from_cell_never_raises(raw, expected):
    assert amount_from_cell(raw) == expected


@pytest.mark.parametrize("amount, low, high", [
    (D("395809"), D("197904.50"), D("197904.50")),
    (D("71625"), D("35812.50"), D("35812.50")),
    (D("0.01"), D("0.00"), D("0.01")),
    (D("100.03"), D("50.01"), D("50.02")),
    (D("-0.01"), D("-0.01"), D("0.00")),
])
def test_split_half_state_gets_lower_half(amount, low, high):
    assert split_half(amount) == (low, high)


def test_format_eur_is_french():
    assert format_eur(D("1201409")) == "1\u00a0201\u00a0409,00\u00a0€"
    assert format_eur(D("-35812.5")) == "-35\u00a0812,50\u00a0€"
    assert format_eur(D("0.5")) == "0,50\u00a0€"
    assert format_eur(None) == "—"
