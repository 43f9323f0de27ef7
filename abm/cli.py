"""The ``abm`` command.

    abm [--debug] COMMAND ...
    abm run CONFIG [--policy FILE ...] [--seed N] [--steps N] [--out DIR] [--set KEY=VALUE ...]
    abm validate CONFIG [--set KEY=VALUE ...]
    abm experiment FILE [--reps N] [--samples N] [--workers N] [--out DIR] [--resume]
    abm report RESULTS_DIR [--format html|markdown]
    abm dashboard [--port N] [--host H]
    abm calibrate CONFIG [--seeds N] [--workers N] [--steps N] [--targets FILE] [--set KEY=VALUE ...]
    abm calibrate CONFIG --abc [--priors FILE] [--population N] [--generations N] [--seed N] [--workers N]
                  [--dask | --scheduler ADDRESS] [--out DIR] [--force]
    abm bench [--presets NAME ...] [--years N] | abm bench --sweep
    abm params [--markdown] [--section NAME] [--grade GRADE] | abm params --update-odd docs/ODD.md

Every command ends with one line on error, and its exit status says how it ended:

    0    done
    1    a run failed, or an internal error (a bug: ``--debug`` shows its traceback)
    2    bad input: a bad argument, a missing or malformed file, an unknown key, a wrong
         type, a value out of range (the line names the file, the field and the problem)
    130  interrupted (Ctrl-C, SIGINT)
    143  terminated (SIGTERM; see :mod:`abm.signals`)

``--debug`` (before or after the command) shows the traceback instead of the line.
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import sys
from pathlib import Path

from abm import __version__
from abm.schema import ConfigError, Grade
from abm.signals import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated, sigterm_raises

# Commands import what they need when they run: `abm report` reads result files and
# never loads the model.

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
LONGEST_MESSAGE = 2000  # characters of an error line; the rest is cut
# Errors of paths named on the command line (bad input, exit 2); other OSErrors (a full
# disk, an I/O error) are failed runs (exit 1).
PATH_ERRORS = {errno.ENOENT, errno.EEXIST, errno.EISDIR, errno.ENOTDIR, errno.EACCES, errno.EPERM,
               errno.ENAMETOOLONG, errno.ELOOP, errno.EROFS}


def _shown(text: str, limit: int = 60) -> str:
    """A value as echoed in an error: quoted, and cut if long."""
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


class Number:
    """An argparse type: a whole (``int``) or decimal (``float``) number within bounds.

    ``low``/``high`` are included unless ``low_open``; ``field`` takes them instead from
    a scenario field's declared range (e.g. ``"run.steps"``), read when the option is
    given, so that commands that do not need the schema do not load it.
    """

    def __init__(self, kind: type = int, low: float | None = None, high: float | None = None, *,
                 low_open: bool = False, field: str | None = None):
        self.kind, self._low, self._high, self.low_open, self.field = kind, low, high, low_open, field
        self.__name__ = "whole number" if kind is int else "number"  # argparse names the type by it

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        if self.field is None:
            return self._low, self._high
        return scenario_field_bounds(self.field)

    def describe(self) -> str:
        low, high = (None if b is None else f"{b:d}" if self.kind is int else f"{b:g}" for b in self.bounds)
        what = "a whole number" if self.kind is int else "a number"
        if low is not None and high is not None:
            return f"{what} from {low} to {high}" if not self.low_open else f"{what} above {low}, up to {high}"
        if low is not None:
            return f"{what} {'above' if self.low_open else 'of at least'} {low}"
        return what

    def __call__(self, text: str):
        try:
            value = self.kind(text.strip())
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"expected {self.describe()}, got {_shown(text)}") from None
        low, high = self.bounds
        if (not math.isfinite(value) or (low is not None and (value <= low if self.low_open else value < low))
                or (high is not None and value > high)):
            source = f" ({self.field})" if self.field else ""
            raise argparse.ArgumentTypeError(f"must be {self.describe()}{source}, got {_shown(text)}")
        return value


def scenario_field_bounds(dotted: str) -> tuple[float | None, float | None]:
    """The declared range (``ge``, ``le``) of a scenario field, e.g. ``"run.steps"``."""
    from abm.config import Scenario

    *sections, name = dotted.split(".")
    model = Scenario
    for section in sections:
        model = model.model_fields[section].annotation
    low = high = None
    for bound in model.model_fields[name].metadata:
        low = getattr(bound, "ge", low)
        high = getattr(bound, "le", high)
    return low, high


positive_int = Number(int, 1)
seed_int = Number(int, 0, 2**63 - 1)
workers_int = Number(int, 1, 1024)
count_int = Number(int, 1, 100_000)  # replications, seeds: as an experiment file's replications
population_int = Number(int, 2, 100_000)
steps_int = Number(int, field="run.steps")
port_int = Number(int, 1, 65535)
years_float = Number(float, 0, 100, low_open=True)  # run.steps is at most 5200 weeks
settle_years = Number(int, 2, 100)
settle_from = Number(int, 1, 99)
settle_passes = Number(int, 1, 10)
# abm.settling.YEARS, READ_FROM_YEAR and PASSES (not imported: the parser stays light)
SETTLE_YEARS, SETTLE_FROM, SETTLE_PASSES = 16, 8, 2


def _path(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    if "\0" in text:
        raise argparse.ArgumentTypeError(f"a path cannot hold a NUL character: {_shown(text)}")
    return Path(text)


def _kind(path: Path) -> str:
    """'folder', 'file', 'other' or 'missing'; OSErrors (a name too long) as argparse errors."""
    try:
        if path.is_dir():
            return "folder"
        if path.is_file():
            return "file"
        return "other" if path.exists() else "missing"
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"{_shown(str(path))}: {exc.strerror or exc}") from None


def name_or_file(text: str) -> str:
    """An argparse type: a bundled preset's name or a file (the command reads and checks it)."""
    _path(text)
    return text


