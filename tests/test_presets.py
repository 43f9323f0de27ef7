"""The bundled presets: every scenario, policy and experiment is found by name and
validates; commands take a name or a path; `abm list` and `abm init`; the installed
layout (presets inside the package) works as the source checkout does."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from abm import presets
from abm.cli import main
from abm.config import load_scenario
from abm.schema import ConfigError
from abm.sweep.experiment import load_experiment

from .conftest import CONFIGS, ROOT

EXPERIMENTS = ROOT / "experiments"
# configs/ also holds the calibration targets and priors, which are not scenarios.
SCENARIOS = sorted(p.stem for p in CONFIGS.glob("*.toml") if p.name not in presets.NOT_SCENARIOS)
POLICIES = sorted(p.stem for p in (CONFIGS / "policies").glob("*.toml"))
EXPERIMENT_NAMES = sorted(p.stem for p in EXPERIMENTS.glob("*.toml"))


def test_the_bundled_names_are_the_repository_files():
    assert presets.names("scenario") == SCENARIOS and "classroom" in SCENARIOS
    assert presets.names("policy") == POLICIES and "cbt" in POLICIES
    assert presets.names("experiment") == EXPERIMENT_NAMES and {"smoke", "policy_comparison"} <= set(EXPERIMENT_NAMES)


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_bundled_scenario_resolves_and_validates(name):
    path = presets.resolve_scenario(name)
    assert path.samefile(CONFIGS / f"{name}.toml")
    assert load_scenario(path).name == name
    assert presets.resolve_scenario(f"{name}.toml") == path


@pytest.mark.parametrize("name", POLICIES)
def test_every_bundled_policy_resolves_and_validates_over_the_classroom(name):
    path = presets.resolve_policy(name)
    assert path.samefile(CONFIGS / "policies" / f"{name}.toml")
    assert name in load_scenario(presets.resolve_scenario("classroom"), layers=[path]).model_dump()["policies"]


@pytest.mark.parametrize("name", EXPERIMENT_NAMES)
def test_every_bundled_experiment_resolves_and_validates(name):
    exp = load_experiment(presets.resolve_experiment(name))
    assert exp.name == name and exp.arms


@pytest.mark.parametrize("name", ["targets", "priors"])
def test_the_calibration_targets_and_priors_are_bundled_but_not_scenarios(name):
    assert (CONFIGS / f"{name}.toml").is_file() and name not in presets.names("scenario")
    with pytest.raises(ConfigError, match="nor a bundled scenario"):
        presets.resolve_scenario(name)


def test_a_path_wins_over_a_name_when_the_file_exists(tmp_path, monkeypatch):
    (tmp_path / "classroom").write_text((CONFIGS / "classroom.toml").read_text().replace(
        'base = "baseline.toml"', f'base = "{(CONFIGS / "baseline.toml").as_posix()}"'))
    monkeypatch.chdir(tmp_path)
    assert presets.resolve_scenario("classroom") == Path("classroom")
    # A folder of that name is not a file: the name still means the bundled preset.
    (tmp_path / "smoke").mkdir()
    assert presets.resolve_experiment("smoke").samefile(EXPERIMENTS / "smoke.toml")


def test_an_unknown_name_or_a_missing_path_lists_the_bundled_names():
    with pytest.raises(ConfigError, match="nonesuch: file not found, nor a bundled scenario.*classroom"):
        presets.resolve_scenario("nonesuch")
    with pytest.raises(ConfigError, match="bundled policies: cbt"):
        presets.resolve_policy("somewhere/cbt.toml")


@pytest.mark.parametrize("argv", [
    ["run", "nonesuch", "--steps", "2"],
    ["validate", "classroom", "--policy", "nonesuch"],
    ["calibrate", "nonesuch"],
    ["experiment", "nonesuch"],
    ["bench", "--presets", "nonesuch"],
])
def test_an_unknown_name_exits_2_with_one_line(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("abm: error: nonesuch") and "Traceback" not in err
    assert "bundled" in err


def test_run_by_name_writes_its_files(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    assert main(["run", "classroom", "--steps", "10", "--out", str(out), "--policy", "cbt", "--quiet"]) == 0
    assert {"timeseries.csv", "summary.csv", "blocks.csv", "events.csv", "manifest.json"} <= {
        p.name for p in out.iterdir()}


def test_validate_takes_names_and_paths_alike(capsys):
    assert main(["validate", "classroom", "--policy", "mano_dura", "--policy", "cbt"]) == 0
    by_name = capsys.readouterr().out.split("hash ")[1]
    assert main(["validate", str(CONFIGS / "classroom.toml"), "--policy", str(CONFIGS / "policies/mano_dura.toml"),
                 "--policy", str(CONFIGS / "policies/cbt.toml")]) == 0
    assert capsys.readouterr().out.split("hash ")[1] == by_name


def test_list_shows_every_bundled_preset_with_its_description(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in SCENARIOS + POLICIES + EXPERIMENT_NAMES:
        assert f"  {name} " in out, name
    assert "Classroom scale" in out and "Installation check" in out and "CBT" in out


def test_init_copies_the_presets_and_refuses_to_overwrite(tmp_path, capsys):
    target = tmp_path / "work"
    assert main(["init", str(target)]) == 0
    for name in SCENARIOS:
        assert (target / "configs" / f"{name}.toml").read_bytes() == (CONFIGS / f"{name}.toml").read_bytes()
    for name in POLICIES:
        assert (target / "configs" / "policies" / f"{name}.toml").exists()
    for name in EXPERIMENT_NAMES:
        assert (target / "experiments" / f"{name}.toml").exists()
    # The copies work on their own: the experiments find their scenarios beside them.
    assert load_experiment(target / "experiments" / "smoke.toml").scenarios
    capsys.readouterr()
    (target / "configs" / "classroom.toml").write_text("# edited\n")
    assert main(["init", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already exists" in err and "--force" in err
    assert (target / "configs" / "classroom.toml").read_text() == "# edited\n"
    assert main(["init", str(target), "--force"]) == 0
    assert (target / "configs" / "classroom.toml").read_bytes() == (CONFIGS / "classroom.toml").read_bytes()


def installed_layout(tmp_path: Path) -> Path:
    """The package as a wheel installs it: presets inside abm/presets, no top-level folders."""
    site = tmp_path / "site"
    shutil.copytree(ROOT / "abm", site / "abm", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(CONFIGS, site / "abm" / "presets" / "configs")
    shutil.copytree(EXPERIMENTS, site / "abm" / "presets" / "experiments")
    return site


def test_the_installed_layout_finds_its_presets_inside_the_package(tmp_path):
    site = installed_layout(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    code = ("import abm.presets as p; print(p.root()); "
            "print(p.resolve_scenario('classroom')); print(p.resolve_experiment('smoke'))")
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=empty, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    root, scenario, experiment = proc.stdout.split()
    assert Path(root) == site / "abm" / "presets"
    assert Path(scenario).is_relative_to(site) and Path(experiment).is_relative_to(site)
    proc = subprocess.run([sys.executable, "-m", "abm", "validate", "classroom", "--policy", "cbt"], cwd=empty,
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 0 and "valid scenario 'classroom'" in proc.stdout, proc.stderr
    proc = subprocess.run([sys.executable, "-m", "abm", "init", "copy"], cwd=empty, env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    assert (empty / "copy" / "experiments" / "smoke.toml").exists()
    assert (empty / "copy" / "configs" / "targets.toml").exists()
    code = "from abm import targets; print(targets.default_path()); print(len(targets.bundled()))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=empty, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    path, count = proc.stdout.split()
    assert Path(path).is_relative_to(site) and int(count) >= 10


def test_core_commands_import_no_dashboard_packages():
    code = ("import sys, abm.cli, abm.simulate, abm.sweep.runner, abm.sweep.experiment, abm.calibration, "
            "abm.bench, abm.presets, abm.analysis.report, abm.analysis.plots; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('solara', 'ipyvuetify', 'ipyvue', 'altair') "
            "or m.startswith('mesa.visualization')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_dashboard_without_its_extra_says_what_to_install(tmp_path):
    # Hide the dashboard packages from a child process: each import of them fails.
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import importlib.abc, sys\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('solara', 'ipyvuetify', 'ipyvue', 'altair'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Block())\n")
    env = {"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "abm", "dashboard"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and 'pip install "citizen-security-abm[dashboard]"' in proc.stderr


@pytest.mark.slow
def test_the_wheel_carries_the_presets(tmp_path):
    # Built as pip builds it for an install (in an isolated environment: needs the network
    # the first time, to fetch setuptools).
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("citizen_security_abm-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in SCENARIOS:
        assert f"abm/presets/configs/{name}.toml" in names
    for name in presets.NOT_SCENARIOS:
        assert f"abm/presets/configs/{name}" in names
    for name in POLICIES:
        assert f"abm/presets/configs/policies/{name}.toml" in names
    for name in EXPERIMENT_NAMES:
        assert f"abm/presets/experiments/{name}.toml" in names
    assert "abm/presets/__init__.py" in names
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    core = [line for line in text.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert core and not any("solara" in line for line in core)
    assert "Provides-Extra: dashboard" in text
    # The distribution's name (the import package stays abm) and a version from git.
    assert "Name: citizen-security-abm" in text.splitlines()
    version = next(line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("Version: "))
    assert wheel.name.startswith(f"citizen_security_abm-{version}-")
    assert version != "0.1.0.dev0"  # the fallback, for a source tree without git metadata


def test_the_version_comes_from_the_installed_distribution():
    # In fresh interpreters: building a wheel (test_the_wheel_carries_the_presets)
    # rewrites the checkout's metadata, which this process may have read before.
    code = ("import abm; from importlib import metadata\n"
            "try:\n    expected = metadata.version(abm.DISTRIBUTION)\n"
            "except metadata.PackageNotFoundError:\n    expected = '0+unknown'  # a checkout never installed\n"
            "assert abm.__version__ == expected, (abm.__version__, expected)\nprint(expected)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    version = proc.stdout.strip()
    proc = subprocess.run([sys.executable, "-m", "abm", "--version"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == f"abm {version}", proc.stderr


# Imported only by commands whose extra provides them, each behind a one-line message.
OPTIONAL_MODULES = {"dask", "distributed", "dask_jobqueue", "solara", "ipyvuetify", "ipyvue", "altair", "reacton",
                    "ema_workbench", "nbclient", "nbformat", "pyabc", "cloudpickle", "sklearn", "threadpoolctl"}
# Installed with a core dependency that pins it: pydantic pins its own core exactly.
PINNED_BY_A_DEPENDENCY = {"pydantic_core"}


def test_every_library_the_core_imports_is_a_core_dependency():
    """A plain install (no extras) has every library the package imports outside the
    dashboard and the optional executors."""
    import ast
    import re
    import tomllib
    from importlib import metadata

    declared = {re.split(r"[\[<>=!~ ;]", d, maxsplit=1)[0].lower().replace("_", "-")
                for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    owners = metadata.packages_distributions()
    missing = {}
    for path in (ROOT / "abm").rglob("*.py"):
        if "viz" in path.relative_to(ROOT / "abm").parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if (top == "abm" or top in sys.stdlib_module_names or top in OPTIONAL_MODULES
                        or top in PINNED_BY_A_DEPENDENCY):
                    continue
                dists = {d.lower().replace("_", "-") for d in owners.get(top, [top])}
                if not dists & declared:
                    missing.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    assert not missing, f"imported but not a core dependency: {missing}"
