"""The web page at GET /, in a real headless Chromium (Debian's, driven by Playwright) against a
real server: paste an article, find its quotes, see them highlighted with speakers, stances and
the words that drove them; classify one quote; be asked for the API key when the server has one.

On a failure the page is saved as a screenshot in test-artifacts/ at the repository root.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from live_server import LiveServer, live_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs playwright")

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
TIMEOUT_MS = 15_000
API_KEY = "page-test-key"

# Written for this test: a headline, a title before a name, a fragment in indirect speech,
# curly quotes, "she added" / "he added", and a paragraph with no quote.
ARTICLE = "\n\n".join(
    [
        "Peace talks: two capitals, two answers",
        "Foreign Minister Anna Kovalenko said on Tuesday that negotiations were "
        "“pointless while the shelling goes on”.",
        "“We will not sit down with a regime that bombs our cities,” Kovalenko told reporters "
        "in Vienna. “There is nothing to negotiate until every soldier has left our land,” "
        "she added.",
        "Kremlin spokesman Pavel Orlov struck a different tone. “We are ready to sit down at "
        "the table tomorrow if the other side is serious,” Orlov said.",
        "“Only dialogue can end this war,” he added.",
        "Three drones were shot down over the region overnight, officials said.",
    ]
)
SPEAKERS = {"Anna Kovalenko", "Pavel Orlov"}
ATTRIBUTIONS = {
    "nothing to negotiate": "Anna Kovalenko",
    "Only dialogue can end this war": "Pavel Orlov",
}
BADGE = re.compile(r"^(pro|anti|neutral) \d{1,3}%$", re.IGNORECASE)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (.ci/run installs Debian's chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(tiny_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tiny_model_path, tmp_path_factory.mktemp("page")) as live:
        yield live


@pytest.fixture(scope="module")
def keyed_server(
    tiny_model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with live_server(tiny_model_path, tmp_path_factory.mktemp("page-key"), api_key=API_KEY) as live:
        yield live


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@contextmanager
def screenshot_on_failure(page: Page, name: str) -> Iterator[None]:
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        safe = re.sub(r"[^\w.-]+", "_", name)
        page.screenshot(path=str(ARTIFACTS / f"{safe}.png"), full_page=True)
        raise


def test_the_page_is_self_contained(server: LiveServer, page: Page) -> None:
    requested: list[str] = []
    page.on("request", lambda req: requested.append(req.url))
    with screenshot_on_failure(page, "self_contained"):
        page.goto(server.url + "/")
        page.wait_for_load_state("networkidle")
        assert requested, "the page made no request at all"
        assert all(url.startswith(server.url) for url in requested), requested


def test_paste_an_article_and_see_its_quotes(server: LiveServer, page: Page) -> None:
    with screenshot_on_failure(page, "article"):
        page.goto(server.url + "/")
        page.fill("#input", ARTICLE)
        page.get_by_role("button", name="Find quotes").click()
        cards = page.locator("#cards .card")
        cards.first.wait_for()

        # Each quote is highlighted in the text, and the highlighted words are the quote's.
        marks = page.locator("#article mark")
        assert marks.count() >= 4
        for text in marks.all_inner_texts():
            assert text.strip() and text.strip() in ARTICLE

        # One card per quote: the speaker, a coloured label with its confidence, the words.
        assert cards.count() == marks.count()
        speakers = set(page.locator("#cards .who").all_inner_texts())
        assert speakers >= SPEAKERS, speakers
        assert "Kremlin spokesman" in page.locator("#cards").inner_text()
        badges = page.locator("#cards .badge")
        assert badges.count() == cards.count()
        for k in range(badges.count()):
            badge = badges.nth(k)
            assert BADGE.match(badge.inner_text().strip()), badge.inner_text()
            colour = badge.evaluate("node => getComputedStyle(node).backgroundColor")
            assert colour not in ("rgba(0, 0, 0, 0)", "transparent", "rgb(255, 255, 255)"), colour
        assert page.locator("#cards .word").count() >= cards.count()
        # "she added" / "he added" go to the speaker named before.
        for quote, speaker in ATTRIBUTIONS.items():
            card = cards.filter(has_text=quote)
            assert card.count() == 1, quote
            assert card.locator(".who").inner_text() == speaker, quote

        # Clicking a card points at its quote in the text.
        cards.nth(1).click()
        assert page.locator("#article mark.focus").count() == 1


def test_classify_one_quote(server: LiveServer, page: Page) -> None:
    with screenshot_on_failure(page, "one_quote"):
        page.goto(server.url + "/")
        page.fill("#input", "“We are ready for dialogue without preconditions,” Orlov said.")
        page.get_by_role("button", name="Classify as one quote").click()
        card = page.locator("#cards .card")
        card.first.wait_for()
        assert card.count() == 1
        assert BADGE.match(card.locator(".badge").inner_text().strip())
        assert "Orlov" in card.locator(".who").inner_text()
        assert card.locator(".word").count() >= 1
        assert page.locator("#article").is_hidden()


def test_empty_input_is_explained_not_sent(server: LiveServer, page: Page) -> None:
    with screenshot_on_failure(page, "empty"):
        page.goto(server.url + "/")
        page.get_by_role("button", name="Find quotes").click()
        assert "Paste an article" in page.locator("#error").inner_text()


def test_the_page_asks_for_the_api_key(keyed_server: LiveServer, page: Page) -> None:
    with screenshot_on_failure(page, "api_key"):
        page.goto(keyed_server.url + "/")
        assert page.locator("#apikey").is_hidden()
        page.fill("#input", ARTICLE)
        page.get_by_role("button", name="Find quotes").click()
        page.locator("#error", has_text="API key").wait_for()
        key = page.locator("#apikey")
        assert key.is_visible()
        key.fill(API_KEY)
        page.get_by_role("button", name="Find quotes").click()
        page.locator("#cards .card").first.wait_for()
        assert page.locator("#error").inner_text() == ""
