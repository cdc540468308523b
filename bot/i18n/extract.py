"""Babel extractor for rule tables: every text a person reads, with a comment saying where.

Registered as the ``maslahat_rules`` extraction method (entry point ``babel.extractors``) and
used by ``locales/babel.cfg``, so ``pybabel extract`` collects the rule table and the Python code
into one template. Texts are folded exactly as the loader folds them, so msgids match at run time.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from bot.ruletable.texts import BUTTON_LIMIT, table_texts
from bot.ruletable.yamlsource import read_yaml

__all__ = ["BUTTON_LIMIT", "extract_rules", "table_texts"]


def extract_rules(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extraction method for rule table YAML files.

    Raises:
        YamlSyntaxError: the file is not YAML (run ``maslahat check`` for details).
    """
    name = getattr(fileobj, "name", "<rules>")
    text = fileobj.read().decode(options.get("encoding", "utf-8"))
    data, _ = read_yaml(text, str(name))
    for line, message, comment in table_texts(data):
        yield line, "gettext", message, [comment]
