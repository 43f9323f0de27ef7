"""The classroom dashboard: a city map, charts and a debrief table, one set of policies
against another on the same seeds.

Started by ``abm dashboard`` (which runs ``solara run`` on this file). The sidebar holds
the settings: the city, the seed, how many seeds per side, when the policies start and
end, each policy's switch and levels, and the policies of the comparison city; *Reset*
builds the cities again with them. A lesson (:mod:`abm.viz.lessons`) sets them all at
once. The cities step together, so every difference between them is the policies', and
with several seeds per side the bands show how much chance adds.

Each browser tab has its own cities (Solara keeps the reactive state below per tab).
"""

from __future__ import annotations

import functools
import html
import threading
import time

import solara
import solara.lab

from abm import policies
from abm.config import load_scenario
from abm.presets import resolve_scenario
from abm.viz import charts, debrief, lessons, maps
from abm.viz.classroom import MAX_SEEDS, PRESETS, ClassroomModel, control_defaults, control_key

TITLE = "Citizen security: a city and its policies"
MAP_WIDTH = 300        # screen pixels of each map, whatever the city's size
REFRESH = 0.5          # seconds between redraws of the maps and the table while running
CHART_REFRESH = 2.5    # seconds between redraws of the charts while running (the costliest part)
NO_LESSON = "(choose a lesson)"


def default_settings() -> dict:
    """The page's settings before a lesson or a change: ClassroomModel's keywords and
    ``run_to_year``."""
    registered = policies.registered()
    return {
        "preset": "classroom", "seed": "1", "compare": True, "seeds": 1, "start_year": 1.0, "end_year": 0.0,
        "run_to_year": 6.0,
        **{cls.name: cls.dashboard_on for cls in registered},
        **{f"compare_{cls.name}": False for cls in registered},
        **control_defaults(),
    }


# Seeds per side the page builds, per city: a district city takes about 50 MB, and a
# server may hold a class's tabs at once.
PAGE_MAX_SEEDS = {"classroom": MAX_SEEDS, "district": 4}


def build(settings: dict) -> ClassroomModel:
    """The cities of these settings.

    Raises:
        ValueError: with a message for the page (too many seeds for the city, policies
            that end before they start)."""
    most = PAGE_MAX_SEEDS.get(settings["preset"], MAX_SEEDS)
    if int(settings["seeds"]) > most:
        raise ValueError(f"The {settings['preset']} city runs at most {most} seeds per city on this page; "
                         f"lower the seeds per city, then press Reset.")
    kwargs = {k: v for k, v in settings.items() if k != "run_to_year"}
    kwargs["end_year"] = kwargs["end_year"] or None
    return ClassroomModel(**kwargs)


settings = solara.reactive(default_settings())
built_with = solara.reactive(None)   # the settings the cities were built with
current = solara.reactive(None)      # the ClassroomModel
problem = solara.reactive("")        # settings the model refused, said in the page
tick = solara.reactive(0)            # bumped to redraw the maps and the table
chart_tick = solara.reactive(0)      # bumped to redraw the charts
playing = solara.reactive(False)
target_week = solara.reactive(None)  # stop there ("Run to year")
layer = solara.reactive(next(iter(maps.LAYERS)))
lesson = solara.reactive(NO_LESSON)
speed = solara.reactive("")          # weeks per second of the last run
build_request = solara.reactive(0)   # bumped by Reset
building = solara.reactive(False)    # cities being built


def set_setting(key: str, value) -> None:
    settings.value = {**settings.value, key: value}


def reset() -> None:
    """Build the cities again with the current settings (in the background: warming
    up takes seconds, longer for many district cities)."""
    playing.value = False
    target_week.value = None
    building.value = True
    build_request.value += 1


def _build() -> None:
    """Build the cities a Reset asked for, and show them."""
    if not build_request.value:
        return
    wanted = dict(settings.value)
    try:
        model = build(wanted)
        model.lock = threading.RLock()
        problem.value = ""
        built_with.value = wanted
        speed.value = ""
        current.value = model
    except ValueError as exc:
        problem.value = str(exc)
    finally:
        building.value = False  # last: the page shows the new cities with their settings at once
        tick.value += 1
        chart_tick.value += 1


