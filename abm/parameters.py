"""The parameter catalogue: every field of the scenario and policy schemas, with its
default, range, unit, evidence grade, source and description.

Read from the schema alone (no model is built), it feeds ``abm params`` and the
parameter tables of docs/ODD.md. Those tables sit between markers, one per section::

    <!-- params:youth -->
    ...generated table...
    <!-- /params:youth -->

and are rewritten by ``abm params --update-odd docs/ODD.md``; the tests fail when they
differ from the schema.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from abm.config import Scenario, table_type
from abm.policies import PoliciesParams
from abm.schema import ConfigError, Grade

# Scenario fields that are not parameters of the city: its name, notes and base file.
METADATA = ("name", "description", "base", "policies")

COLUMNS = ("parameter", "default", "range", "unit", "grade", "description", "source")


@dataclass(frozen=True)
class Parameter:
    """One documented parameter, named by its dotted path in a scenario file."""

    name: str
    section: str
    default: Any
    range: str
    unit: str
    grade: str
    source: str
    description: str

    def cells(self) -> tuple[str, ...]:
        return (self.name, format_value(self.default), self.range, self.unit, self.grade, self.description,
                self.source)


def sections() -> list[tuple[str, type[BaseModel]]]:
    """(section name, table class) of the scenario, then of each policy (``policies.<name>``)."""
    out = []
    for name, field in Scenario.model_fields.items():
        if name not in METADATA:
            out.append((name, table_type(field.annotation)))
    for name, field in PoliciesParams.model_fields.items():
        out.append((f"policies.{name}", table_type(field.annotation)))
    return out


def section_names() -> list[str]:
    return [name for name, _ in sections()]


def parameters(section: str | None = None, grade: str | None = None) -> list[Parameter]:
    """Every parameter, in schema order; optionally of one section (``youth``,
    ``policies.cbt``, or ``policies`` for all policies; ``cbt`` also works) and of one grade."""
    names = section_names()
    if section is not None and not any(_in_section(name, section) for name in names):
        raise ConfigError(f"--section {section}: no such section; sections are: {', '.join(names)}")
    if grade is not None:
        grade = str(Grade(grade))
    out = []
    for sec, model in sections():
        if section is not None and not _in_section(sec, section):
            continue
        for field_name, info in model.model_fields.items():
            extra = info.json_schema_extra
            if not isinstance(extra, dict) or "grade" not in extra:
                raise TypeError(f"{model.__name__}.{field_name}: declare it with abm.schema.param")
            if grade is not None and extra["grade"] != grade:
                continue
            out.append(Parameter(
                name=f"{sec}.{field_name}",
                section=sec,
                default=info.default,
                range=range_text(info),
                unit=str(extra["unit"]),
                grade=str(extra["grade"]),
                source=str(extra["source"]),
                description=info.description or "",
            ))
    return out


def _in_section(name: str, wanted: str) -> bool:
    return name == wanted or name.startswith(wanted + ".") or name == f"policies.{wanted}"


def range_text(info) -> str:
    """A field's range as an interval, e.g. ``[0, 1]``, ``(0, 520]``, ``[0, inf)``."""
    if info.annotation is bool:
        return "true/false"
    lo, hi, lo_open, hi_open = bounds(info)
    left = "(-inf" if lo is None else ("(" if lo_open else "[") + _bound(lo)
    right = "inf)" if hi is None else _bound(hi) + (")" if hi_open else "]")
    return f"{left}, {right}"


def bounds(info) -> tuple[float | None, float | None, bool, bool]:
    """A field's declared range: (low, high, low is open, high is open); None for no bound."""
    lo, hi, lo_open, hi_open = None, None, False, False
    for bound in [*info.metadata, *optional_metadata(info.annotation)]:
        for attr, is_lower, is_open in (("ge", True, False), ("gt", True, True), ("le", False, False),
                                        ("lt", False, True)):
            value = getattr(bound, attr, None)
            if value is None:
                continue
            if is_lower:
                lo, lo_open = value, is_open
            else:
                hi, hi_open = value, is_open
    return lo, hi, lo_open, hi_open


def optional_metadata(annotation) -> list:
    """The range of ``X | None`` when ``X`` is a ranged type such as ``Share``."""
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return []
    return [m for arg in typing.get_args(annotation) if typing.get_origin(arg) is typing.Annotated
            for f in typing.get_args(arg)[1:] for m in getattr(f, "metadata", [])]


def field(name: str):
    """The declaration (pydantic ``FieldInfo``) of a parameter named by its dotted path,
    e.g. ``youth.join_peer``; None when there is no such parameter."""
    section, _, field_name = name.rpartition(".")
    for sec, model in sections():
        if sec == section:
            return model.model_fields.get(field_name)
    return None


def _bound(value: float) -> str:
    """A range bound without a trailing '.0' (0 and 1, not 0.0 and 1.0)."""
    return str(int(value)) if float(value).is_integer() else repr(value)


