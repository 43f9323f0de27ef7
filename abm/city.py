"""The segregated city: a grid of blocks grouped in districts, with cell fields.

A cell is a block. Blocks belong to square districts, each with a socio-economic
status (SES). The ``segregation`` parameter does two things at once, as segregation
does in Latin American cities: it clusters poor districts on the periphery (hills,
informal settlements) and it sorts households by place, so that a household's SES
follows its district's. The result is reported as a measured index, the dissimilarity
index of poor and non-poor households across districts (0 even, 1 apart).

Some peripheral poor districts sit behind barriers (topography, walls): patrols and
friendships reach them less and the state is weaker there.

Cell fields are 1-D numpy arrays indexed by block number ``b = y * width + x``;
:meth:`City.grid` reshapes any of them to ``(height, width)`` for maps.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from abm.config import CityParams

# Blocks in a 3x3 Moore neighbourhood (the block and its eight neighbours).
NEIGHBOURHOOD_BLOCKS = 9

# Block and district numbers up to this fit 16 bits, which numpy sorts by radix.
RADIX_KEY_MAX = np.iinfo(np.uint16).max


def group_order(keys: np.ndarray) -> np.ndarray:
    """The stable order that sorts ``keys`` (block or district numbers, never
    negative): people grouped by place, in their slot order within each place.

    A stable order is unique, so the result is ``np.argsort(keys, kind="stable")``;
    keys that fit 16 bits are sorted as such, by numpy's radix sort.
    """
    if keys.size and keys.max() <= RADIX_KEY_MAX:
        keys = keys.astype(np.uint16)
    return np.argsort(keys, kind="stable")


FIELDS = (
    "population",
    "ses",
    "state_presence",
    "police_presence",
    "gang_control",
    "collective_efficacy",
    "violence_exposure",
    "homicides",
)


class City:
    """Blocks, districts and the fields that live on them.

    Attributes:
        width, height: size of the grid in blocks.
        n_blocks: number of blocks.
        district: district number of each block.
        district_ses: SES of each district (0 poorest, 1 richest).
        poor_district: whether each district is poor.
        barrier: whether each block lies in a district behind a barrier.
        ses: mean SES of each block.
        state_presence: 0-1, strength of state services in each block.
        population: persons living in each block (kept up to date by the model).
        police_presence: officers present this week (with spill-over from neighbours).
        gang_owner: index of the gang controlling each block, -1 for none.
        gang_control: 0-1, strength of that control.
        collective_efficacy: 0-1, residents' willingness to exercise informal control.
        violence_exposure: recent confrontations in and around the block (decaying).
        homicides: homicides in the block since the end of burn-in.
    """

    def __init__(self, params: CityParams, rng: np.random.Generator):
        self.params = params
        self.width, self.height = params.width, params.height
        self.n_blocks = self.width * self.height
        xs, ys = np.meshgrid(np.arange(self.width), np.arange(self.height))
        self.x = xs.ravel()
        self.y = ys.ravel()

        size = params.district_size
        nx_d = -(-self.width // size)
        ny_d = -(-self.height // size)
        self.n_districts = nx_d * ny_d
        self.district = (self.y // size) * nx_d + (self.x // size)

        # Periphery: distance of a district's centre from the city centre, 0..1.
        dx = (np.arange(self.n_districts) % nx_d + 0.5) * size - self.width / 2
        dy = (np.arange(self.n_districts) // nx_d + 0.5) * size - self.height / 2
        periphery = np.hypot(dx / self.width, dy / self.height)
        periphery = periphery / periphery.max() if periphery.max() > 0 else periphery
        seg = params.segregation
        score = seg * periphery + (1 - seg) * rng.random(self.n_districts)
        n_poor = int(round(params.poor_share * self.n_districts))
        order = np.argsort(-score, kind="stable")
        self.poor_district = np.zeros(self.n_districts, dtype=bool)
        self.poor_district[order[:n_poor]] = True
        self.district_ses = np.where(
            self.poor_district,
            rng.uniform(params.poor_ses_min, params.poor_ses_max, self.n_districts),
            rng.uniform(params.rich_ses_min, params.rich_ses_max, self.n_districts),
        )
        # Barriers: the most peripheral poor districts.
        poor_ids = np.flatnonzero(self.poor_district)
        n_barrier = int(round(params.barrier_share * len(poor_ids)))
        behind = poor_ids[np.argsort(-periphery[poor_ids], kind="stable")[:n_barrier]]
        self.barrier_district = np.zeros(self.n_districts, dtype=bool)
        self.barrier_district[behind] = True

        self.poor = self.poor_district[self.district]
        self.barrier = self.barrier_district[self.district]
        self.ses = np.clip(self.district_ses[self.district] + rng.normal(0, params.block_ses_sd, self.n_blocks), 0, 1)
        self.state_presence = np.where(self.poor, params.state_presence_poor, params.state_presence_rich)
        self.state_presence = self.state_presence * np.where(self.barrier, params.barrier_access, 1.0)
        self.access = np.where(self.barrier, params.barrier_access, 1.0)

        self.population = np.zeros(self.n_blocks, dtype=np.int64)
        self.police_presence = np.zeros(self.n_blocks)
        self.gang_owner = np.full(self.n_blocks, -1, dtype=np.int64)
        self.gang_control = np.zeros(self.n_blocks)
        self.collective_efficacy = np.zeros(self.n_blocks)
        self.violence_exposure = np.zeros(self.n_blocks)
        self.homicides = np.zeros(self.n_blocks, dtype=np.int64)
        # This week's confrontations in each block (set by the violence step).
        self.confrontations = np.zeros(self.n_blocks, dtype=np.int64)
        # What residents learn of the police each week, reset after they update trust:
        # stops seen (just and abusive), cases gone cold, killings by police.
        self.contacts_just = np.zeros(self.n_blocks, dtype=np.int64)
        self.contacts_abusive = np.zeros(self.n_blocks, dtype=np.int64)
        self.impunity = np.zeros(self.n_blocks)
        self.police_killings = np.zeros(self.n_blocks)
        # Residents' mean chance of reporting and giving witness information.
        self.reporting = np.zeros(self.n_blocks)
        self.segregation_index = float("nan")

    def density_weights(self, poor_density: float) -> np.ndarray:
        """Relative number of people per block (informal settlements are denser)."""
        return np.where(self.poor, poor_density, 1.0)

    def household_ses(self, blocks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """SES of households living in ``blocks``: sorted by place as segregation says."""
        seg = self.params.segregation
        city_draw = rng.permutation(self.ses[blocks])  # same city-wide distribution, no place
        return np.clip(seg * self.ses[blocks] + (1 - seg) * city_draw + rng.normal(0, self.params.household_ses_sd, len(blocks)), 0, 1)

    def measure_segregation(self, household_ses: np.ndarray, blocks: np.ndarray) -> float:
        """Dissimilarity index of poor vs non-poor households across districts.

        Poor households are those below the city's ``poor_share`` SES quantile.
        """
        cut = np.quantile(household_ses, self.params.poor_share)
        poor = household_ses < cut
        districts = self.district[blocks]
        poor_d = np.bincount(districts[poor], minlength=self.n_districts)
        rich_d = np.bincount(districts[~poor], minlength=self.n_districts)
        if poor_d.sum() == 0 or rich_d.sum() == 0:  # no poor or no other households: nothing apart
            self.segregation_index = 0.0
            return 0.0
        d = 0.5 * np.abs(poor_d / poor_d.sum() - rich_d / rich_d.sum()).sum()
        self.segregation_index = float(d)
        return self.segregation_index

    def grid(self, field: np.ndarray) -> np.ndarray:
        """A block field as a ``(height, width)`` map."""
        return np.asarray(field).reshape(self.height, self.width)

    def neighbourhood_sum(self, field: np.ndarray) -> np.ndarray:
        """Sum of a block field over each block's 3x3 Moore neighbourhood (itself included)."""
        g = self.grid(field).astype(float)
        p = np.pad(g, 1)
        out = (
            p[:-2, :-2] + p[:-2, 1:-1] + p[:-2, 2:]
            + p[1:-1, :-2] + p[1:-1, 1:-1] + p[1:-1, 2:]
            + p[2:, :-2] + p[2:, 1:-1] + p[2:, 2:]
        )
        return out.ravel()

    @functools.cached_property
    def moore(self) -> np.ndarray:
        """``(n_blocks, 9)`` indices of each block's 3x3 neighbourhood, -1 beyond the edge."""
        return self.window(1)

    def window(self, radius: int) -> np.ndarray:
        """``(n_blocks, (2r+1)^2)`` indices of the blocks within ``radius`` (Chebyshev), -1 beyond the edge."""
        cache = self.__dict__.setdefault("_windows", {})  # per city: a class-level cache would keep cities alive
        if radius in cache:
            return cache[radius]
        cols = []
        for dy in range(-radius, radius + 1):
            for dx in range(-radius, radius + 1):
                x, y = self.x + dx, self.y + dy
                inside = (x >= 0) & (x < self.width) & (y >= 0) & (y < self.height)
                cols.append(np.where(inside, y * self.width + x, -1))
        cache[radius] = np.stack(cols, axis=1)
        return cache[radius]

    def near_members(self, counts: np.ndarray, gang: np.ndarray, radius: int = 1) -> np.ndarray:
        """For each block, members of gang ``gang[b]`` living within ``radius`` blocks
        (Chebyshev distance, the blocks of :meth:`window`).

        ``counts`` is ``(n_gangs, n_blocks)`` whole numbers; blocks with ``gang < 0``
        get 0. Each gang's counts are summed once into a summed-area table, from which
        a block's window total is four lookups.
        """
        out = np.zeros(self.n_blocks)
        if counts.size == 0:
            return out
        n_g = counts.shape[0]
        table = np.zeros((n_g, self.height + 1, self.width + 1), dtype=np.int64)
        grid = counts.reshape(n_g, self.height, self.width)
        np.cumsum(np.cumsum(grid, axis=1), axis=-1, out=table[:, 1:, 1:])
        x0, x1, y0, y1 = self._box_corners(radius)
        held = np.flatnonzero(gang >= 0)
        g = gang[held]
        x0, x1, y0, y1 = x0[held], x1[held], y0[held], y1[held]
        out[held] = table[g, y1, x1] - table[g, y0, x1] - table[g, y1, x0] + table[g, y0, x0]
        return out

    def _box_corners(self, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per block, the corners of its window in a summed-area table (whose row and
        column 0 are zeros): first and one-past-last column and row."""
        cache = self.__dict__.setdefault("_boxes", {})
        if radius not in cache:
            cache[radius] = (
                np.maximum(self.x - radius, 0), np.minimum(self.x + radius, self.width - 1) + 1,
                np.maximum(self.y - radius, 0), np.minimum(self.y + radius, self.height - 1) + 1,
            )
        return cache[radius]

    @functools.cached_property
    def von_neumann(self) -> np.ndarray:
        return self.neighbours()

    def neighbours(self) -> np.ndarray:
        """``(n_blocks, 4)`` indices of the von Neumann neighbours, -1 beyond the edge."""
        b = np.arange(self.n_blocks)
        out = np.full((self.n_blocks, 4), -1, dtype=np.int64)
        out[:, 0] = np.where(self.x > 0, b - 1, -1)
        out[:, 1] = np.where(self.x < self.width - 1, b + 1, -1)
        out[:, 2] = np.where(self.y > 0, b - self.width, -1)
        out[:, 3] = np.where(self.y < self.height - 1, b + self.width, -1)
        return out
