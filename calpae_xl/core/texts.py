"""Texts the tool writes out are data, never code, and always writable.

- :func:`shown`: a file name with bytes that are not UTF-8 (Python keeps them
  as "surrogate escapes") cannot be written to a UTF-8 file, a workbook or a
  terminal; each such byte is shown as U+FFFD.
- :func:`csv_text`: a CSV field that a spreadsheet would run as a formula
  (beginning with = + - @, a tab or a carriage return) gets a leading ' — the
  OWASP recommendation against CSV injection. Only texts go through it:
  amounts the tool formats stay numbers.
- :func:`json_text`: JSON for people and programs: accents as they are, and
  a file name's undecodable bytes as \\udcXX escapes (valid JSON, valid
  UTF-8, and Python's json gives back the exact name).
"""
from __future__ import annotations

import json
import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def shown(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def csv_text(text: str) -> str:
    """A text field of a CSV the tool writes: writable, and never a formula."""
    text = shown(text)
    return "'" + text if text.startswith(FORMULA_START) else text


def json_text(document: Any) -> str:
    """The document as indented JSON, surrogates escaped."""
    out = json.dumps(document, ensure_ascii=False, indent=2)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", out)