def existing_folder(text: str) -> Path:
    """An argparse type: a folder that exists."""
    return _existing(text, "folder")


def existing_file(text: str) -> Path:
    """An argparse type: a file that exists."""
    return _existing(text, "file")


def _existing(text: str, want: str) -> Path:
    path = _path(text)
    kind = _kind(path)
    if kind != want:
        problem = f"no such {want}" if kind == "missing" else f"not a {want}"
        raise argparse.ArgumentTypeError(f"{_shown(text)}: {problem}")
    return path


def output_file(text: str) -> Path:
    """An argparse type: a file to write (not a folder)."""
    path = _path(text)
    if _kind(path) not in ("file", "missing"):
        raise argparse.ArgumentTypeError(f"{_shown(text)}: exists and is not a file")
    return path


def output_folder(text: str) -> Path:
    """An argparse type: a folder to write into, made if missing (not a file)."""
    path = _path(text)
    if _kind(path) not in ("folder", "missing"):
        raise argparse.ArgumentTypeError(f"{_shown(text)}: exists and is not a folder")
    return path


class CommandParser(argparse.ArgumentParser):
    """A command's parser: an argument it does not know is its error, shown with its own
    usage (argparse would otherwise report it with the top-level usage)."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(_shown(a, 40)[1:-1] for a in extras)}")
        return namespace, extras


DEBUG_HELP = "on error, show the traceback instead of one line"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="abm",
        description="Neighbourhood crime dynamics in a segregated city: run scenarios, compare policies.",
        epilog="Exit status: 0 done, 1 a run failed (or an internal error), 2 bad input, "
               "130 interrupted, 143 terminated (SIGTERM).",
    )
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=CommandParser)

    def command(name: str, **kwargs) -> argparse.ArgumentParser:
        p = sub.add_parser(name, **kwargs)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
        return p

    run = command("run", help="run one scenario and write its result files")
    run.add_argument("config", type=name_or_file,
                     help="scenario: a bundled name (abm list), e.g. classroom, or a file")
    run.add_argument("--seed", type=seed_int, default=1, help="random seed, 0 to 2^63-1 (default 1)")
    run.add_argument("--steps", type=steps_int, help="weeks to run (default: the scenario's run.steps)")
    run.add_argument("--out", type=output_folder, help="output folder (default results/<scenario>/seed-<seed>)")
    run.add_argument("--policy", dest="layers", type=name_or_file, action="append", default=[], metavar="NAME|FILE",
                     help="merge a policy over the scenario: a bundled name, e.g. cbt, or a file (repeatable)")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                     help="change any field by dotted path, e.g. --set police.officers=400 (repeatable)")
    run.add_argument("--force", action="store_true", help="replace the results already in --out")
    run.add_argument("--quiet", action="store_true", help="no progress bar and no closing table")

    val_help = ("check a scenario and print every parameter (value, default, unit, range, evidence, source), "
                "or check an experiment and print its plan")
    val = command("validate", help=val_help, description=val_help)
    val.add_argument("config", type=name_or_file, help="scenario or experiment: a bundled name or a file")
    val.add_argument("--quiet", action="store_true", help="only the one line saying the file is valid")
    val.add_argument("--policy", dest="layers", type=name_or_file, action="append", default=[], metavar="NAME|FILE",
                     help="a policy merged over it: a bundled name or a file (repeatable)")
    val.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")

    exp = command("experiment", help="run an experiment file: arms x replications, compare, plot")
    exp.add_argument("file", type=name_or_file,
                     help="experiment: a bundled name, e.g. policy_comparison or smoke, or a file")
    exp.add_argument("--reps", type=count_int, metavar="N", help="replications per arm (default: the file's)")
    exp.add_argument("--samples", type=count_int, metavar="N",
                     help="a random, sobol or morris design's samples (default: the file's, or with --resume the "
                          "folder's); with --resume a larger sample extends the folder, keeping its runs")
    exp.add_argument("--workers", type=workers_int, metavar="N", help="processes (default: the number of cores)")
    exp.add_argument("--out", type=output_folder, help="output folder (default results/<experiment>)")
    exp.add_argument("--resume", action="store_true",
                     help="finish a sweep that was stopped, keeping finished runs (or add replicates with --reps); "
                          "refused if the experiment changed")
    exp.add_argument("--retry-failed", action="store_true", help="with --resume: run failed runs again")
    exp.add_argument("--dask", action="store_true", help="run on a local Dask cluster of --workers processes")
    exp.add_argument("--scheduler", metavar="ADDRESS", help="run on an existing Dask cluster, e.g. tcp://host:8786")
    exp.add_argument("--force", action="store_true",
                     help="start again; the folder's results are replaced whole when the new sweep completes")
    exp.add_argument("--format", choices=["csv", "parquet"],
                     help="csv (default) or parquet: time series and blocks as Parquet datasets, runs also as "
                          "runs.parquet; a resumed folder keeps its format")
    exp.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                     help="change a field of every arm's scenario, e.g. --set police.officers=270 (repeatable); "
                          "recorded in the manifest")
    exp.add_argument("--dry-run", action="store_true",
                     help="check the file and print the plan (runs, windows, columns, estimated time); run nothing")
    exp.add_argument("--quiet", action="store_true", help="no progress bar")

    dash_help = ('the classroom dashboard in a browser (Solara, works offline; needs the dashboard extra: '
                 'pip install "citizen-security-abm[dashboard]"; from a checkout, pip install ".[dashboard]")')
    dash = command("dashboard", help=dash_help, description=dash_help)
    dash.add_argument("--port", type=port_int, default=8765, help="port, 1 to 65535 (default 8765)")
    dash.add_argument("--host", default="127.0.0.1",
                      help="address to listen on (default 127.0.0.1: this machine only; any other address "
                           "lets others on the network use the dashboard)")

    rep_help = ("one report from a results folder: a self-contained HTML page (report.html), or Markdown for a "
                "paper or a README (report.md)")
    rep = command("report", help=rep_help, description=rep_help)
    rep.add_argument("folder", type=existing_folder, help="an experiment's results folder")
    rep.add_argument("--format", choices=("html", "markdown"), default="html", help="html (default) or markdown")

    cal_help = ("distance from the calibration targets over many seeds; with --abc, fit the uncertain "
                "parameters to all targets at once and write a posterior ensemble (docs/calibration.md)")
    cal_usage = ("%(prog)s CONFIG [--seeds N] [--workers N] [--steps N] [--targets FILE] [--set KEY=VALUE ...]\n"
                 "       %(prog)s CONFIG --abc [--priors FILE] [--population N] [--generations N] [--seed N]\n"
                 "                     [--workers N] [--dask | --scheduler ADDRESS] [--out DIR] [--force]")
    cal = command("calibrate", help=cal_help, description=cal_help, usage=cal_usage)
    cal.add_argument("config", type=name_or_file, help="scenario: a bundled name, e.g. baseline, or a file")
    cal.add_argument("--seeds", type=count_int, help="number of seeds, 1..N (default 10)")
    cal.add_argument("--workers", type=workers_int, help="processes (default: the number of cores)")
    cal.add_argument("--steps", type=steps_int, help="weeks to run (default: the scenario's)")
    cal.add_argument("--targets", type=existing_file, metavar="FILE",
                     help="calibration targets (default: the bundled configs/targets.toml)")
    cal.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    abc = cal.add_argument_group(
        "fitting (--abc)",
        "approximate Bayesian computation (ABC-SMC, with pyabc; needs the calibration extra: "
        'pip install "citizen-security-abm[calibration]"). Run again with the same options to resume '
        "after an interruption, or with more --generations to go on")
    abc.add_argument("--abc", action="store_true",
                     help="fit the parameters of --priors to all targets at once; write the posterior to --out")
    abc.add_argument("--priors", type=existing_file, metavar="FILE",
                     help="the parameters to fit and their ranges (default: the bundled configs/priors.toml)")
    abc.add_argument("--population", type=population_int, metavar="N",
                     help=f"particles a generation, 2 to 100000 (default {ABC_POPULATION})")
    abc.add_argument("--generations", type=count_int, metavar="N",
                     help=f"generations in all, counting those already in --out (default {ABC_GENERATIONS})")
    abc.add_argument("--seed", type=seed_int, metavar="N",
                     help="root seed of every random number, 0 to 2^63-1 (default 1)")
    abc.add_argument("--dask", action="store_true", help="run on a local Dask cluster of --workers processes")
    abc.add_argument("--scheduler", metavar="ADDRESS", help="run on an existing Dask cluster, e.g. tcp://host:8786")
    abc.add_argument("--out", type=output_folder, metavar="DIR",
                     help="output folder (default results/<scenario>/posterior); e.g. configs/posterior/district")
    abc.add_argument("--force", action="store_true",
                     help="start over; the folder is replaced whole when the new calibration completes")

    settle_help = ("read each parameter set's settled starting stocks (prisons, records, gang members, trust) "
                   "from long runs of its baseline, and write the ensemble again with them, so that an experiment over "
                   "it starts each set where its baseline holds steady (docs/ODD.md, section 5)")
    settle = command("settle", help=settle_help, description=settle_help)
    settle.add_argument("config", type=name_or_file, help="scenario: a bundled name, e.g. district, or a file")
    settle.add_argument("ensemble", type=existing_file,
                        help="parameter sets (CSV: dotted names, one row per set), e.g. a calibration's posterior.csv")
    settle.add_argument("--out", type=output_file, metavar="FILE",
                        help="the ensemble with the stocks (default: settled.csv beside ENSEMBLE); a manifest "
                             "FILE.json goes beside it")
    settle.add_argument("--years", type=settle_years, default=SETTLE_YEARS,
                        help=f"simulated years a set, 2 to 100 (default {SETTLE_YEARS})")
    settle.add_argument("--read-from", type=settle_from, default=SETTLE_FROM, metavar="YEAR",
                        help=f"read the stocks over the years after this one, 1 to --years - 1 (default "
                             f"{SETTLE_FROM})")
    settle.add_argument("--passes", type=settle_passes, default=SETTLE_PASSES,
                        help=f"runs a set, 1 to 10, each starting from the stocks the one before read (default "
                             f"{SETTLE_PASSES})")
    settle.add_argument("--sets", type=count_int, metavar="K",
                        help="only K of the sets, evenly spaced through the file, as an experiment's ensemble_sets "
                             "takes them (default: every set)")
    settle.add_argument("--seed", type=seed_int, default=1, help="the seed of every set's run (default 1)")
    settle.add_argument("--workers", type=workers_int, help="processes (default: the number of cores)")
    settle.add_argument("--force", action="store_true", help="replace FILE if it exists")
    settle.add_argument("--quiet", action="store_true", help="no progress bar")

    bench = command("bench", help="measure speed and memory of the presets beside Mesa's Epstein example")
    bench.add_argument("--presets", type=name_or_file, nargs="+", default=["classroom", "district", "city"],
                       help="bundled scenario names, or files (default: classroom district city)")
    bench.add_argument("--years", type=years_float, nargs="+",
                       help="simulated years per preset, up to 100 (default: 10 10 1)")
    bench.add_argument("--configs", type=existing_folder,
                       help="folder to take the --presets from (default: the bundled presets)")
    bench.add_argument("--sweep", action="store_true",
                       help="instead, measure sweep throughput with 1 and 2 workers and with Dask")
    lst = command("list", help="the bundled scenarios, policies and experiments, one line each")
    lst.add_argument("--paths", action="store_true", help="show each preset's file")

    init = command("init", help="copy the bundled configs/ and experiments/ into a folder, for editing")
    init.add_argument("folder", type=output_folder)
    init.add_argument("--force", action="store_true", help="overwrite files that already exist")

    par = command("params", help="list every parameter: default, range, unit, evidence grade, source")
    par.add_argument("name", nargs="?", help="one parameter, e.g. residents.trust_abuse: its meaning and evidence")
    par.add_argument("--markdown", action="store_true", help="Markdown tables grouped by section")
    par.add_argument("--section", metavar="NAME",
                     help="one section, e.g. youth, policies.cbt (or cbt), policies for all policies")
    par.add_argument("--grade", choices=[str(g) for g in Grade], help="only parameters of this evidence grade")
    par.add_argument("--update-odd", type=existing_file, metavar="FILE",
                     help="rewrite the parameter tables between <!-- params:SECTION --> markers of FILE")
    return parser


def one_line(text: str, limit: int = LONGEST_MESSAGE) -> str:
    """``text`` on one line (line breaks as spaces), cut to ``limit`` characters."""
    line = " ".join(part.strip() for part in str(text).splitlines() if part.strip())
    if len(line) > limit:
        line = line[:limit] + f"... ({len(line) - limit:,} more characters)"
    return line


def say(message: str) -> None:
    """The closing line of a command that did not finish, on stderr."""
    print(f"abm: {one_line(message)}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the command ``argv`` (default ``sys.argv[1:]``); return its exit status.

    Errors end in one line on stderr (``--debug``: raised, with their traceback).
    Argument errors exit via argparse (status 2, with the command's usage).
    """
    args = build_parser().parse_args(argv)
    with sigterm_raises():
        try:
            return run_command(args)
        except ConfigError as exc:
            if args.debug:
                raise
            say(f"error: {exc}")
            return EXIT_BAD_INPUT
        except BrokenPipeError:  # `abm params | head`: the reader left; stop quietly
            if args.debug:
                raise
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            except (OSError, ValueError):
                pass
            return EXIT_FAILED
        except OSError as exc:  # a path that is missing, a file we may not write, a disk that is full
            if args.debug:
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            say(f"error: {where}{exc.strerror or exc}")
            return EXIT_BAD_INPUT if exc.errno in PATH_ERRORS else EXIT_FAILED
        except KeyboardInterrupt:
            if args.debug:
                raise
            say("interrupted")
            return EXIT_INTERRUPTED
        except Terminated:
            if args.debug:
                raise
            say("terminated")
            return EXIT_TERMINATED
        except FloatingPointError as exc:  # a run gave NaN or infinity (abm.metrics.NonFiniteMeasure)
            if args.debug:
                raise
            say(f"error: {exc}")
            return EXIT_FAILED
        except Exception as exc:
            if args.debug:
                raise
            detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            say(f"internal error: {detail} (run with --debug for the traceback)")
            return EXIT_FAILED


