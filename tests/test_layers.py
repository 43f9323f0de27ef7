"""Reading and analysing results never loads the model: analysis works on result files
made yesterday or on another machine, without the model's code paths."""

import json
import subprocess
import sys

from .conftest import ROOT

MODEL_MODULES = ["abm.model", "abm.config", "abm.simulate", "abm.policies", "abm.population", "abm.metrics",
                 "abm.behaviour", "abm.residents", "abm.violence", "abm.gangs", "abm.policing", "abm.justice"]


def loaded_after(code: str) -> set[str]:
    """abm modules in sys.modules after running ``code`` in a fresh interpreter."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(m for m in sys.modules if m.startswith('abm'))))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_analysis_and_report_import_no_model_code():
    loaded = loaded_after(
        "import abm, abm.results, abm.analysis, abm.analysis.comparison, abm.analysis.plots, abm.analysis.report, "
        "abm.analysis.sensitivity, abm.analysis.statistics, abm.measures, abm.io, abm.cli"
    )
    assert not loaded & set(MODEL_MODULES), sorted(loaded & set(MODEL_MODULES))


def test_abm_report_runs_without_the_model(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"experiment": "x", "arms": {"baseline": {}},
                                                        "baseline": "baseline"}))
    (tmp_path / "comparison.csv").write_text("arm,metric,window,n,mean\nbaseline,homicides,all,1,3\n")
    (tmp_path / "runs.csv").write_text("arm,replicate,seed,status\nbaseline,0,1,ok\n")
    loaded = loaded_after(
        "from pathlib import Path\nfrom abm import cli\n"
        f"assert cli.main(['report', {str(tmp_path)!r}]) == 0"
    )
    assert (tmp_path / "report.html").exists()
    assert not loaded & set(MODEL_MODULES), sorted(loaded & set(MODEL_MODULES))


def test_the_package_namespace_loads_the_model_on_first_use():
    loaded = loaded_after("import abm\nassert abm.__version__\nassert callable(abm.simulate)")
    assert "abm.model" in loaded
