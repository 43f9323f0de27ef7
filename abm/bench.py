"""Speed and memory of the presets, beside Mesa's own Epstein civil-violence example.

    abm bench [--presets classroom district city] [--years 10 10 1]

Each measurement runs in a fresh single-threaded process, one after another, so that
peak memory is the preset's own and the figures are for one core. For each preset it
prints people, steps, seconds to build the city, seconds per simulated year,
agent-steps per second (people x steps / run seconds) and peak memory; then the
agent-steps per second of ``mesa.examples``' EpsteinCivilViolence (40 x 40) measured
in the same run, and the ratio. Targets: ``district`` runs 10 simulated years in under
60 s; ``city`` runs 1 simulated year within 8 GiB.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_YEARS = {"classroom": 10.0, "district": 10.0, "city": 1.0}
TARGETS = {"district": "10 years < 60 s", "city": "1 year < 8 GiB"}
EPSTEIN_STEPS = 100


def measure_preset(config: str, years: float, seed: int = 1) -> dict:
    """Build and run one preset in this process; return its figures."""
    from abm.config import load_scenario
    from abm.model import CityModel

    scenario = load_scenario(config)
    steps = max(1, round(years * 52))
    scenario = scenario.replace(**{"run.steps": steps, "run.burn_in": min(scenario.run.burn_in, steps - 1)})
    t0 = time.perf_counter()
    model = CityModel(scenario, seed)
    t1 = time.perf_counter()
    model.run()
    t2 = time.perf_counter()
    people = scenario.population.people
    return {
        "preset": scenario.name,
        "people": people,
        "steps": steps,
        "build_s": t1 - t0,
        "run_s": t2 - t1,
        "s_per_year": (t2 - t1) / (steps / 52),
        "agent_steps_per_s": people * steps / (t2 - t1),
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure_epstein(seed: int = 1, steps: int = EPSTEIN_STEPS) -> dict:
    """Agent-steps per second of Mesa's Epstein civil-violence example (40 x 40)."""
    from mesa.examples.advanced.epstein_civil_violence.model import EpsteinCivilViolence, EpsteinScenario

    model = EpsteinCivilViolence(width=40, height=40, scenario=EpsteinScenario(rng=seed))
    agent_steps = 0
    t0 = time.perf_counter()
    for _ in range(steps):
        agent_steps += len(model.agents)
        model.step()
    elapsed = time.perf_counter() - t0
    return {"preset": "mesa epstein 40x40", "agents": len(model.agents), "steps": steps,
            "run_s": elapsed, "agent_steps_per_s": agent_steps / elapsed}


def _child(kind: str, *args: str) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    code = (
        "import json, sys; from abm import bench; "
        f"print(json.dumps(bench.{kind}(*{list(args)!r})))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"benchmark {kind}{tuple(args)} failed (exit status {proc.returncode}): {last}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def preset_file(name: str, configs: Path | None) -> Path:
    """A preset's file: from the folder ``configs`` if given, else by path or bundled name."""
    from abm.config import ConfigError
    from abm.presets import resolve_scenario

    if configs is None:
        return resolve_scenario(name)
    path = configs / f"{name}.toml"
    if not path.exists():
        raise ConfigError(f"{path}: file not found (preset {name!r})")
    return path


def run_bench(presets: list[str], years: list[float] | None, configs: Path | None = None) -> int:
    from abm.config import ConfigError, load_scenario

    if years and len(years) not in (1, len(presets)):
        raise ConfigError(f"--years: give one value or one per preset ({len(presets)}), got {len(years)}")
    plan = []  # every preset is read and checked before the first is measured
    for i, name in enumerate(presets):
        path = preset_file(name, configs)
        y = (years[i] if len(years) > 1 else years[0]) if years else DEFAULT_YEARS.get(name, 1.0)
        scenario = load_scenario(path)
        steps = max(1, round(y * 52))
        scenario.replace(**{"run.steps": steps, "run.burn_in": min(scenario.run.burn_in, steps - 1)})
        plan.append((path, y))
    rows = []
    print(f"{'preset':<20}{'people':>10}{'steps':>7}{'build s':>9}{'s/sim-year':>12}"
          f"{'agent-steps/s':>15}{'peak MiB':>10}  target")
    for path, y in plan:
        r = _child("measure_preset", str(path), y)
        rows.append(r)
        print(f"{r['preset']:<20}{r['people']:>10,}{r['steps']:>7}{r['build_s']:>9.1f}{r['s_per_year']:>12.2f}"
              f"{r['agent_steps_per_s']:>15,.0f}{r['peak_mib']:>10,.0f}  {verdict(r)}", flush=True)
    ref = _child("measure_epstein")
    print(f"{ref['preset']:<20}{ref['agents']:>10,}{ref['steps']:>7}{'':>9}{'':>12}"
          f"{ref['agent_steps_per_s']:>15,.0f}")
    print()
    for r in rows:
        print(f"{r['preset']}: {r['agent_steps_per_s'] / ref['agent_steps_per_s']:.0f}x the agent-steps per second "
              "of Mesa's Epstein example, measured in this run")
    return 0


def verdict(r: dict) -> str:
    years = r["steps"] / 52
    if r["preset"] == "district":
        total = r["s_per_year"] * 10
        return f"10 years in {total:.0f} s: {'met' if total < 60 else 'MISSED'} (< 60 s)"
    if r["preset"] == "city":
        return f"{years:g} year(s) peak {r['peak_mib'] / 1024:.2f} GiB: {'met' if r['peak_mib'] < 8192 else 'MISSED'} (< 8 GiB)"
    return ""


SWEEP_FILE = """
name = "sweep_bench"
scenario = "{scenario}"
replications = {reps}
root_seed = 5
set = {{ "run.steps" = 520, "run.burn_in" = 104 }}
[[arms]]
name = "baseline"
"""


def run_sweep_bench(configs: Path | None = None, reps: int = 16) -> int:
    """Runs per minute of one sweep with 1 and 2 local workers and a local Dask cluster."""
    import tempfile

    from abm.sweep.experiment import load_experiment
    from abm.sweep.runner import run_experiment

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sweep.toml"
        path.write_text(SWEEP_FILE.format(scenario=preset_file("classroom", configs).resolve(), reps=reps))
        exp = load_experiment(path)
        print(f"sweep of {reps} classroom runs (10 years each)")
        print(f"{'executor':<24}{'seconds':>9}{'runs/min':>10}")
        rates = {}
        for label, kwargs in (("local, 1 worker", {"workers": 1}), ("local, 2 workers", {"workers": 2}),
                              ("dask local, 2 workers", {"workers": 2, "dask": True})):
            t0 = time.perf_counter()
            try:
                run_experiment(exp, Path(tmp) / label.replace(" ", "_").replace(",", ""), progress=False, **kwargs)
            except RuntimeError as exc:  # Dask not installed
                print(f"{label:<24}  skipped: {exc}")
                continue
            seconds = time.perf_counter() - t0
            rates[label] = reps / seconds * 60
            print(f"{label:<24}{seconds:>9.1f}{rates[label]:>10.1f}", flush=True)
        if "local, 1 worker" in rates and "local, 2 workers" in rates:
            print(f"\n2 workers / 1 worker: {rates['local, 2 workers'] / rates['local, 1 worker']:.2f}x "
                  "(target: at least 1.8x on two cores)")
    return 0