def run_command(args) -> int:
    if args.command == "run":
        return cmd_run(args)
    if args.command == "validate":
        return cmd_validate(args)
    if args.command == "experiment":
        return cmd_experiment(args)
    if args.command == "dashboard":
        return cmd_dashboard(args)
    if args.command == "report":
        return cmd_report(args)
    if args.command == "calibrate":
        return cmd_calibrate(args)
    if args.command == "params":
        return cmd_params(args)
    if args.command == "settle":
        return cmd_settle(args)
    if args.command == "bench":
        from abm.bench import run_bench, run_sweep_bench

        if args.sweep:
            return run_sweep_bench(args.configs)
        return run_bench(args.presets, args.years, args.configs)
    if args.command == "list":
        return cmd_list(args)
    if args.command == "init":
        return cmd_init(args)
    raise AssertionError(f"no such command: {args.command}")


def cmd_report(args) -> int:
    from abm.analysis.report import build_report

    print(build_report(args.folder, args.format))
    return 0


def cmd_params(args) -> int:
    from abm import parameters

    if args.update_odd:
        changed = parameters.update_odd(args.update_odd)
        print(f"{args.update_odd}: " + (f"updated {', '.join(changed)}" if changed else "tables up to date"))
        return 0
    if args.name:
        print(parameters.describe(args.name))
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
    """Check a scenario (and print its parameters) or an experiment (and print its plan)."""
    from abm import parameters
    from abm.config import load_scenario, parse_overrides
    from abm.presets import resolve_experiment, resolve_scenario
    from abm.sweep.experiment import is_experiment_file, load_experiment

    from abm import footprint

    overrides = parse_overrides(args.overrides)
    path = None
    try:
        path = resolve_scenario(args.config)
    except ConfigError:
        path = resolve_experiment(args.config)
    if is_experiment_file(path):
        from abm.sweep.runner import plan

        exp = load_experiment(path, overrides)
        print(f"{args.config}: valid experiment '{exp.name}'")
        print(plan(exp, timing=False))
        return 0
    path, layers = scenario_args(args)
    scenario = load_scenario(path, overrides, layers)
    need = footprint.estimate(scenario)
    footprint.check(need, args.config)
    print(f"{args.config}: valid scenario '{scenario.name}' (hash {scenario.digest()}); a run needs {need.describe()}")
    if not args.quiet:
        print(parameters.scenario_table(scenario))
    return 0


