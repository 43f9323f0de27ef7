"""The examples in examples/ run: the quick-start notebook (executed with nbclient on a
kernel of this interpreter), the EMA Workbench, SALib, emulator-check and call-ins
scripts (with tiny budgets). Each is skipped when its extra is not installed."""

import json
import os
import subprocess
import sys

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
    rows = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert [int(r[0]) for r in rows] == [1, 2]
    assert all(int(r[1]) >= 1 for r in rows), "every seed's city has a group called in"
    assert "killings by the groups called in" in out and "killings of the groups called in" in out