def load_lesson(title: str) -> None:
    lesson.value = title
    if title == NO_LESSON:
        return
    settings.value = {**lessons.by_title(title).settings(), "seed": str(lessons.by_title(title).seed)}
    reset()


def step_once() -> None:
    model = current.value
    if model is not None and not playing.value and not building.value:
        with model.lock:
            model.step()
        tick.value += 1
        chart_tick.value += 1


def run_to_year() -> None:
    model = current.value
    if model is None or model.refused or building.value:
        return  # a click sent before the page showed that new cities are being built
    target_week.value = round(float(settings.value["run_to_year"]) * 52)
    if model.week < target_week.value:
        playing.value = True


def play_pause() -> None:
    if building.value:
        return
    if not playing.value:
        target_week.value = None
    playing.value = not playing.value


def _run_loop() -> None:
    """Step while playing, up to the target week; redraw now and then."""
    model = current.value
    if not playing.value or model is None:
        return
    last = last_chart = t0 = time.time()
    week0 = model.week
    try:
        while playing.value and model.running and current.value is model:
            target = target_week.value
            if target is not None and model.week >= target:
                break
            with model.lock:
                model.step()
            now = time.time()
            if now - last >= REFRESH:
                tick.value += 1
                last = now
            if now - last_chart >= CHART_REFRESH:
                chart_tick.value += 1
                last_chart = now
    finally:
        elapsed = time.time() - t0
        if model.week > week0 and elapsed > 0:
            speed.value = f"{(model.week - week0) / elapsed:.1f} weeks a second"
        playing.value = False
        tick.value += 1
        chart_tick.value += 1


# -- controls ---------------------------------------------------------------------------

@solara.component
def Level(label: str, key: str, low: float, high: float, step: float, dtype: type = float):
    """A slider that shows its value, with a box to type an exact one."""
    value = settings.value[key]

    def set_value(v):
        if v is None:
            return
        v = min(max(dtype(v), dtype(low)), dtype(high))
        set_setting(key, v)

    solara.Text(label, style="font-size:13px")
    with solara.Row(gap="6px", style="align-items:center", classes=[f"abm-level-{key}"]):
        with solara.Column(style="flex:1 1 auto; min-width:120px"):
            if dtype is int:
                solara.SliderInt("", value=int(value), min=int(low), max=int(high), step=max(1, int(step)),
                                 on_value=set_value)
            else:
                solara.SliderFloat("", value=float(value), min=float(low), max=float(high), step=float(step),
                                   on_value=set_value)
        with solara.Column(style="flex:0 0 84px"):
            if dtype is int:
                solara.InputInt("", value=int(value), on_value=set_value, dense=True, continuous_update=False)
            else:
                solara.InputFloat("", value=float(value), on_value=set_value, dense=True, continuous_update=False)


@functools.cache
def prison_week_cost(preset: str) -> float:
    return load_scenario(resolve_scenario(preset)).prison.week_cost


def unit_cost(cls) -> str:
    """What a policy costs, as its module declares (the table shows what it spent)."""
    cost = cls.Params.model_fields["unit_cost"].default
    return f"Costs US${cost:,.0f} per {cls.cost_unit}" if cls.cost_unit else ""


@solara.component
def Settings():
    s = settings.value
    with solara.Card("City", margin=0):
        solara.Select("City", value=s["preset"], values=list(PRESETS), on_value=lambda v: set_setting("preset", v))
        solara.InputText("Seed: a whole number (same seed, same city)", value=str(s["seed"]),
                         on_value=lambda v: set_setting("seed", v), continuous_update=False)
        solara.Checkbox(label="Compare on the same seed", value=s["compare"],
                        on_value=lambda v: set_setting("compare", v))
        Level("Seeds per city (an ensemble: bands show the range)", "seeds", 1,
              PAGE_MAX_SEEDS.get(s["preset"], MAX_SEEDS), 1, int)
        Level("Policies start in year", "start_year", 0.0, 10.0, 0.5)
        Level("Policies end in year (0: never)", "end_year", 0.0, 20.0, 0.5)
        solara.Text(f"A prisoner costs US${prison_week_cost(s['preset']):,.0f} a week in this city.",
                    style="font-size:12px;color:#555")
    with solara.Card("Policies of the first city", margin=0):
        for cls in policies.registered():
            solara.Checkbox(label=cls.label or cls.name, value=s[cls.name],
                            on_value=lambda v, name=cls.name: set_setting(name, v))
            if s[cls.name]:
                solara.Text(unit_cost(cls), style="font-size:12px;color:#555")
                for c in cls.controls:
                    Level(c.label, control_key(cls.name, c.field), c.low, c.high, c.step, c.dtype)
    with solara.Card("Policies of the comparison city", margin=0):
        solara.Text("None ticked: no policy. Levels as in the first city.", style="font-size:13px")
        for cls in policies.registered():
            solara.Checkbox(label=f"Comparison city: {cls.label or cls.name}", value=s[f"compare_{cls.name}"],
                            on_value=lambda v, name=cls.name: set_setting(f"compare_{name}", v))


