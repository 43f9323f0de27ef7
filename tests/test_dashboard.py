"""The classroom dashboard in a real browser: served offline, the map and charts
render, a policy switched on shows up, stepping changes the charts.

Needs Chromium (Debian's package, /usr/bin/chromium; or set ABM_CHROMIUM). Where it is
missing the test fails with a message saying so; on a developer machine (not in CI,
where CI is set) ABM_SKIP_BROWSER_TESTS=1 skips it instead.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from abm.viz.classroom import ClassroomModel

from .conftest import ROOT

CHROMIUM = os.environ.get("ABM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOT = ROOT / "results" / "dashboard.png"


def test_classroom_model_runs_two_cities_on_the_same_seed():
    m = ClassroomModel(community_policing=True, compare=True, start_year=0.5)
    for _ in range(26):
        m.step()
    (a_label, a), (b_label, b) = m.cities
    assert a_label == "Community policing" and b_label == "No policy"
    # Identical until the policy starts, at week 26 (rows compared as text: NaN == NaN).
    assert [repr(r) for r in a.ledger.rows[:26]] == [repr(r) for r in b.ledger.rows[:26]]
    for _ in range(30):
        m.step()
    assert repr(a.ledger.rows[-1]) != repr(b.ledger.rows[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("ABM_SKIP_BROWSER_TESTS") and not os.environ.get("CI"):
            pytest.skip("Chromium not found and ABM_SKIP_BROWSER_TESTS is set")
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (apt-get install chromium), "
                    "set ABM_CHROMIUM, or set ABM_SKIP_BROWSER_TESTS=1 to skip on a developer machine")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "abm", "dashboard", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"dashboard did not start: {proc.stdout.read()[-2000:]}")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def week(page) -> int:
    return int(page.locator("#abm-week").inner_text().split()[-1])


def chart_images(page) -> list[str]:
    return [img.get_attribute("src") or "" for img in page.locator("img").all()]


def test_dashboard_renders_offline_steps_and_compares_in_chromium(server):
    from playwright.sync_api import sync_playwright

    requests, failed = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        page = browser.new_page(viewport={"width": 1500, "height": 1200})
        page.on("request", lambda r: requests.append(r.url))
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.goto(server)
        page.locator("#abm-week").wait_for(timeout=60_000)
        page.wait_for_function("document.querySelectorAll('img').length >= 2", timeout=60_000)
        assert page.get_by_text("Gang territory").count() >= 1
        assert week(page) == 0

        # Switch mano dura on (community policing is on by default), rebuild, step.
        page.get_by_text("Mano dura", exact=True).click()
        page.get_by_role("button", name="Reset").click()
        page.wait_for_timeout(1500)
        assert "Community policing + Mano dura" in page.locator("#abm-week").locator("..").inner_text()
        before = chart_images(page)
        for _ in range(3):
            page.get_by_role("button", name="Step").click()
            page.wait_for_timeout(400)
        page.wait_for_function("document.querySelector('#abm-week').innerText.trim() !== 'Week 0'", timeout=30_000)
        assert week(page) >= 1
        page.wait_for_timeout(1500)
        after = chart_images(page)
        assert after != before, "the map and charts did not change after stepping"

        # Play for a few seconds and report how fast the page advances.
        start_week, t0 = week(page), time.time()
        page.get_by_role("button", name="▶").click()
        page.wait_for_timeout(5000)
        elapsed, end_week = time.time() - t0, week(page)
        print(f"\ndashboard: {(end_week - start_week) / elapsed:.1f} steps per second while playing (classroom)")
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        browser.close()
    outside = [u for u in requests if not u.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))]
    assert outside == [], f"the page asked for assets outside this machine: {outside[:5]}"
    assert failed == [], f"requests failed: {failed[:5]}"
    assert end_week > start_week
