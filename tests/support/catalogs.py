"""A copy of the shipped catalogs with one translation changed, as a translator's edit would."""

from __future__ import annotations

import shutil
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from bot.i18n.catalogs import catalog_path
from tests.support.shipped import ROOT

__all__ = ["locales_with"]


def locales_with(folder: Path, lang: str, msgid: str, translation: str) -> Path:
    """The shipped locales copied into ``folder``, with ``msgid`` translated as ``translation`` in ``lang``."""
    locales = folder / "locales"
    shutil.copytree(ROOT / "locales", locales)
    path = catalog_path(locales, lang)
    with path.open("rb") as f:
        catalog = read_po(f, locale=lang)
    message = catalog.get(msgid)
    assert message is not None, f"{msgid!r} is not in the {lang} catalog"
    message.string = translation
    with path.open("wb") as f:
        write_po(f, catalog, width=0)
    return locales
