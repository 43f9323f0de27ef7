"""The examples in examples/ run: the quick-start notebook (executed with nbclient on a
kernel of this interpreter), the EMA Workbench, SALib, emulator-check and call-ins
scripts (with tiny budgets), and the collective-efficacy script's regression recovers a
known slope. Each is skipped when its extra is not installed."""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from .conftest import ROOT

EXAMPLES = ROOT / "examples"


def with_checkout_on_path() -> str:
    """PYTHONPATH with this checkout first: child processes import the code under test."""
    return os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])


def run_script(name: str, *args: str, cwd) -> str:
    env = {**os.environ, "PYTHONPATH": with_checkout_on_path()}
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_the_committed_notebook_has_no_outputs():
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(EXAMPLES / "quickstart.ipynb", as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)


def test_the_quickstart_notebook_runs(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    # A kernel spec of this very interpreter, found first on JUPYTER_PATH: the notebook
    # runs with the packages under test, whatever other kernels the machine knows.
    spec = tmp_path / "jupyter" / "kernels" / "abm-examples"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "abm examples", "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("PYTHONPATH", with_checkout_on_path())
    notebook = nbformat.read(EXAMPLES / "quickstart.ipynb", as_version=4)
    work = tmp_path / "work"
    work.mkdir()
    client = nbclient.NotebookClient(notebook, kernel_name="abm-examples", timeout=120,
                                     resources={"metadata": {"path": str(work)}})
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert any("image/png" in out.get("data", {}) for out in outputs), "the notebook drew no plot"
    text = "".join(out.get("text", "") for out in outputs)
    assert "homicide_rate_per_100k" in text and "4 runs" in text


def test_the_ema_workbench_example_runs_with_a_tiny_budget(tmp_path):
    pytest.importorskip("ema_workbench")
    saved = tmp_path / "results.tar.gz"
    out = run_script("ema_workbench_example.py", "--scenarios", "2", "--policies", "2", "--seeds", "2",
                     "--weeks", "60", "--out", str(saved), cwd=tmp_path)
    assert "4 experiments (2 scenarios x 2 policies), 2 seeds each" in out
    assert "homicide_mean" in out and saved.exists()


@pytest.mark.parametrize("method", ["morris", "sobol"])
def test_the_salib_example_runs_with_a_tiny_budget(tmp_path, method):
    pytest.importorskip("SALib")
    out = run_script("salib_example.py", "--method", method, "--samples", "2", "--seeds", "1", "--weeks", "104",
                     cwd=tmp_path)
    assert f"{method}: " in out and "homicide_rate_per_100k (most influential first)" in out
    assert ("mu_star" if method == "morris" else "ST") in out


def test_the_emulator_check_runs_with_a_tiny_budget(tmp_path):
    pytest.importorskip("sklearn")
    out = run_script("emulator_check.py", "--functions", "1", "--samples", "4", "--resamples", "5", cwd=tmp_path)
    assert "32 points, 48 parameters in 6 factors, 1 functions" in out
    assert "intervals holding the true total index:" in out and "clear orderings that are wrong:" in out


def test_the_call_ins_by_group_example_runs_with_a_tiny_budget(tmp_path):
    out = run_script("call_ins_by_group.py", "--scenario", "classroom", "--seeds", "2", "--steps", "120",
                     "--burn-in", "40", "--workers", "1", cwd=tmp_path)
    called_in, rivals = ([line.split() for line in block.splitlines() if line.strip()[:1].isdigit()]
                         for block in out.split("their rivals, never called in:\n"))
    assert [int(r[0]) for r in called_in] == [1, 2] and [int(r[0]) for r in rivals] == [1, 2]
    assert all(int(r[1]) >= 1 for r in called_in), "every seed's city has a group called in"
    assert "killings by the groups called in" in out and "killings of the groups called in" in out
    assert "killings by their rivals, never called in" in out and "killings of their rivals, never called in" in out
    assert "in attacks by a group under notice at the time" in out


def load_example(name: str):
    spec = importlib.util.spec_from_file_location(name.removesuffix(".py"), EXAMPLES / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_efficacy_regression_recovers_a_known_association():
    """Districts whose homicides follow a Poisson law with a known slope in collective
    efficacy (and in poverty, which goes with low efficacy, and a level per city): the
    script's regression gives back two SD's change, and holding poverty constant is what
    removes its confounding."""
    pytest.importorskip("sklearn")
    example = load_example("efficacy_and_homicide.py")
    rng = np.random.default_rng(7)
    cities, districts, slope = 30, 25, -0.25  # per within-city SD of efficacy
    city = np.repeat(np.arange(cities), districts)
    poverty = rng.uniform(0, 1, city.size)
    efficacy = 0.7 - 0.4 * poverty + rng.normal(0, 0.08, city.size)
    exposure = rng.uniform(3e4, 4e4, city.size)
    z = example.within_city_z(efficacy, city)
    log_rate = np.log(8e-4) + rng.normal(0, 0.2, cities)[city] + slope * z + 1.0 * example.within_city_z(poverty, city)
    data = {"city": city, "efficacy": efficacy, "poverty": poverty, "population_years": exposure,
            "homicides": rng.poisson(exposure * np.exp(log_rate)).astype(float)}
    truth = 100 * (np.exp(2 * slope) - 1)  # -39%
    assert abs(example.two_sd_change(data, ("poverty",)) - truth) < 6
    assert example.two_sd_change(data, ()) < truth - 20, "poverty, left out, adds its own association"


def test_the_efficacy_example_runs_with_a_tiny_budget(tmp_path):
    pytest.importorskip("sklearn")
    out = run_script("efficacy_and_homicide.py", "--scenario", "classroom", "--seeds", "2", "--steps", "120",
                     "--burn-in", "60", "--resamples", "20", "--workers", "1", cwd=tmp_path)
    assert out.startswith("2 cities x ")
    for label in ("poverty and prior homicide held constant: ", "poverty held constant: ",
                  "nothing held constant: "):
        assert label in out


@pytest.mark.parametrize("name", ["efficacy_and_homicide.py", "call_ins_by_group.py"])
def test_the_city_scripts_refuse_bad_input_in_one_line(tmp_path, name):
    env = {**os.environ, "PYTHONPATH": with_checkout_on_path()}
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), "--scenario", "classroom", "--steps", "10",
                           "--burn-in", "20"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{name}: ")
    assert "run.burn_in (20) must be smaller than run.steps (10)" in proc.stderr and "Traceback" not in proc.stderr
