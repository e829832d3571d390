"""What an operator sees in a real browser (Debian's chromium driven by Playwright): the service's
API docs with no network but loopback, and a registration in the Temporal Web UI with payload
encryption on — its input and current details decoded through the demo's codec endpoint.
Screenshots go to $A2P_SCREENSHOTS (or the test's tmp dir) to be looked at."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from tests.factories import eventually_sync

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("no browser: Debian's chromium is not installed (.ci/run installs it with apt-get)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (the dev extra) is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


def shots(tmp_path: Path) -> Path:
    return Path(os.environ.get("A2P_SCREENSHOTS") or tmp_path)


def offline_page(browser):
    """A page that can reach only this machine: every other request is refused and recorded (and so
    are the page's script errors and failed requests, for :func:`shown`'s failure message)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    outside: list[str] = []
    page.troubles = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: page.troubles.append(f"script error: {e}"))
    page.on("console", lambda m: page.troubles.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("requestfailed", lambda r: page.troubles.append(f"request failed: {r.url} {r.failure}"))

    def route(r):
        if urlparse(r.request.url).hostname in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return page, outside


def shown(page, locator, timeout_ms: int, shot: Path) -> None:
    """Wait until ``locator`` is visible; if it never is, fail with what the page showed instead
    (its text, script errors, failed requests) and a screenshot."""
    try:
        locator.wait_for(timeout=timeout_ms)
    except Exception as exc:  # noqa: BLE001 - Playwright's TimeoutError: say what was there instead
        page.screenshot(path=str(shot))
        text = page.inner_text("body", timeout=5_000)[:600] if page.locator("body").count() else ""
        troubles = getattr(page, "troubles", [])
        raise AssertionError(f"{locator} not shown in {timeout_ms / 1000:.0f} s at {page.url}; the page showed "
                             f"{text!r}; troubles: {troubles}; screenshot {shot}") from exc


def frame_texts(page) -> list[str]:
    """The text of the page's iframes (the UI re-renders them: a detached one is skipped)."""
    texts = []
    for frame in page.frames:
        if frame != page.main_frame:
            try:
                texts.append(frame.inner_text("body", timeout=1000))
            except Exception:  # noqa: BLE001 - detached while read: the next round reads its successor
                pass
    return texts


def test_docs_pages_reference_only_assets_served_here(kept_up_demo):
    url = kept_up_demo.value(r"service   (http://\S+)")
    for path in ("/docs", "/redoc"):
        html = httpx.get(f"{url}{path}").text
        assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
        assert assets and all(a.startswith("/") for a in assets), (path, assets)
        for asset in assets:
            assert httpx.get(f"{url}{asset}").status_code == 200, asset


def test_api_docs_list_the_operations_with_no_network_but_loopback(kept_up_demo, browser, tmp_path):
    url = kept_up_demo.value(r"service   (http://\S+)")
    page, outside = offline_page(browser)
    page.goto(f"{url}/docs")
    shown(page, page.locator(".opblock").first, 60_000, shots(tmp_path) / "docs-failed.png")
    assert page.locator(".opblock").count() >= 12
    assert page.get_by_text("/v1/registrations/counts", exact=True).is_visible()
    assert page.get_by_text("Start Registration").is_visible()
    page.screenshot(path=str(shots(tmp_path) / "docs.png"))

    page.goto(f"{url}/redoc")
    # ReDoc renders the whole document in the page's one thread. Beside the rest of the suite it
    # once did not show this within 30 s; should it fail again, the message says what it showed.
    shown(page, page.get_by_role("heading", name="Count registrations per phase"), 90_000,
          shots(tmp_path) / "redoc-failed.png")
    assert page.get_by_role("heading", name="Start Registration").is_visible()
    page.screenshot(path=str(shots(tmp_path) / "redoc.png"))
    assert outside == []  # neither page asked for anything off this machine (fonts, scripts, workers)


def test_web_ui_shows_the_decrypted_input_and_current_details(kept_up_demo, browser, tmp_path):
    web_ui = kept_up_demo.value(r"Web UI: (http://\S+/workflows/\S+)")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    codec_calls: list[int] = []
    page.on("response", lambda r: codec_calls.append(r.status) if "/codec/decode" in r.url else None)
    page.goto(web_ui)
    # The customer's email and street exist only inside the encrypted input: shown means decoded.
    page.get_by_text('"john.doe@example.com"').first.wait_for(timeout=60_000)
    assert page.get_by_text('"1 Jersey St"').first.is_visible()
    page.screenshot(path=str(shots(tmp_path) / "web-ui-input.png"))
    page.get_by_role("tab", name="User Metadata").click()
    page.get_by_text("Current Details").wait_for(timeout=30_000)
    # The UI renders the (decoded) current details as Markdown in an iframe of its own.
    eventually_sync(lambda: frame_texts(page), 30, "the current details showing the campaign VERIFIED",
                    interval=0.2, until=lambda texts: any("campaign VERIFIED" in text for text in texts))
    page.screenshot(path=str(shots(tmp_path) / "web-ui-details.png"))
    assert codec_calls and set(codec_calls) == {200}
