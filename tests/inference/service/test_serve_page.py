"""newsclf-serve's page in a real browser: headless Chromium types an article, submits it, reads the bars.

Needs Debian's ``chromium`` and ``chromium-driver`` (``make test`` installs them where it can); without
them the test skips and says why.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from testkit.processes import wait_ready

from inference import PredictOptions, Predictor
from inference.service.server import create_app, serve_in_background

EXACT = PredictOptions(backend="torch", precision="fp32")

ARTICLE = {"title": "Bank raises rates", "content": "The bank raised interest rates. Markets fell. Wages stalled."}
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    if not (Path(CHROMIUM).is_file() and Path(DRIVER).is_file()):
        pytest.skip(f"no {CHROMIUM} or {DRIVER}: install Debian's chromium and chromium-driver (make browser)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # this machine's network is closed: no background connections, no sandbox (root in a container)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def test_the_page_shows_the_bars_and_the_sentences_of_a_pasted_article(browser, tiny_model_dir: Path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    offline = Predictor.from_pretrained(tiny_model_dir, backend="torch", precision="fp32")
    expected = offline.predict(ARTICLE)
    with serve_in_background(create_app(tiny_model_dir, options=EXACT)) as url:
        wait_ready(url)
        browser.get(url + "/")
        wait = WebDriverWait(browser, 30)
        wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "model-info"), "Tasks:"))
        # no pair task, no API key: neither field is shown
        assert not browser.find_element(By.ID, "target-row").is_displayed()
        assert not browser.find_element(By.ID, "key-row").is_displayed()
        browser.find_element(By.ID, "title").send_keys(ARTICLE["title"])
        browser.find_element(By.ID, "content").send_keys(ARTICLE["content"])
        browser.find_element(By.ID, "submit").click()
        wait.until(lambda driver: driver.find_elements(By.CSS_SELECTOR, "#explanation .sentence"))
        for task, result in expected.items():
            bars = browser.find_elements(By.CSS_SELECTOR, f'.task[data-task="{task}"] .bar')
            shown = {bar.get_attribute("data-label"): float(bar.get_attribute("data-score")) for bar in bars}
            assert shown == pytest.approx({label: result["scores"][label] for label in shown}, abs=1e-3)
            best = browser.find_element(By.CSS_SELECTOR, f'.task[data-task="{task}"] .bar.best')
            assert best.get_attribute("data-label") == result["label"]
        sentences = browser.find_elements(By.CSS_SELECTOR, "#explanation .sentence")
        assert [s.text for s in sentences][1:] == ["The bank raised interest rates.", "Markets fell.", "Wages stalled."]
        assert not browser.find_element(By.ID, "error").is_displayed()
        browser.get(url + "/docs")  # the API documentation renders offline too
        wait.until(expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, ".swagger-ui"), "/predict"))


def test_the_page_shows_a_refused_request(browser, tiny_model_dir: Path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    with serve_in_background(create_app(tiny_model_dir, options=EXACT)) as url:
        wait_ready(url)
        browser.get(url + "/")
        wait = WebDriverWait(browser, 30)
        wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "model-info"), "Tasks:"))
        browser.find_element(By.ID, "submit").click()  # nothing typed
        wait.until(expected_conditions.visibility_of_element_located((By.ID, "error")))
        assert "no text" in browser.find_element(By.ID, "error").text
