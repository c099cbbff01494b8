"""A real browser against the real server: headless Chromium (Debian's, driven by Selenium
through Debian's chromium-driver) opens a member's personal link and confirms it (one click:
its own form's POST is same-origin), uploads a notebook with the form, waits on the
attempt's page and sees the score and a picture of the failure; then drops a notebook on
the form, which selects its assignment by the file's name. A page on another site cannot
sign the member's browser in as someone else."""
from __future__ import annotations

import shutil

import pytest

from .test_server import WRONG_OPTIMIZERS, ServerProcess, solution

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver",
                                reason="selenium is not installed (./run test installs it)")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="chromium and chromium-driver are not installed (./run test installs them as root)")


@pytest.fixture
def browser():
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def test_a_member_signs_in_with_the_link_uploads_and_sees_the_score_and_a_picture(tmp_path,
                                                                                 browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.ui import WebDriverWait

    server = ServerProcess(tmp_path, workers=1).start()
    try:
        browser.get(f"{server.url}/login?token={server.member('ada')}")
        assert browser.title == "Sign in as ada?"
        browser.find_element(By.CSS_SELECTOR, "#sign-in button").click()
        # a click returns before the form's POST has loaded the next page
        WebDriverWait(browser, 10).until(expected_conditions.title_contains("Assignments of ada"))
        assert browser.find_element(By.CSS_SELECTOR, "p.who strong").text == "ada"
        Select(browser.find_element(By.NAME, "assignment")).select_by_visible_text("optimizers")
        browser.find_element(By.NAME, "notebook").send_keys(str(WRONG_OPTIMIZERS))
        browser.find_element(By.CSS_SELECTOR, "#upload button[type=submit]").click()
        # the attempt's page reloads itself until the feedback is ready
        WebDriverWait(browser, 90).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "p.score")))
        assert "Score: 20 / 50" in browser.find_element(By.CSS_SELECTOR, "p.score").text
        assert "epsilon inside the square root" in browser.page_source
        pictures = browser.find_elements(By.TAG_NAME, "img")
        assert pictures
        assert all(browser.execute_script("return arguments[0].complete && "
                                          "arguments[0].naturalWidth > 100", image)
                   for image in pictures)
        assert browser.find_element(By.CSS_SELECTOR, "nav button").text == "Sign out"
        browser.find_element(By.LINK_TEXT, "← Your assignments").click()
        WebDriverWait(browser, 10).until(expected_conditions.title_contains("Assignments of ada"))
        assert "20 / 50" in browser.find_element(By.TAG_NAME, "table").text

        # a dropped file selects the assignment of its name, says so, and waits for Submit
        chosen = Select(browser.find_element(By.NAME, "assignment"))
        assert chosen.first_selected_option.get_attribute("value") == ""
        drop = """
            const files = new DataTransfer();
            files.items.add(new File([arguments[0]], arguments[1]));
            const drop = new DragEvent("drop", {dataTransfer: files, bubbles: true});
            document.getElementById("drop").dispatchEvent(drop);"""
        browser.execute_script(drop, solution("preprocessing").decode(), "mine.ipynb")
        assert browser.find_element(By.ID, "chosen").text == \
            "mine.ipynb: choose its assignment, then press Submit."
        browser.execute_script(drop, solution("preprocessing").decode(), "preprocessing.ipynb")
        assert chosen.first_selected_option.text == "preprocessing"
        assert browser.find_element(By.ID, "chosen").text == \
            "preprocessing.ipynb will be submitted as preprocessing: press Submit."
        assert "Assignments of ada" in browser.title  # nothing was sent yet
        browser.find_element(By.CSS_SELECTOR, "#upload button[type=submit]").click()
        WebDriverWait(browser, 90).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "p.score")))
        assert "Score: 40 / 40" in browser.find_element(By.CSS_SELECTOR, "p.score").text
    finally:
        assert server.stop() == 0, server.output()


def test_a_page_elsewhere_cannot_sign_a_members_browser_in_as_someone_else(tmp_path, browser):
    """The attack a link that signed in by itself allowed: a page on another site sends the
    signed-in member's browser to another member's link, or posts its form."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    server = ServerProcess(tmp_path, workers=1).start()
    try:
        ada, eve = server.member("ada"), server.member("eve")
        pages = {
            "/go": f"<script>location.href = '{server.url}/login?token={eve}';</script>",
            "/post": f"<form method='post' action='{server.url}/login'><input name='token' "
                     f"value='{eve}'><input name='confirm' value='guess'></form>"
                     f"<script>document.forms[0].submit();</script>",
        }

        class Evil(BaseHTTPRequestHandler):
            def do_GET(self):
                body = pages[self.path].encode()
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        evil = ThreadingHTTPServer(("127.0.0.1", 0), Evil)
        threading.Thread(target=evil.serve_forever, daemon=True).start()
        elsewhere = f"http://localhost:{evil.server_address[1]}"  # another site
        try:
            browser.get(f"{server.url}/login?token={ada}")
            browser.find_element(By.CSS_SELECTOR, "#sign-in button").click()
            WebDriverWait(browser, 10).until(lambda b: "Assignments of ada" in b.title)
            browser.get(f"{elsewhere}/go")
            WebDriverWait(browser, 10).until(lambda b: b.title == "Sign in as eve?")  # asked
            assert "This browser is signed in as ada" in browser.find_element(
                By.CSS_SELECTOR, "p.error").text
            browser.get(f"{elsewhere}/post")
            WebDriverWait(browser, 10).until(lambda b: b.title == "Error 403")
            browser.get(f"{server.url}/")
            assert "Assignments of ada" in browser.title
        finally:
            evil.shutdown()
    finally:
        assert server.stop() == 0, server.output()
