"""The page at ``/`` in headless Chromium: type the tutorial's question, read the intent; type
a sentence, read its translation and the attention heatmap; generate names from a prompt.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them); skipped with
a reason where they are absent, except in CI (``CI=true``), where their absence fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import rnnkit
from rnnkit.serving import create_app
from rnnkit.serving.access import ServeAccess

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def require_browser() -> None:
    if CHROMIUM and DRIVER:
        return
    reason = "headless Chromium not found (apt-get install chromium chromium-driver)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must run the browser test")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(directory: Path, access: ServeAccess | None = None) -> Iterator[str]:
    """``rnnkit serve``'s app for ``directory`` (ONNX runtime, ``access``) on a free loopback
    port."""
    import uvicorn

    app = create_app(rnnkit.load(directory, runtime="onnx"), runtime="onnx", access=access)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start within 30 s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def ask(browser, url: str | None, text: str) -> None:
    """Loads the page (unless ``url`` is None: the page is open), types ``text``, submits,
    and waits for the answer."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def state(driver) -> str | None:
        return driver.find_element(By.TAG_NAME, "body").get_attribute("data-state")

    if url is not None:
        browser.get(url)
    wait = WebDriverWait(browser, 20)
    wait.until(state)
    browser.find_element(By.ID, "text").send_keys(text)
    browser.find_element(By.ID, "submit").click()
    wait.until(lambda driver: state(driver) in ("answered", "error"))
    assert browser.find_element(By.ID, "error").text == ""


def open_page(browser, url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url)
    WebDriverWait(browser, 20).until(
        lambda driver: driver.find_element(By.TAG_NAME, "body").get_attribute("data-state")
    )


def set_number(browser, element_id: str, value: int) -> None:
    from selenium.webdriver.common.by import By

    field = browser.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(str(value))


@pytest.fixture
def browser() -> Iterator:
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1000,900"):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def test_page_shows_the_intent_probabilities_and_trace(browser, exported_dir, tmp_path):
    from selenium.webdriver.common.by import By

    with serving(exported_dir) as url:
        ask(browser, url, "What time is it?")
        assert browser.find_element(By.ID, "label").text == "ask_time"
        assert len(browser.find_elements(By.CSS_SELECTOR, "#probabilities .bar-row")) == 3
        bars = browser.find_elements(By.CSS_SELECTOR, "#trace-chart svg rect")
        assert len(bars) == 5  # what, time, is, it, ?
        screenshot = Path(os.environ.get("RNNKIT_SCREENSHOT_DIR", tmp_path)) / "serve-page.png"
        assert browser.save_screenshot(str(screenshot))


def test_page_highlights_the_slots_of_a_joint_model(browser, exported_joint_dir, tmp_path):
    from selenium.webdriver.common.by import By

    with serving(exported_joint_dir) as url:
        ask(browser, url, "how much is a ticket from dallas to seattle")
        assert browser.find_element(By.ID, "label").text == "fare"
        spans = browser.find_elements(By.CSS_SELECTOR, "#spans .span")
        assert [span.text for span in spans] == ["dallas from", "seattle to"]
        assert not browser.find_element(By.ID, "trace-section").is_displayed()
        screenshot = Path(os.environ.get("RNNKIT_SCREENSHOT_DIR", tmp_path)) / "serve-joint.png"
        assert browser.save_screenshot(str(screenshot))


def test_page_shows_the_translation_and_its_attention_heatmap(
    browser, exported_translator_dir, tmp_path
):
    from selenium.webdriver.common.by import By

    text = "i see the big cat ."
    translator = rnnkit.load(exported_translator_dir, runtime="onnx")
    expected = translator.predict([text])[0].best
    walk = translator.attention(text, expected)
    with serving(exported_translator_dir) as url:
        ask(browser, url, text)
        assert browser.find_element(By.ID, "translation").text == expected
        heatmap = browser.find_element(By.ID, "heatmap")
        rows = heatmap.find_elements(By.CSS_SELECTOR, "g.row")
        assert len(rows) == len(walk.target_tokens) == int(heatmap.get_attribute("data-rows"))
        assert all(
            len(row.find_elements(By.CSS_SELECTOR, "rect.cell")) == len(walk.source_tokens)
            for row in rows
        )
        labels = heatmap.find_elements(By.CSS_SELECTOR, "text.column-label")
        assert [label.text for label in labels] == ["i", "see", "the", "big", "cat", "."]
        assert not browser.find_element(By.ID, "labels-section").is_displayed()
        screenshot = Path(os.environ.get("RNNKIT_SCREENSHOT_DIR", tmp_path)) / "serve-translate.png"
        assert browser.save_screenshot(str(screenshot))


def test_page_generates_from_a_prompt_for_a_chosen_condition(browser, names_dir, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    generator = rnnkit.load(names_dir, runtime="onnx")
    expected = generator.generate(2, "Bor", "B", strategy="beam", beam_size=3)
    with serving(names_dir) as url:
        open_page(browser, url)
        Select(browser.find_element(By.ID, "option-condition")).select_by_visible_text("Bor")
        Select(browser.find_element(By.ID, "option-strategy")).select_by_visible_text("beam")
        assert not browser.find_element(By.ID, "option-temperature").is_displayed()
        set_number(browser, "option-n", 2)
        set_number(browser, "option-beam_size", 3)
        ask(browser, None, "B")
        shown = browser.find_elements(By.CSS_SELECTOR, "#generated li")
        assert [item.text.split(" (log p")[0] for item in shown] == [g.text for g in expected]
        screenshot = Path(os.environ.get("RNNKIT_SCREENSHOT_DIR", tmp_path)) / "serve-generate.png"
        assert browser.save_screenshot(str(screenshot))
