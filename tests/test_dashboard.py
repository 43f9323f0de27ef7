"""The classroom dashboard: its model (two cities on the same seeds, warmed up, ensembles),
its maps, charts, debrief table and lessons; and the page in a real browser at
1280 x 720, a projector's size: served offline, no sideways scroll, charts and maps wide
enough, controls not covered, stepping and playing, a seed typed as text refused, every
lesson loading (the district city compared), running to a year, the downloads, and a
second student's page unaffected. The browser tests print the page's speed in weeks a
second (not asserted: it depends on the machine's load) and save screenshots in
results/.

The server runs with the network outside this machine blocked: a ``sitecustomize``
on its PYTHONPATH refuses every name lookup and connection that is not loopback and
logs it, and the proxies point nowhere; the tests assert it logged nothing (no check
for a newer Solara, no usage report, no asset fetched from a CDN).

Needs Chromium (Debian's package, /usr/bin/chromium; or set ABM_CHROMIUM). Where it is
missing the test fails with a message saying so; on a developer machine (not in CI,
where CI is set) ABM_SKIP_BROWSER_TESTS=1 skips it instead.
"""

import io
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from PIL import Image

from abm import cli, policies
from abm.viz import charts, debrief, lessons, maps
from abm.viz.classroom import MAX_SEED, ClassroomModel, arm_label, control_key, parse_seed

from .conftest import ROOT