def cmd_experiment(args) -> int:
    from abm.presets import resolve_experiment
    from abm.sweep.experiment import load_experiment
    from abm.config import parse_overrides
    from abm.sweep.runner import held_samples, plan, run_experiment

    path, overrides = resolve_experiment(args.file), parse_overrides(args.overrides)
    exp = load_experiment(path, overrides, args.samples)
    out = args.out or Path("results") / exp.name
    if args.samples is None and args.resume and not args.force and not args.dry_run:
        held = held_samples(out)  # a resumed folder keeps its sample, as it keeps its replicates
        if held and exp.spec.design and exp.spec.design.grows and held != exp.spec.design.samples:
            print(f"note: {out} holds a sample of {held} ({exp.spec.design.method}), the file asks for "
                  f"{exp.spec.design.samples}; the folder's is kept (--samples N to change it)", file=sys.stderr)
            exp = load_experiment(path, overrides, held)
    if exp.spec.design is not None and exp.spec.design.emulator:
        from abm.analysis.emulator import unavailable

        if problem := unavailable():  # found out before the runs, not after them
            raise ConfigError(f"{path}: {problem}")
    if not args.scheduler:  # a cluster's workers have memory of their own
        exp.check_memory(args.workers, args.reps)
    if args.dry_run:
        print(plan(exp, args.reps, args.workers))
        return 0
    report: list[str] = []
    again = (f"abm experiment {args.file} --out {out} --resume" + (f" --reps {args.reps}" if args.reps else "")
             + (f" --samples {args.samples}" if args.samples else ""))
    try:
        summary = run_experiment(exp, out, args.reps, args.workers, resume=args.resume, progress=not args.quiet,
                                 dask=args.dask, scheduler=args.scheduler, force=args.force,
                                 retry_failed=args.retry_failed, fmt=args.format,
                                 analyse=lambda stage: report.append(analyse_folder(exp, stage, out)))
    except (ValueError, RuntimeError) as exc:
        raise ConfigError(str(exc)) from None
    except (KeyboardInterrupt, Terminated) as exc:
        stopped = "terminated" if isinstance(exc, Terminated) else "interrupted"
        partial = out.with_name(out.name + ".partial")
        if partial.exists():
            say(f"{stopped}; finished runs are kept in {partial}. Finish with: {again}")
        else:
            say(stopped)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    print(f"{exp.name}: {summary['done']} runs ({summary['ran_now']} now, {summary['failed']} failed) "
          f"on {summary['workers']} {summary['executor']} workers in {summary['seconds']:.0f} s")
    print("\n".join(report))
    if summary["failed"]:
        print(f"abm: {summary['failed']} runs failed; their errors are in {out}/runs.csv (status, error); "
              f"run them again with: abm experiment {args.file} --out {out} --resume --retry-failed",
              file=sys.stderr)
        return 1
    return 0


