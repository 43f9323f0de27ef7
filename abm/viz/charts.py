"""The dashboard's charts: one figure per measure, each side of the comparison a line
(the median over its seeds) and, with several seeds, a band from the lowest to the
highest seed. Colours from the Okabe-Ito palette, which readers with any common form
of colour blindness can tell apart.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from abm import measures
from abm.viz.classroom import STREET, ClassroomModel

SIDE_COLOURS = ("#D55E00", "#0072B2")  # Okabe-Ito vermillion (the policies) and blue (the comparison)
SIDE_STYLES = ("-", "--")  # told apart without colour too
ROLL = 13  # weeks in the moving mean of noisy weekly rates
WIDTH_PX, HEIGHT_PX, DPI = 416, 256, 100


@dataclass(frozen=True)
class Chart:
    key: str         # a ledger column, STREET, or "total_cost" (cumulative programme + prison cost)
    title: str
    smooth: bool = False
    cumulative: bool = False
    scale: float = 1.0


CHARTS = (
    Chart("homicide_rate_per_100k", measures.label("homicide_rate_per_100k", step=True), True),
    Chart("recruitment_per_1000_youth", measures.label("recruitment_per_1000_youth", step=True), True),
    Chart("trust_mean", measures.label("trust_mean", step=True)),
    Chart("incarceration_per_100k", measures.label("incarceration_per_100k", step=True)),
    Chart(STREET, "Gang members on the street"),
    Chart("total_cost", "Cost since week 0 (US$ million)", cumulative=True, scale=1e-6),
)


def rolling(x: np.ndarray, n: int = ROLL) -> np.ndarray:
    """Trailing mean over up to ``n`` weeks, along the last axis."""
    x = np.asarray(x, dtype=float)
    if x.shape[-1] < 2:
        return x
    c = np.cumsum(np.concatenate([np.zeros(x.shape[:-1] + (1,)), x], axis=-1), axis=-1)
    idx = np.arange(1, x.shape[-1] + 1)
    return (c[..., idx] - c[..., np.maximum(idx - n, 0)]) / np.minimum(idx, n)


def values(model: ClassroomModel, side: int, chart: Chart) -> np.ndarray:
    """(seeds, weeks) of what a chart draws for one side."""
    if chart.key == "total_cost":
        x = model.series(side, "policy_cost") + model.series(side, "prison_cost")
    elif chart.smooth:  # the moving mean runs in from the burn-in's last weeks
        lead = min(ROLL - 1, model.burn_in)
        x = rolling(model.series(side, chart.key, lead=lead))[:, lead:]
    else:
        x = model.series(side, chart.key)
    if chart.cumulative:
        x = np.cumsum(x, axis=-1)
    return x * chart.scale


class ChartFigure:
    """One chart, drawn once and then only given new data (matplotlib's axes and ticks
    are costly to build, and the page redraws often)."""

    def __init__(self, chart: Chart, labels: list[str], start_year: float, width_px: int = WIDTH_PX,
                 height_px: int = HEIGHT_PX):
        self.chart = chart
        self.fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI)
        ax = self.ax = self.fig.add_subplot()
        self.lines = [ax.plot([], [], color=c, ls=ls, lw=2.2, label=label)[0]
                      for c, ls, label in zip(SIDE_COLOURS, SIDE_STYLES, labels, strict=False)]
        self.bands: list = []
        ax.axvline(start_year, color="0.4", ls=":", lw=1.2)
        ax.set_title(chart.title, fontsize=11.5, loc="left")
        ax.tick_params(labelsize=11)
        ax.xaxis.set_major_locator(MaxNLocator(6, integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(5))
        ax.grid(alpha=0.3)
        ax.set_xlabel("year (dotted: policies start)", fontsize=10.5)
        self.fig.subplots_adjust(left=0.13, right=0.97, bottom=0.19, top=0.88)

    def draw(self, model: ClassroomModel) -> None:
        ax = self.ax
        for band in self.bands:
            band.remove()
        self.bands = []
        top = 0.0
        for side, (line, colour) in enumerate(zip(self.lines, SIDE_COLOURS, strict=False)):
            if side >= len(model.sides):
                break
            x = values(model, side, self.chart)
            years = np.arange(1, x.shape[1] + 1) / 52
            if x.shape[1] == 0:
                line.set_data([], [])
                continue
            line.set_data(years, np.median(x, axis=0))
            if x.shape[0] > 1:
                self.bands.append(ax.fill_between(years, x.min(axis=0), x.max(axis=0), color=colour, alpha=0.2, lw=0))
            top = max(top, float(np.nanmax(x)))
        ax.set_xlim(0, max(1.0, model.week / 52))
        ax.set_ylim(0, top * 1.1 if top > 0 else 1)

    def png(self, model: ClassroomModel) -> bytes:
        self.draw(model)
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png")
        return buffer.getvalue()


def legend_note(model: ClassroomModel) -> str:
    """What the lines and bands are."""
    rates = f"Homicides and recruits: {ROLL}-week moving means."
    if model.seeds > 1:
        return f"Lines: median of {model.seeds} seeds; bands: lowest to highest seed. {rates}"
    return f"One seed per city. {rates}"


def legend_html(model: ClassroomModel) -> str:
    """The charts' legend, as HTML: each side's line in its colour and style."""
    marks = ("\u2501\u2501", "\u254d\u254d")
    items = [f"<span style='color:{colour};font-weight:bold'>{mark} {html.escape(label)}</span>"
             for (label, _), colour, mark in zip(model.sides, SIDE_COLOURS, marks, strict=False)]
    return " &nbsp; ".join(items) + f" &nbsp; {html.escape(legend_note(model))}"


def all_charts_png(model: ClassroomModel) -> bytes:
    """Every chart in one figure, with a legend: the download."""
    labels = [label for label, _ in model.sides]
    fig = Figure(figsize=(12, 2.9 * ((len(CHARTS) + 1) // 2) + 0.8), dpi=DPI)
    axes = fig.subplots((len(CHARTS) + 1) // 2, 2).ravel()
    for ax, chart in zip(axes, CHARTS, strict=False):
        top = 0.0
        for side, (label, colour, ls) in enumerate(zip(labels, SIDE_COLOURS, SIDE_STYLES, strict=False)):
            x = values(model, side, chart)
            if x.shape[1] == 0:
                continue
            years = np.arange(1, x.shape[1] + 1) / 52
            ax.plot(years, np.median(x, axis=0), color=colour, ls=ls, lw=2, label=label)
            if x.shape[0] > 1:
                ax.fill_between(years, x.min(axis=0), x.max(axis=0), color=colour, alpha=0.2, lw=0)
            top = max(top, float(np.nanmax(x)))
        ax.axvline(model.start_step / 52, color="0.4", ls=":", lw=1.2)
        ax.set_title(chart.title, fontsize=11, loc="left")
        ax.set_ylim(0, top * 1.1 if top > 0 else 1)
        ax.set_xlim(0, max(1.0, model.week / 52))
        ax.grid(alpha=0.3)
        ax.set_xlabel("year", fontsize=10)
    height = fig.get_figheight()
    handles, names = axes[0].get_legend_handles_labels()
    fig.text(0.01, 1 - 0.08 / height, f"{model.preset} city, seed {model.seed}, week {model.week}. "
             f"{legend_note(model)}", fontsize=10, va="top", ha="left")
    fig.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, 1 - 0.3 / height), ncol=2, fontsize=11,
               frameon=False)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.06, top=1 - 1.0 / height, hspace=0.5)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
