"""The worked study of docs/study.md is reproduced: its experiment file, dry run,
console output and results by design point are what the commands print today.

``pytest tests/test_study.py --update-docs`` rewrites the outputs shown in the
document (and its figure) when a change of numbers is meant."""

import re
import shutil
import subprocess
import sys

import pytest

from .conftest import ROOT

DOC = ROOT / "docs" / "study.md"
STUDY = ROOT / "experiments" / "police_force_study.toml"
SHOWN_OUT = "results/police_force_study"
BLOCK = re.compile(r"(<!-- study:(?P<name>[a-z-]+) -->\n```[a-z]*\n)(?P<body>.*?)(```\n<!-- /study:(?P=name) -->)", re.S)
# Lines that depend on the machine: the time estimate and the time taken.
MACHINE = re.compile(r"^(estimated time: .*|.* on \d+ local workers in \d+ s)$", re.M)

SNIPPET = """\
import pandas as pd

c = pd.read_csv("{out}/comparison.csv")
homicide = c[(c.metric == "homicide_rate_per_100k") & (c.window == "long") & (c.arm != "baseline")]
print(homicide[["arm", "police.officers", "n", "change", "change_ci_low", "change_ci_high", "change_pct"]]
      .round(1).to_string(index=False))
"""


def abm(*args):
    proc = subprocess.run([sys.executable, "-m", "abm", *args], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def steady(text: str, out) -> str:
    return MACHINE.sub(lambda m: "[machine-dependent line]", text.replace(str(out), SHOWN_OUT)).rstrip() + "\n"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    out = tmp_path_factory.mktemp("study") / "police_force_study"
    shown = {
        "experiment": STUDY.read_text(),
        "dry-run": steady(abm("experiment", "police_force_study", "--dry-run"), out),
        "run": steady(abm("experiment", "police_force_study", "--out", str(out), "--quiet", "--workers", "2"), out),
    }
    code = SNIPPET.format(out=out)
    shown["by-point-code"] = SNIPPET.format(out=SHOWN_OUT)
    shown["by-point"] = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                       check=True).stdout
    abm("report", str(out))
    return out, shown


def test_the_worked_study_shows_what_the_commands_print(outputs, update_docs):
    out, shown = outputs
    text = DOC.read_text()
    names = [m["name"] for m in BLOCK.finditer(text)]
    assert sorted(names) == sorted(shown), f"docs/study.md blocks {names}"
    if update_docs:
        text = BLOCK.sub(lambda m: m.group(1) + shown[m["name"]] + m.group(4), text)
        DOC.write_text(text)
        shutil.copy(out / "effects_by_point.png", ROOT / "docs" / "figures" / "study_effects_by_point.png")
    for m in BLOCK.finditer(text):
        assert m["body"] == shown[m["name"]], (
            f"docs/study.md block {m['name']} differs from what the commands print; if the change is meant, "
            "run pytest tests/test_study.py --update-docs")


def test_the_study_folder_holds_what_the_document_describes(outputs):
    out, _ = outputs
    for name in ("runs.csv", "comparison.csv", "manifest.json", "effects_by_point.png", "report.html"):
        assert (out / name).exists(), name
    assert (ROOT / "docs" / "figures" / "study_effects_by_point.png").exists()