def analyse_folder(exp, out: Path, shown: Path | None = None) -> str:
    """Comparison, sensitivity indices and figures of a finished experiment in ``out``;
    a short text naming its files as in ``shown`` (where the folder will be)."""
    from abm.analysis.comparison import POOLED, compare, point_label, points, read_runs, table, write_comparison
    from abm.analysis.plots import all_figures, has_rows
    from abm.analysis.stationarity import stationarity, summary, write_stationarity
    from abm.analysis.emulator import run_emulator
    from abm.analysis.sensitivity import run_sensitivity
    from abm.results import table_path

    runs = read_runs(out / "runs.csv")
    rows = compare(runs, exp.spec.baseline, exp.arms, seed=exp.spec.root_seed, parameters=exp.parameters,
                   pool=exp.pools_points, sets=exp.spec.ensemble is not None)
    write_comparison(out / "comparison.csv", rows, exp.parameters)
    steady = stationarity(runs, exp.spec.baseline)
    if steady:
        write_stationarity(out / "stationarity.csv", steady)
    lines = [""]
    if len(exp.arms) > 1:
        first, last = exp.windows()["long"]
        lines.append(f"Long window (steps {first}-{last}): mean, and change against baseline in % with 95% "
                     "interval, paired by replicate")
        for point in points(rows):
            sub = [r for r in rows if r["point"] == point]
            n = min((r["n"] for r in sub if r["metric"] == "homicide_rate_per_100k" and r["window"] == "long"),
                    default=0)
            if exp.spec.ensemble is not None:
                lines.append(f"over the {n} parameter sets of {exp.spec.ensemble} (each the mean of its replicates; "
                             "intervals over the sets carry the parameters' uncertainty)")
            elif exp.parameters or point == POOLED:
                where = point_label(rows, point, exp.parameters)
                if point == POOLED:
                    where += f" ({len(exp.points)} points sampled by {exp.spec.design.method})"
                lines.append(f"{where}: {n} runs per arm")
            lines += [table(sub, "long", ("homicide_rate_per_100k", "recruitment_per_1000_youth", "trust_mean",
                                          "incarceration_per_100k", "cost_per_homicide_averted")), ""]
            # Over an ensemble's sets, or a design's points where they have replicates.
            shares = [f"{r['arm']} {r['metric']} {r['parameter_share']:.0%}" for r in sub
                      if r["window"] == "long" and r["metric"] in ("homicide_rate_per_100k",
                                                                   "recruitment_per_1000_youth")
                      and isinstance(r.get("parameter_share"), float) and not math.isnan(r["parameter_share"])]
            if shares:
                lines += ["Share of each change's variance due to the parameters (the rest: chance), long "
                          "window: " + "; ".join(shares), ""]
    lines += summary(steady, "parameter sets" if exp.spec.ensemble is not None else "points") + [""] if steady else []
    sens = run_sensitivity(exp, out)
    if sens:
        lines += rankings(exp, sens, sens[0]["method"]) + [""]
    emulated = run_emulator(exp, out)
    if emulated:
        def span(key: str) -> str:  # nan: an output that never varies (no fit)
            values = [r[key] for r in emulated if not math.isnan(r["Q2"])]
            low, high = f"{min(values):.0%}", f"{max(values):.0%}"
            return low if low == high else f"{low} to {high}"

        lines += rankings(exp, emulated, "Gaussian-process emulator")
        if any(not math.isnan(r["Q2"]) for r in emulated):
            lines.append(f"  the emulator predicts {span('Q2')} of an output's variance at points left out (Q2); "
                         f"chance is {span('noise_share')} of it")
        else:
            lines.append("  no output varied over the points: nothing to emulate")
        lines.append("")
    shown = shown or out
    figures = [shown / p.name for p in all_figures(out, rows)]
    files = ["runs.csv", "comparison.csv"] + (["stationarity.csv"] if steady else []) + ["manifest.json"] + [
        table_path(out, name).name + ("/" if table_path(out, name).is_dir() else "")
        for name in ("runs", "timeseries", "blocks")
        if has_rows(out / f"{name}.csv") and table_path(out, name).name != "runs.csv"]
    if sens:
        files.append("sensitivity.csv")
        figures.append(shown / "sensitivity.png")
    if emulated:
        files.append("sensitivity_emulator.csv")
        figures.append(shown / "sensitivity_emulator.png")
    warning = calibration_note(out)
    if warning:
        lines.append(warning)
    lines.append(f"files: {shown}/" + ", ".join(files))
    if figures:
        lines.append("figures: " + ", ".join(str(p) for p in figures))
    return "\n".join(lines)


