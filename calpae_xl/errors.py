"""Exceptions for "cannot go on": each names the file, in French, and carries
a code of the catalogue (:mod:`calpae_xl.core.catalogue`).

Everything else (a wrong amount, a broken rule) is a finding, not an exception.
"""
from __future__ import annotations

from typing import Optional

from .core.catalogue import entry


class CalpaeError(Exception):
    """Base of the project's own errors; the commands turn them into exit status 2."""

    template = "{path} : {reason}"
    default_code: Optional[str] = None

    def __init__(self, path: str, reason: str, code: Optional[str] = None):
        self.path = str(path)
        self.reason = reason
        self.code = code or self.default_code or ""
        entry(self.code)  # a code the catalogue lacks is a defect of the project
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return self.template.format(path=self.path, reason=self.reason)


class UnreadableFile(CalpaeError):
    """The file cannot be opened or is not a workbook (each refusal has its own code)."""

    template = "Impossible de lire « {path} » : {reason}."


class NoMaquette(CalpaeError):
    """The workbook opens but holds no maquette table."""

    default_code = "MAQUETTE_ABSENTE"

    template = "« {path} » : {reason}"


class UnwritableFile(CalpaeError):
    """The result cannot be saved (the original stays untouched)."""

    default_code = "ENREGISTREMENT_IMPOSSIBLE"

    template = "Impossible d'enregistrer « {path} » : {reason}. Le fichier d'origine n'a pas été modifié."


class MissingExtra(Exception):
    """An Excel feature was asked for without the optional dependency."""

    def __init__(self, feature: str, package: str = "xlwings", extra: str = "excel"):
        self.message = (f"{feature} demande le module « {package} », absent de cette installation. "
                        f"Installez-le avec : pip install \"calpae-xl[{extra}]\"")
        super().__init__(self.message)
