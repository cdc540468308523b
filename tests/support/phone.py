"""What a person sees on a 360×640 phone: the screens measured in a real headless Chromium.

bot.telegram.phone draws the screens as Telegram for Android does; this loads that page in the
system's Chromium (scripts/ensure-chromium installs it and its fonts) through playwright, and reads
back each message's height and each button's label, cut or not. One browser and one page serve a
whole test session (the ``phone`` fixture in tests/conftest.py); a measure takes milliseconds.

    boxes = phone.measure([screen], lang="ru")
    assert boxes[0].height <= CHAT_HEIGHT and not boxes[0].cut
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from bot.telegram.phone import phone_page
from bot.telegram.screens import Screen

__all__ = ["CHAT_HEIGHT", "HEIGHT", "MISSING", "WIDTH", "ButtonBox", "MessageBox", "Phone"]

T = TypeVar("T")

#: The phone's screen, in CSS px (= Android dp): a common small Android phone.
WIDTH = 360
HEIGHT = 640
#: What the chat shows of messages on it: the screen less the status bar, Telegram's title bar and
#: its message field.
CHAT_HEIGHT = 508

MISSING = (
    "Chromium, or the fonts Telegram for Android draws with (Roboto, Noto Color Emoji), is not installed: "
    "run scripts/ensure-chromium"
)

#: Chromium's switches for a machine with no display and no network: without the last four it tries
#: to reach Google's servers at every start (refused here, and slow).
_ARGS = [
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]

#: Loads a page in place of the current one (no navigation: a third of set_content's time), then
#: reads every message's and button's box in the same call.
_MEASURE = """html => {
  document.open();
  document.write(html);
  document.close();
  return [...document.querySelectorAll('[data-message]')].map(message => {
    const top = message.getBoundingClientRect().top;
    return {
      height: message.getBoundingClientRect().height,
      bubble: message.querySelector('.bubble').getBoundingClientRect().height,
      buttons: [...message.querySelectorAll('[data-button]')].map(button => {
        const label = button.querySelector('.label');
        const [row, column] = button.dataset.button.split('.').map(Number);
        return {
          label: label.textContent, row, column,
          cut: label.scrollWidth > label.clientWidth,
          bottom: button.getBoundingClientRect().bottom - top,
        };
      }),
    };
  });
}"""

#: Whether a font family is really there: text in it is as wide as in the fallback only if it is not.
_HAS_FONT = """family => {
  const context = document.createElement('canvas').getContext('2d');
  const width = font => { context.font = font; return context.measureText('Mmwil Жщы ʻ 0123').width; };
  return ['monospace', 'serif'].every(f => width(`16px "${family}", ${f}`) !== width(`16px ${f}`));
}"""


@dataclass(frozen=True)
class ButtonBox:
    """One inline button as shown: its label, where it is, and whether the label is cut."""

    label: str
    row: int
    column: int
    cut: bool
    bottom: float  # px from the top of its message to the button's lower edge


@dataclass(frozen=True)
class MessageBox:
    """One message as shown: its height in px, bubble and inline keyboard together, and its buttons."""

    height: float
    bubble: float  # the bubble alone
    buttons: tuple[ButtonBox, ...]

    @property
    def cut(self) -> tuple[ButtonBox, ...]:
        """The buttons whose label is cut."""
        return tuple(b for b in self.buttons if b.cut)

    def height_to_row(self, row: int) -> float:
        """The height from the message's top to the lower edge of keyboard row ``row`` (0 is the first)."""
        return max((b.bottom for b in self.buttons if b.row == row), default=self.bubble)

    def row(self, row: int) -> tuple[ButtonBox, ...]:
        return tuple(b for b in self.buttons if b.row == row)


class Phone:
    """A headless Chromium with one 360×640 page, to measure screens in; started on first use.

    Fails the test that uses it, telling to run scripts/ensure-chromium, where Chromium or the fonts
    are missing (never skips it). ``close`` ends the browser.

    Playwright's synchronous API runs an event loop of its own in the thread that starts it, and
    the asyncio tests that come after would find that loop running in theirs: so every call to the
    browser is made in one thread of its own.
    """

    def __init__(self) -> None:
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._page: Page | None = None
        self._failed = ""
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="phone")

    def _in_thread(self, call: Callable[..., T], *args: Any) -> T:
        return self._thread.submit(call, *args).result()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _start(self) -> Page:
        if self._page is not None:
            return self._page
        if self._failed:
            pytest.fail(self._failed, pytrace=False)
        executable = shutil.which("chromium")
        if executable is None:
            self._failed = MISSING
            pytest.fail(MISSING, pytrace=False)
        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(executable_path=executable, args=_ARGS)
            page = self._browser.new_page(viewport={"width": WIDTH, "height": HEIGHT}, device_scale_factor=1)
            missing = [f for f in ("Roboto", "Noto Color Emoji") if not page.evaluate(_HAS_FONT, f)]
        except BaseException:
            self._close()
            raise
        if missing:
            self._close()
            self._failed = f"{MISSING} (missing: {', '.join(missing)})"
            pytest.fail(self._failed, pytrace=False)
        self._page = page
        return page

    def close(self) -> None:
        """End the browser and its thread."""
        self._in_thread(self._close)
        self._thread.shutdown()

    def _close(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._browser = None
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None
        self._page = None

    @property
    def version(self) -> str:
        """The browser's version."""

        def read() -> str:
            self._start()
            assert self._browser is not None
            return self._browser.version

        return self._in_thread(read)

    def measure(self, screens: Sequence[Screen], lang: str = "en") -> list[MessageBox]:
        """Each screen's message as the phone shows it, in order (bot.telegram.phone.phone_page).

        Many screens are measured faster in one call than one by one: a call costs about 10 ms,
        each screen in it about 2 ms more.
        """
        html = phone_page(screens, lang=lang)
        raw: list[dict[str, Any]] = self._in_thread(lambda: self._start().evaluate(_MEASURE, html))
        return [
            MessageBox(height=m["height"], bubble=m["bubble"], buttons=tuple(ButtonBox(**b) for b in m["buttons"]))
            for m in raw
        ]

    def screenshot(self, screens: Sequence[Screen], path: Path, lang: str = "en", title: str = "") -> Path:
        """A PNG of ``screens`` as the phone shows them (the whole page, however tall), to look at."""
        html = phone_page(screens, title=title, lang=lang)

        def shoot() -> None:
            page = self._start()
            page.set_content(html)
            page.screenshot(path=str(path), full_page=True)

        self._in_thread(shoot)
        return path
