"""Every behavioural assumption is a named parameter: no bare numbers in the mechanisms.

A number that says something about behaviour (a weight, a rate, a threshold, a scale)
belongs in the scenario schema (``abm/config.py``) or in its policy's ``Params`` class,
with a unit, a source and an evidence grade, so that it can be listed (``abm params``),
varied (``--set``, sweeps) and cited. This test reads the mechanism modules with
``ast`` and fails on any numeric literal that is not structural.

Structural, and so allowed anywhere: 0, 1 and -1 (also as floats), 2 as a divisor
(halving), an exponent (squares) or in a comparison ("at least two"), 1e5 (per 100,000) and tiny guards against division
by zero. Also allowed: numbers inside ``param(...)``/``Field(...)`` (the schema itself)
and inside subscripts (indices and slices), and the module constants named in
:data:`NAMED_CONSTANTS`. Anything else needs a line in :data:`ALLOWED`, with a reason.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MECHANISMS = sorted(
    [ROOT / "abm" / f"{name}.py" for name in (
        "behaviour", "residents", "violence", "gangs", "policing", "justice", "city", "population", "model",
    )]
    + list((ROOT / "abm" / "policies").glob("*.py"))
)

STRUCTURAL = {0, 1, -1, 1e5, 1e-6, 1e-9}

# Module constants that name calendar facts, ages and state codes, not behaviour.
NAMED_CONSTANTS = {
    "WEEKS_PER_YEAR", "YOUTH_ENTRY_AGE", "YOUTH_EXIT_AGE", "SCHOOL_LEAVING_AGE",  # calendar and ages
    "NEIGHBOURHOOD_BLOCKS",  # blocks in a 3x3 neighbourhood
    "SETTLE_ROUNDS",  # cap on the rounds of a fixed-point iteration (abm/gangs.py)
    "PATROL", "BEAT", "SWEEP", "CRACKDOWN", "HOT_SPOT", "OCCUPATION", "PROXIMITY",  # officer duties (DutyMode)
    "OFF",  # pacification's phases (abm/policies/pacification.py Phase), with OCCUPATION and PROXIMITY
    "OPEN", "CLEARED", "CONVICTED", "COLD",  # case states (abm/justice.py CaseStatus)
    "NEVER", "ENROLLED", "COMPLETED", "DROPPED",  # CBT states (abm/policies/cbt.py)
}

# (file, literal): reason. Keep this short; a behavioural number belongs in the schema.
# Class attributes in which a policy declares itself (abm/policies/base.py), not behaviour.
POLICY_DECLARATIONS = {"order", "controls", "state", "gang_state", "measures", "window_measures"}

ALLOWED = {
    ("city.py", 0.5): "geometry: the centre of a district is half a side in; the dissimilarity index is 1/2 x sum",
    ("city.py", 4): "the four von Neumann neighbours of a block",
    ("gangs.py", 4): "the four von Neumann neighbours of a block",
    ("violence.py", 4): "the four von Neumann neighbours of a block",
    ("cbt.py", 2): "log(2) turns a half-life into a decay rate",
}


def numeric_literals(source: str) -> list[tuple[int, float]]:
    """(line, value) of every numeric literal in ``source`` that is not structural."""
    tree = ast.parse(source)
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node

    def exempt(node: ast.AST) -> bool:
        child, parent = node, parents.get(node)
        while isinstance(parent, (ast.Slice, ast.Tuple, ast.UnaryOp)):
            child, parent = parent, parents.get(parent)
        if isinstance(parent, ast.Subscript) and child is parent.slice:
            return True  # an index or a slice bound, such as x[:, -2] or x[:2]
        child, parent = node, parents.get(node)
        while parent is not None:
            if isinstance(parent, ast.Call) and _name(parent.func) in ("param", "Field"):
                return True  # a parameter's own declaration
            if (isinstance(parent, (ast.Assign, ast.AnnAssign)) and isinstance(parents.get(parent), ast.ClassDef)
                    and {n.id for t in (parent.targets if isinstance(parent, ast.Assign) else [parent.target])
                         for n in ast.walk(t) if isinstance(n, ast.Name)} <= POLICY_DECLARATIONS):
                return True  # a policy's declarations: hook position, dashboard slider ranges, measures
            if (isinstance(parent, ast.ClassDef)
                    and any(_name(base) in ("Enum", "IntEnum", "StrEnum") for base in parent.bases)):
                return True  # the codes of an enumeration
            if isinstance(parent, (ast.Assign, ast.AnnAssign)) and parents.get(parent) is tree:
                targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
                names = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
                if names and names <= NAMED_CONSTANTS:
                    return True
            child, parent = parent, parents.get(parent)
        return False

    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or isinstance(node.value, bool):
            continue
        if not isinstance(node.value, (int, float)):
            continue
        value, parent = node.value, parents.get(node)
        if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub):
            value, node, parent = -value, parent, parents.get(parent)
        if value in STRUCTURAL:
            continue
        if value == 2 and isinstance(parent, ast.BinOp) and parent.right is node:
            if isinstance(parent.op, (ast.Div, ast.FloorDiv, ast.Pow)):
                continue  # halving, squaring
        if value == 2 and isinstance(parent, ast.Compare):
            continue  # "at least two": a pair of gangs or of youths
        if exempt(node):
            continue
        found.append((node.lineno, node.col_offset, value))
    return [(line, value) for line, _, value in sorted(found)]


def _name(func: ast.AST) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


@pytest.mark.parametrize("path", MECHANISMS, ids=lambda p: str(p.relative_to(ROOT / "abm")))
def test_no_bare_behavioural_numbers(path):
    bare = [
        f"{path.relative_to(ROOT)}:{line}: {value!r}"
        for line, value in numeric_literals(path.read_text())
        if (path.name, value) not in ALLOWED
    ]
    assert not bare, (
        "bare numbers in mechanism code; make each a documented parameter (abm/config.py or the "
        "policy's Params, with schema.param) or, if structural, add it to ALLOWED with a reason:\n  "
        + "\n  ".join(bare)
    )


def test_a_behavioural_number_is_caught():
    snippet = textwrap.dedent(
        """
        WEEKS_PER_YEAR = 52

        def fear(model, x, n):
            half = x / 2
            guard = max(n, 1e-9)
            first = x[:2]
            hidden = x[0.2 * n]
            return 0.37 * x + half + guard - 3
        """
    )
    assert numeric_literals(snippet) == [(8, 0.2), (9, 0.37), (9, 3)]


def test_a_number_written_into_a_mechanism_is_caught():
    path = ROOT / "abm" / "residents.py"
    source = path.read_text()
    assert numeric_literals(source) == []
    old = "params.fear_victimisation * victimised"
    assert old in source
    edited = source.replace(old, "0.37 * victimised")
    assert [value for _, value in numeric_literals(edited)] == [0.37]


def test_parameter_declarations_and_structural_numbers_pass():
    snippet = textwrap.dedent(
        """
        class P(Section):
            rate: float = param(0.37, "a rate", unit="per week", source="assumption", grade="assumption", le=5)

        def f(p, x):
            return np.clip(p.rate * x[:, -2] ** 2, 0, 1) / 2 * 1e5
        """
    )
    assert numeric_literals(snippet) == []


def test_the_allowlist_has_no_stale_entries():
    used = set()
    for path in MECHANISMS:
        used |= {(path.name, value) for _, value in numeric_literals(path.read_text())}
    assert set(ALLOWED) <= used, f"allowlist entries no longer needed: {set(ALLOWED) - used}"


# -- the catalogue: abm params and the tables of docs/ODD.md ----------------------------

def test_every_field_is_a_documented_parameter():
    from abm import parameters
    from abm.schema import Grade

    found = parameters.parameters()
    names = {p.name for p in found}
    assert "youth.join_base" in names and "policies.cbt.risk_exposure" in names
    assert "policies.focused_deterrence.start" in names  # fields every policy has
    for p in found:
        assert p.description and p.unit and p.source, p.name
        assert p.grade in {str(g) for g in Grade}, p.name


def test_calibrated_parameters_are_graded_weak():
    from abm import parameters

    for p in parameters.parameters():
        if "calibrated" in p.source:
            assert p.grade == "weak", p.name


def test_filters_by_section_and_grade():
    from abm import parameters
    from abm.config import ConfigError

    youth = parameters.parameters("youth")
    assert youth and all(p.name.startswith("youth.") for p in youth)
    cbt = parameters.parameters("cbt")
    assert cbt == parameters.parameters("policies.cbt")
    from abm import policies

    sections = {p.section for p in parameters.parameters("policies")}
    assert sections == {f"policies.{name}" for name in policies.names()}
    assert {"policies.focused_deterrence", "policies.cbt", "policies.community_policing", "policies.mano_dura",
            "policies.social_prevention", "policies.prison_reform",
            "policies.truce", "policies.violence_interruption", "policies.investigations",
            "policies.hot_spots"} <= sections
    strong = parameters.parameters(grade="strong")
    assert strong and all(p.grade == "strong" for p in strong)
    with pytest.raises(ConfigError, match="no such section"):
        parameters.parameters("nope")


def test_params_command(capsys):
    from abm.cli import main

    assert main(["params", "--section", "residents"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:5] == ["Parameter", "Default", "Range", "Unit", "Grade"]
    assert "residents.fear_organisation" in out and "0.7" in out and "youth." not in out
    assert main(["params", "--markdown", "--grade", "strong"]) == 0
    out = capsys.readouterr().out
    assert "| `youth.exit_base` | 0.0085 | [0, 1] | per week | strong |" in out
    assert main(["params", "--section", "nope"]) == 2


def test_odd_tables_match_the_schema():
    from abm import parameters

    problems = parameters.odd_differences((ROOT / "docs" / "ODD.md").read_text(encoding="utf-8"))
    assert not problems, (
        "docs/ODD.md's parameter tables differ from the schema; regenerate them with\n"
        "    abm params --update-odd docs/ODD.md\n" + "\n".join(problems)
    )


def test_update_odd_rewrites_only_the_marked_tables(tmp_path):
    from abm import parameters

    doc = tmp_path / "odd.md"
    doc.write_text("# Prison\n\ntext\n\n<!-- params:prison -->\nold table\n<!-- /params:prison -->\n\nmore text\n")
    assert parameters.update_odd(doc) == ["prison"]
    text = doc.read_text()
    assert text.startswith("# Prison\n\ntext\n\n<!-- params:prison -->\n| Parameter |")
    assert text.endswith("<!-- /params:prison -->\n\nmore text\n")
    assert "`prison.recruitment_member_share`" in text
    assert parameters.update_odd(doc) == []
    assert "prison: table differs" not in "\n".join(parameters.odd_differences(text))
