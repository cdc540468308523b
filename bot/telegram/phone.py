"""The screens as a phone shows them: one self-contained HTML page, as Telegram for Android draws bot messages.

Pure: no Telegram call and no browser here. tests/support/phone.py loads the page in a headless
Chromium 360 px wide and measures it: how tall each message is (bubble and inline keyboard), and
whether a button's label is cut. The page has its CSS inline and loads nothing (no fonts, images or
scripts from anywhere), so it can also be opened, or screenshotted, as it is.

What is matched, from Telegram for Android's message cell at 1 px = 1 dp (a 360 dp wide phone):

* Text: 16 px (Telegram's default text size), Roboto as on Android; bold is Roboto Medium (weight 500),
  as Telegram draws it. Line height 1.35 (21.6 px): Roboto's own is 1.17 and Telegram adds a little
  between lines; 1.35 errs on the tall side, so a message measured to fit also fits on the phone.
* Bubble: the text wraps at 280 px (the screen less 80 dp, Telegram's limit in a chat without
  avatars), inside 12 px side and 8 px top/bottom padding: at most 304 px, 84 % of the chat's width.
  The time, bottom right, takes a line of its own when the last line leaves no room, as Telegram's does.
* Inline keyboard: under the bubble, 4 px apart, rows 44 px tall and 4 px apart; a row's buttons share
  its width equally, 5 px apart. Labels are 15 px Roboto Medium on one line, centred, and cut with an
  ellipsis when too long. The keyboard is as wide as the bubble, or wider when its labels need it:
  each button as wide as the row's widest label and 16 px more, up to 345 px (the screen less 15 dp),
  Telegram's own rule (MessageObject.wantedBotKeyboardWidth).

Only Telegram's HTML tags that the bot sends are kept (``b``, ``i``, ``a href``, ``blockquote``,
``code``, and their synonyms ``strong`` and ``em``); any other tag is dropped with its text kept, every
text and attribute is escaped again, and every tag is closed, so a screen cannot inject markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from html.parser import HTMLParser

from bot.telegram.screens import Button, Screen

__all__ = ["phone_page"]

#: Telegram's tags that the page renders, and the element each becomes.
_TAGS = {"b": "b", "strong": "b", "i": "i", "em": "i", "a": "a", "blockquote": "blockquote", "code": "code"}
#: Link schemes kept in an ``href``; a link with any other keeps its look but links nowhere.
_SCHEMES = ("https://", "http://", "tg://", "mailto:")

_FONT = 'Roboto, "Noto Color Emoji", "Noto Sans", "DejaVu Sans", sans-serif'

_CSS = f"""
*{{box-sizing:border-box;margin:0;padding:0}}
html{{-webkit-text-size-adjust:none;text-size-adjust:none}}
body{{width:360px;min-height:640px;background:#a7c1a1;font-family:{_FONT};color:#000;
  -webkit-font-smoothing:antialiased}}
header{{height:56px;padding:0 16px;background:#517da2;color:#fff;font-size:18px;font-weight:500;
  line-height:56px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}}
main{{padding:4px 0 8px}}
.message{{display:grid;justify-items:start;width:fit-content;max-width:345px;margin:6px 0 0 8px}}
.bubble{{max-width:304px;padding:8px 12px;background:#fff;border-radius:12px 12px 12px 4px;
  font-size:16px;line-height:1.35;white-space:pre-wrap;overflow-wrap:break-word}}
.time{{float:right;margin:8px 0 -6px 10px;font-size:12px;line-height:14px;color:#8e9ba6;
  white-space:nowrap}}
.bubble b{{font-weight:500}}
.bubble a{{color:#2678b6;text-decoration:none}}
.bubble code{{font-family:"Roboto Mono","DejaVu Sans Mono",monospace;font-size:15px}}
.bubble blockquote{{display:inline-block;width:100%;vertical-align:top;margin:2px 0;padding:2px 8px 2px 10px;
  border-left:3px solid #3a8fd1;border-radius:4px;background:#e8f2fb}}
.keyboard{{justify-self:stretch;display:grid;row-gap:4px;margin-top:4px;padding:0 1px}}
.row{{display:grid;grid-auto-flow:column;grid-auto-columns:minmax(0,1fr);column-gap:5px}}
.button{{display:flex;align-items:center;justify-content:center;min-width:0;height:44px;padding:0 8px;
  border-radius:8px;background:rgba(56,84,64,.45);color:#fff;font-size:15px;font-weight:500}}
.label{{display:block;min-width:0;max-width:100%;white-space:nowrap;overflow:hidden;
  text-overflow:ellipsis;line-height:20px}}
"""


def phone_page(screens: Sequence[Screen], *, title: str = "", lang: str = "en") -> str:
    """A page that shows ``screens`` as messages of a Telegram chat on a 360 px wide phone.

    Each message is marked ``data-message="i"`` (its place in ``screens``) and each button
    ``data-button="row.column"``; a button's label is its ``.label`` element, cut when its
    ``scrollWidth`` exceeds its ``clientWidth``.
    """
    messages = "".join(_message(i, screen) for i, screen in enumerate(screens))
    head = f"<header>{escape(title)}</header>" if title else ""
    return (
        f'<!DOCTYPE html><html lang="{escape(lang.replace("_", "-"))}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=360, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f"<body>{head}<main>{messages}</main></body></html>"
    )


def _message(index: int, screen: Screen) -> str:
    bubble = f'<div class="bubble">{telegram_html(screen.text)}<span class="time">12:00</span></div>'
    rows = "".join(
        f'<div class="row">{"".join(_button(r, c, button) for c, button in enumerate(row))}</div>'
        for r, row in enumerate(screen.buttons)
        if row
    )
    keyboard = f'<div class="keyboard">{rows}</div>' if rows else ""
    return f'<div class="message" data-message="{index}">{bubble}{keyboard}</div>'


def _button(row: int, column: int, button: Button) -> str:
    return f'<div class="button" data-button="{row}.{column}"><span class="label">{escape(button.label)}</span></div>'


def telegram_html(text: str) -> str:
    """Telegram HTML as safe page HTML: only Telegram's tags kept, everything escaped again, every tag closed."""
    parser = _TelegramHtml()
    # Telegram strips the whitespace around a message's text.
    parser.feed(text.strip(" \t\n\r"))
    parser.close()
    return parser.html()


class _TelegramHtml(HTMLParser):
    """Rebuilds Telegram's HTML subset from parsed tags and text, dropping everything else."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._out: list[str] = []
        self._open: list[str] = []  # the page's tags open, innermost last

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        name = _TAGS.get(tag)
        if name is None:
            return
        if name == "a":
            href = dict(attrs).get("href") or ""
            kept = href.strip() if href.strip().lower().startswith(_SCHEMES) else ""
            self._out.append(f'<a href="{escape(kept)}">' if kept else "<a>")
        else:
            self._out.append(f"<{name}>")
        self._open.append(name)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """A self-closed tag (``<b/>``) marks no text: nothing to show."""

    def handle_endtag(self, tag: str) -> None:
        name = _TAGS.get(tag)
        if name is None or name not in self._open:
            return
        # Close what is open down to it, so the page's tags always nest.
        while self._open:
            last = self._open.pop()
            self._out.append(f"</{last}>")
            if last == name:
                break

    def handle_data(self, data: str) -> None:
        self._out.append(escape(data, quote=False))

    def html(self) -> str:
        return "".join(self._out) + "".join(f"</{name}>" for name in reversed(self._open))
