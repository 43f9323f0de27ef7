"""Scenarios: the validated parameters of one simulated city.

A scenario is a TOML file in ``configs/``. TOML rather than YAML because a config is
data a researcher edits by hand: TOML has one way to write a boolean (YAML 1.1 reads
``no`` as False, a trap for country codes and answers), no implicit dates or octal
numbers, and Python reads it with the standard library (``tomllib``), which never
executes anything.

A file may name a ``base`` file (relative to itself); its tables are merged over the
base's, key by key. The presets reuse the calibrated behaviour of ``baseline.toml``
this way and change only the size of the city.

Every field has a type, a range and a unit (its description). Unknown keys are
refused. Problems are reported as :class:`ConfigError`, whose message names the file,
the dotted field path and the problem, e.g.::

    configs/district.toml: police.officers: must be >= 0 (got -5)
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from abm import policies
from abm import presets
from abm.policies import PoliciesParams
from abm.schema import MAX_STEPS, ConfigError, NonNeg, SafeName, Section, Share, param


# Sources used by many fields.
CALIBRATED = "calibrated to the baseline targets (abm calibrate)"
ASSUMPTION = "assumption"
SCALE = "scale choice (the presets differ in size, not behaviour)"


class RunParams(Section):
    steps: int = param(520, "weeks simulated (one step = one week)", unit="weeks", source=SCALE,
                       grade="assumption", ge=1, le=MAX_STEPS)
    burn_in: int = param(104, "weeks excluded from the run summary", unit="weeks", source=ASSUMPTION,
                         grade="assumption", ge=0, le=MAX_STEPS)


class CityParams(Section):
    width: int = param(50, "blocks east-west", unit="blocks", source=SCALE, grade="assumption", ge=4, le=1000)
    height: int = param(50, "blocks north-south", unit="blocks", source=SCALE, grade="assumption", ge=4, le=1000)
    district_size: int = param(10, "side of a square district, in blocks", unit="blocks", source=ASSUMPTION,
                               grade="assumption", ge=2, le=100)
    poor_share: Share = param(0.4, "share of districts that are poor", unit="share",
                              source="assumption; chapter 3.1: regional poverty 41.7% falling to 25.3%",
                              grade="weak")
    segregation: Share = param(
        0.8,
        "0: poor districts anywhere and household SES unrelated to place; "
        "1: poor districts clustered on the periphery and households sorted by place",
        unit="index (0-1)",
        source="assumption; reported as the measured dissimilarity index (about 0.8 at default)",
        grade="assumption",
    )
    barrier_share: Share = param(0.3, "share of poor districts behind barriers (hills, walls, rivers)",
                                 unit="share of poor districts",
                                 source="assumption; chapter 3: topographic barriers segment poor areas",
                                 grade="assumption")
    barrier_access: Share = param(0.4, "relative reach of patrols, ties and the state across a barrier (1 = no barrier)",
                                  unit="relative units", source=ASSUMPTION, grade="assumption")
    poor_density: float = param(1.6, "people per block in poor districts relative to others", unit="ratio",
                                source="assumption; chapter 3: higher density in poor areas", grade="assumption",
                                ge=0.1, le=10)
    state_presence_poor: Share = param(0.35, "state presence in poor districts", unit="index (0-1)",
                                       source="assumption; chapter 3: uneven services", grade="assumption")
    state_presence_rich: Share = param(0.85, "state presence elsewhere", unit="index (0-1)", source=ASSUMPTION,
                                       grade="assumption")
    poor_ses_min: Share = param(0.05, "lowest SES of a poor district (drawn uniformly up to poor_ses_max)",
                                unit="SES (0-1)", source=ASSUMPTION, grade="assumption")
    poor_ses_max: Share = param(0.35, "highest SES of a poor district", unit="SES (0-1)", source=ASSUMPTION,
                                grade="assumption")
    rich_ses_min: Share = param(0.45, "lowest SES of a non-poor district (drawn uniformly up to rich_ses_max)",
                                unit="SES (0-1)", source=ASSUMPTION, grade="assumption")
    rich_ses_max: Share = param(0.95, "highest SES of a non-poor district", unit="SES (0-1)", source=ASSUMPTION,
                                grade="assumption")
    block_ses_sd: NonNeg = param(0.04, "standard deviation of a block's SES around its district's", unit="SES (0-1)",
                                 source=ASSUMPTION, grade="assumption", le=1)
    household_ses_sd: NonNeg = param(0.05, "standard deviation of a household's SES around its place's",
                                     unit="SES (0-1)", source=ASSUMPTION, grade="assumption", le=1)


class PopulationParams(Section):
    people: int = param(100_000, "persons simulated (one agent each)", unit="persons", source=SCALE,
                        grade="assumption", ge=200, le=5_000_000)
    youth_share: float = param(0.17, "share aged 15-24", unit="share",
                               source="ILO via Fondation Forge: 16.2% (2021); UNFPA: 17.7% (2013)",
                               grade="moderate", ge=0.01, le=0.9)
    youth_unemployment: Share = param(0.20, "unemployment among youths out of school", unit="share",
                                      source="ILO Panorama Laboral: 13.8% (2024), 18-20% (2016-22)", grade="moderate")
    school_enrolment: Share = param(0.60, "share of youths in school at 15 in a middle-SES block", unit="share",
                                    source=CALIBRATED + "; CEPAL: poorest urban quartile drops out about 3x as often",
                                    grade="weak")
    school_ses_base: NonNeg = param(0.4, "enrolment factor at SES 0 (multiplies school_enrolment)", unit="relative units",
                                    source="assumption; CEPAL: poorest urban quartile drops out about 3x as often",
                                    grade="weak", le=10)
    school_ses_slope: NonNeg = param(1.2, "rise of the enrolment factor per unit SES", unit="relative units per unit SES",
                                     source="assumption; CEPAL: poorest urban quartile drops out about 3x as often",
                                     grade="weak", le=10)
    school_max: Share = param(0.98, "highest chance of being in school at entry", unit="share", source=ASSUMPTION,
                              grade="assumption")
    employment_ses_base: NonNeg = param(0.55, "equilibrium youth employment factor at SES 0 (multiplies 1 - youth_unemployment)",
                                        unit="relative units", source=ASSUMPTION, grade="assumption", le=10)
    employment_ses_slope: NonNeg = param(0.9, "rise of the youth employment factor per unit SES",
                                         unit="relative units per unit SES", source=ASSUMPTION,
                                         grade="assumption", le=10)
    employment_max: Share = param(0.98, "highest equilibrium employment of out-of-school youths", unit="share",
                                  source=ASSUMPTION, grade="assumption")
    adult_employment: Share = param(0.70, "share of residents employed in a middle-SES block", unit="share",
                                    source=ASSUMPTION, grade="assumption")
    adult_employment_ses_base: NonNeg = param(0.6, "resident employment factor at SES 0 (multiplies adult_employment)",
                                              unit="relative units", source=ASSUMPTION, grade="assumption", le=10)
    adult_employment_ses_slope: NonNeg = param(0.8, "rise of the resident employment factor per unit SES",
                                               unit="relative units per unit SES", source=ASSUMPTION,
                                               grade="assumption", le=10)
    peer_degree: float = param(6.0, "mean friends per youth", unit="friends", source=ASSUMPTION, grade="assumption",
                               ge=0, le=30)
    peer_degree_cap_factor: NonNeg = param(2.0, "most friends a youth can have, as a multiple of peer_degree",
                                           unit="ratio", source=ASSUMPTION, grade="assumption", le=10)
    peer_degree_cap_min: int = param(4, "most friends a youth can have, at least", unit="friends", source=ASSUMPTION,
                                     grade="assumption", ge=1, le=1000)
    peer_same_block: Share = param(0.5, "share of friendships within the block", unit="share", source=ASSUMPTION,
                                   grade="assumption")
    peer_same_district: Share = param(0.35, "share of friendships within the district (school)", unit="share",
                                      source=ASSUMPTION, grade="assumption")


class YouthParams(Section):
    join_base: float = param(-6.5, "log-odds of joining per week, all else zero", unit="log-odds per week",
                             source=CALIBRATED, grade="weak", ge=-20, le=5)
    join_peer: float = param(3.0, "log-odds per unit share of friends in gangs", unit="log-odds", source=CALIBRATED,
                             grade="weak", ge=0, le=20)
    join_exposure: float = param(1.5, "log-odds per unit violence exposure of the block", unit="log-odds",
                                 source=CALIBRATED + "; chapter 3: growing up in crime-affected areas", grade="weak",
                                 ge=0, le=20)
    join_demand: float = param(2.0, "log-odds per unit recruitment demand of the local gang", unit="log-odds",
                               source=CALIBRATED, grade="weak", ge=0, le=20)
    join_income: float = param(1.0, "log-odds per unit gang income advantage over legal work", unit="log-odds",
                               source=CALIBRATED + "; Becker 1968 via chapter 3.1", grade="weak", ge=0, le=20)
    income_half_saturation: float = param(
        1.0, "gang income per member at which the income advantage is one half (advantage = x / (x + this))",
        unit="relative units", source=ASSUMPTION, grade="assumption", gt=0, le=100)
    join_legal: float = param(1.2, "log-odds lost by a youth in school or work", unit="log-odds",
                              source=CALIBRATED + "; chapter 3.1: unemployment and school non-completion go with recruitment",
                              grade="weak", ge=0, le=20)
    join_sanction: float = param(2.0, "log-odds per unit perceived certainty x severity", unit="log-odds",
                                 source=CALIBRATED, grade="weak", ge=0, le=20)
    join_efficacy: float = param(2.5, "log-odds per unit collective efficacy of the block", unit="log-odds",
                                 source=CALIBRATED, grade="weak", ge=0, le=20)
    join_self_control: float = param(2.0, "log-odds per unit self-control", unit="log-odds", source=CALIBRATED,
                                     grade="weak", ge=0, le=20)
    join_propensity: float = param(2.0, "log-odds per unit violence propensity", unit="log-odds", source=CALIBRATED,
                                   grade="weak", ge=0, le=20)
    exit_base: float = param(0.0085, "weekly desistance hazard before multipliers", unit="per week",
                             source="Pyrooz & Sweeten 2015: 36%/yr turnover = 0.0085/week (calc); "
                                    "Rio: 0.0049/week (Observatório de Favelas)",
                             grade="strong", ge=0, le=1)
    exit_job: float = param(1.0, "relative hazard increase with a legal job", unit="relative units", source=ASSUMPTION,
                            grade="assumption", ge=0, le=10)
    exit_age: float = param(0.08, "relative hazard increase per year of age over 15", unit="relative units per year",
                            source=ASSUMPTION, grade="assumption", ge=0, le=1)
    exit_cbt: NonNeg = param(1.0, "relative hazard increase per unit current CBT effect", unit="relative units",
                             source=ASSUMPTION, grade="assumption", le=10)
    exit_organisation: float = param(0.6, "hazard reduction in a fully organised gang", unit="share", source=ASSUMPTION,
                                     grade="assumption", ge=0, le=1)
    self_control_shape: float = param(4.0, "both shape parameters of the Beta distribution of self-control "
                                      "(mean 0.5; larger is narrower)", unit="shape", source=ASSUMPTION,
                                      grade="assumption", gt=0, le=1000)
    propensity_self_control: Share = param(0.5, "propensity (at entry and in its target) per unit lack of self-control",
                                           unit="propensity per unit",
                                           source="assumption; self-control theory (Gottfredson & Hirschi 1990; "
                                                  "docs/evidence.md#a22-self-control-collective-efficacy-and-peers)",
                                           grade="assumption")
    propensity_initial_sd: NonNeg = param(0.05, "standard deviation of propensity at entry around its target",
                                          unit="propensity (0-1)", source=ASSUMPTION, grade="assumption", le=1)
    propensity_adapt: Share = param(0.05, "weekly speed at which propensity moves to its target", unit="per week",
                                    source=ASSUMPTION, grade="assumption")
    propensity_member: Share = param(0.25, "propensity added by gang membership", unit="propensity (0-1)",
                                     source=ASSUMPTION, grade="assumption")
    propensity_exposure: Share = param(0.3, "propensity added per unit of violence exposure",
                                       unit="propensity per unit exposure", source=ASSUMPTION, grade="assumption")
    propensity_released: Share = param(0.15, "propensity added after a prison term", unit="propensity (0-1)",
                                       source=ASSUMPTION, grade="assumption")
    propensity_abusive_stop: Share = param(0.0, "propensity added per abusive stop a youth suffered, while its "
                                           "memory lasts (defiance, labelling); 0: stops do nothing to the youth "
                                           "stopped", unit="propensity per stop",
                                           source="direction: boys stopped by the police report more delinquency "
                                                  "later (Del Toro et al. 2019, stops of any kind; "
                                                  "docs/evidence.md#a18-procedural-justice-and-trust); no size "
                                                  "measured, off by default", grade="assumption")
    abusive_stop_memory_weeks: float = param(26.0, "mean life of the memory of an abusive stop",
                                             unit="weeks", source="assumption; Del Toro et al. 2019 find the "
                                             "effect 6 to 18 months later", grade="assumption", gt=0, le=520)
    certainty_police: Share = param(0.5, "weight of police around home in perceived certainty of sanction",
                                    unit="share", source="assumption; certainty matters more than severity (Nagin 2013)",
                                    grade="assumption")
    certainty_police_slope: NonNeg = param(3.0, "how fast the police part of certainty saturates with mean "
                                           "officers per block around home (1 - exp(-slope x officers))",
                                           unit="per officer", source=ASSUMPTION, grade="assumption", le=100)
    certainty_clearance: Share = param(0.5, "weight of the city's recent homicide clearance in perceived certainty",
                                       unit="share", source=ASSUMPTION, grade="assumption")
    certainty_own_arrest: Share = param(0.0, "weight of a youth's own recent arrests in his perceived certainty of "
                                        "sanction (times 1 - exp(-recent arrests)); 0: his own experience counts "
                                        "for nothing", unit="share",
                                        source="direction: young men's perceived risk of arrest rises after their "
                                               "own arrest and barely follows local conditions (Lochner 2007; "
                                               "Anwar & Loughran 2011; "
                                               "docs/evidence.md#a16-deterrence-certainty-and-severity); no size "
                                               "set, off by default", grade="assumption")
    arrest_memory_weeks: float = param(52.0, "mean life of the memory of one's own arrest in perceived certainty",
                                       unit="weeks", source=ASSUMPTION, grade="assumption", gt=0, le=520)
    prior_clearance: Share = param(0.3, "clearance youths assume before any homicide of the past year is recorded",
                                   unit="share", source="assumption; Brazil clears 32-44% (Sou da Paz)",
                                   grade="weak")
    severity_reference_weeks: float = param(104.0, "sentence perceived as the most severe (perceived severity = "
                                            "sentence / this, at most 1)", unit="weeks", source=ASSUMPTION,
                                            grade="assumption", gt=0, le=5200)
    risk_certainty: Share = param(0.5, "perceived risk per unit certainty at no severity", unit="share",
                                  source="assumption; certainty weighs more than severity (Nagin 2013)",
                                  grade="assumption")
    risk_severity: Share = param(0.5, "perceived risk per unit certainty x severity", unit="share",
                                 source="assumption; certainty weighs more than severity (Nagin 2013)",
                                 grade="assumption")
    job_loss: Share = param(0.01, "weekly chance of losing a job", unit="per week", source=ASSUMPTION,
                            grade="assumption")
    member_job_finding: Share = param(0.5, "job finding of gang members relative to other youths",
                                      unit="relative units", source=ASSUMPTION, grade="assumption")
    dropout: Share = param(0.004, "weekly school dropout hazard at median SES", unit="per week",
                           source="CEPAL: about 37% of 15-19-year-olds drop out; poorest quartile about 3x the richest",
                           grade="moderate")
    dropout_ses_base: NonNeg = param(1.8, "dropout factor at SES 0 (multiplies dropout)", unit="relative units",
                                     source="assumption; CEPAL: poorest urban quartile about 3x the richest",
                                     grade="weak", le=10)
    dropout_ses_slope: NonNeg = param(1.6, "fall of the dropout factor per unit SES", unit="relative units per unit SES",
                                      source="assumption; CEPAL: poorest urban quartile about 3x the richest",
                                      grade="weak", le=10)
    dropout_factor_min: NonNeg = param(0.2, "lowest dropout factor", unit="relative units", source=ASSUMPTION,
                                       grade="assumption", le=100)
    dropout_factor_max: NonNeg = param(2.0, "highest dropout factor", unit="relative units", source=ASSUMPTION,
                                       grade="assumption", le=100)
    release_stigma: Share = param(0.7, "reduction of job finding after prison", unit="share", source=ASSUMPTION,
                                  grade="assumption")


class GangParams(Section):
    per_poor_district: float = param(1.0, "gangs founded per poor district", unit="gangs", source=ASSUMPTION,
                                     grade="assumption", ge=0, le=10)
    initial_member_share: Share = param(0.12, "share of youths in gang territory who are members at start",
                                        unit="share", source="Hennigan et al. 2015: 10-19% in high-risk US areas; "
                                        "Pyrooz & Sweeten 2015", grade="moderate")
    initial_member_control: NonNeg = param(1.0, "members at start per unit initial_member_share per unit control "
                                           "of the block (1: the share holds where control is full)",
                                           unit="relative units",
                                           source="assumption; at 1 the members at start are those the baseline "
                                                  "settles at (about 7% of youths in gang territory)",
                                           grade="assumption", le=100)
    territory_radius: NonNeg = param(0.8, "reach of a gang's founding territory from its seed",
                                     unit="district sides", source=ASSUMPTION, grade="assumption", le=100)
    control_initial: Share = param(0.9, "control at a gang's seed at start (falls with distance, "
                                   "over a district side)", unit="share", source=ASSUMPTION, grade="assumption")
    control_initial_min: Share = param(0.1, "lowest control of a founding block", unit="share", source=ASSUMPTION,
                                       grade="assumption")
    market_income: NonNeg = param(1.0, "weekly illicit income per market_scale residents of a held block, at "
                                  "SES 0 and full control (it scales with 1 - SES and with control)",
                                  unit="relative units", source=CALIBRATED, grade="weak", le=1000)
    market_scale: float = param(10.0, "residents per unit of market income (divides population x poverty x "
                                "control x market_income)", unit="persons", source=ASSUMPTION,
                                grade="assumption", ge=0.01, le=1e6)
    income_per_member_scale: float = param(10.0, "divides income per member into the income advantage seen by "
                                           "youths and by organisation", unit="relative units", source=ASSUMPTION,
                                           grade="assumption", ge=0.01, le=1e6)
    target_members_per_income: NonNeg = param(2.0, "members a gang wants per unit of weekly income",
                                              unit="members per income unit", source=CALIBRATED, grade="weak", le=1000)
    target_members_scale: float = param(10.0, "divides income x target_members_per_income into the members wanted",
                                        unit="relative units", source=ASSUMPTION, grade="assumption", ge=0.01, le=1e6)
    control_growth: Share = param(0.05, "weekly gain of control where the gang has members", unit="per week",
                                  source=ASSUMPTION, grade="assumption")
    control_reach: int = param(1, "blocks from home within which a gang's members keep its control of a block",
                               unit="blocks", source=ASSUMPTION, grade="assumption", ge=0, le=10)
    control_members_scale: float = param(3.0, "members around a block at which control growth reaches "
                                         "1 - 1/e of its full rate", unit="members", source=ASSUMPTION,
                                         grade="assumption", ge=0.01, le=1e6)
    control_decay: Share = param(0.01, "weekly loss of control", unit="per week", source=ASSUMPTION,
                                 grade="assumption")
    control_lost: Share = param(0.02, "control below which a gang loses a block", unit="share", source=ASSUMPTION,
                                grade="assumption")
    expansion: Share = param(0.02, "weekly chance a gang takes a weakly held neighbouring block", unit="per week",
                             source=ASSUMPTION, grade="assumption")
    members_per_block: NonNeg = param(0.7, "free members a gang needs per block it holds to take more: its "
                                      "expansion chance falls in proportion as its members thin out toward this "
                                      "many per block, and stops there", unit="members per block",
                                      source="assumption; territory is held by members' presence (chapter 3.2); "
                                             "without it territory grows without end", grade="assumption", le=1000)
    expansion_margin: Share = param(0.2, "control by which a neighbouring block must be stronger to take a block",
                                    unit="share", source=ASSUMPTION, grade="assumption")
    control_taken: Share = param(0.3, "control of a taken block, as a share of the taker's control next door",
                                 unit="share", source=ASSUMPTION, grade="assumption")
    state_resistance: Share = param(0.8, "chance per unit state presence that the state stops an expansion",
                                    unit="share", source="assumption; chapter 3: uneven state presence",
                                    grade="assumption")
    extortion_organisation: NonNeg = param(1.0, "relative rise of a gang's income (extortion) per unit organisation",
                                           unit="relative units", source="assumption; chapter 3.2 (organised groups "
                                           "extort)", grade="assumption", le=100)
    organisation_growth: NonNeg = param(0.0025, "weekly organisation gain per unit of resources per member",
                                        unit="per week per unit income per member", source=ASSUMPTION,
                                        grade="assumption", le=10)
    organisation_income_cap: NonNeg = param(5.0, "resources per member beyond which organisation grows no faster",
                                            unit="relative units", source=ASSUMPTION, grade="assumption", le=1000)
    organisation_prison: NonNeg = param(0.01, "weekly organisation gain per unit share of members in prison, "
                                        "x overcrowding", unit="per week",
                                        source="mechanism: Lessing 2016; Small Arms Survey (prisons as recruiting "
                                               "centres); value assumption", grade="weak", le=10)
    organisation_decay: Share = param(0.01, "weekly organisation loss", unit="per week", source=ASSUMPTION,
                                      grade="assumption")
    rivalry_range: int = param(2, "territories closer than this many blocks are rivals", unit="blocks",
                               source="assumption; Brantingham et al. 2012: between-gang shootings cluster within "
                                      "2 blocks of turf boundaries", grade="weak", ge=1, le=20)
    rivalry_interval_weeks: int = param(13, "weeks between updates of the rivalry network", unit="weeks",
                                        source=ASSUMPTION, grade="assumption", ge=1, le=520)


class ViolenceParams(Section):
    gang_rate: NonNeg = param(0.015, "weekly confrontations per contested block at unit intensity",
                              unit="confrontations per week", source=CALIBRATED, grade="weak", le=10)
    propensity_friction: NonNeg = param(2.0, "friction per unit mean propensity of the two gangs (2: unit "
                                        "intensity at propensity 0.5)", unit="relative units", source=ASSUMPTION,
                                        grade="assumption", le=20)
    reach: int = param(2, "blocks members range from home to hold and fight over turf", unit="blocks",
                       source="assumption; Brantingham et al. 2012: shootings within 2 blocks of turf boundaries",
                       grade="weak", ge=0, le=10)
    youth_rate: NonNeg = param(0.0025, "weekly confrontations per non-member youth at unit propensity",
                               unit="confrontations per week", source=CALIBRATED, grade="weak", le=1)
    lethality: Share = param(0.2, "share of confrontations that kill (firearm availability)", unit="share",
                             source="Cook et al. 2017: US gunshot-assault case fatality 22%; firearm share of "
                                    "homicides 63-84% in the region (Small Arms Survey and others)",
                             grade="moderate")
    grievance_effect: NonNeg = param(0.175, "retaliatory confrontations per week per unit grievance between two gangs",
                                     unit="confrontations per week",
                                     source="calc: R = 0.63 (Green et al. 2017) / (18 weeks x 0.2)",
                                     grade="moderate", le=10)
    grievance_member_killed: NonNeg = param(1.0, "grievance a gang gains against the killer's gang when one of its "
                                            "members is killed", unit="relative units", source=ASSUMPTION,
                                            grade="assumption", le=100)
    grievance_outsider_killed: NonNeg = param(0.3, "grievance gained when the killer's gang kills a bystander or "
                                              "non-member in the war", unit="relative units", source=ASSUMPTION,
                                              grade="assumption", le=100)
    attacker_weight: NonNeg = param(0.5, "weight of each side before grievance in drawing the attacker "
                                    "(weight = this + grievance)", unit="relative units", source=ASSUMPTION,
                                    grade="assumption", le=100)
    grievance_memory_weeks: float = param(18.0, "mean life of grievance", unit="weeks",
                                          source="Green et al. 2017: mean infector-to-infectee delay 125 days",
                                          grade="strong", gt=0, le=520)
    police_deterrence: NonNeg = param(0.065, "log reduction of confrontation rate per officer present",
                                      unit="log per officer",
                                      source="set so that violence on hot spots answers presence there with an "
                                             "elasticity of about -0.26 over eight months, as in Bogotá's "
                                             "experiment (Newball-Ramírez et al. 2024; "
                                             "experiments/place_elasticity.toml; docs/evidence.md, A17)",
                                      grade="moderate", le=100)
    efficacy_damping: Share = param(0.6, "share of confrontations prevented by full collective efficacy",
                                    unit="share", source=ASSUMPTION, grade="assumption")
    organisation_restraint: Share = param(0.2, "share of visible violence an organised gang avoids", unit="share",
                                          source="about the most that the PCC's takeover of São Paulo's favelas "
                                                 "allows (violent crime -11%: Biderman et al. 2019; "
                                                 "docs/evidence.md, B4); direction from chapter 3.2 (organised "
                                                 "groups, less visible violence)", grade="weak")
    sanction_deterrence: Share = param(
        0.5, "share of confrontations a gang forgoes when its members are certain of a severe sanction",
        unit="share", source=ASSUMPTION, grade="assumption")
    bystander_share: Share = param(0.12, "share of gang homicide victims who are bystander residents", unit="share",
                                   source="assumption; no source for members vs bystanders among victims "
                                          "(unverified: docs/evidence.md#a3-who-is-killed)", grade="assumption")
    nonmember_victim_share: Share = param(0.10, "share of gang homicide victims who are non-member youths",
                                          unit="share",
                                          source="assumption (unverified: docs/evidence.md#a3-who-is-killed)",
                                          grade="assumption")
    exposure_per_confrontation: NonNeg = param(0.15, "violence exposure a block gains per confrontation in it",
                                               unit="exposure per confrontation", source=ASSUMPTION,
                                               grade="assumption", le=10)
    exposure_spillover: NonNeg = param(0.05, "violence exposure a block gains per confrontation in its 3x3 "
                                       "neighbourhood (itself included)", unit="exposure per confrontation",
                                       source="assumption; near-repeat risk (Ratcliffe & Rengert 2008)",
                                       grade="assumption", le=10)
    exposure_memory_weeks: float = param(26.0, "mean life of a block's violence exposure", unit="weeks",
                                         source=ASSUMPTION, grade="assumption", gt=0, le=520)


class PoliceParams(Section):
    officers: int = param(270, "all officers in the city, on patrol unless a policy takes them (community beats, "
                                "mano dura sweeps)", unit="officers",
                          source="Central America 267 per 100,000 (2011; Estado de la Nación via InSight Crime)",
                          grade="moderate", ge=0, le=100_000)
    hotspot_share: Share = param(0.5, "share of patrols sent to recent violence; the rest by population",
                                 unit="share", source="assumption; Braga et al. 2019 (hot-spots policing)",
                                 grade="assumption")
    presence_on_block: NonNeg = param(0.8, "presence per officer on the block itself, beside the spill-over",
                                      unit="officers", source=ASSUMPTION, grade="assumption", le=10)
    presence_spillover: NonNeg = param(0.2, "presence per officer in the 3x3 neighbourhood (the block included)",
                                       unit="officers", source=ASSUMPTION, grade="assumption", le=10)
    professionalism: Share = param(0.6, "share of contacts that are procedurally just", unit="share",
                                   source=ASSUMPTION, grade="assumption")
    contacts_per_officer: NonNeg = param(5.0, "stops of youths per officer per week", unit="stops per week",
                                         source="assumption; Famega et al. 2005: >75% of a shift not on dispatched "
                                                "calls", grade="assumption", le=100)
    member_detection: Share = param(0.05, "chance a stopped gang member is arrested", unit="probability",
                                    source=CALIBRATED, grade="weak")
    detection_information: NonNeg = param(2.0, "relative rise of member detection per unit reporting of the block's "
                                          "residents", unit="relative units", source=ASSUMPTION,
                                          grade="assumption", le=100)
    suspicion_arrest: Share = param(0.003, "chance a stopped non-member is arrested on suspicion", unit="probability",
                                    source=CALIBRATED, grade="weak")
    corruption: Share = param(0.2, "share of officers open to gang collusion", unit="share",
                              source="assumption; chapter 3.1-3.2 (corruption, organised crime buying protection)",
                              grade="assumption")
    force_lethality: Share = param(0.01, "chance an arrest of a member ends in a killing by police",
                                    unit="probability",
                                    source="assumption; compare killings by police at about 6% (El Salvador) to over "
                                           "10% (Brazil) of homicides", grade="weak")


class JusticeParams(Section):
    investigators_per_100k: NonNeg = param(60.0, "homicide cases the city's unit can work at once, per 100,000 "
                                           "people", unit="cases per 100,000", source=ASSUMPTION, grade="assumption",
                                           le=1e5)
    evidence_weeks: NonNeg = param(4.0, "weeks over which a homicide case's evidence fades (what is left after t "
                                     "weeks: exp(-t / evidence_weeks))", unit="weeks",
                                     source="direction: most homicides that are cleared are cleared within days or "
                                            "weeks, and the chance falls with time (Wellford & Cronin 1999; Regoeczi, "
                                            "Jarvis & Riedel 2008; neither checked); value assumption",
                                     grade="assumption", gt=0, le=520)
    other_evidence: Share = param(0.2, "share of a case's evidence that does not depend on the block's witnesses "
                                  "(arrest at the scene, physical evidence, family, informants)", unit="share",
                                  source="assumption; witnesses' information is among the strongest predictors of "
                                         "clearance, but not the only one (Wellford & Cronin 1999, not checked)",
                                  grade="assumption")
    clearance_base: Share = param(0.45, "weekly chance of clearing a worked case with full, fresh evidence",
                                  unit="per week",
                                  source=CALIBRATED + "; target clearance near Brazil's 32-44% (Sou da Paz)",
                                  grade="weak")
    case_life_weeks: int = param(52, "weeks after which an uncleared case goes cold", unit="weeks",
                                 source=ASSUMPTION, grade="assumption", ge=1, le=1040)
    conviction: Share = param(0.5, "chance a cleared homicide case ends in conviction", unit="probability",
                              source="calc: about 20% convicted (chapter; UNODC 24%) / about 40% cleared",
                              grade="moderate")
    homicide_sentence_weeks: int = param(780, "prison term for a homicide conviction", unit="weeks",
                                         source=ASSUMPTION, grade="assumption", ge=1, le=5200)
    charge_share: Share = param(0.45, "share of other arrests that are charged and held", unit="share",
                                source=ASSUMPTION, grade="assumption")
    sentence_weeks: int = param(78, "mean prison term for other charges", unit="weeks", source=ASSUMPTION,
                                grade="assumption", ge=1, le=5200)


class PrisonParams(Section):
    capacity_per_100k: NonNeg = param(350.0, "prison places per 100,000 people", unit="places per 100,000",
                                      source="assumption; incarceration 305 per 100,000 and 171 inmates per 100 "
                                             "places in Latin America (regional prison statistics)",
                                      grade="weak", le=100_000)
    week_cost: NonNeg = param(83.0, "cost of an inmate-week", unit="US$ per week",
                              source="calc: Brazil R$21,600 a prison-year (CNJ/Depen 2021) at about R$5 per US$, / 52",
                              grade="moderate", le=1e6)
    recruitment: Share = param(0.01, "weekly chance a non-member inmate joins a gang, at the reference member share "
                               "and no overcrowding", unit="per week",
                               source="mechanism: Lessing 2016; value assumption", grade="weak")
    recruitment_member_share: float = param(0.5, "share of members among inmates at which prison recruitment equals "
                                            "recruitment (it scales with the share)", unit="share",
                                            source=ASSUMPTION, grade="assumption", le=1, ge=0.01)
    initial_occupancy: NonNeg = param(1.05, "inmates per place at start: the prison starts where the baseline's "
                                      "settles, not empty", unit="inmates per place",
                                      source="the settled state of the baseline (years 8-20 of long runs; "
                                             "docs/ODD.md, Initialisation)", grade="assumption", le=10)
    initial_member_share: Share = param(0.8, "share of gang members among inmates at start", unit="share",
                                        source="the settled state of the baseline (years 8-20 of long runs)",
                                        grade="assumption")
    initial_homicide_share: Share = param(0.33, "share of inmates at start serving a homicide sentence",
                                          unit="share",
                                          source="the settled state of the baseline (years 8-20 of long runs)",
                                          grade="assumption")
    initial_min_age: float = param(16.0, "youngest inmate, or youth with a prison record, at start", unit="years",
                                   source=ASSUMPTION, grade="assumption", ge=15, le=25)
    initial_record_share: Share = param(0.03, "share of youths of initial_min_age or more, out of prison, with a "
                                        "prison record at start (released before)", unit="share",
                                        source="the settled state of the baseline (years 8-20 of long runs)",
                                        grade="assumption")
    overcrowding_effect: NonNeg = param(1.0, "relative rise of prison recruitment per unit occupancy over capacity",
                                        unit="relative units",
                                        source="assumption; occupancy 118-185% in the region (Cristosal/UCA, "
                                               "Senappen, CONADEH)", grade="assumption", le=100)


class ResidentParams(Section):
    trust_initial: Share = param(0.45, "mean trust in police at start", unit="index (0-1)",
                                 source="Gallup 2022: 52% confident in local police in the region", grade="moderate")
    trust_start: Share | None = param(None, "mean trust in police at start, where the baseline's trust settles when "
                                      "the parameters move it away from trust_initial (read per parameter set by abm "
                                      "settle); none: trust_initial", unit="index (0-1)",
                                      source="the settled state of the baseline (abm settle; docs/ODD.md, "
                                             "Initialisation)", grade="assumption")
    trust_initial_sd: NonNeg = param(0.15, "standard deviation of trust at start", unit="index (0-1)",
                                     source=ASSUMPTION, grade="assumption", le=1)
    witnesses_per_contact: NonNeg = param(20.0, "residents of the block who see or hear of a stop",
                                          unit="residents", source=ASSUMPTION, grade="assumption", le=10_000)
    trust_just: NonNeg = param(0.002, "trust gained per procedurally just contact per resident",
                               unit="trust per contact",
                               source="Mazerolle et al. 2013 (procedural justice raises confidence and cooperation; "
                                      "effect on legitimacy not significant); value bounded by Weisburd et al. 2022's "
                                      "trial (experiments/procedural_justice_trial.toml)", grade="weak", le=1)
    trust_abuse: NonNeg = param(0.003, "trust lost per abusive contact per resident", unit="trust per contact",
                                source="Desmond et al. 2016; contested by Zoorob 2020; Strom & Wire 2024; value "
                                       "bounded by Weisburd et al. 2022's trial (experiments/procedural_justice_trial"
                                       ".toml)", grade="weak", le=1)
    trust_impunity: NonNeg = param(0.01, "trust lost per uncleared homicide in the block", unit="trust per case",
                                   source=ASSUMPTION, grade="assumption", le=1)
    trust_police_killing: NonNeg = param(0.1, "trust lost by residents of a block where police kill",
                                         unit="trust per killing", source=ASSUMPTION, grade="assumption", le=1)
    trust_reversion: Share = param(0.005, "weekly pull toward the initial level", unit="per week", source=ASSUMPTION,
                                   grade="assumption")
    fear_control_base: NonNeg = param(0.3, "fear per unit gang control when the gang is not organised",
                                      unit="fear per unit control", source="assumption; chapter 3.2",
                                      grade="assumption", le=10)
    fear_organisation: NonNeg = param(0.7, "fear per unit gang control added by full organisation",
                                      unit="fear per unit control", source="assumption; chapter 3.2",
                                      grade="assumption", le=10)
    fear_victimisation: NonNeg = param(0.3, "fear per unit recent victimisation", unit="fear per unit",
                                       source=ASSUMPTION, grade="assumption", le=10)
    victimisation_per_killing: NonNeg = param(0.5, "recent victimisation added to residents of a block where a "
                                              "resident is killed", unit="relative units", source=ASSUMPTION,
                                              grade="assumption", le=10)
    report_base: float = param(-2.2, "log-odds of reporting at zero trust, efficacy and fear", unit="log-odds",
                               source="assumption; reported crime is about 10% (Mexico, ENVIPE) to 25% "
                                      "(10 countries, Chen et al. 2024)", grade="weak", ge=-20, le=20)
    report_trust: NonNeg = param(2.0, "log-odds per unit trust", unit="log-odds",
                                 source="assumption; ENVIPE: distrust 14-17% of reasons for not reporting",
                                 grade="weak", le=20)
    report_efficacy: NonNeg = param(1.5, "log-odds per unit collective efficacy", unit="log-odds",
                                    source=ASSUMPTION, grade="assumption", le=20)
    report_fear: NonNeg = param(3.0, "log-odds lost per unit fear", unit="log-odds",
                                source="assumption; chapter 3.2; fear of retaliation weak/unverified (ENDIREH)",
                                grade="assumption", le=20)
    willingness_base: float = param(0.15, "willingness to intervene with zero trust, SES, job and fear",
                                    unit="index (0-1)",
                                    source="assumption; collective efficacy (Sampson, Raudenbush & Earls 1997; "
                                           "docs/evidence.md#a22-self-control-collective-efficacy-and-peers)",
                                    grade="assumption", ge=-1, le=1)
    willingness_trust: NonNeg = param(0.35, "willingness per unit trust in police", unit="per unit trust",
                                      source=ASSUMPTION, grade="assumption", le=10)
    willingness_ses: NonNeg = param(0.3, "willingness per unit SES", unit="per unit SES", source=ASSUMPTION,
                                    grade="assumption", le=10)
    willingness_employed: NonNeg = param(0.15, "willingness added by a job", unit="index (0-1)", source=ASSUMPTION,
                                         grade="assumption", le=10)
    willingness_fear: NonNeg = param(0.5, "willingness lost per unit fear", unit="per unit fear", source=ASSUMPTION,
                                     grade="assumption", le=10)
    efficacy_adapt: Share = param(0.02, "weekly speed at which collective efficacy follows residents", unit="per week",
                                  source=ASSUMPTION, grade="assumption")
    victim_memory_weeks: float = param(52.0, "mean life of a resident's recent victimisation", unit="weeks",
                                       source=ASSUMPTION, grade="assumption", gt=0, le=520)


class Scenario(Section):
    """Every parameter of one simulated city. Presets differ in size, not behaviour."""

    name: SafeName = "scenario"
    description: str = ""
    base: str | None = Field(None, description="file this one extends (merged over)")
    run: RunParams = RunParams()
    city: CityParams = CityParams()
    population: PopulationParams = PopulationParams()
    youth: YouthParams = YouthParams()
    gangs: GangParams = GangParams()
    violence: ViolenceParams = ViolenceParams()
    police: PoliceParams = PoliceParams()
    justice: JusticeParams = JusticeParams()
    prison: PrisonParams = PrisonParams()
    residents: ResidentParams = ResidentParams()
    policies: PoliciesParams = Field(default_factory=PoliciesParams)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.run.burn_in >= self.run.steps:
            raise ValueError(
                f"run.burn_in ({self.run.burn_in}) must be smaller than run.steps ({self.run.steps})"
            )
        if self.population.peer_same_block + self.population.peer_same_district > 1:
            raise ValueError(
                "population.peer_same_block + population.peer_same_district must not exceed 1"
            )
        for low, high in (("city.poor_ses_min", "city.poor_ses_max"), ("city.rich_ses_min", "city.rich_ses_max"),
                          ("youth.dropout_factor_min", "youth.dropout_factor_max")):
            lo, hi = self.get(low), self.get(high)
            if lo > hi:
                raise ValueError(f"{low} ({lo}) must not exceed {high} ({hi})")
        self._policies_within_the_run()
        return self

    def _policies_within_the_run(self) -> None:
        """A policy must start before the run's last step and end after it starts.

        The error's context names the field (``policies.<name>.start`` or ``.end``), so
        that :func:`load_scenario` can name the file that set it.
        """
        steps = self.run.steps
        for name in policies.names():
            pol = getattr(self.policies, name, None)
            if pol is None:
                continue
            start = self.run.burn_in if pol.start is None else pol.start
            if pol.start is not None and start >= steps:
                field = f"policies.{name}.start"
                raise PydanticCustomError(
                    "policy_timing",
                    "{field}: the policy would act from the step after {start}, but the run ends at step {steps} "
                    "(run.steps): it would never act",
                    {"field": field, "start": start, "steps": steps},
                )
            if pol.end is not None and pol.end <= start:
                field = f"policies.{name}.end"
                since = f"{start} (its start)" if pol.start is not None else f"{start} (run.burn_in, its default start)"
                raise PydanticCustomError(
                    "policy_timing",
                    "{field}: the policy would end at step {end}, before it starts: it acts from the step after {since}",
                    {"field": field, "end": pol.end, "since": since},
                )

    def get(self, dotted: str) -> Any:
        """A field by dotted path: ``s.get("police.officers")``."""
        node: Any = self
        for part in dotted.split("."):
            node = getattr(node, part)
        return node

    def digest(self) -> str:
        """A short hash of every parameter: equal digests, equal scenarios."""
        text = json.dumps(self.model_dump(mode="json", exclude={"base"}), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def replace(self, **dotted: Any) -> Scenario:
        """A copy with fields changed by dotted path: ``s.replace(**{"police.officers": 400})``.

        Raises:
            ConfigError: naming the changes and the problem, in one line.
        """
        try:
            return self.replaced(**dotted)
        except ValidationError as exc:
            changes = ", ".join(f"{k}={shown_value(v)}" for k, v in list(dotted.items())[:SHOWN_PROBLEMS])
            changes += more(len(dotted) - SHOWN_PROBLEMS)
            raise ConfigError(f"{self.name} with {changes}: {describe_errors(exc.errors())}") from None

    def replaced(self, **dotted: Any) -> Scenario:
        """:meth:`replace`, raising pydantic's ``ValidationError`` for callers that name
        the source of the changes themselves."""
        data = self.model_dump()
        for key, value in dotted.items():
            set_dotted(data, key, value)
        return Scenario.model_validate(data)


policies.hold(Scenario)  # a registered policy adds its table to every scenario


def set_dotted(data: dict, key: str, value: Any) -> None:
    """Set ``data["a"]["b"] = value`` for the key ``"a.b"``, creating tables on the way."""
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def merge(base: dict, over: dict) -> dict:
    """Tables of ``over`` merged into ``base`` key by key; other values replace."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_value(text: str) -> Any:
    """A command-line value read as TOML (``400``, ``0.5``, ``true``, ``"x"``), else as a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


# An error message lists at most this many problems (and unknown keys), then a count.
SHOWN_PROBLEMS = 5


def describe_errors(errors: list[dict], root: type[BaseModel] | None = None) -> str:
    """Pydantic's errors as one short text: the first few problems, then how many more.

    Unknown keys of one table are one problem, naming the first few keys and how many
    more there are, and the table's valid keys once. Used for every validation error,
    so that a file with a hundred thousand bad keys still gives one short line.
    """
    unknown: dict[tuple, list[str]] = {}
    problems: list[str | tuple] = []
    for error in errors:
        if error["type"] == "extra_forbidden":
            parent = tuple(error["loc"][:-1])
            if parent not in unknown:
                unknown[parent] = []
                problems.append(parent)
            unknown[parent].append(".".join(str(p) for p in error["loc"]))
        else:
            problems.append(describe_error(error, root))
    shown = []
    for problem in problems[:SHOWN_PROBLEMS]:
        if isinstance(problem, tuple):
            keys = unknown[problem]
            names = ", ".join(keys[:SHOWN_PROBLEMS]) + more(len(keys) - SHOWN_PROBLEMS)
            shown.append(f"{names}: unknown key{'s' if len(keys) > 1 else ''}"
                         f"{valid_keys_hint(problem, root or Scenario)}")
        else:
            shown.append(problem)
    rest = len(problems) - SHOWN_PROBLEMS
    return "; ".join(shown) + (f"; ... and {rest:,} more problem{'s' if rest > 1 else ''}" if rest > 0 else "")


def more(n: int) -> str:
    """``" and 12 more"`` for a positive count, else nothing."""
    return f" and {n:,} more" if n > 0 else ""


def describe_error(error: dict, root: type[BaseModel] | None = None) -> str:
    """One pydantic error as 'field.path: problem (got value)'."""
    loc = ".".join(str(p) for p in error["loc"]) or "(top level)"
    kind = error["type"]
    ctx = error.get("ctx") or {}
    got = f"(got {shown_value(error.get('input'))})"
    if kind == "extra_forbidden":
        parent = error["loc"][:-1]
        return f"{loc}: unknown key{valid_keys_hint(parent, root or Scenario)}"
    if kind == "missing":
        return f"{loc}: required field is missing"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        sign = {"greater_than_equal": ">=", "less_than_equal": "<=", "greater_than": ">", "less_than": "<"}[kind]
        bound = next(iter(ctx.values()))
        return f"{loc}: must be {sign} {bound} {got}"
    if kind == "finite_number":
        return f"{loc}: must be a finite number {got}"
    if kind == "int_parsing_size":
        return f"{loc}: a whole number far too large {got}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "policy_timing":  # the message names its field
        return error["msg"]
    return f"{loc}: {error['msg'].lower()} {got}"


def shown_value(value: Any, limit: int = 60) -> str:
    """A value as a message shows it: TOML's true/false, and never more than ``limit``
    characters (a long text or table is cut)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def valid_keys_hint(parent: tuple, root: type[BaseModel]) -> str:
    model: type[BaseModel] = root
    for part in parent:
        if isinstance(part, int):
            continue  # an item of a list of tables
        field = model.model_fields.get(str(part))
        if field is None:
            return ""
        inner = table_type(field.annotation)
        if inner is None:
            return ""
        model = inner
    return "; valid keys: " + ", ".join(model.model_fields)