CHROMIUM = os.environ.get("ABM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOT = ROOT / "results" / "dashboard.png"


def test_classroom_model_runs_two_cities_on_the_same_seed():
    m = ClassroomModel(community_policing=True, compare=True, start_year=0.5)
    assert m.week == 0 and m.burn_in == 208  # warmed up: week 0 is the end of the scenario's burn-in
    for _ in range(26):
        m.step()
    (a_label, a), (b_label, b) = m.cities
    assert a_label == "Community policing" and b_label == "No policy"
    # Identical until the policy starts, at week 26 (rows compared as text: NaN == NaN).
    assert [repr(r) for r in a.ledger.rows[:208 + 26]] == [repr(r) for r in b.ledger.rows[:208 + 26]]
    assert len(m.rows(a)) == 26 and m.rows(a)[0]["step"] == 209
    for _ in range(30):
        m.step()
    assert repr(a.ledger.rows[-1]) != repr(b.ledger.rows[-1])


def test_cities_start_warmed_up():
    warm, cold = ClassroomModel(compare=False), ClassroomModel(compare=False, warm_up=False)
    assert warm.cities[0][1].week == warm.burn_in == 208 and warm.week == 0
    assert cold.cities[0][1].week == cold.burn_in == 0
    # Prisons start settled either way (docs/ODD.md, section 5), not empty.
    assert cold.cities[0][1].youths.incarcerated.sum() > 0 and warm.cities[0][1].youths.incarcerated.sum() > 0
    # The policies start start_year after week 0, in the scenario's own steps.
    pol = warm.cities[0][1].policies[0]
    assert pol.start == 208 + 52


def test_an_ensemble_runs_each_side_on_the_same_seeds():
    m = ClassroomModel(preset="classroom", seed=5, seeds=3, mano_dura=True, community_policing=False, start_year=0.5,
                       warm_up=False)
    for _ in range(40):
        m.step()
    assert m.seeds == 3 and [c.seed for c in m.sides[0][1]] == [5, 6, 7] == [c.seed for c in m.sides[1][1]]
    for key in ("homicides", "street_members"):
        assert m.series(0, key).shape == (3, 40)
    # Paired seeds: identical before the policies start, different cities from seed to seed.
    assert (m.series(0, "incarcerated")[:, :26] == m.series(1, "incarcerated")[:, :26]).all()
    assert len({tuple(row) for row in m.series(1, "gang_members")}) == 3
    header, rows = debrief.table(m)
    assert header == ["", "Mano dura", "No policy", "Difference (first city minus second)"]
    prisoners = next(r for r in rows if r[0].startswith("Youths in prison"))
    assert " to " in prisoners[1] and "of 3" in prisoners[3]
    csv = debrief.numbers_csv(m)
    assert csv.splitlines()[0] == "quantity,city,seed,value,preset,week,policies_start_week"
    assert len(csv.splitlines()) == 1 + len(debrief.QUANTITIES) * 3 * 3 + 1
    png = charts.all_charts_png(m)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    for chart in charts.CHARTS:
        assert charts.values(m, 0, chart).shape == (3, 40)


def test_the_table_counts_since_the_policies_started_and_prices_the_homicides_averted():
    m = ClassroomModel(seed=2, community_policing=False, mano_dura=True, start_year=0.5, warm_up=False)
    assert debrief.table(m)[1] == []  # no numbers before the policies start
    for _ in range(78):
        m.step()
    a, b = (runs[0] for _, runs in m.sides)
    since = {q.label: debrief.values(m, q) for q in debrief.QUANTITIES}
    assert since["Homicides since the policies started"][0, 0] == sum(r["homicides"] for r in m.rows(a)[26:])
    assert since["Programme cost, last year (US$)"][1, 0] == 0 < since["Programme cost, last year (US$)"][0, 0]
    street = since["Gang members on the street now"][0, 0]
    assert street + since["Gang members in prison now"][0, 0] == m.rows(a)[-1]["gang_members"]
    assert street == int((a.youths.free & (a.youths.gang >= 0)).sum())
    cost = since["Cost since the policies started: programmes + prison (US$)"]
    assert cost[0, 0] == sum(r["policy_cost"] + r["prison_cost"] for r in m.rows(a)[26:])
    homicides = since["Homicides since the policies started"]
    per = debrief.cost_per_homicide_averted(m)
    if homicides[1, 0] > homicides[0, 0]:
        assert per == (cost[0, 0] - cost[1, 0]) / (homicides[1, 0] - homicides[0, 0])
    else:
        assert per is None


@pytest.mark.parametrize("preset", ["classroom", "district"])
def test_maps_of_any_city_are_drawn_at_equal_sizes(preset):
    # The district city with comparison on used to fail here (too few pixels per block).
    m = ClassroomModel(preset=preset, compare=True, warm_up=False)
    m.step()
    for width in (100, 150, 300, 460):
        sizes = set()
        for _, city_model in m.cities:
            for which in maps.LAYERS:
                image = Image.open(io.BytesIO(maps.city_image(city_model, which, width)))
                sizes.add(image.size)
        assert len(sizes) == 1
        (w, h), = sizes
        cells = city_model.city.width
        assert w == h == maps.pixels_per_block(cells, width) * cells
        assert max(width, 3 * cells) >= w > min(width - cells, 3 * cells - 1)


def test_lessons_set_registered_policies_within_their_ranges():
    assert [lesson.title for lesson in lessons.LESSONS][-1] == "A truce that collapses"
    for lesson in lessons.LESSONS:
        assert lessons.check(lesson) == [], lesson.title
        settings = lesson.settings()
        assert settings[next(iter(lesson.policies))] is True
        assert lessons.by_title(lesson.title) is lesson
        kwargs = {k: v for k, v in settings.items() if k != "run_to_year"}
        m = ClassroomModel(**{**kwargs, "preset": "classroom", "seeds": 1, "end_year": kwargs["end_year"] or None,
                              "warm_up": False})
        assert m.sides[0][0] != m.sides[1][0]
    truce = lessons.by_title("A truce that collapses")
    m = ClassroomModel(**{**{k: v for k, v in truce.settings().items() if k != "run_to_year"}, "preset": "classroom",
                          "warm_up": False})
    pol = m.cities[0][1].policies[0]
    assert (pol.name, pol.start, pol.params.end) == ("truce", 52, 156)
    bad = lessons.Lesson("x", "y", {"no_such_policy": {}}, preset="town", seeds=99)
    assert len(lessons.check(bad)) == 3
    assert lessons.check(lessons.Lesson("x", "y", {"mano_dura": {"coverage": 2.0}})) == [
        "mano_dura__coverage = 2.0 outside 0.0 to 1.0"]


def test_the_page_builds_its_policy_controls_from_the_registry():
    from abm.viz import app

    settings = app.default_settings()
    for cls in policies.registered():
        assert cls.name in settings and f"compare_{cls.name}" in settings
        for c in cls.controls:
            assert control_key(cls.name, c.field) in settings
    assert app.build({**settings, "seed": "3"}).seed == 3
    with pytest.raises(ValueError, match="end after they start"):
        app.build({**settings, "start_year": 2.0, "end_year": 1.0})
    with pytest.raises(ValueError, match="at most 4 seeds per city"):
        app.build({**settings, "preset": "district", "seeds": 5})


def test_a_click_that_arrives_while_new_cities_are_built_moves_nothing():
    """Run, play and step clicked before the page showed the build would otherwise run the
    cities about to be replaced, and leave the new ones at week 0."""
    from abm.viz import app

    app.current.value = model = ClassroomModel(preset="classroom", seed="3", compare=False, warm_up=False)
    model.lock = threading.RLock()
    app.building.value = True
    try:
        app.run_to_year()
        app.play_pause()
        app.step_once()
        assert not app.playing.value and model.week == 0
        app.building.value = False
        app.step_once()
        assert model.week == 1
        app.run_to_year()
        assert app.playing.value and app.target_week.value == round(app.settings.value["run_to_year"] * 52)
    finally:
        app.playing.value, app.building.value, app.current.value = False, False, None


def test_a_seed_that_is_not_a_whole_number_builds_no_city_and_says_why():
    assert parse_seed(" 12 ") == 12 and parse_seed(7) == 7 and parse_seed(str(MAX_SEED)) == MAX_SEED
    for bad in ("abc", "", "1.5", "-1", "1e3", str(MAX_SEED + 1), "9" * 5000, True):
        with pytest.raises(ValueError, match="refused: type a whole number"):
            parse_seed(bad)
    m = ClassroomModel(seed="abc")
    assert m.cities == [] and not m.running and "'abc' refused" in m.refused
    m.step()  # nothing to step, nothing raised
    assert m.week == 0
    assert ClassroomModel(seed="3", compare=False).refused is None


def test_dashboard_host_other_than_loopback_warns_of_the_exposure(monkeypatch, capsys):
    class Started(BaseException):  # not caught by main(), as the exec it stands for never returns
        pass

    def execve(path, argv, env):
        raise Started(argv, env)

    monkeypatch.setattr(os, "execve", execve)
    port = free_port()
    with pytest.raises(Started) as started:
        cli.main(["dashboard", "--host", "0.0.0.0", "--port", str(port)])
    err = capsys.readouterr().err
    assert f"anyone who can reach this machine on port {port} can use the dashboard" in err
    argv, env = started.value.args
    assert "--no-check-version" in argv and env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "false"
    assert env["SOLARA_THEME_SHOW_BANNER"] == "false"
    with pytest.raises(Started):
        cli.main(["dashboard", "--host", "127.0.0.1", "--port", str(port)])
    assert "warning" not in capsys.readouterr().err
    assert all(cli.is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"))
    assert not any(cli.is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.10", "example.org"))


# Loaded by every Python process of the server (PYTHONPATH): refuses and logs every name
# lookup and connection to anything but this machine.
NETWORK_GUARD = """
import ipaddress, os, socket

_LOG = os.environ["ABM_NETWORK_LOG"]


def _local(host):
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).strip("[]").split("%")[0].lower()
    if host in ("", "localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refuse(what):
    with open(_LOG, "a") as log:
        log.write(f"{os.getpid()}: {what}\\n")


_getaddrinfo = socket.getaddrinfo


def getaddrinfo(host, *args, **kwargs):
    if not _local(host):
        _refuse(f"name lookup of {host!r}")
        raise socket.gaierror(socket.EAI_NONAME, "blocked: only this machine may be contacted")
    return _getaddrinfo(host, *args, **kwargs)


def _guard(method):
    def guarded(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):
            _refuse(f"connection to {address!r}")
            raise OSError(101, "blocked: only this machine may be contacted")
        return method(self, address)
    return guarded


socket.getaddrinfo = getaddrinfo
socket.socket.connect = _guard(socket.socket.connect)
socket.socket.connect_ex = _guard(socket.socket.connect_ex)
"""


def offline_env(folder) -> tuple[dict, object]:
    """An environment whose Python processes cannot reach outside this machine, and the
    file where they log each attempt."""
    (folder / "sitecustomize.py").write_text(NETWORK_GUARD)
    log = folder / "network.log"
    log.write_text("")
    env = dict(os.environ, ABM_NETWORK_LOG=str(log),
               PYTHONPATH=os.pathsep.join(p for p in (str(folder), str(ROOT), os.environ.get("PYTHONPATH")) if p),
               HTTP_PROXY="http://192.0.2.1:9", HTTPS_PROXY="http://192.0.2.1:9", ALL_PROXY="http://192.0.2.1:9",
               NO_PROXY="127.0.0.1,localhost,::1")
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        env[key.lower()] = env[key]
    return env, log


def test_the_network_guard_catches_an_attempt(tmp_path):
    env, log = offline_env(tmp_path)
    code = ("import urllib.request\n"
            "try:\n    urllib.request.urlopen('https://pypi.org/simple/', timeout=3)\nexcept OSError:\n    pass\n"
            "import requests\n"
            "try:\n    requests.get('https://pypi.org/pypi/solara/json', timeout=3, proxies={})\n"
            "except requests.RequestException:\n    pass\n")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    text = log.read_text()
    assert "192.0.2.1" in text or "pypi.org" in text, text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("ABM_SKIP_BROWSER_TESTS") and not os.environ.get("CI"):
            pytest.skip("Chromium not found and ABM_SKIP_BROWSER_TESTS is set")
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (apt-get install chromium), "
                    "set ABM_CHROMIUM, or set ABM_SKIP_BROWSER_TESTS=1 to skip on a developer machine")
    port = free_port()
    folder = tmp_path_factory.mktemp("offline")
    env, log = offline_env(folder)
    # The server's output goes to a file: a pipe nobody reads fills up and stops the server mid-test.
    output = folder / "server.log"
    with open(output, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "abm", "dashboard", "--port", str(port)], cwd=ROOT,
                                env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
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
        pytest.fail(f"dashboard did not start: {output.read_text()[-2000:]}")
    yield {"url": url, "network_log": log, "output": output}
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def week(page) -> int:
    return int(page.locator("#abm-week").inner_text().split()[-1])


def chart_images(page) -> list[str]:
    return [img.get_attribute("src") or "" for img in page.locator("img").all()]


def widths(page, selector: str) -> list[float]:
    return page.evaluate(f"[...document.querySelectorAll('{selector}')].map(e => e.getBoundingClientRect().width)")


def uncovered(page, locator) -> bool:
    """Whether the element is on screen and nothing is drawn over its centre."""
    return locator.evaluate("e => { const r = e.getBoundingClientRect(); const x = r.left + r.width / 2,"
                            " y = r.top + r.height / 2; const top = document.elementFromPoint(x, y);"
                            " return r.width > 0 && x < window.innerWidth && !!top"
                            " && (e === top || e.contains(top)); }")


def check_layout(page) -> None:
    """The 1280x720 checks: no sideways scroll, charts and maps wide enough, maps equal."""
    # The charts can arrive after the maps and labels that callers wait for: wait for them too.
    page.wait_for_function("document.querySelectorAll('img.abm-chart').length == 6", timeout=60_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    charts_ = widths(page, "img.abm-chart")
    assert len(charts_) == 6 and min(charts_) >= 360, charts_
    maps_ = widths(page, "img.abm-map")
    assert len(maps_) in (1, 2) and len(set(maps_)) == 1 and maps_[0] >= 250, maps_
    assert page.get_by_text("PAGE 0").count() == 0 and page.get_by_text("Traceback").count() == 0
    assert page.get_by_text("This website runs on").count() == 0


def wait_week(page, n: int, server: dict, timeout: float = 120_000) -> None:
    """Wait for the cities to reach week ``n``; if they do not, say what the page and the server showed."""
    from playwright.sync_api import TimeoutError

    try:
        page.wait_for_function(
            "document.querySelector('#abm-week') && "
            f"+document.querySelector('#abm-week').innerText.split(' ').pop() >= {n}", timeout=timeout)
    except TimeoutError:
        shown = page.locator("#abm-week").inner_text() if page.locator("#abm-week").count() else "no week shown"
        buttons = {b.inner_text(): b.is_enabled() for b in page.get_by_role("button").all() if b.inner_text()}
        pytest.fail(f"the cities did not reach week {n} in {timeout / 1000:g} s: {shown}; buttons {buttons}; "
                    f"server output:\n{server['output'].read_text()[-3000:]}")


def test_dashboard_renders_offline_steps_and_compares_in_chromium(server):
    from playwright.sync_api import sync_playwright

    requests, failed = [], []
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.on("request", lambda r: requests.append(r.url))
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.goto(server["url"])
        page.locator("#abm-week").wait_for(timeout=60_000)
        page.wait_for_function("document.querySelectorAll('img.abm-chart').length == 6", timeout=60_000)
        assert page.get_by_text("Gang territory").count() >= 1
        assert week(page) == 0
        check_layout(page)
        for name in ("Reset", "Step", "Gang territory", "Socio-economic status", "Recent homicides",
                     "Trust in police"):
            assert uncovered(page, page.get_by_role("button", name=name, exact=True)), f"{name} is covered"
        sliders = widths(page, ".v-slider")
        assert len(sliders) >= 4 and min(sliders) >= 150, f"sliders of zero or small width: {sliders}"

        # Switch mano dura on (community policing is on by default), type its level, rebuild, step.
        page.get_by_text("Mano dura", exact=True).click()
        page.get_by_text("Settings changed: press Reset").wait_for(timeout=10_000)
        level = page.locator(".abm-level-mano_dura__coverage")
        level.locator(".v-text-field input").fill("0.35")
        level.locator(".v-text-field input").press("Enter")
        page.wait_for_function("document.querySelector('.abm-level-mano_dura__coverage [role=slider]')"
                               ".getAttribute('aria-valuenow') === '0.35'", timeout=10_000)
        page.get_by_role("button", name="Reset").click()
        page.get_by_text("Community policing + Mano dura").first.wait_for(timeout=30_000)
        assert page.get_by_text("Settings changed").count() == 0
        before = chart_images(page)
        for _ in range(3):
            page.get_by_role("button", name="Step").click()
            page.wait_for_timeout(400)
        wait_week(page, 1, server, 30_000)
        page.wait_for_timeout(1500)
        after = chart_images(page)
        assert after != before, "the map and charts did not change after stepping"

        # Play for a few seconds and report how fast the page advances.
        start_week, t0 = week(page), time.time()
        page.get_by_role("button", name="▶").click()
        page.wait_for_timeout(5000)
        elapsed, end_week = time.time() - t0, week(page)
        page.get_by_role("button", name="❚❚").click()
        print(f"\ndashboard: {(end_week - start_week) / elapsed:.1f} weeks per second while playing "
              "(classroom, two cities)")
        page.wait_for_timeout(1500)
        check_layout(page)
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))
        browser.close()
    outside = [u for u in requests if not u.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))]
    assert outside == [], f"the page asked for assets outside this machine: {outside[:5]}"
    assert failed == [], f"requests failed: {failed[:5]}"
    assert end_week > start_week
    attempts = server["network_log"].read_text()
    assert attempts == "", f"the server tried to reach outside this machine:\n{attempts}"


