"""The classroom dashboard: a city map and live charts, one policy or two side by side.

Started by ``abm dashboard`` (which runs ``solara run`` on this file). The sidebar
(Mesa's SolaraViz) holds the preset, the seed, each policy's switch and main level,
and the policies of the comparison city; "Reset" builds the cities again with them.
With "Compare on the same seed" on, two cities share one seed and step together:
the difference between them is the policies', not chance.
"""

from __future__ import annotations

import html
import io

import numpy as np
import solara
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image
from mesa.visualization import Slider, SolaraViz
from mesa.visualization.utils import update_counter

from abm import measures, policies
from abm.violence import HomicideKind
from abm.viz.classroom import PRESETS, ClassroomModel, control_defaults, control_key

LAYERS = ("Gang territory", "Socio-economic status", "Recent homicides", "Trust in police")
layer = solara.reactive(LAYERS[0])
ROLL = 13
COLORS = ("tab:orange", "0.35")


def _rolling(values: list[float]) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return x
    c = np.cumsum(np.insert(x, 0, 0.0))
    n = np.minimum(np.arange(1, len(x) + 1), ROLL)
    return (c[1:] - c[np.maximum(np.arange(1, len(x) + 1) - ROLL, 0)]) / n


MAP_WIDTH = 460  # screen pixels of the maps together


def _layer_colours(city_model, which: str) -> tuple[np.ndarray, str]:
    """RGB (n_blocks, 3) of the chosen layer, and a caption."""
    city = city_model.city
    grey = np.array([0.9, 0.9, 0.9])
    if which == "Socio-economic status":
        return colormaps["RdYlGn"](city.ses)[:, :3], "socio-economic status: red poor, green rich"
    if which == "Recent homicides":
        week = city_model.week
        counts = np.zeros(city.n_blocks)
        for e in reversed(city_model.events):
            if e["step"] <= week - 52:
                break
            if e["kind"] != HomicideKind.POLICE:
                counts[e["block"]] += 1
        rgb = colormaps["inferno_r"](np.clip(counts / 4, 0, 1) * 0.85 + 0.15)[:, :3]
        return np.where(counts[:, None] > 0, rgb, grey), "homicides in the last year (darker: more)"
    if which == "Trust in police":
        res = city_model.residents
        total = np.bincount(res.block[res.alive], weights=res.trust[res.alive], minlength=city.n_blocks)
        n = np.bincount(res.block[res.alive], minlength=city.n_blocks)
        trust = np.divide(total, n, out=np.zeros(city.n_blocks), where=n > 0)
        return colormaps["Blues"](np.clip((trust - 0.2) / 0.5, 0, 1))[:, :3], "residents' trust in police (darker: more)"
    palette = colormaps["tab20"](np.arange(20))[:, :3]
    owner = city.gang_owner
    strength = np.clip(city.gang_control, 0.25, 1)[:, None]
    rgb = np.where(owner[:, None] >= 0, grey + (palette[np.maximum(owner, 0) % 20] - grey) * strength, grey)
    return rgb, "gang territory: one colour per gang, paler where control is weak"


