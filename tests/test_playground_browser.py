"""The playground in a real browser: Debian's headless Chromium driven by Playwright (its
Python package; ``executable_path``, no browser download), against ``jaxmlp playground``
started as a user starts it. Every request that is not to 127.0.0.1 is blocked and
counted (the page works offline). Screenshots go to ``build/test-artifacts/``; with
``JAXMLP_UPDATE_SCREENSHOT=1`` the README's ``docs/playground.png`` is made too.

``python3 dev.py test`` installs Chromium when it is missing and it can (as root, with
apt); without it these tests are skipped with the reason -- except under ``CI=true``,
where they must run.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update",
         "--disable-sync"]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[1] / "build" / "test-artifacts"
DOCS = Path(__file__).resolve().parents[1] / "docs"


def _unavailable() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not os.path.exists(CHROMIUM):
        return "Chromium is not installed (apt-get install chromium; dev.py test does it as root)"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, timeout=60_000)
        except Exception as e:  # a browser the driver cannot talk to: say so loudly
            pytest.fail(f"Playwright could not start {CHROMIUM}: {e}")
        yield b
        b.close()


@pytest.fixture(scope="module")
def server():
    proc = subprocess.Popen(
        [sys.executable, "-m", "jaxmlp.cli", "playground", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline()  # the server prints its address first
        match = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert match, f"no address in {line!r}; stderr: {proc.stderr.read() if proc.poll() else ''}"
        yield match.group(0)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_smoke_the_browser_and_playwright_agree(browser):
    """Fails loudly (with both versions) when Playwright cannot drive this Chromium."""
    from importlib.metadata import version

    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content("<p id=x>ok</p><script>document.title = String(6 * 7)</script>")
        assert page.inner_text("#x") == "ok" and page.title() == "42", (
            f"Playwright {version('playwright')} cannot drive Chromium {browser.version}"
        )
    finally:
        context.close()


class Tab:
    """A page with requests outside 127.0.0.1 blocked, and its console errors."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 860},
                                           accept_downloads=True)  # fmt: skip
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url)
        self.wait("window.playground.frames > 0")

    def _route(self, route) -> None:
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def wait(self, js: str, timeout: float = 60_000) -> None:
        self.page.wait_for_function(js, timeout=timeout)

    def js(self, expression: str):
        return self.page.evaluate(expression)

    def epoch(self) -> int:
        return int(self.js("window.playground.header.epoch"))

    def close(self) -> None:
        assert not self.blocked, f"requests outside 127.0.0.1: {self.blocked}"
        assert not self.errors, f"console errors: {self.errors}"
        self.context.close()


