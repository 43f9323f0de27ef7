"""The ``abm`` command.

    abm run CONFIG [--policy FILE ...] [--seed N] [--steps N] [--out DIR] [--set KEY=VALUE ...]
    abm validate CONFIG [--set KEY=VALUE ...]
    abm experiment FILE [--reps N] [--workers N] [--out DIR] [--resume]
    abm report RESULTS_DIR
    abm dashboard [--port N] [--host H]
    abm calibrate CONFIG [--seeds N] [--workers N] [--set KEY=VALUE ...]
    abm bench [--presets NAME ...] [--years N] | abm bench --sweep
    abm params [--markdown] [--section NAME] [--grade GRADE] | abm params --update-odd docs/ODD.md

Bad input (a missing or malformed file, an unknown key, a wrong type, a value out of
range) ends with one message naming the file, the field and the problem, and exit
status 2.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from abm.schema import ConfigError, Grade

# Commands import what they need when they run: `abm report` reads result files and
# never loads the model.

EXIT_BAD_INPUT = 2


def whole_number(minimum: int):
    """An argparse type: a whole number of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


positive_int = whole_number(1)
seed_int = whole_number(0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="abm",
        description="Neighbourhood crime dynamics in a segregated city: run scenarios, compare policies.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run one scenario and write its result files")
    run.add_argument("config", help="scenario: a bundled name (abm list), e.g. classroom, or a file")
    run.add_argument("--seed", type=seed_int, default=1, help="random seed (default 1)")
    run.add_argument("--steps", type=positive_int, help="weeks to run (default: the scenario's run.steps)")
    run.add_argument("--out", type=Path, help="output folder (default results/<scenario>/seed-<seed>)")
    run.add_argument("--policy", dest="layers", action="append", default=[], metavar="NAME|FILE",
                     help="merge a policy over the scenario: a bundled name, e.g. cbt, or a file (repeatable)")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                     help="change any field by dotted path, e.g. --set police.officers=400 (repeatable)")
    run.add_argument("--quiet", action="store_true", help="no progress bar and no closing table")

    val = sub.add_parser("validate", help="check a scenario file and print its parameters")
    val.add_argument("config", help="scenario: a bundled name or a file")
    val.add_argument("--policy", dest="layers", action="append", default=[], metavar="NAME|FILE",
                     help="a policy merged over it: a bundled name or a file (repeatable)")
    val.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")

    exp = sub.add_parser("experiment", help="run an experiment file: arms x replications, compare, plot")
    exp.add_argument("file", help="experiment: a bundled name, e.g. policy_comparison or smoke, or a file")
    exp.add_argument("--reps", type=positive_int, help="replications per arm (default: the file's)")
    exp.add_argument("--workers", type=positive_int, help="processes (default: the number of cores)")
    exp.add_argument("--out", type=Path, help="output folder (default results/<experiment>)")
    exp.add_argument("--resume", action="store_true", help="finish a sweep that was stopped, keeping finished runs")
    exp.add_argument("--dask", action="store_true", help="run on a local Dask cluster of --workers processes")
    exp.add_argument("--scheduler", metavar="ADDRESS", help="run on an existing Dask cluster, e.g. tcp://host:8786")
    exp.add_argument("--force", action="store_true", help="start again in a folder that already holds results")
    exp.add_argument("--quiet", action="store_true", help="no progress bar")

    dash_help = ('the classroom dashboard in a browser (Solara, works offline; needs the dashboard extra: '
                 'from a checkout, pip install ".[dashboard]")')
    dash = sub.add_parser("dashboard", help=dash_help, description=dash_help)
    dash.add_argument("--port", type=positive_int, default=8765, help="port (default 8765)")
    dash.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")

    rep = sub.add_parser("report", help="one self-contained HTML page from a results folder")
    rep.add_argument("folder", type=Path)

    cal = sub.add_parser("calibrate", help="distance from the calibration targets over many seeds")
    cal.add_argument("config", help="scenario: a bundled name, e.g. baseline, or a file")
    cal.add_argument("--seeds", type=positive_int, default=10, help="number of seeds, 1..N (default 10)")
    cal.add_argument("--workers", type=positive_int, help="processes (default: the number of cores)")
    cal.add_argument("--steps", type=positive_int, help="weeks to run (default: the scenario's)")
    cal.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")

    bench = sub.add_parser("bench", help="measure speed and memory of the presets beside Mesa's Epstein example")
    bench.add_argument("--presets", nargs="+", default=["classroom", "district", "city"],
                       help="bundled scenario names, or files (default: classroom district city)")
    bench.add_argument("--years", type=float, nargs="+",
                       help="simulated years per preset (default: 10 10 1)")
    bench.add_argument("--configs", type=Path, help="folder to take the --presets from (default: the bundled presets)")
    bench.add_argument("--sweep", action="store_true",
                       help="instead, measure sweep throughput with 1 and 2 workers and with Dask")
    lst = sub.add_parser("list", help="the bundled scenarios, policies and experiments, one line each")
    lst.add_argument("--paths", action="store_true", help="show each preset's file")

    init = sub.add_parser("init", help="copy the bundled configs/ and experiments/ into a folder, for editing")
    init.add_argument("folder", type=Path)
    init.add_argument("--force", action="store_true", help="overwrite files that already exist")

    par = sub.add_parser("params", help="list every parameter: default, range, unit, evidence grade, source")
    par.add_argument("--markdown", action="store_true", help="Markdown tables grouped by section")
    par.add_argument("--section", metavar="NAME",
                     help="one section, e.g. youth, policies.cbt (or cbt), policies for all policies")
    par.add_argument("--grade", choices=[str(g) for g in Grade], help="only parameters of this evidence grade")
    par.add_argument("--update-odd", type=Path, metavar="FILE",
                     help="rewrite the parameter tables between <!-- params:SECTION --> markers of FILE")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return cmd_run(args)
        if args.command == "validate":
            return cmd_validate(args)
        if args.command == "experiment":
            return cmd_experiment(args)
        if args.command == "dashboard":
            return cmd_dashboard(args)
        if args.command == "report":
            from abm.analysis.report import build_report

            if not (args.folder / "manifest.json").exists():
                raise ConfigError(f"{args.folder}: not a results folder (no manifest.json)")
            print(build_report(args.folder))
            return 0
        if args.command == "calibrate":
            return cmd_calibrate(args)
        if args.command == "params":
            return cmd_params(args)
        if args.command == "bench":
            from abm.bench import run_bench, run_sweep_bench

            if args.sweep:
                return run_sweep_bench(args.configs)
            return run_bench(args.presets, args.years, args.configs)
        if args.command == "list":
            return cmd_list(args)
        if args.command == "init":
            return cmd_init(args)
    except ConfigError as exc:
        print(f"abm: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # a folder that is a file, a disk that is full, a file we may not write
        print(f"abm: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except FloatingPointError as exc:  # a run gave NaN or infinity (abm.metrics.NonFiniteMeasure)
        print(f"abm: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("abm: interrupted", file=sys.stderr)
        return 130
    return 0


def cmd_params(args) -> int:
    from abm import parameters

    if args.update_odd:
        changed = parameters.update_odd(args.update_odd)
        print(f"{args.update_odd}: " + (f"updated {', '.join(changed)}" if changed else "tables up to date"))
        return 0
    found = parameters.parameters(args.section, args.grade)
    print(parameters.markdown(found) if args.markdown else parameters.text_table(found))
    return 0


def cmd_list(args) -> int:
    from abm import presets

    found = presets.bundled()
    width = max((len(p.name) for p in found), default=0)
    titles = {"scenario": "Scenarios (abm run NAME)", "policy": "Policies (abm run SCENARIO --policy NAME)",
              "experiment": "Experiments (abm experiment NAME)"}
    lines = []
    for kind in presets.KINDS:
        lines.append(titles[kind])
        for p in (p for p in found if p.kind == kind):
            lines.append(f"  {p.name:<{width}}  {p.description}" + (f"  [{p.path}]" if args.paths else ""))
        lines.append("")
    lines.append("Copy them for editing: abm init FOLDER")
    print("\n".join(lines))
    return 0


def cmd_init(args) -> int:
    from abm import presets

    copied = presets.copy_to(args.folder, force=args.force)
    print(f"{args.folder}: copied {len(copied)} files into configs/ and experiments/; "
          f"run them by path, e.g. abm run {args.folder / 'configs' / 'classroom.toml'}")
    return 0


def scenario_args(args) -> tuple[Path, list[Path]]:
    """The scenario and policy files a command names, by path or bundled name."""
    from abm.presets import resolve_policy, resolve_scenario

    return resolve_scenario(args.config), [resolve_policy(p) for p in getattr(args, "layers", [])]


def cmd_validate(args) -> int:
    from abm.config import load_scenario, parse_overrides

    from abm import footprint

    path, layers = scenario_args(args)
    scenario = load_scenario(path, parse_overrides(args.overrides), layers)
    need = footprint.estimate(scenario)
    footprint.check(need, args.config)
    print(f"{args.config}: valid scenario '{scenario.name}' (hash {scenario.digest()}); a run needs {need.describe()}")
    return 0


def cmd_experiment(args) -> int:
    from abm.sweep.experiment import load_experiment
    from abm.sweep.runner import run_experiment

    from abm.presets import resolve_experiment

    exp = load_experiment(resolve_experiment(args.file))
    if not args.scheduler:  # a cluster's workers have memory of their own
        exp.check_memory(args.workers, args.reps)
    out = args.out or Path("results") / exp.name
    if (out / "runs.csv").exists() and not (args.resume or args.force):
        raise ConfigError(f"--out {out}: already holds results (runs.csv); add --resume to finish them "
                          "or --force to start again")
    try:
        summary = run_experiment(exp, out, args.reps, args.workers, resume=args.resume, progress=not args.quiet,
                                 dask=args.dask, scheduler=args.scheduler)
    except (ValueError, RuntimeError) as exc:
        raise ConfigError(str(exc)) from None
    except KeyboardInterrupt:
        print(f"abm: interrupted; finished runs are in {out}/runs.csv. Finish with: "
              f"abm experiment {args.file} --out {out} --resume" + (f" --reps {args.reps}" if args.reps else ""),
              file=sys.stderr)
        return 130
    print(f"{exp.name}: {summary['done']} runs ({summary['ran_now']} now, {summary['failed']} failed) "
          f"on {summary['workers']} {summary['executor']} workers in {summary['seconds']:.0f} s")
    print(analyse_folder(exp, out))
    if summary["failed"]:
        print(f"abm: {summary['failed']} runs failed; their errors are in runs.csv (status, error)", file=sys.stderr)
        return 1
    return 0


def analyse_folder(exp, out: Path) -> str:
    """Comparison, sensitivity indices and figures of a finished experiment; a short text."""
    from abm.analysis.comparison import compare, read_runs, table, write_comparison
    from abm.analysis.plots import all_figures, has_rows
    from abm.analysis.sensitivity import run_sensitivity

    runs = read_runs(out / "runs.csv")
    rows = compare(runs, exp.spec.baseline, exp.arms, seed=exp.spec.root_seed)
    write_comparison(out / "comparison.csv", rows)
    lines = [""]
    if len(exp.arms) > 1:
        first, last = exp.windows()["long"]
        lines += [f"Long window (steps {first}-{last}): mean, and change against baseline in % with 95% interval",
                  table(rows, "long", ("homicide_rate_per_100k", "recruitment_per_1000_youth", "trust_mean",
                                       "incarceration_per_100k", "cost_per_homicide_averted")), ""]
    sens = run_sensitivity(exp, out)
    if sens:
        key = "ST" if sens[0]["method"] == "sobol" else "mu_star"
        lines.append(f"Sensitivity ({sens[0]['method']}, {key}), most influential first:")
        for output in exp.spec.outputs:
            sub = sorted((r for r in sens if r["output"] == output and r["arm"] == exp.spec.baseline),
                         key=lambda r: -r[key])
            lines.append(f"  {output}: " + ", ".join(f"{r['parameter']} {r[key]:.2f}" for r in sub[:5]))
        lines.append("")
    figures = all_figures(out, rows)
    files = ["runs.csv", "comparison.csv", "manifest.json"] + [f for f in ("timeseries.csv", "blocks.csv")
                                                                if has_rows(out / f)]
    if sens:
        files.append("sensitivity.csv")
        figures.append(out / "sensitivity.png")
    lines.append(f"files: {out}/" + ", ".join(files))
    if figures:
        lines.append("figures: " + ", ".join(str(p) for p in figures))
    return "\n".join(lines)


def cmd_dashboard(args) -> int:
    """Serve the dashboard with Solara: production mode, no browser opened, no telemetry."""
    import importlib.util
    import os
    import shutil

    app = Path(__file__).resolve().parent / "viz" / "app.py"
    def lacks(module: str) -> bool:
        try:
            return importlib.util.find_spec(module) is None
        except (ImportError, ValueError):
            return True

    missing = [m for m in ("solara", "ipyvuetify", "altair") if lacks(m)]
    solara = shutil.which("solara", path=str(Path(sys.executable).parent)) or shutil.which("solara")
    if missing or solara is None:
        raise ConfigError(f"the dashboard needs {', '.join(missing) or 'the solara command'}, which this "
                          "installation lacks: install the dashboard extra "
                          '(from a checkout, pip install ".[dashboard]")')
    env = dict(os.environ, SOLARA_TELEMETRY_MIXPANEL_ENABLE="false")
    print(f"abm dashboard: http://{args.host}:{args.port}/  (Ctrl-C to stop)", flush=True)
    cmd = [solara, "run", str(app), "--host", args.host, "--port", str(args.port), "--no-open", "--production"]
    sys.stdout.flush()
    os.execve(solara, cmd, env)  # the server replaces this process: stopping one stops the other


def cmd_calibrate(args) -> int:
    from abm.calibration import format_report, report, run_seeds
    from abm.config import load_scenario, parse_overrides

    path, _ = scenario_args(args)
    overrides = parse_overrides(args.overrides)
    if args.steps:
        overrides["run.steps"] = args.steps
    scenario = load_scenario(path, overrides)
    seeds = list(range(1, args.seeds + 1))
    print(format_report(scenario, seeds, report(run_seeds(scenario, seeds, args.workers))))
    return 0


def cmd_run(args) -> int:
    from tqdm import tqdm

    from abm.config import load_scenario, parse_overrides
    from abm.simulate import simulate, write_run

    path, layers = scenario_args(args)
    scenario = load_scenario(path, parse_overrides(args.overrides), layers)
    steps = args.steps or scenario.run.steps
    burn_in = None
    if args.steps and args.steps <= scenario.run.burn_in:
        burn_in = 0
        print(f"note: --steps {args.steps} is within the burn-in ({scenario.run.burn_in} weeks): "
              "measuring from the first week (run.burn_in = 0)", file=sys.stderr)
    out = args.out or Path("results") / scenario.name / f"seed-{args.seed}"
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a folder")
    with tqdm(total=steps, unit="week", desc=scenario.name, delay=2, disable=args.quiet, leave=False) as bar:
        result = simulate(scenario, args.seed, steps=args.steps, progress=bar.update, burn_in=burn_in)
    write_run(result, out, str(path))
    if not args.quiet:
        print(closing_table(result, out))
    return 0


def closing_table(result, out: Path) -> str:
    s = result.summary
    lines = [
        f"{result.scenario.name}, seed {result.seed}: {s['people']:,} people, {s['steps']} weeks "
        f"({s['years_measured']:g} years measured after {s['burn_in']} weeks of burn-in), {result.seconds:.1f} s",
        "",
        f"  {'measure':<34}{'value':>10}  {'target':<26}{'off by':>8}",
    ]
    targets = {row["metric"]: row for row in result.calibration}
    shown = (
        "homicide_rate_per_100k", "conviction_rate", "homicide_share_top5pct_blocks", "clearance_rate",
        "recruitment_per_1000_youth", "gang_members", "incarceration_per_100k", "arrests_non_member_share",
        "trust_mean", "reporting_rate", "collective_efficacy_mean", "police_killings", "segregation_index",
    )
    for key in shown:
        value = s[key]
        text = "n/a" if isinstance(value, float) and math.isnan(value) else f"{value:,.3g}" if isinstance(value, float) else f"{value:,}"
        t = targets.get(key)
        target = t["target"] if t else ""
        off = "" if not t else ("ok" if t["distance"] == 0 else ("n/a" if math.isinf(t["distance"]) else f"{t['distance']:.3g}"))
        lines.append(f"  {key:<34}{text:>10}  {target:<26}{off:>8}")
    lines += ["", f"files: {out}/{{timeseries,summary,blocks,events}}.csv, manifest.json"]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