def city_image(city_model, which: str, width: int = MAP_WIDTH) -> bytes:
    """The city as a PNG about ``width`` pixels wide: the layer, gang members (red
    dots), officers (dark squares)."""
    city, yth = city_model.city, city_model.youths
    rgb, _ = _layer_colours(city_model, which)
    PIXELS = max(4, min(24, width // city.width))  # noqa: N806 - pixels per block side
    img = rgb.reshape(city.height, city.width, 3)
    img = np.repeat(np.repeat(img, PIXELS, axis=0), PIXELS, axis=1)
    jitter = np.random.default_rng(city_model.week)  # positions only; not the model's generator
    members = np.flatnonzero(yth.free & (yth.gang >= 0))
    b = yth.block[members]
    ys = city.y[b] * PIXELS + jitter.integers(1, PIXELS - 3, len(b))
    xs = city.x[b] * PIXELS + jitter.integers(1, PIXELS - 3, len(b))
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            img[ys + dy, xs + dx] = (0.85, 0.05, 0.15)
    if city_model.week > 0:  # officers are deployed from week 1
        ob = city_model.officer_block
        ys = city.y[ob] * PIXELS + jitter.integers(1, PIXELS - 5, len(ob))
        xs = city.x[ob] * PIXELS + jitter.integers(1, PIXELS - 5, len(ob))
        for dy in range(4):
            for dx in range(4):
                img[ys + dy, xs + dx] = (0.05, 0.1, 0.45)
    buffer = io.BytesIO()
    Image.fromarray((img * 255).astype(np.uint8)).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


@solara.component
def CityMaps(model: ClassroomModel):
    """The city (or both cities), coloured by the chosen layer, with officers and members;
    or why there is none (a seed the page refused)."""
    update_counter.get()
    if model.refused:
        solara.Error(model.refused, attributes={"id": "abm-refused"})
        return
    solara.ToggleButtonsSingle(value=layer, values=list(LAYERS))
    caption = _layer_colours(model.cities[0][1], layer.value)[1]
    with solara.Row(gap="16px"):
        for label, city_model in model.cities:
            homicides = sum(r["homicides"] for r in city_model.ledger.rows[-52:])
            with solara.Column(gap="2px"):
                solara.HTML(tag="div", unsafe_innerHTML=f"<b>{html.escape(label)}</b>: "
                            f"{homicides} homicides in the last year", style="font-size:14px")
                solara.Image(city_image(city_model, layer.value, MAP_WIDTH // len(model.cities)), format="png")
    solara.HTML(tag="div", unsafe_innerHTML=f"{html.escape(caption)}; red dots: gang members; dark squares: "
                f"officers. Week {model.week} (year {model.week / 52:.1f}); policies start in year "
                f"{model.start_step / 52:g}.", style="font-size:12px;color:#555")


# Per-step measures charted (titles from abm.measures), and whether each is smoothed
# (weekly rates of counts are noisy).
CHARTS = tuple(
    (name, measures.label(name, step=True), smooth)
    for name, smooth in (("homicide_rate_per_100k", True), ("recruitment_per_1000_youth", True),
                         ("trust_mean", False), ("incarceration_per_100k", False))
)


CHART_EVERY = 8  # weeks between chart redraws (costly); the map is redrawn every week


@solara.component
def Charts(model: ClassroomModel):
    """Homicide, recruitment, trust and incarceration over time, both cities overlaid."""
    update_counter.get()
    key = (id(model), model.week // CHART_EVERY)
    png = solara.use_memo(lambda: chart_png(model) if model.cities else None, dependencies=[key])
    if png is not None:
        solara.Image(png, format="png")


class ChartFigure:
    """The four charts, drawn once and then only given new data (matplotlib's axes and
    ticks are costly to build, and the dashboard redraws often)."""

    def __init__(self, labels: list[str], start_year: float):
        self.fig = Figure(figsize=(9, 5.2), dpi=80)
        self.axes = self.fig.subplots(2, 2).ravel()
        self.lines = []
        for ax, (_, title, smooth) in zip(self.axes, CHARTS, strict=True):
            row = [ax.plot([], [], color=color, lw=1.6, label=label)[0]
                   for color, label in zip(COLORS, labels, strict=False)]
            self.lines.append(row)
            ax.axvline(start_year, color="0.5", ls="--", lw=0.8)
            ax.set_title(title + (" (13-week mean)" if smooth else ""), fontsize=9)
            ax.tick_params(labelsize=8)
            ax.xaxis.set_major_locator(MaxNLocator(5))
            ax.yaxis.set_major_locator(MaxNLocator(4))
            ax.grid(alpha=0.3)
        self.axes[0].legend(fontsize=8, loc="upper left")
        self.axes[2].set_xlabel("year", fontsize=8)
        self.axes[3].set_xlabel("year", fontsize=8)
        self.fig.subplots_adjust(left=0.07, right=0.98, bottom=0.09, top=0.94, hspace=0.35, wspace=0.2)

    def png(self, model: ClassroomModel) -> bytes:
        for ax, row, (key, _, smooth) in zip(self.axes, self.lines, CHARTS, strict=True):
            top = 0.0
            for line, (_, city_model) in zip(row, model.cities, strict=False):
                rows = city_model.ledger.rows
                values = np.array([r[key] for r in rows], dtype=float)
                if smooth:
                    values = _rolling(values)
                line.set_data(np.arange(1, len(rows) + 1) / 52, values)
                if len(values):
                    top = max(top, float(np.nanmax(values)))
            ax.set_xlim(0, max(1.0, model.week / 52))
            ax.set_ylim(0, top * 1.1 if top > 0 else 1)
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png")
        return buffer.getvalue()


def chart_png(model: ClassroomModel) -> bytes:
    figure = getattr(model, "_charts", None)
    if figure is None:
        figure = model._charts = ChartFigure([label for label, _ in model.cities], model.start_step / 52)
    return figure.png(model)


@solara.component
def Numbers(model: ClassroomModel):
    """The last year's headline numbers of each city, as a small table."""
    update_counter.get()
    if not model.cities:
        return
    head = "".join(f"<th style='padding:4px 10px'>{html.escape(label)}</th>" for label, _ in model.cities)
    lines = []
    measures = (
        ("Homicides, last year", lambda rows: sum(r["homicides"] for r in rows), "{:.0f}"),
        ("New gang members, last year", lambda rows: sum(r["recruits"] for r in rows), "{:.0f}"),
        ("Gang members now", lambda rows: rows[-1]["gang_members"], "{:.0f}"),
        ("Prisoners now", lambda rows: rows[-1]["incarcerated"], "{:.0f}"),
        ("Arrested who were not in gangs", lambda rows: sum(r["arrests_non_member"] for r in rows)
         / max(1, sum(r["arrests"] for r in rows)), "{:.0%}"),
        ("Trust in police", lambda rows: rows[-1]["trust_mean"], "{:.2f}"),
        ("Killings by police, last year", lambda rows: sum(r["police_killings"] for r in rows), "{:.0f}"),
        ("Policy cost, last year (US$)", lambda rows: sum(r["policy_cost"] for r in rows), "{:,.0f}"),
    )
    for name, fn, fmt in measures:
        cells = []
        for _, city_model in model.cities:
            rows = city_model.ledger.rows[-52:]
            cells.append(fmt.format(fn(rows)) if rows else "-")
        tds = "".join(f"<td style='padding:4px 10px;text-align:right'>{c}</td>" for c in cells)
        lines.append(f"<tr><td style='padding:4px 10px'>{html.escape(name)}</td>{tds}</tr>")
    caption = f"<caption id='abm-week' style='text-align:left;padding:4px 10px'>Week {model.week}</caption>"
    solara.HTML(tag="table", unsafe_innerHTML=caption + f"<tr><th></th>{head}</tr>" + "".join(lines),
                style="border-collapse:collapse;font-size:14px;margin:8px")


def policy_params() -> dict:
    """Each registered policy's switch, its controls' sliders and its switch in the
    comparison city, as the policy module declares them."""
    registered = policies.registered()
    defaults = control_defaults()
    out: dict = {cls.name: {"type": "Checkbox", "value": cls.dashboard_on, "label": cls.label or cls.name}
                 for cls in registered}
    for cls in registered:
        for c in cls.controls:
            key = control_key(cls.name, c.field)
            out[key] = Slider(c.label, defaults[key], c.dtype(c.low), c.dtype(c.high), c.dtype(c.step), dtype=c.dtype)
    out.update({f"compare_{cls.name}": {"type": "Checkbox", "value": False,
                                        "label": f"Comparison city: {cls.label or cls.name}"}
                for cls in registered})
    return out


model_params = {
    "preset": {"type": "Select", "value": "classroom", "values": list(PRESETS), "label": "City"},
    # Text, checked by ClassroomModel (parse_seed): anything but a whole number is refused in the page.
    "seed": {"type": "InputText", "value": 1, "label": "Seed: a whole number (same seed, same city)"},
    "compare": {"type": "Checkbox", "value": True, "label": "Compare on the same seed"},
    "start_year": Slider("Policies start in year", 1.0, 0.0, 5.0, 0.5),
    **policy_params(),
}

page = SolaraViz(
    ClassroomModel(),
    components=[(CityMaps, 0), (Charts, 0), (Numbers, 0)],
    model_params=model_params,
    name="Citizen security: a city and its policies",
    play_interval=20,  # ms between steps while playing; rendering takes the rest
)
