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
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from abm import policies
from abm.policies import PoliciesParams
from abm.schema import ConfigError, NonNeg, Section, Share


class RunParams(Section):
    steps: int = Field(520, ge=1, le=5200, description="weeks simulated (one step = one week)")
    burn_in: int = Field(104, ge=0, description="weeks excluded from the run summary")


class CityParams(Section):
    width: int = Field(50, ge=4, le=1000, description="blocks east-west")
    height: int = Field(50, ge=4, le=1000, description="blocks north-south")
    district_size: int = Field(10, ge=2, le=100, description="side of a square district, in blocks")
    poor_share: Share = Field(0.4, description="share of districts that are poor")
    segregation: Share = Field(
        0.8,
        description="0: poor districts anywhere and household SES unrelated to place; "
        "1: poor districts clustered on the periphery and households sorted by place",
    )
    barrier_share: Share = Field(
        0.3, description="share of poor districts behind barriers (hills, walls, rivers)"
    )
    barrier_access: Share = Field(
        0.4, description="relative reach of patrols and ties across a barrier (1 = no barrier)"
    )
    poor_density: float = Field(
        1.6, ge=0.1, le=10, description="people per block in poor districts relative to others"
    )
    state_presence_poor: Share = Field(0.35, description="state presence in poor districts")
    state_presence_rich: Share = Field(0.85, description="state presence elsewhere")


class PopulationParams(Section):
    people: int = Field(100_000, ge=200, le=5_000_000, description="persons simulated (one agent each)")
    youth_share: Share = Field(0.17, description="share aged 15-24 (LAC 16-18%)")
    youth_unemployment: Share = Field(
        0.20, description="unemployment among youths out of school (LAC 13-20%)"
    )
    school_enrolment: Share = Field(0.60, description="share of youths in school at 15 in a middle-SES block")
    adult_employment: Share = Field(0.70, description="share of residents employed in a middle-SES block")
    peer_degree: float = Field(6.0, ge=0, le=30, description="mean friends per youth")
    peer_same_block: Share = Field(0.5, description="share of friendships within the block")
    peer_same_district: Share = Field(0.35, description="share within the district (school)")


class YouthParams(Section):
    join_base: float = Field(-6.5, ge=-20, le=5, description="log-odds of joining per week, all else zero")
    join_peer: float = Field(3.0, ge=0, le=20, description="log-odds per unit share of friends in gangs")
    join_exposure: float = Field(1.5, ge=0, le=20, description="log-odds per unit violence exposure of the block")
    join_demand: float = Field(2.0, ge=0, le=20, description="log-odds per unit recruitment demand of the local gang")
    join_income: float = Field(1.0, ge=0, le=20, description="log-odds per unit gang income advantage over legal work")
    join_legal: float = Field(1.2, ge=0, le=20, description="log-odds lost by a youth in school or work")
    join_sanction: float = Field(2.0, ge=0, le=20, description="log-odds per unit perceived certainty x severity")
    join_efficacy: float = Field(2.5, ge=0, le=20, description="log-odds per unit collective efficacy of the block")
    join_self_control: float = Field(2.0, ge=0, le=20, description="log-odds per unit self-control")
    join_propensity: float = Field(2.0, ge=0, le=20, description="log-odds per unit violence propensity")
    exit_base: float = Field(0.0085, ge=0, le=1, description="weekly desistance hazard (36%/yr, Pyrooz & Sweeten 2015)")
    exit_job: float = Field(1.0, ge=0, le=10, description="relative hazard increase with a legal job")
    exit_age: float = Field(0.08, ge=0, le=1, description="relative hazard increase per year of age over 15")
    exit_organisation: float = Field(0.6, ge=0, le=1, description="hazard reduction in a fully organised gang")
    propensity_adapt: Share = Field(0.05, description="weekly speed at which propensity moves to its target")
    propensity_member: Share = Field(0.25, description="propensity added by gang membership")
    propensity_exposure: Share = Field(0.3, description="propensity added per unit of violence exposure")
    propensity_released: Share = Field(0.15, description="propensity added after a prison term")
    job_loss: Share = Field(0.01, description="weekly chance of losing a job")
    dropout: Share = Field(0.004, description="weekly school dropout hazard at median SES")
    release_stigma: Share = Field(0.7, description="reduction of job finding after prison")