def format_value(value: Any) -> str:
    """A value as it would be written in a scenario file (``none`` for no value)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def text_table(params: list[Parameter]) -> str:
    """A plain text table, one parameter a line, columns aligned (the last one free)."""
    rows = [tuple(c.title() for c in COLUMNS)] + [p.cells() for p in params]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    lines = []
    for row in rows:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1])
    return "\n".join(line.rstrip() for line in lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table(params: list[Parameter]) -> str:
    """A Markdown table of parameters (the tables of docs/ODD.md)."""
    lines = [
        "| Parameter | Default | Range | Unit | Grade | Description | Source |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in params:
        name, default, rng, unit, grade, description, source = p.cells()
        lines.append(f"| `{name}` | {_md(default)} | {_md(rng)} | {_md(unit)} | {grade} | {_md(description)} "
                     f"| {_md(source)} |")
    return "\n".join(lines)


def markdown(params: list[Parameter]) -> str:
    """Markdown tables grouped by section, each under a heading."""
    blocks = []
    for sec in dict.fromkeys(p.section for p in params):
        blocks.append(f"### `{sec}`\n\n" + markdown_table([p for p in params if p.section == sec]))
    return "\n\n".join(blocks)


# -- the tables of docs/ODD.md ---------------------------------------------------------

_BLOCK = re.compile(r"<!-- params:(?P<name>[a-z_.]+) -->\n(?P<body>.*?)<!-- /params:(?P=name) -->", re.S)


def odd_block(section: str) -> str:
    return markdown_table(parameters(section)) + "\n"


def odd_differences(text: str) -> list[str]:
    """Sections whose table in the document differs from the schema, or has no markers."""
    found = {m["name"]: m["body"] for m in _BLOCK.finditer(text)}
    problems = []
    for sec in section_names():
        if sec not in found:
            problems.append(f"{sec}: no <!-- params:{sec} --> ... <!-- /params:{sec} --> block")
        elif found[sec] != odd_block(sec):
            problems.append(f"{sec}: table differs from the schema")
    for sec in found:
        if sec not in section_names():
            problems.append(f"{sec}: block for a section the schema does not have")
    return problems


def update_odd(path: str | Path) -> list[str]:
    """Rewrite every marked table of ``path`` from the schema; the sections changed."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file (Markdown must be UTF-8)") from None
    if not _BLOCK.search(text):
        raise ConfigError(f"{path}: no <!-- params:SECTION --> ... <!-- /params:SECTION --> markers: nothing to update")
    changed = []
    known = set(section_names())

    def fill(match: re.Match) -> str:
        name = match["name"]
        if name not in known:
            raise ConfigError(f"{path}: <!-- params:{name} -->: no such section; sections are: "
                              f"{', '.join(section_names())}")
        body = odd_block(name)
        if body != match["body"]:
            changed.append(name)
        return f"<!-- params:{name} -->\n{body}<!-- /params:{name} -->"

    new = _BLOCK.sub(fill, text)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return changed


# -- one scenario's values, and one parameter ----------------------------------------


def values(scenario: Scenario) -> list[tuple[Parameter, Any]]:
    """Each parameter with its value in ``scenario``: every section of the city, and the
    sections of the policies it switches on."""
    data = scenario.model_dump(mode="python")
    out = []
    for p in parameters():
        node: Any = data
        for part in p.name.split("."):
            node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                break
        if node is None and p.section.startswith("policies."):
            continue  # a policy the scenario does not switch on
        out.append((p, node))
    return out


def differs(value: Any, default: Any) -> bool:
    if isinstance(value, float) or isinstance(default, float):
        try:
            return float(value) != float(default)
        except (TypeError, ValueError):
            return True
    return value != default


def scenario_table(scenario: Scenario) -> str:
    """Every parameter of a scenario: value, default, unit, range, grade and source; a
    ``*`` marks values that differ from the default."""
    found = values(scenario)
    rows = [("", "Parameter", "Value", "Default", "Unit", "Range", "Grade", "Source")]
    for p, value in found:
        rows.append(("*" if differs(value, p.default) else "", p.name, format_value(value), format_value(p.default),
                     p.unit, p.range, p.grade, p.source))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip() + "  " + row[-1]
             for row in rows]
    changed = sum(1 for p, v in found if differs(v, p.default))
    lines.append(f"{len(found)} parameters; {changed} differ from the defaults (marked *). "
                 "Meaning and evidence of one: abm params NAME")
    return "\n".join(line.rstrip() for line in lines)


def describe(name: str) -> str:
    """One parameter: its meaning, default, range, unit, evidence grade and source."""
    known = {p.name: p for p in parameters()}
    if name not in known:
        close = [n for n in known if name in n] or sorted(known, key=lambda n: -_overlap(n, name))[:5]
        raise ConfigError(f"{name}: no such parameter; did you mean: {', '.join(close[:8])}")
    p = known[name]
    return "\n".join([
        p.name,
        f"  {p.description}",
        f"  default {format_value(p.default)}, range {p.range}, unit {p.unit or '-'}",
        f"  evidence: {p.grade}; source: {p.source}",
    ])


def _overlap(a: str, b: str) -> int:
    return len(set(a.split(".")[-1].split("_")) & set(b.split(".")[-1].split("_")))