@solara.component
def RunBar(model: ClassroomModel | None):
    """Reset, play, step and run to a year; where the cities are."""
    tick.get()
    solara.lab.use_task(_run_loop, dependencies=[playing.value, model], prefer_threaded=True)
    solara.lab.use_task(_build, dependencies=[build_request.value], prefer_threaded=True)
    s = settings.value
    running = model is not None and not model.refused and not building.value
    with solara.Row(gap="8px", style="align-items:center; flex-wrap:wrap"):
        solara.Button("Reset", color="primary", on_click=reset, disabled=building.value)
        solara.Button("❚❚" if playing.value else "▶", color="primary", on_click=play_pause, disabled=not running)
        solara.Button("Step", color="primary", on_click=step_once, disabled=playing.value or not running)
        with solara.Row(gap="4px", style="align-items:center; width:230px"):
            solara.InputFloat("Run to year", value=float(s["run_to_year"]), dense=True, continuous_update=False,
                              on_value=lambda v: v is not None and set_setting("run_to_year", max(0.0, v)),
                              style="max-width:100px")
            solara.Button("Run", color="primary", on_click=run_to_year, disabled=playing.value or not running)
        if running:
            solara.HTML(tag="span", unsafe_innerHTML=f"<span id='abm-week'>Week {model.week}</span> "
                        f"(year {model.week / 52:.1f}; policies start in year {model.start_step / 52:g}"
                        + (f", end in year {model.end_step / 52:g}" if model.end_step else "") + ")"
                        + (f"; {html.escape(speed.value)}" if speed.value else ""),
                        style="font-size:15px")
    if building.value:
        with solara.Row(style="align-items:center"):
            solara.SpinnerSolara(size="40px")
            solara.Text("Building the cities and running their first four years (the burn-in)...",
                        style="font-size:15px")
    if problem.value:
        solara.Error(problem.value)
    elif built_with.value is not None and s != built_with.value and not playing.value and not building.value:
        changed = sorted(k for k in s if s[k] != built_with.value.get(k) and k != "run_to_year")
        if changed:
            solara.Warning("Settings changed: press Reset to build the cities with them.", dense=True)


@solara.component
def LessonBar():
    titles = [NO_LESSON, *(x.title for x in lessons.LESSONS)]
    solara.Select("Lesson", value=lesson.value, values=titles, on_value=load_lesson,
                  style="max-width:560px")
    if lesson.value != NO_LESSON:
        solara.Info(lessons.by_title(lesson.value).watch, dense=True)


# -- what the class sees ------------------------------------------------------------------