class GangParams(Section):
    per_poor_district: float = Field(1.0, ge=0, le=10, description="gangs founded per poor district")
    initial_member_share: Share = Field(0.12, description="share of youths in gang territory who are members at start")
    market_income: NonNeg = Field(1.0, description="weekly illicit income per resident in controlled poor blocks (relative units)")
    target_members_per_income: NonNeg = Field(2.0, description="members a gang wants per unit of weekly income")
    control_growth: Share = Field(0.05, description="weekly gain of control where the gang has members")
    control_decay: Share = Field(0.01, description="weekly loss of control")
    expansion: Share = Field(0.02, description="weekly chance a gang takes a weakly held neighbouring block")
    organisation_initial: Share = Field(0.3, description="mean organisation at start (0 diffuse youth gang, 1 organised crime)")
    organisation_growth: NonNeg = Field(0.0025, description="weekly organisation gain per unit of resources per member")
    organisation_prison: NonNeg = Field(0.01, description="weekly organisation gain per unit share of members in prison, x overcrowding")
    organisation_decay: Share = Field(0.01, description="weekly organisation loss")
    rivalry_range: int = Field(2, ge=1, le=20, description="territories closer than this many blocks are rivals")


class ViolenceParams(Section):
    gang_rate: NonNeg = Field(0.027, description="weekly confrontations per contested block at unit intensity")
    reach: int = Field(2, ge=0, le=10, description="blocks members range from home to hold and fight over turf")
    youth_rate: NonNeg = Field(0.0025, description="weekly confrontations per non-member youth at unit propensity")
    lethality: Share = Field(0.2, description="share of confrontations that kill (firearm availability; US gunshot CFR 22%)")
    grievance_effect: NonNeg = Field(
        0.175, description="retaliatory confrontations per week per unit grievance between two gangs"
    )
    grievance_memory_weeks: float = Field(18.0, gt=0, le=520, description="mean life of grievance (contagion delay ~18 weeks, Green et al. 2017)")
    police_deterrence: NonNeg = Field(0.35, description="log reduction of confrontation rate per officer present")
    efficacy_damping: Share = Field(0.6, description="share of confrontations prevented by full collective efficacy")
    organisation_restraint: Share = Field(0.5, description="share of visible violence an organised gang avoids")
    sanction_deterrence: Share = Field(
        0.5, description="share of confrontations a gang forgoes when its members are certain of a severe sanction"
    )
    bystander_share: Share = Field(0.12, description="share of gang homicide victims who are bystander residents")
    nonmember_victim_share: Share = Field(0.10, description="share of gang homicide victims who are non-member youths")
    exposure_memory_weeks: float = Field(26.0, gt=0, le=520, description="mean life of a block's violence exposure")


class PoliceParams(Section):
    officers: int = Field(270, ge=0, le=100_000, description="officers on patrol (Central America ~267 per 100k)")
    hotspot_share: Share = Field(0.5, description="share of patrols sent to recent violence; the rest by population")
    professionalism: Share = Field(0.6, description="share of contacts that are procedurally just")
    contacts_per_officer: NonNeg = Field(5.0, description="stops of youths per officer per week")
    member_detection: Share = Field(0.05, description="chance a stopped gang member is arrested")
    suspicion_arrest: Share = Field(0.003, description="chance a stopped non-member is arrested on suspicion")
    corruption: Share = Field(0.2, description="share of officers open to gang collusion")
    force_lethality: NonNeg = Field(0.01, description="chance an arrest of a member ends in a killing by police")


class JusticeParams(Section):
    investigators: NonNeg = Field(60.0, description="homicide cases the system can work at once")
    clearance_base: Share = Field(0.16, description="weekly chance of clearing a worked case with full cooperation")
    case_life_weeks: int = Field(52, ge=1, le=1040, description="weeks after which an uncleared case goes cold")
    conviction: Share = Field(0.5, description="chance a cleared homicide case ends in conviction")
    homicide_sentence_weeks: int = Field(780, ge=1, le=5200, description="prison term for a homicide conviction")
    charge_share: Share = Field(0.45, description="share of other arrests that are charged and held")
    sentence_weeks: int = Field(78, ge=1, le=5200, description="mean prison term for other charges")


class PrisonParams(Section):
    capacity_per_100k: NonNeg = Field(350.0, description="prison places per 100,000 people")
    week_cost: NonNeg = Field(83.0, description="US$ per inmate-week (Brazil: R$21,600 a year, CNJ/Depen 2021)")
    recruitment: Share = Field(0.01, description="weekly chance a non-member inmate joins a gang, at half members and no overcrowding")
    overcrowding_effect: NonNeg = Field(1.0, description="relative rise of prison recruitment per unit occupancy over capacity")