def table_type(annotation) -> type[BaseModel] | None:
    """The table (model) type inside ``X``, ``X | None`` or ``list[X]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = table_type(arg)
        if found is not None:
            return found
    return None


# Config and experiment files are small: anything larger is not one (or not meant).
MAX_FILE_BYTES = 1_000_000


def read_toml(path: Path) -> dict:
    """The table in a TOML file, or a ConfigError naming the file and the problem."""
    return parse_toml(path, read_config_file(path))


def parse_toml(path: Path, raw: bytes) -> dict:
    """The table in the bytes of a TOML file (read with :func:`read_config_file`)."""
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file (TOML must be UTF-8)") from None


def read_config_file(path: Path) -> bytes:
    """The bytes of a config or experiment file: a regular file under
    :data:`MAX_FILE_BYTES`, else a ConfigError naming the file.

    The file is opened without blocking and checked before it is read, and never more
    than the limit is read: a device (``/dev/zero``), a named pipe or a socket is
    refused rather than read without end or waited on.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except IsADirectoryError:  # Windows; elsewhere a folder opens and fstat says so
        raise ConfigError(f"{path}: is a directory, not a config file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ConfigError(f"{path}: is a directory, not a config file")
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{path}: not a regular file (a device, pipe or socket); config files are "
                              "plain text files")
        too_big = ConfigError(f"{path}: larger than {MAX_FILE_BYTES // 1_000_000} MB; config and experiment "
                              "files are small text files")
        if info.st_size > MAX_FILE_BYTES:
            raise too_big
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES:  # the size said may be wrong (files of /proc say 0)
            chunk = os.read(fd, MAX_FILE_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_FILE_BYTES:
            raise too_big
        return b"".join(chunks)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def load_raw(path: Path, seen: tuple[Path, ...] = ()) -> dict:
    """A config file's table with its ``base`` chain merged in (base first)."""
    path = Path(path)
    if path.resolve() in seen:
        raise ConfigError(f"{path}: base: files extend each other in a loop")
    data = read_toml(path)
    base = data.get("base")
    if base is None:
        return data
    if not isinstance(base, str):
        raise ConfigError(f"{path}: base: must be a file name (got {base!r})")
    base_path = (path.parent / base)
    if not base_path.exists():
        raise ConfigError(f"{path}: base: file {base_path} not found")
    if not base_path.is_file():
        raise ConfigError(f"{path}: base: {base_path} is not a regular file")
    parent = load_raw(base_path, seen + (path.resolve(),))
    merged = merge(parent, data)
    merged.pop("base", None)
    return merged


def load_scenario(
    path: str | Path, overrides: dict[str, Any] | None = None, layers: list[str | Path] | tuple = ()
) -> Scenario:
    """Read, merge and validate a scenario file.

    Args:
        path: the scenario file, or a bundled scenario's name (``"classroom"``).
        overrides: dotted paths to values, applied last (``{"police.officers": 400}``).
        layers: further files merged over it in order, e.g. policy files
            (``configs/policies/cbt.toml``); each is checked on its own first, so that
            a problem is reported against the file that has it.

    Raises:
        ConfigError: naming the file, the field path and the problem.
    """
    path = presets.resolve_scenario(path)  # a file, or a bundled scenario's name
    data = load_raw(path)
    sources = [(str(path), data)]
    for layer in layers:
        layer = presets.resolve_policy(layer)
        layer_data = load_raw(layer)
        # On its own a layer is checked for its types and ranges; when its policies act
        # is checked against the run of the merged scenario, below.
        validate(merge(ANY_RUN, layer_data), str(layer))
        sources.append((str(layer), layer_data))
        data = merge(data, layer_data)
    for key, value in (overrides or {}).items():
        if not key or any(not part for part in key.split(".")):
            raise ConfigError(f"--set {key}: not a dotted field path such as police.officers")
        set_dotted(data, key, value)
    source = " + ".join([str(path), *map(str, layers)])
    if overrides:
        source += f" (with --set {', '.join(overrides)})"

    def origin(field: str) -> str | None:
        """The file (or --set) that gave ``field`` its value, the last one to set it."""
        if field in (overrides or {}):
            return source
        for name, table in reversed(sources):
            if has_dotted(table, field):
                return name
        return None

    return validate(data, source, origin)


# The longest run with no burn-in: a policy layer checked on its own fits in it.
ANY_RUN = {"run": {"steps": MAX_STEPS, "burn_in": 0}}


def has_dotted(data: dict, key: str) -> bool:
    """Whether ``data`` holds a value at the dotted path ``key``."""
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def validate(data: dict, source: str, origin=None) -> Scenario:
    """A Scenario from a merged table, or a ConfigError naming ``source`` (or, for a
    problem of one field, the file ``origin(field)`` says gave it its value)."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        field = (errors[0].get("ctx") or {}).get("field") if len(errors) == 1 else None
        if field and origin is not None:
            source = origin(field) or source
        raise ConfigError(f"{source}: {describe_errors(errors)}") from None


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``["police.officers=400"]`` -> ``{"police.officers": 400}``."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {pair}: expected KEY=VALUE, e.g. police.officers=400")
        out[key.strip()] = parse_value(value.strip())
    return out

