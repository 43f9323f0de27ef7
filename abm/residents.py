"""Residents: trust in police, fear of retaliation, reporting and collective efficacy.

Trust (legitimacy, 0-1) moves with contacts seen in the block: procedurally just
stops raise it, abusive ones lower it more (Mazerolle et al. 2013; Desmond et al.
2016), and so do impunity (homicides whose cases went cold) and killings by police. It slowly returns to
its initial level. Fear follows the strength of gang control times the gang's
organisation, and recent victimisation. Reporting (and giving witness information)
rises with trust and collective efficacy and falls with fear. Collective efficacy of a
block follows, slowly, its residents' willingness to intervene.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from abm.behaviour import sigmoid

if TYPE_CHECKING:
    from abm.config import ResidentParams
    from abm.model import CityModel


def report_probability(params: ResidentParams, trust: np.ndarray, efficacy: np.ndarray, fear: np.ndarray) -> np.ndarray:
    """Chance a resident reports a crime and gives witness information."""
    return sigmoid(
        params.report_base + params.report_trust * trust + params.report_efficacy * efficacy - params.report_fear * fear
    )


def fear_of_retaliation(
    params: ResidentParams, control: np.ndarray, organisation: np.ndarray, victimised: np.ndarray
) -> np.ndarray:
    """Fear, 0-1: strong control by an organised gang, and one's own recent victimisation."""
    return np.clip(
        control * (params.fear_control_base + params.fear_organisation * organisation)
        + params.fear_victimisation * victimised,
        0,
        1,
    )


def willingness(
    params: ResidentParams, trust: np.ndarray, ses: np.ndarray, employed: np.ndarray, fear: np.ndarray
) -> np.ndarray:
    """A resident's willingness to exercise informal social control, 0-1."""
    return np.clip(
        params.willingness_base
        + params.willingness_trust * trust
        + params.willingness_ses * ses
        + params.willingness_employed * employed
        - params.willingness_fear * fear,
        0,
        1,
    )


def initialise(model: CityModel) -> None:
    res, p, city = model.residents, model.p.residents, model.city
    mean = p.trust_initial if p.trust_start is None else p.trust_start
    res.trust[:] = np.clip(model.streams.get("trust_initial").normal(mean, p.trust_initial_sd, res.n), 0, 1)
    _fear(model)
    target = _block_mean(model, willingness(p, res.trust, res.ses, res.employed, res.fear))
    city.collective_efficacy[:] = target
    _reporting(model)


def _block_mean(model: CityModel, values: np.ndarray) -> np.ndarray:
    res, n_b = model.residents, model.city.n_blocks
    alive = res.alive
    total = np.bincount(res.block[alive], weights=values[alive], minlength=n_b)
    count = np.bincount(res.block[alive], minlength=n_b)
    return np.divide(total, count, out=np.zeros(n_b), where=count > 0)


def support_efficacy(model: CityModel, blocks: np.ndarray | slice, rate) -> None:
    """Outside support (beat officers, municipal or state services) raises collective
    efficacy on ``blocks`` (indices, or a slice) by ``rate`` a week (a number, or one per
    block), limited by the residents' mean fear there and by the efficacy already reached:
    efficacy_b += rate_b x (1 - mean fear_b) x (1 - efficacy_b)."""
    city = model.city
    fear = _block_mean(model, model.residents.fear)[blocks]
    efficacy = city.collective_efficacy[blocks]
    city.collective_efficacy[blocks] = np.clip(efficacy + rate * (1 - fear) * (1 - efficacy), 0, 1)


def _fear(model: CityModel) -> None:
    res, city = model.residents, model.city
    block_org = model.gangs.of(model.gangs.organisation, city.gang_owner)
    res.fear[:] = fear_of_retaliation(
        model.p.residents, city.gang_control[res.block], block_org[res.block], res.victimised
    )


def _reporting(model: CityModel) -> None:
    res, city = model.residents, model.city
    res.report_prob[:] = report_probability(model.p.residents, res.trust, city.collective_efficacy[res.block], res.fear)
    city.reporting[:] = _block_mean(model, res.report_prob)


def update(model: CityModel) -> None:
    res, p, city = model.residents, model.p.residents, model.city
    pop = np.maximum(np.bincount(res.block[res.alive], minlength=city.n_blocks), 1)
    # Each resident hears of a stop with chance witnesses_per_contact / residents (at most 1).
    seen = np.minimum(1.0, p.witnesses_per_contact / pop)
    delta = (
        p.trust_just * city.contacts_just * seen
        - p.trust_abuse * city.contacts_abusive * seen
        - p.trust_impunity * city.impunity
        - p.trust_police_killing * city.police_killings
    )
    city.impunity[:] = 0
    city.police_killings[:] = 0
    res.trust += delta[res.block] + p.trust_reversion * (p.trust_initial - res.trust)
    np.clip(res.trust, 0, 1, out=res.trust)
    res.victimised *= np.exp(-1.0 / p.victim_memory_weeks)
    np.clip(res.victimised, 0, 1, out=res.victimised)
    _fear(model)
    target = _block_mean(model, willingness(p, res.trust, res.ses, res.employed, res.fear))
    city.collective_efficacy += p.efficacy_adapt * (target - city.collective_efficacy)
    _reporting(model)
    city.population[:] = np.bincount(res.block[res.alive], minlength=city.n_blocks) + np.bincount(
        model.youths.block[model.youths.alive], minlength=city.n_blocks
    )