class ResidentParams(Section):
    trust_initial: Share = Field(0.45, description="mean trust in police at start (LAC 52% confident, Gallup 2022)")
    trust_just: NonNeg = Field(0.02, description="trust gained per procedurally just contact per resident")
    trust_abuse: NonNeg = Field(0.03, description="trust lost per abusive contact per resident")
    trust_impunity: NonNeg = Field(0.01, description="trust lost per uncleared homicide in the block")
    trust_police_killing: NonNeg = Field(0.1, description="trust lost by residents of a block where police kill")
    trust_reversion: Share = Field(0.005, description="weekly pull toward the initial level")
    report_base: float = Field(-2.2, ge=-20, le=20, description="log-odds of reporting at zero trust, efficacy and fear")
    report_trust: NonNeg = Field(2.0, description="log-odds per unit trust")
    report_efficacy: NonNeg = Field(1.5, description="log-odds per unit collective efficacy")
    report_fear: NonNeg = Field(3.0, description="log-odds lost per unit fear")
    efficacy_adapt: Share = Field(0.02, description="weekly speed at which collective efficacy follows residents")
    victim_memory_weeks: float = Field(52.0, gt=0, le=520, description="mean life of a resident's recent victimisation")


class Scenario(Section):
    """Every parameter of one simulated city. Presets differ in size, not behaviour."""

    name: str = Field("scenario", min_length=1, max_length=80)
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
        return self

    def digest(self) -> str:
        """A short hash of every parameter: equal digests, equal scenarios."""
        text = json.dumps(self.model_dump(mode="json", exclude={"base"}), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def replace(self, **dotted: Any) -> Scenario:
        """A copy with fields changed by dotted path: ``s.replace(**{"police.officers": 400})``."""
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


def describe_error(error: dict, root: type[BaseModel] | None = None) -> str:
    """One pydantic error as 'field.path: problem (got value)'."""
    loc = ".".join(str(p) for p in error["loc"]) or "(top level)"
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        parent = error["loc"][:-1]
        return f"{loc}: unknown key{valid_keys_hint(parent, root or Scenario)}"
    if kind == "missing":
        return f"{loc}: required field is missing"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        sign = {"greater_than_equal": ">=", "less_than_equal": "<=", "greater_than": ">", "less_than": "<"}[kind]
        bound = next(iter(ctx.values()))
        return f"{loc}: must be {sign} {bound} (got {error['input']!r})"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return f"{loc}: {error['msg'].lower()} (got {error['input']!r})"


def valid_keys_hint(parent: tuple, root: type[BaseModel]) -> str:
    model: type[BaseModel] = root
    for part in parent:
        if isinstance(part, int):
            continue  # an item of a list of tables
        field = model.model_fields.get(str(part))
        if field is None:
            return ""
        inner = _table_type(field.annotation)
        if inner is None:
            return ""
        model = inner
    return "; valid keys: " + ", ".join(model.model_fields)


def _table_type(annotation) -> type[BaseModel] | None:
    """The table (model) type inside ``X``, ``X | None`` or ``list[X]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _table_type(arg)
        if found is not None:
            return found
    return None


def read_toml(path: Path) -> dict:
    """The table in a TOML file, or a ConfigError naming the file and the problem."""
    if not path.exists():
        raise ConfigError(f"{path}: file not found")
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, not a config file")
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file (TOML must be UTF-8)") from None


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
    parent = load_raw(base_path, seen + (path.resolve(),))
    merged = merge(parent, data)
    merged.pop("base", None)
    return merged


def load_scenario(
    path: str | Path, overrides: dict[str, Any] | None = None, layers: list[str | Path] | tuple = ()
) -> Scenario:
    """Read, merge and validate a scenario file.

    Args:
        path: the scenario file.
        overrides: dotted paths to values, applied last (``{"police.officers": 400}``).
        layers: further files merged over it in order, e.g. policy files
            (``configs/policies/cbt.toml``); each is checked on its own first, so that
            a problem is reported against the file that has it.

    Raises:
        ConfigError: naming the file, the field path and the problem.
    """
    path = Path(path)
    data = load_raw(path)
    for layer in layers:
        layer_data = load_raw(Path(layer))
        validate(layer_data, str(layer))
        data = merge(data, layer_data)
    for key, value in (overrides or {}).items():
        if not key or any(not part for part in key.split(".")):
            raise ConfigError(f"--set {key}: not a dotted field path such as police.officers")
        set_dotted(data, key, value)
    source = " + ".join([str(path), *map(str, layers)])
    if overrides:
        source += f" (with --set {', '.join(overrides)})"
    return validate(data, source)


def validate(data: dict, source: str) -> Scenario:
    """A Scenario from a merged table, or a ConfigError naming ``source``."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(describe_error(e) for e in exc.errors())
        raise ConfigError(f"{source}: {problems}") from None


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``["police.officers=400"]`` -> ``{"police.officers": 400}``."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {pair}: expected KEY=VALUE, e.g. police.officers=400")
        out[key.strip()] = parse_value(value.strip())
    return out

