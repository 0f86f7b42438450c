"""Exceptions for "cannot go on": each names the file, in French, and carries
a code of the catalogue (:mod:`calpae_xl.core.catalogue`).

Everything else (a wrong amount, a broken rule) is a finding, not an exception.
"""
from __future__ import annotations

import errno
from typing import Optional

from .core.catalogue import entry

#: the system's reasons, in French (the system gives them in English)
_OS_REASONS = {errno.ENOSPC: "le disque est plein", errno.EACCES: "droits insuffisants",
               errno.EPERM: "opération non permise", errno.EROFS: "le disque est en lecture seule",
               errno.ENOENT: "fichier ou dossier absent", errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
               errno.EISDIR: "c'est un dossier", errno.ENAMETOOLONG: "nom de fichier trop long",
               errno.ELOOP: "boucle de liens symboliques", errno.EBUSY: "fichier occupé par le système",
               errno.EEXIST: "un fichier de ce nom existe déjà", errno.EIO: "erreur de lecture ou d'écriture du disque",
               errno.EMFILE: "trop de fichiers ouverts", errno.EXDEV: "déplacement entre deux disques impossible",
               errno.EINVAL: "nom ou opération invalide", errno.ENXIO: "périphérique absent"}
if hasattr(errno, "EDQUOT"):
    _OS_REASONS[errno.EDQUOT] = "le quota de disque est dépassé"


def os_reason(e: OSError) -> str:
    """Why the system refused, in French (its own words when not known)."""
    return _OS_REASONS.get(e.errno) or e.strerror or type(e).__name__


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