@solara.component
def CityMaps(model: ClassroomModel):
    """Each side's first city, coloured by the chosen layer, with gang members on the
    street and officers; or why there is none (a seed the page refused)."""
    tick.get()
    if model.refused:
        solara.Error(model.refused, attributes={"id": "abm-refused"})
        return
    solara.ToggleButtonsSingle(value=layer, values=list(maps.LAYERS), dense=True,
                               style="flex-wrap:wrap; max-width:100%")
    with model.lock:
        images = []
        for label, city_model in model.cities:
            homicides = sum(r["homicides"] for r in city_model.ledger.rows[-52:])
            images.append((label, homicides, maps.city_image(city_model, layer.value, MAP_WIDTH)))
    seed_note = f" (the first of {model.seeds} seeds)" if model.seeds > 1 else ""
    with solara.Row(gap="16px", style="flex-wrap:wrap"):
        for side, (label, homicides, png) in enumerate(images):
            colour = charts.SIDE_COLOURS[side]
            with solara.Column(gap="2px", style=f"width:{MAP_WIDTH}px"):
                plural = "s" if homicides != 1 else ""
                solara.HTML(tag="div", unsafe_innerHTML=(
                    f"<span class='abm-map-label' style='color:{colour};font-weight:bold'>"
                    f"{'━━' if side == 0 else '╍╍'} {html.escape(label)}</span><br>"
                    f"{homicides} homicide{plural} in the last year{seed_note}"),
                    style="font-size:14px;min-height:42px")
                solara.Image(png, format="png", width=f"{MAP_WIDTH}px",
                             classes=["abm-map"])
    solara.HTML(tag="div", unsafe_innerHTML=f"{html.escape(maps.LAYERS[layer.value])}; red dots: gang members on "
                f"the street; dark squares: officers.", style="font-size:13px;color:#444")


@solara.component
def Charts(model: ClassroomModel):
    """One image per chart, both sides overlaid (bands: the range over seeds)."""
    chart_tick.get()
    figures = solara.use_memo(
        lambda: [charts.ChartFigure(c, [label for label, _ in model.sides], model.start_step / 52)
                 for c in charts.CHARTS], dependencies=[model])
    if not model.sides:
        return
    with model.lock:
        pngs = [f.png(model) for f in figures]
    solara.HTML(tag="div", unsafe_innerHTML=charts.legend_html(model), style="font-size:14px")
    with solara.Row(gap="8px", style="flex-wrap:wrap", classes=["abm-charts"]):
        for png in pngs:
            solara.Image(png, format="png", width=f"{charts.WIDTH_PX}px", classes=["abm-chart"])


@solara.component
def Numbers(model: ClassroomModel):
    """The debrief table, and the downloads."""
    tick.get()
    if not model.sides:
        return
    with model.lock:
        header, rows = debrief.table(model)
    head = "".join(f"<th style='padding:4px 8px;text-align:left'>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td style='padding:3px 8px;border-top:1px solid #ddd'>{html.escape(c)}</td>" for c in row)
        + "</tr>" for row in rows)
    note = ("" if rows else f"<tr><td colspan={len(header)} style='padding:4px 8px'>The numbers appear once the "
            f"policies have started (year {model.start_step / 52:g}).</td></tr>")
    solara.HTML(tag="table", unsafe_innerHTML=f"<tr>{head}</tr>{body}{note}", attributes={"id": "abm-numbers"},
                style="border-collapse:collapse;font-size:14px;margin:4px 0;max-width:100%")
    with model.lock:
        plans = debrief.planned(model)
    solara.HTML(tag="div", unsafe_innerHTML="<br>".join(html.escape(p) for p in plans)
                + "; prisons cost what the policies' arrests and sentences make them cost.",
                attributes={"id": "abm-planned"}, style="font-size:13px;color:#444;margin:2px 0 6px 0")

    def charts_png():
        with model.lock:
            return charts.all_charts_png(model)

    def numbers_csv():
        with model.lock:
            return debrief.numbers_csv(model)

    with solara.Row(gap="8px"):
        solara.FileDownload(charts_png, filename=f"charts-{model.preset}-week{model.week}.png",
                            label="Download the charts (PNG)", mime_type="image/png")
        solara.FileDownload(numbers_csv, filename=f"numbers-{model.preset}-week{model.week}.csv",
                            label="Download the numbers (CSV)", mime_type="text/csv")


@solara.component
def Page():
    if current.value is None and not problem.value and not build_request.value:
        reset()
    model = current.value
    solara.Title(TITLE)
    solara.Style(".abm-map img, img.abm-map { image-rendering: pixelated; }"
                 " .v-application--wrap { overflow-x: hidden; }")
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    with solara.Sidebar():
        Settings()
    with solara.Column(gap="10px", style="max-width:100%; overflow-x:hidden"):
        LessonBar()
        RunBar(model)
        if model is not None and not building.value:
            with solara.Row(gap="20px", style="flex-wrap:wrap; align-items:flex-start"):
                with solara.Column(gap="6px"):
                    CityMaps(model)
            if not model.refused:
                Charts(model)
                Numbers(model)
