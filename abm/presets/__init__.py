"""The bundled presets: scenarios, policies and experiments, found by name or by path.

Every command that reads a scenario, a policy or an experiment file takes either a
path or the name of a bundled preset::

    abm run classroom                      # the bundled configs/classroom.toml
    abm run classroom --policy cbt         # ... with configs/policies/cbt.toml
    abm run my/city.toml --policy my/cbt.toml
    abm experiment policy_comparison       # the bundled experiments/policy_comparison.toml

A path wins over a name when the file exists. In a source checkout the presets are the
repository's ``configs/`` and ``experiments/`` folders; an installed package carries
copies of them in ``abm/presets/configs`` and ``abm/presets/experiments`` (put there
when the wheel is built, see ``setup.py``), laid out the same way, so that experiment
files' relative paths (``scenario = "../configs/district.toml"``) work in both.
"""

from __future__ import annotations

import shutil
import tomllib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from abm.schema import ConfigError

KINDS = ("scenario", "policy", "experiment")
FOLDERS = {"scenario": "configs", "policy": "configs/policies", "experiment": "experiments"}
# The calibration targets (abm.targets) and priors (abm.priors) sit beside the
# scenarios but are not scenarios.
TARGETS_FILE = "targets.toml"
PRIORS_FILE = "priors.toml"
NOT_SCENARIOS = (TARGETS_FILE, PRIORS_FILE)


def root() -> Path:
    """The folder holding ``configs/`` and ``experiments/``: the package's copies when
    installed, the repository's top-level folders in a source checkout."""
    packaged = Path(str(files(__name__)))
    if (packaged / "configs").is_dir() and (packaged / "experiments").is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent.parent
    if (checkout / "configs").is_dir() and (checkout / "experiments").is_dir():
        return checkout
    raise ConfigError(f"no bundled presets found in {packaged} (the package is incomplete: reinstall it)")


def folder(kind: str) -> Path:
    """The folder of the bundled presets of one kind."""
    return root() / FOLDERS[kind]


def names(kind: str) -> list[str]:
    """The names of the bundled presets of one kind, sorted."""
    where = folder(kind)
    if not where.is_dir():
        return []
    return sorted(p.stem for p in where.glob("*.toml") if not (kind == "scenario" and p.name in NOT_SCENARIOS))


def resolve(kind: str, text: str | Path) -> Path:
    """The file meant by ``text``: the file itself if it exists, else the bundled
    preset of that name (``classroom`` or ``classroom.toml``).

    Raises:
        ConfigError: naming what was asked and listing the bundled names.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    path = Path(text)
    if path.is_file():
        return path
    name = path.name.removesuffix(".toml")
    if path.name == str(text) and name:  # a bare name, not a path into some folder
        candidate = folder(kind) / f"{name}.toml"
        if candidate.is_file() and name in names(kind):
            return candidate
    if path.is_dir():
        raise ConfigError(f"{text}: is a directory, not a {kind} file")
    if path.exists():
        raise ConfigError(f"{text}: not a regular file (a device, pipe or socket); {kind} files are plain text files")
    known = names(kind)
    plural = "policies" if kind == "policy" else f"{kind}s"
    raise ConfigError(f"{text}: file not found, nor a bundled {kind} of that name; "
                      f"bundled {plural}: {', '.join(known) if known else 'none'}")


def resolve_scenario(text: str | Path) -> Path:
    """A scenario file by path or bundled name, e.g. ``classroom``."""
    return resolve("scenario", text)


def resolve_policy(text: str | Path) -> Path:
    """A policy file by path or bundled name, e.g. ``cbt``."""
    return resolve("policy", text)


def resolve_experiment(text: str | Path) -> Path:
    """An experiment file by path or bundled name, e.g. ``policy_comparison``."""
    return resolve("experiment", text)


@dataclass(frozen=True)
class Preset:
    kind: str
    name: str
    path: Path
    description: str


def describe(kind: str, path: Path) -> str:
    """One line about a preset file: its ``description``; for a policy file, the
    label and description of each policy it sets."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return f"(unreadable: {exc})"
    if isinstance(data.get("description"), str):
        return data["description"]
    if kind == "policy" and isinstance(data.get("policies"), dict):
        from abm import policies

        by_name = {cls.name: cls for cls in policies.registered()}
        parts = []
        for name in data["policies"]:
            cls = by_name.get(name)
            if cls is None:
                parts.append(name)
            elif cls.description and cls.description.lower() != (cls.label or "").lower():
                parts.append(f"{cls.label or name}: {cls.description}")
            else:
                parts.append(cls.label or cls.description or name)
        return "; ".join(parts)
    return ""


def bundled() -> list[Preset]:
    """Every bundled preset, scenarios first, then policies, then experiments."""
    return [Preset(kind, name, folder(kind) / f"{name}.toml", describe(kind, folder(kind) / f"{name}.toml"))
            for kind in KINDS for name in names(kind)]


def copy_to(target: Path, force: bool = False) -> list[Path]:
    """Copy the bundled ``configs/`` and ``experiments/`` into ``target`` for editing,
    keeping their layout (so that experiments still find their scenarios).

    Raises:
        ConfigError: if a file to be written already exists and ``force`` is off.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{target}: exists and is not a folder")
    source = root()
    pairs = []
    for top in ("configs", "experiments"):
        for path in sorted((source / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                rel = path.relative_to(source)
                pairs.append((path, target / rel))
    if not force:
        existing = [dest for _, dest in pairs if dest.exists()]
        if existing:
            more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
            raise ConfigError(f"{existing[0]}: already exists{more}; add --force to overwrite")
    for path, dest in pairs:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
    return [dest for _, dest in pairs]