def rankings(exp, sens: list[dict], method: str) -> list[str]:
    """Lines ranking the factors of each output of the baseline and each policy's
    effects, most influential first, with the clear top of a Sobol ranking."""
    from abm.analysis.sensitivity import EFFECT, RELATIVE

    key = "mu_star" if sens[0]["method"] == "morris" else "ST"
    lines = [f"Sensitivity ({method}, {key}), most influential first:"]

    def ranking(sub: list[dict]) -> str:
        if not sub:  # a relative effect where the baseline's output is 0 at every point
            return "undefined (the baseline's output is 0 at every point)"
        text = ", ".join(f"{r['parameter']} {r[key]:.2f}" for r in sub[:5])
        if key == "ST":  # the clear top: leaders whose paired differences clear every other factor
            top = [r["parameter"] for r in sub if r["ST_leading"]]
            text += f" (clear top: {', '.join(top)})" if top else " (no clear top)"
        return text

    outputs = [o for o in exp.spec.outputs if any(r["output"] == o for r in sens)]  # an emulator's may be fewer
    for output in outputs:
        sub = sorted((r for r in sens if r["output"] == output and r["arm"] == exp.spec.baseline),
                     key=lambda r: -r[key])
        lines.append(f"  {output}: " + ranking(sub))
    effects = [arm for arm in exp.arms if arm != exp.spec.baseline]
    kinds = ((EFFECT, "effect (its change against the baseline at the same point"),
             (RELATIVE, "relative effect (that change in % of the baseline"))
    for kind, what in kinds if effects else ():
        lines.append(f"What decides each policy's {what}; {key}), most influential first:")
        for arm in effects:
            for output in outputs:
                sub = sorted((r for r in sens if r["output"] == output + kind and r["arm"] == arm),
                             key=lambda r: -r[key])
                lines.append(f"  {arm}, {output}: " + ranking(sub))
    return lines