def _screenshot(tab: Tab, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_play_pause_step_reset_layers_and_features(browser, server):
    tab = Tab(browser, server)
    page = tab.page
    page.click("button.dataset[data-name=spiral]")
    tab.wait("window.playground.points.length && location.hash.includes('dataset=spiral')")
    page.click("#add-layer")
    page.click(".column:nth-child(2) button[aria-label='add neuron']")
    page.click(".node.input[data-feature='sin(x1)']")
    tab.wait("window.playground.header.widths.join() === '5,2,2'")
    assert "features=x1%2Cx2%2Csin(x1)" in page.url or "sin(x1)" in page.url
    assert page.locator(".column").count() == 4
    before = tab.js("document.getElementById('heatmap').toDataURL()")
    page.click("#play")
    tab.wait("window.playground.header.epoch >= 60")
    page.click("#play")  # pause
    tab.wait("window.playground.status && !window.playground.status.playing")
    history = np.array(tab.js("window.playground.header.history"), float)
    assert history[-1, 1] < history[0, 1]
    assert tab.js("document.getElementById('heatmap').toDataURL()") != before
    assert int(page.inner_text("#epoch").replace(",", "")) == tab.epoch()
    epoch = tab.epoch()
    page.click("#step")
    tab.wait(f"window.playground.header.epoch === {epoch + 1}")
    page.click("#reset")
    tab.wait("window.playground.header.epoch === 0")
    page.keyboard.press("Space")
    tab.wait("window.playground.header.epoch > 3")
    page.keyboard.press("Space")
    tab.wait("!window.playground.status.playing")
    page.keyboard.press("r")
    tab.wait("window.playground.header.epoch === 0")
    page.keyboard.press("s")
    tab.wait("window.playground.header.epoch === 1")
    page.hover("canvas[data-layer='1'][data-node='0']")  # its map shown large
    assert page.locator("#links path").count() == 3 * 5 + 5 * 2 + 2 * 2 + 2
    tab.close()


def test_the_url_restores_the_configuration_and_the_first_losses(browser, server):
    url = (
        server + "#dataset=xor&noise=10&train_percent=60&batch_size=5&seed=7&"
        "features=x1,x2,x1*x2&hidden=3,3&activation=relu&optimizer=adam&learning_rate=0.01"
    )
    losses = []
    for _ in range(2):
        tab = Tab(browser, url)
        for _ in range(5):
            e = tab.epoch()
            tab.page.click("#step")
            tab.wait(f"window.playground.header.epoch === {e + 1}")
        assert tab.page.input_value("#activation") == "relu"
        assert tab.page.input_value("#optimizer") == "adam"
        assert tab.js("window.playground.header.widths.join()") == "3,3"
        losses.append(tab.js("window.playground.header.history"))
        tab.close()
    assert losses[0] == losses[1] and len(losses[0]) == 5


def test_upload_a_csv_and_see_bad_ones_refused_in_the_page(browser, server, tmp_path):
    tab = Tab(browser, server)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,x\n3,4,x\n")
    tab.page.set_input_files("#upload", str(bad))
    tab.wait("document.getElementById('status').className === 'error'")
    assert "one class" in tab.page.inner_text("#status")
    rng = np.random.RandomState(1)
    good = tmp_path / "three.csv"
    rows = [f"{x:.3f},{y:.3f},{'abc'[i % 3]}" for i, (x, y) in
            enumerate(rng.normal(size=(60, 2)))]  # fmt: skip
    good.write_text("u,v,kind\n" + "\n".join(rows))
    tab.page.set_input_files("#upload", str(good))
    tab.wait("window.playground.classes.length === 3 && window.playground.header.k === 3")
    assert tab.page.locator("#legend span").count() == 3
    tab.page.click("#points", position={"x": 150, "y": 150})  # a point of class 0 at (0, 0)
    tab.wait("window.playground.points.length === 61")
    tab.page.click("#play")
    tab.wait("window.playground.header.epoch > 20")
    tab.page.click("#play")
    _screenshot(tab, "playground-upload.png")
    tab.errors = [e for e in tab.errors if "WebSocket" not in e]
    tab.close()


def test_two_tabs_train_independently(browser, server):
    a, b = Tab(browser, server + "#dataset=circle"), Tab(browser, server + "#dataset=gaussian")
    a.page.click("#play")
    a.wait("window.playground.header.epoch > 20")
    assert b.epoch() == 0
    b.page.click("#play")
    b.wait("window.playground.header.epoch > 20")
    a.page.click("#play")
    b.page.click("#play")
    assert a.js("location.hash").startswith("#dataset=circle")
    assert b.js("location.hash").startswith("#dataset=gaussian")
    a.close()
    b.close()


def _exported(tab: Tab, folder: Path):
    """Click "Export model", unzip the download into ``folder`` and load it."""
    import jaxmlp

    with tab.page.expect_download() as info:
        tab.page.click("#export")
    path = folder / "model.zip"
    info.value.save_as(path)
    zipfile.ZipFile(io.BytesIO(path.read_bytes())).extractall(folder)
    return jaxmlp.load(folder / "playground-model")


def test_export_downloads_a_model_folder_that_jaxmlp_loads(browser, server, tmp_path):
    import pandas as pd

    tab = Tab(browser, server + "#dataset=circle&features=x1^2,x2^2&hidden=4")
    tab.page.click("#play")
    tab.wait("window.playground.header.epoch > 100")
    tab.page.click("#play")
    tab.page.click("#baseline-btn")
    tab.page.fill("#seeds", "6")
    tab.page.click("#ensemble-btn")
    tab.wait("window.playground.baseline && window.playground.ensemble", timeout=120_000)
    model = _exported(tab, tmp_path)
    X = pd.DataFrame({"x1^2": [0.0, 25.0], "x2^2": [0.0, 25.0]})
    assert list(model.predict(X)) == [1, 0]  # inside the circle blue (1), outside orange
    _screenshot(tab, "playground.png")
    if os.environ.get("JAXMLP_UPDATE_SCREENSHOT") == "1":
        DOCS.mkdir(exist_ok=True)
        tab.page.screenshot(path=str(DOCS / "playground.png"), full_page=True)
    tab.close()


def test_regression_problems_train_and_export_a_regressor(browser, server, tmp_path):
    """TF Playground's reg-gauss in the page: points coloured by value, the output map
    from -1 (orange) to +1 (blue), scikit-learn's MLPRegressor beside it (R²), and the
    export loads as a jaxmlp.MLPRegressor."""
    import pandas as pd

    tab = Tab(browser, server + "#dataset=reg-gauss&features=x1,x2&hidden=8,8&"
              "activation=tanh&learning_rate=0.03&batch_size=10")  # fmt: skip
    assert tab.js("window.playground.regression") is True
    assert tab.js("window.playground.points.some((p) => p[2] !== Math.round(p[2]))")
    tab.page.click("#play")
    tab.wait("window.playground.header.epoch > 300", timeout=120_000)
    tab.page.click("#play")
    tab.page.click("#baseline-btn")
    tab.wait("window.playground.baseline !== undefined", timeout=120_000)
    assert tab.js("window.playground.baseline.score_name") == "R²"
    assert "R²" in tab.page.inner_text("#baseline-info")
    assert "+1 (value)" in tab.page.inner_text("#legend")
    history = tab.js("window.playground.header.history")
    assert history[-1][4] > 0.5  # test R² after 300 epochs (TF's own net gets there too)
    model = _exported(tab, tmp_path)
    assert type(model).__name__ == "MLPRegressor"
    pred = model.predict(pd.DataFrame({"x1": [4.0, 0.0], "x2": [2.5, 2.5]}))
    assert pred[0] > 0.3 and pred[1] < -0.3  # a blue bump and an orange one
    _screenshot(tab, "playground-regression.png")
    tab.close()