def choose_lesson(page, title: str) -> None:
    page.get_by_label("Lesson").click(force=True)
    page.get_by_role("option", name=title, exact=True).click()


def wait_city(page, label: str) -> None:
    """Wait for a lesson's cities to be warmed up and their maps to replace the last lesson's
    (until then the page may still show the last lesson's buttons as they were)."""
    page.wait_for_function("([sel, want]) => { const e = document.querySelector(sel); "
                           "return e !== null && e.innerText.endsWith(want); }",
                           arg=[".abm-map-label", label], timeout=120_000)


def test_lessons_load_the_district_city_compared_runs_to_a_year_and_downloads(server):
    from playwright.sync_api import expect, sync_playwright

    from abm.viz.lessons import LESSONS

    errors = []
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        other = browser.new_page(viewport={"width": 1280, "height": 720})  # a second student
        page.on("pageerror", lambda e: errors.append(str(e)))
        for tab in (page, other):
            tab.goto(server["url"])
            tab.locator("#abm-week").wait_for(timeout=60_000)

        # Every lesson loads: its policies in the page, its advice shown, the district city compared.
        # The first lesson comes last, so that it is the one loaded (and its cities warmed up) for the run.
        for lesson in reversed(LESSONS):
            choose_lesson(page, lesson.title)
            page.get_by_text(lesson.watch[:40]).wait_for(timeout=60_000)
            page.wait_for_function("document.querySelectorAll('img.abm-map').length == 2", timeout=60_000)
            assert week(page) == 0 and page.get_by_text("Traceback").count() == 0
            first_city = arm_label(dict.fromkeys(lesson.policies, True))
            wait_city(page, first_city)
            # Before anything runs, what the policies will cost a year as planned.
            assert f"{first_city}: programmes as planned cost US$" in page.locator("#abm-planned").inner_text()
            check_layout(page)

        # The first lesson, loaded last above, run to year 2: the district city with comparison on.
        first = LESSONS[0]
        assert first.preset == "district" and first.run_to_year == 2
        run_to = page.get_by_label("Run to year")
        run_to.fill("2")
        run_to.press("Enter")
        run = page.get_by_role("button", name="Run", exact=True)
        expect(run).to_be_enabled(timeout=120_000)  # the lesson's cities are warmed up first
        t0 = time.time()
        run.click()
        wait_week(page, 104, server)
        elapsed = time.time() - t0
        page.wait_for_timeout(2000)
        assert week(page) == 104, "Run to year 2 did not stop at week 104"
        print(f"\ndashboard: {104 / elapsed:.1f} weeks per second running to year 2 "
              f"({first.preset}, {2 * first.seeds} cities)")
        check_layout(page)
        table = page.locator("#abm-numbers").inner_text()
        for row in ("Homicides since the policies started", "Gang members on the street now",
                    "Prison cost, last year (US$)", "Extra cost per homicide averted"):
            assert row in table
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT.with_name("dashboard-lesson.png")))
        page.locator("img.abm-chart").first.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOT.with_name("dashboard-charts.png")))
        page.locator("#abm-numbers").evaluate("e => e.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(SCREENSHOT.with_name("dashboard-table.png")))

        # The downloads: the charts as PNG, the numbers as CSV.
        with page.expect_download() as download:
            page.get_by_text("Download the charts (PNG)").click()
        assert download.value.suggested_filename.endswith(".png")
        assert open(download.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
        with page.expect_download() as download:
            page.get_by_text("Download the numbers (CSV)").click()
        text = open(download.value.path()).read()
        assert text.startswith("quantity,city,seed,value") and "Homicides since the policies started" in text

        # The ensemble lesson: ten cities a side, bands, and differences with their range.
        ensemble = next(lesson for lesson in LESSONS if lesson.seeds > 1)
        choose_lesson(page, ensemble.title)
        page.get_by_text(ensemble.watch[:40]).wait_for(timeout=60_000)
        page.get_by_text(f"median of {ensemble.seeds} seeds").wait_for(timeout=60_000)
        t0 = time.time()
        page.get_by_role("button", name="Run", exact=True).click()
        wait_week(page, 156, server)
        weeks, elapsed = week(page), time.time() - t0
        page.get_by_role("button", name="❚❚").click()
        print(f"dashboard: {weeks / elapsed:.1f} weeks per second in the ensemble lesson "
              f"({ensemble.preset}, {2 * ensemble.seeds} cities)")
        page.wait_for_timeout(1500)
        assert f"of {ensemble.seeds}" in page.locator("#abm-numbers").inner_text()
        check_layout(page)
        page.locator("#abm-numbers").evaluate("e => e.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(SCREENSHOT.with_name("dashboard-ensemble.png")))

        # The other student's cities did not move.
        assert week(other) == 0
        browser.close()
    assert errors == []
    attempts = server["network_log"].read_text()
    assert attempts == "", f"the server tried to reach outside this machine:\n{attempts}"


def launch(p):
    return p.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--no-first-run", "--disable-quic"],
    )


def type_setting(page, field, text: str) -> None:
    """Type into a settings field and press Enter, until the page says the settings
    changed (a field redrawn by the page while being typed into loses what was typed,
    as in any browser; a second try is what a user would do)."""
    changed = page.get_by_text("Settings changed: press Reset")
    for _ in range(3):
        field.fill(text)
        field.press("Enter")
        try:
            changed.wait_for(timeout=5_000)
            return
        except Exception:  # noqa: BLE001 - playwright's TimeoutError; try again
            pass
    changed.wait_for(timeout=5_000)


def test_a_seed_typed_as_text_is_refused_in_the_page(server):
    from playwright.sync_api import sync_playwright

    errors = []
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1500, "height": 1200})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server["url"])
        page.locator("#abm-week").wait_for(timeout=60_000)
        page.wait_for_function("document.querySelectorAll('img.abm-chart').length == 6", timeout=60_000)
        seed = page.get_by_label("Seed: a whole number (same seed, same city)")
        type_setting(page, seed, "abc")
        page.get_by_role("button", name="Reset").click()
        refused = page.locator("#abm-refused")
        refused.wait_for(timeout=30_000)
        assert "'abc' refused: type a whole number" in refused.inner_text()
        assert page.locator("#abm-week").count() == 0
        assert page.get_by_text("Traceback").count() == 0
        # A whole number brings the city back.
        type_setting(page, seed, "2")
        page.get_by_role("button", name="Reset").click()
        page.locator("#abm-week").wait_for(timeout=60_000)
        assert page.locator("#abm-refused").count() == 0 and week(page) == 0
        browser.close()
    assert errors == []
    attempts = server["network_log"].read_text()
    assert attempts == "", f"the server tried to reach outside this machine:\n{attempts}"