LOOPBACK_NAMES = ("localhost", "localhost.", "ip6-localhost", "ip6-loopback")
# Solara's settings for a server that contacts nothing outside this machine: no usage
# reports (telemetry), and `solara run --no-check-version` below (no look-up of a newer
# Solara on the package index). Every asset the page loads ships with solara-assets, so
# none is fetched from a CDN. tests/test_dashboard.py runs the server with the network
# blocked and asserts that it tried nothing.
SOLARA_OFFLINE = {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false"}


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_listen(host: str, port: int) -> None:
    """ConfigError, in one line, unless a server can listen on ``host``:``port``."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise ConfigError(f"--host {host}: not an address of this machine ({getattr(exc, 'strerror', None) or exc})") \
            from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise ConfigError(f"--host {host} --port {port}: cannot listen there: {exc.strerror or exc}") from None


MAX_NAMED_PARAMETERS = 6  # more design parameters than this are counted, not listed, in notes
MAX_CALIBRATION_NOTES = 3  # design points named in the note; the manifest holds them all


def calibration_note(folder: Path) -> str | None:
    """A note when the experiment's overrides of the city, or its design, leave its
    baseline outside the calibration targets at some design point (from the manifest)."""
    import json

    from abm.metrics import drifting, misses

    found = json.loads((folder / "manifest.json").read_text()).get("calibration") or {}
    moved = drifting(found.get("moved_by", []))
    notes: list[str] = []
    for index, point in enumerate(found.get("points", [])):
        what = misses(point.get("baseline_means", []))
        if what:
            values = point.get("parameters", {})
            if len(values) > MAX_NAMED_PARAMETERS:  # a screening design: name the point, not its values
                where = f"design point {point.get('point', index)}"
            else:
                where = ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                                  for k, v in values.items())
            note = what + (f" at {where}" if where else "")
            if note not in notes:  # a design may repeat a point (Morris trajectories)
                notes.append(note)
    if not moved or not notes:
        return None
    shown = MAX_CALIBRATION_NOTES
    rest = len(notes) - shown
    more = (f"; and at {rest} more design point{'s' if rest > 1 else ''} (manifest.json, \"calibration\")"
            if rest > 0 else "")
    named = ", ".join(moved[:MAX_NAMED_PARAMETERS])
    if len(moved) > MAX_NAMED_PARAMETERS:
        named += f" and {len(moved) - MAX_NAMED_PARAMETERS} more"
    return (f"note: with {named} changed, the baseline arm's mean is outside its calibration targets: "
            + "; ".join(notes[:shown]) + more)


def cmd_dashboard(args) -> int:
    """Serve the dashboard with Solara: production mode, no browser opened, offline."""
    import importlib.util
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
                          'installation lacks: pip install "citizen-security-abm[dashboard]" '
                          '(from a checkout, pip install ".[dashboard]")')
    check_listen(args.host, args.port)
    if not is_loopback(args.host):
        print(f"abm dashboard: warning: listening on {args.host}: anyone who can reach this machine on port "
              f"{args.port} can use the dashboard (and make it run simulations); use --host 127.0.0.1 to keep "
              "it to this machine", file=sys.stderr, flush=True)
    # No framework banner in the page's corner, where it would cover the table on a projector.
    env = dict(os.environ, **SOLARA_OFFLINE, SOLARA_THEME_SHOW_BANNER="false")
    shown = f"[{args.host}]" if ":" in args.host and not args.host.startswith("[") else args.host
    print(f"abm dashboard: http://{shown}:{args.port}/  (Ctrl-C to stop)", flush=True)
    cmd = [solara, "run", str(app), "--host", args.host, "--port", str(args.port), "--no-open", "--production",
           "--no-check-version"]
    sys.stdout.flush()
    os.execve(solara, cmd, env)  # the server replaces this process: stopping one stops the other


ABC_ONLY = ("priors", "population", "generations", "seed", "dask", "scheduler", "out", "force")
# About 1,500-2,000 runs: an afternoon on two cores at district scale (docs/calibration.md).
ABC_POPULATION, ABC_GENERATIONS = 60, 6


def cmd_calibrate(args) -> int:
    from abm import targets
    from abm.calibration import format_report, report, run_seeds
    from abm.config import load_scenario, parse_overrides

    if args.abc and args.seeds is not None:
        raise ConfigError("--seeds: not with --abc (each particle is one run, its seed drawn from --seed)")
    if not args.abc:
        given = [name for name in ABC_ONLY if getattr(args, name) not in (None, False)]
        if given:
            raise ConfigError(f"--{given[0]}: only with --abc")
    path, _ = scenario_args(args)
    overrides = parse_overrides(args.overrides)
    if args.steps:
        overrides["run.steps"] = args.steps
    scenario = load_scenario(path, overrides)
    chosen = targets.load(args.targets)  # a bad targets file stops here, before any run
    if args.abc:
        return fit_posterior(args, scenario, chosen)
    seeds = list(range(1, (args.seeds or 10) + 1))
    print(format_report(scenario, seeds, report(run_seeds(scenario, seeds, args.workers), chosen)))
    return 0


def fit_posterior(args, scenario, chosen) -> int:
    """``abm calibrate --abc``: fit, write the posterior folder, print what it reproduces."""
    from abm import priors

    fitted = priors.load(args.priors)  # a bad priors file stops here, before any run
    priors.check_ends(fitted, scenario, args.priors or priors.default_path())
    try:
        from abm import posterior
    except ImportError as exc:
        raise ConfigError(f"abm calibrate --abc needs {exc.name or 'pyabc'}, which is not installed: "
                          'pip install "citizen-security-abm[calibration]" (from a checkout: '
                          'pip install ".[calibration]")') from None
    if args.dask or args.scheduler:
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            raise ConfigError('--dask and --scheduler need dask.distributed: pip install '
                              '"citizen-security-abm[calibration]"') from None
    if args.scheduler:
        from abm.sweep.runner import reach_scheduler

        try:
            reach_scheduler(args.scheduler)
        except RuntimeError as exc:
            raise ConfigError(str(exc)) from None
    out = args.out or Path("results") / scenario.name / "posterior"
    workers = args.workers or os.cpu_count() or 1
    population = args.population or ABC_POPULATION
    if not args.scheduler:  # a cluster's workers have memory of their own
        from abm import footprint

        need = footprint.worst(scenario, {p.name: [p.low, p.high] for p in fitted})
        footprint.check(need, f"{args.config}: a run", workers)
    generations = args.generations or ABC_GENERATIONS
    print(f"{scenario.name}: fitting {len(fitted)} parameters to {len(chosen)} targets, {generations} generations "
          f"of {population} particles, seed {args.seed or 1}, on "
          + (f"Dask at {args.scheduler}" if args.scheduler else f"{workers} {'Dask ' if args.dask else ''}workers"),
          flush=True)
    try:
        manifest = posterior.calibrate(
            scenario, fitted, chosen, out, population=population, generations=generations,
            seed=args.seed if args.seed is not None else 1, workers=workers, dask=args.dask,
            scheduler=args.scheduler, force=args.force, source=args.config,
            say=lambda line: print(line, flush=True))
    except (KeyboardInterrupt, Terminated) as exc:
        stopped = "terminated" if isinstance(exc, Terminated) else "interrupted"
        say(f"{stopped}; finished generations are kept in {out.with_name(out.name + '.partial')}; "
            "run the same command again to go on")
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    print(posterior.format_report(manifest, out))
    return 0


def cmd_settle(args) -> int:
    """``abm settle``: the ensemble again, each set with its settled starting stocks."""
    import hashlib

    from pydantic import ValidationError
    from tqdm import tqdm

    from abm import settling
    from abm.config import describe_errors, load_scenario
    from abm.io import provenance, write_csv, write_json
    from abm.sweep.ensemble import evenly_spaced, read_ensemble

    if args.read_from >= args.years:
        raise ConfigError(f"--read-from {args.read_from}: must be before the run's end (--years {args.years})")
    path, _ = scenario_args(args)
    scenario = load_scenario(path)
    names, sets = read_ensemble(args.ensemble)
    if args.sets is not None:
        if args.sets > len(sets):
            raise ConfigError(f"--sets {args.sets}: {args.ensemble} holds {len(sets)} sets")
        sets = evenly_spaced(sets, args.sets)
    for k, point in enumerate(sets):  # every set, before any run
        try:
            scenario.replaced(**point)
        except ValidationError as exc:
            raise ConfigError(f"{args.ensemble}: set {k} (line {k + 2}): {describe_errors(exc.errors())}") from None
    out = args.out or args.ensemble.with_name("settled.csv")
    manifest = out.with_name(out.name + ".json")
    if out.resolve() == args.ensemble.resolve():
        raise ConfigError(f"--out {out}: is the ensemble read; write the settled sets to another file")
    if not args.force:
        for target in (out, manifest):
            if target.exists():
                raise ConfigError(f"--out {out}: {target} exists; --force replaces it")
    workers = args.workers or os.cpu_count() or 1
    distinct = len({settling.set_key(p) for p in sets})
    print(f"{scenario.name}: reading the settled stocks of {distinct} distinct sets of {args.ensemble} "
          f"({len(sets)} rows), {args.passes} x {args.years} years each, read over years {args.read_from}-"
          f"{args.years}, seed {args.seed}, on {workers} workers", flush=True)
    with tqdm(total=distinct, unit="set", disable=args.quiet, file=sys.stderr) as bar:
        rows = settling.settle_sets(scenario, sets, args.seed, args.years, args.read_from, args.passes, workers,
                                    bar.update)
    columns = [n for n in names if n not in settling.STOCKS] + list(settling.STOCKS)
    write_csv(out, columns, rows)
    write_json(manifest, {
        **provenance(), "ensemble": str(args.ensemble),
        "ensemble_sha256": hashlib.sha256(args.ensemble.read_bytes()).hexdigest(),
        "scenario": args.config, "scenario_hash": scenario.digest(), "seed": args.seed, "years": args.years,
        "read_from_year": args.read_from, "passes": args.passes, "sets_asked": args.sets, "sets": len(sets),
        "distinct_sets": distinct, "stocks": list(settling.STOCKS)})
    for name in settling.STOCKS:
        values = [float(r[name]) for r in rows]
        default = scenario.get(name)
        print(f"  {name:32s} {min(values):.3f} to {max(values):.3f} (default "
              + (f"{default:g})" if default is not None else "none)"))
    print(f"wrote {out} and {manifest}")
    return 0


def cmd_run(args) -> int:
    from tqdm import tqdm

    from abm.config import load_scenario, parse_overrides
    from abm.folders import check_replaceable
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
    check_replaceable(out, args.force, "run")  # before the run, not after it
    with tqdm(total=steps, unit="week", desc=scenario.name, delay=2, disable=args.quiet, leave=False) as bar:
        result = simulate(scenario, args.seed, steps=args.steps, progress=bar.update, burn_in=burn_in)
    write_run(result, out, str(path), force=args.force)
    from abm.metrics import drift_warning

    warning = drift_warning(result.calibration, parse_overrides(args.overrides))
    if warning:
        print(warning + (" (policies are on, and move these too)" if args.layers else ""), file=sys.stderr)
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
        off = "" if not t else ("n/a" if math.isinf(t["distance"]) else "ok" if t["met"] else f"{t['distance']:.3g}")
        lines.append(f"  {key:<34}{text:>10}  {target:<26}{off:>8}")
    lines += ["", f"files: {out}/{{timeseries,summary,blocks,events}}.csv, manifest.json"]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
