"""Where the shipped rule table and message catalogs are, installed or in a source checkout.

The repository keeps them at its top (``rules/``, ``locales/``); the wheel maps both into the
package as ``bot/data/`` (pyproject.toml, ``force-include``). An editable install and a plain
checkout have no ``bot/data/``, so the checkout's folders beside the package are used instead.
``MASLAHAT_RULES`` / ``MASLAHAT_LOCALES`` (and the command's ``--rules`` / ``--locales``) come first.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

__all__ = ["RULES_FILE", "shipped_locales", "shipped_rules"]

#: The rule table's file name, the same installed and in the checkout.
RULES_FILE = "decree-821.yaml"

_CHECKOUT = Path(__file__).resolve().parent.parent


def _shipped(name: str) -> Path:
    """``bot/data/<name>`` of the installed package if present, else ``<checkout>/<name>``."""
    # The package is always a directory on disk (no zip imports), so the traversable is a Path.
    packaged = Path(str(files("bot") / "data" / name))
    return packaged if packaged.is_dir() else _CHECKOUT / name


def shipped_rules() -> Path:
    """The rule table to use: $MASLAHAT_RULES, else the one shipped with the package."""
    configured = os.environ.get("MASLAHAT_RULES")
    return Path(configured) if configured else _shipped("rules") / RULES_FILE


def shipped_locales() -> Path:
    """The message catalogs to use: $MASLAHAT_LOCALES, else the ones shipped with the package."""
    configured = os.environ.get("MASLAHAT_LOCALES")
    return Path(configured) if configured else _shipped("locales")
