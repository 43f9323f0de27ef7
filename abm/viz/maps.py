"""The city map: one layer of the blocks (gang territory, socio-economic status, recent
homicides, trust in police), with gang members on the street and officers on duty.

Every map is drawn with whole pixels per block and shown at the same width on the page,
whatever the city's size, so two cities side by side are maps of equal size.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib import colormaps
from PIL import Image

from abm.violence import HomicideKind

LAYERS = {  # shown name: caption
    "Gang territory": "gang territory: one colour per gang, paler where control is weak",
    "Socio-economic status": "socio-economic status: red poor, green rich",
    "Recent homicides": "homicides in the last year (darker: more)",
    "Trust in police": "residents' trust in police (darker: more)",
}
MEMBER = (0.85, 0.05, 0.15)   # gang members on the street: red dots
OFFICER = (0.05, 0.1, 0.45)  # officers: dark squares
GREY = np.array([0.9, 0.9, 0.9])


def layer_colours(city_model, which: str) -> np.ndarray:
    """RGB (n_blocks, 3) of the chosen layer."""
    city = city_model.city
    if which == "Socio-economic status":
        return colormaps["RdYlGn"](city.ses)[:, :3]
    if which == "Recent homicides":
        week = city_model.week
        counts = np.zeros(city.n_blocks)
        for e in reversed(city_model.events):
            if e["step"] <= week - 52:
                break
            if e["kind"] != HomicideKind.POLICE:
                counts[e["block"]] += 1
        rgb = colormaps["inferno_r"](np.clip(counts / 4, 0, 1) * 0.85 + 0.15)[:, :3]
        return np.where(counts[:, None] > 0, rgb, GREY)
    if which == "Trust in police":
        res = city_model.residents
        total = np.bincount(res.block[res.alive], weights=res.trust[res.alive], minlength=city.n_blocks)
        n = np.bincount(res.block[res.alive], minlength=city.n_blocks)
        trust = np.divide(total, n, out=np.zeros(city.n_blocks), where=n > 0)
        return colormaps["Blues"](np.clip((trust - 0.2) / 0.5, 0, 1))[:, :3]
    if which != "Gang territory":
        raise ValueError(f"unknown layer {which!r}; known: {', '.join(LAYERS)}")
    palette = colormaps["tab20"](np.arange(20))[:, :3]
    owner = city.gang_owner
    strength = np.clip(city.gang_control, 0.25, 1)[:, None]
    return np.where(owner[:, None] >= 0, GREY + (palette[np.maximum(owner, 0) % 20] - GREY) * strength, GREY)


def pixels_per_block(city_width: int, width: int) -> int:
    """Whole pixels per block side for a map about ``width`` pixels wide: at least 3
    (room for a dot), at most 24."""
    return max(3, min(24, width // city_width))


def _marks(img: np.ndarray, blocks: np.ndarray, city, pixels: int, size: int, colour, jitter) -> None:
    """A ``size`` x ``size`` square for each of ``blocks``, at a random place inside it."""
    if not len(blocks):
        return
    size = min(size, pixels)
    ys = city.y[blocks] * pixels + jitter.integers(0, pixels - size + 1, len(blocks))
    xs = city.x[blocks] * pixels + jitter.integers(0, pixels - size + 1, len(blocks))
    for dy in range(size):
        for dx in range(size):
            img[ys + dy, xs + dx] = colour


def city_image(city_model, which: str, width: int = 360, officers: bool = True) -> bytes:
    """The city as a PNG at least ``width`` pixels wide (whole pixels per block): the
    layer, gang members on the street (red dots), officers (dark squares; from week 1,
    when they are first deployed)."""
    city, yth = city_model.city, city_model.youths
    pixels = pixels_per_block(city.width, width)
    img = layer_colours(city_model, which).reshape(city.height, city.width, 3)
    img = np.repeat(np.repeat(img, pixels, axis=0), pixels, axis=1)
    jitter = np.random.default_rng(city_model.week)  # positions only; not the model's generator
    members = np.flatnonzero(yth.free & (yth.gang >= 0))
    dot = max(1, pixels // 3)
    _marks(img, yth.block[members], city, pixels, dot, MEMBER, jitter)
    if officers and city_model.week > 0:
        _marks(img, np.asarray(city_model.officer_block), city, pixels, dot + 1, OFFICER, jitter)
    buffer = io.BytesIO()
    Image.fromarray((img * 255).astype(np.uint8)).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
