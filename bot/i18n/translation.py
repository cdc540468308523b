"""Check one translated text against its English source: placeholders, script, markup, length, sameness."""

from __future__ import annotations

import datetime as dt
import re
import string
from html.parser import HTMLParser

from babel.dates import format_date
from babel.messages.catalog import Message

from bot.core.dates import PATTERN_CONTEXT
from bot.i18n.extract import BUTTON_LIMIT

__all__ = ["CYRILLIC_IN_LATIN", "LATIN_IN_CYRILLIC", "LATIN_SCRIPT", "SAME", "TELEGRAM_TAGS", "translation_problems"]

#: Russian abbreviations migrants know, allowed in brackets in the Uzbek Latin catalog.
CYRILLIC_IN_LATIN = {"ВНЖ", "РВП", "МЧС", "МВД"}
#: Latin words allowed in Cyrillic catalogs: names of outlets and organisations written in Latin.
LATIN_IN_CYRILLIC = {"RFE", "RL", "TASS", "RBC", "Systema", "Azattyq", "Asia", "Svoboda", "Sputnik", "Telegram"}
#: Catalogs written in Latin letters; all others are written in Cyrillic.
LATIN_SCRIPT = {"uz"}
#: A translator comment that says an identical translation is meant (a name spelled alike).
SAME = "same as English"
#: The tags Telegram's HTML formatting accepts.
TELEGRAM_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "blockquote",
}

_CYRILLIC_WORD = re.compile(r"[\u0400-\u04ff]+")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z\u02bb\u02bc'’‘]*")
# Not words of the language: URLs, domains, {placeholders}, markup tags and entities, /commands.
_SKIP = re.compile(
    r"https?://\S+|\b[\w.-]+\.(?:tj|uz|kg|ru|org|com|net)\b|\{[^{}]*\}|</?[a-zA-Z][^>]*>|&\w+;|(?<![\w/])/[a-z_]+\b"
)
_TAG = re.compile(r"</?([a-zA-Z][\w-]*)")


def _placeholders(text: str) -> set[str]:
    """The names of the ``{placeholders}`` in ``text``; a marker if its braces do not parse."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return {"<malformed braces>"}


class _TagChecker(HTMLParser):
    """Collects tags and notices unbalanced or unknown ones."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> does not close an open tag")
        else:
            self.stack.pop()


def _markup_problems(msgid: str, text: str) -> list[str]:
    """Tags in ``text`` that are unbalanced, unknown to Telegram, or not those of ``msgid``."""
    if not _TAG.search(msgid) and not _TAG.search(text):
        return []
    checker = _TagChecker()
    checker.feed(text)
    checker.close()
    errors = list(checker.errors)
    errors += [f"<{tag}> is never closed" for tag in checker.stack]
    errors += [f"<{tag}> is not a tag Telegram accepts" for tag in set(checker.tags) - TELEGRAM_TAGS]
    source = _TagChecker()
    source.feed(msgid)
    if sorted(source.tags) != sorted(checker.tags):
        errors.append(f"tags {sorted(checker.tags)} differ from the source's {sorted(source.tags)}")
    return errors


def _script_problems(lang: str, text: str) -> list[str]:
    """Words in the other script than ``lang``'s catalog is written in, except the names allowed."""
    bare = _SKIP.sub(" ", text)
    if lang in LATIN_SCRIPT:
        wrong = [w for w in _CYRILLIC_WORD.findall(bare) if w not in CYRILLIC_IN_LATIN]
        return [f"Cyrillic in a Latin-script catalog: {', '.join(wrong)}"] if wrong else []
    wrong = [w for w in _LATIN_WORD.findall(bare) if w not in LATIN_IN_CYRILLIC]
    return [f"Latin words in a Cyrillic-script catalog: {', '.join(wrong)}"] if wrong else []


def _same_on_purpose(message: Message) -> bool:
    """Whether a translator comment says the translation is meant to equal the source."""
    return any(SAME in comment for comment in message.user_comments)


def _date_pattern_problems(lang: str, pattern: str) -> list[str]:
    """A date pattern must format a date; only its words in 'quotes' are checked for script."""
    try:
        format_date(dt.date(2026, 12, 2), pattern, locale=lang)
    except (ValueError, KeyError, AttributeError) as exc:
        return [f"date pattern {pattern!r} does not format a date ({exc}); see the translator comment"]
    if not re.search(r"[dLMy]", re.sub(r"'[^']*'", "", pattern)):
        return [f"date pattern {pattern!r} has no day, month or year field (d, MMMM, LLLL, y)"]
    return [p for literal in re.findall(r"'([^']+)'", pattern) for p in _script_problems(lang, literal)]


def translation_problems(lang: str, source: str, message: Message, *, button: bool, limit: int | None) -> list[str]:
    """What is wrong with each translation in ``message`` of the English ``source``, one sentence each.

    ``button``: the text is a button label; ``limit``: the most characters a translator comment allows.
    """
    problems: list[str] = []
    texts = message.string if isinstance(message.string, tuple | list) else (message.string,)
    if message.context == PATTERN_CONTEXT:
        return [p for text in texts for p in _date_pattern_problems(lang, str(text or ""))]
    wanted = sorted(_placeholders(source))
    for text in (str(t or "") for t in texts):
        if sorted(_placeholders(text)) != wanted:
            problems.append(f"placeholders {sorted(_placeholders(text))} differ from the source's {wanted}")
        problems += _script_problems(lang, text)
        problems += _markup_problems(source, text)
        if button and len(text) > BUTTON_LIMIT:
            problems.append(f"button label is {len(text)} characters; at most {BUTTON_LIMIT} fit a phone screen")
        elif limit is not None and len(text) > limit:
            problems.append(f"is {len(text)} characters; the comment allows at most {limit}")
        if text == source and re.search(r"[A-Za-z]{2}", _SKIP.sub(" ", text)) and not _same_on_purpose(message):
            problems.append(f"translation is identical to the English source; if meant, add the comment '# {SAME}'")
    return problems
