"""The page at ``/`` of a service that needs an API key: it asks for the key, keeps it for the
tab and sends it in the ``X-API-Key`` header; a wrong key is asked for again. In headless
Chromium (see `tests.serving.test_page_browser`; skipped with a reason where it is absent)."""

from __future__ import annotations

from fastapi.testclient import TestClient

import rnnkit
from rnnkit.serving import create_app
from rnnkit.serving.access import ServeAccess
from tests.serving.test_page_browser import ask, browser, serving  # noqa: F401 (a fixture)

KEY = "page-test-key-0123"


def state(driver) -> str | None:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "body").get_attribute("data-state")


def give_key(driver, key: str, expected_state: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script("document.body.dataset.state = 'sent';")
    driver.find_element(By.ID, "api-key").send_keys(key)
    driver.find_element(By.ID, "key-submit").click()
    WebDriverWait(driver, 20).until(lambda d: state(d) in ("ready", "needs-key"))
    assert state(driver) == expected_state


def test_page_asks_for_the_key_and_sends_it(browser, exported_dir):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with serving(exported_dir, ServeAccess(api_key=KEY)) as url:
        browser.get(url)
        WebDriverWait(browser, 20).until(state)
        assert state(browser) == "needs-key"
        assert browser.find_element(By.ID, "key-form").is_displayed()
        assert browser.find_element(By.ID, "meta").text == "this service needs an API key"

        give_key(browser, "not-the-key", "needs-key")
        assert browser.find_element(By.ID, "meta").text == "wrong API key: enter it again"

        give_key(browser, KEY, "ready")
        assert not browser.find_element(By.ID, "key-form").is_displayed()
        ask(browser, None, "What time is it?")
        assert browser.find_element(By.ID, "label").text == "ask_time"

        browser.refresh()  # the tab keeps the key
        WebDriverWait(browser, 20).until(state)
        assert state(browser) == "ready"
        assert browser.execute_script("return sessionStorage.getItem('rnnkit-api-key')") == KEY


def test_page_of_an_open_service_asks_for_no_key(browser, exported_dir):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with serving(exported_dir) as url:
        browser.get(url)
        WebDriverWait(browser, 20).until(state)
        assert state(browser) == "ready"
        assert not browser.find_element(By.ID, "key-form").is_displayed()


def test_the_page_is_served_without_the_key_and_holds_the_key_field(exported_dir):
    app = create_app(rnnkit.load(exported_dir), access=ServeAccess(api_key=KEY))
    page = TestClient(app).get("/")
    assert page.status_code == 200
    assert 'id="api-key"' in page.text and '"X-API-Key"' in page.text
    assert KEY not in page.text
