"""The documentation stands alone: everything it cites is in the repository.

- No Markdown, Python or TOML file names a design document that is not in the
  repository; the evidence lives in docs/evidence.md, the model in docs/ODD.md.
- Every relative link in the README and in docs/*.md points to a file that exists and,
  when it names an anchor in a Markdown file, to a heading of that file (GitHub's
  anchor rules).
- Every citation of a place in docs/evidence.md (``evidence.md#...``) anywhere, in
  parameter sources or docstrings, names a heading of docs/evidence.md.
- docs/evidence.md names only parameters that exist, and its table of calibration
  targets is the targets file's (``configs/targets.toml``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from abm import parameters, targets

ROOT = Path(__file__).resolve().parents[1]
EVIDENCE = ROOT / "docs" / "evidence.md"

# Folders that are not the project's own text: environments, builds, outputs, caches,
# and the copies of configs/ and experiments/ a build may leave in abm/presets.
SKIP_DIRS = {".git", ".venv", "venv", "build", "dist", "results", "__pycache__", ".pytest_cache", ".hypothesis",
             "node_modules"}
SKIP_PREFIXES = (("abm", "presets", "configs"), ("abm", "presets", "experiments"))

# Documents that are not part of the repository; built from parts so that this file
# does not name them itself.
ABSENT_DOCUMENTS = tuple(name + ".md" for name in ("MODEL", "EVIDENCE", "ARCHITECTURE", "STYLE"))

LINKED_DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "experiments").glob("*.md"))]


def project_files(*suffixes: str) -> list[Path]:
    out = []
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT)
        if any(part in SKIP_DIRS or part.endswith(".egg-info") for part in rel.parts[:-1]):
            continue
        if any(rel.parts[:len(prefix)] == prefix for prefix in SKIP_PREFIXES):
            continue
        if path.is_file() and path.suffix in suffixes:
            out.append(path)
    return sorted(out)


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: its text without Markdown, lowercased, with
    punctuation other than hyphens and underscores dropped and spaces made hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links and images: their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("`", "").replace("*", "")
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor of a Markdown file: its headings (numbered -1, -2 ... when repeated,
    as GitHub does) and explicit ``<a id=...>``/``<a name=...>`` targets."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    in_code = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            slug = github_anchor(m.group(1))
            n = seen.get(slug, 0)
            found.add(slug if n == 0 else f"{slug}-{n}")
            seen[slug] = n + 1
        found.update(re.findall(r"<a\s+(?:id|name)=\"([^\"]+)\"", line))
    return found


def links(path: Path) -> list[tuple[int, str]]:
    """(line, target) of every Markdown link and image outside code blocks."""
    out = []
    in_code = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        line = re.sub(r"`[^`]*`", "", line)  # inline code is not a link
        for target in re.findall(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", line):
            out.append((number, target))
    return out


def test_no_document_points_outside_the_repository():
    files = project_files(".md", ".py", ".toml")
    assert any(p.name == "README.md" for p in files) and any(p.name == "config.py" for p in files)
    found = [
        f"{path.relative_to(ROOT)}:{number}: {name}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        for name in ABSENT_DOCUMENTS
        if name in line
    ]
    assert not found, "documents not in the repository are named (cite docs/evidence.md or docs/ODD.md):\n" + "\n".join(found)


@pytest.mark.parametrize("doc", LINKED_DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc):
    problems = []
    for number, target in links(doc):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
            continue  # http:, https:, mailto: ...
        file_part, _, anchor = target.partition("#")
        dest = (doc.parent / file_part).resolve() if file_part else doc
        where = f"{doc.relative_to(ROOT)}:{number}: {target}"
        if not dest.exists():
            problems.append(f"{where}: no such file")
            continue
        if anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            problems.append(f"{where}: no heading with anchor #{anchor} in {dest.relative_to(ROOT)}")
    assert not problems, "\n".join(problems)


def test_citations_of_evidence_anchors_resolve():
    known = anchors(EVIDENCE)
    cited = [
        (f"{path.relative_to(ROOT)}:{number}", anchor)
        for path in project_files(".md", ".py", ".toml")
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        for anchor in re.findall(r"evidence\.md#([\w-]+)", line)
    ]
    # Parameter sources as the catalogue shows them (a string may span source lines).
    cited += [(p.name, anchor) for p in parameters.parameters()
              for anchor in re.findall(r"evidence\.md#([\w-]+)", p.source + " " + p.description)]
    problems = [f"{where}: #{anchor}" for where, anchor in cited if anchor not in known]
    assert not problems, "docs/evidence.md has no such heading:\n" + "\n".join(problems)


def test_github_anchor_rules():
    assert github_anchor("A11. Homicide convictions and clearance") == "a11-homicide-convictions-and-clearance"
    assert github_anchor("Results: the policy comparison") == "results-the-policy-comparison"
    assert github_anchor("2.1 Youths (`Youth`, `abm/population.py`)") == "21-youths-youth-abmpopulationpy"
    assert github_anchor("8 Calibration") == "8-calibration"


def test_evidence_names_only_parameters_that_exist():
    known = {p.name for p in parameters.parameters()}
    sections = tuple(f"{name}." for name in parameters.section_names()) + ("policies.",)
    named = set(re.findall(r"`([a-z_]+(?:\.[a-z_*]+)+)`", EVIDENCE.read_text(encoding="utf-8")))
    unknown = sorted(
        name for name in named
        if name.startswith(sections) and name not in known
        and not (name.endswith("_*") and any(k.startswith(name[:-1]) for k in known))
    )
    assert not unknown, f"docs/evidence.md names parameters that do not exist: {unknown}"


def test_evidence_lists_the_calibration_targets_of_the_targets_file():
    """The table of docs/evidence.md ("Calibration targets") is the targets file's, as
    ``abm.targets.markdown`` writes it; each target points to an entry that exists."""
    text = EVIDENCE.read_text(encoding="utf-8")
    section = text.split("## Calibration targets", 1)[1].split("\n## ", 1)[0]
    begin, end = "<!-- targets:begin -->\n", "\n<!-- targets:end -->"
    assert begin in section and end in section, "docs/evidence.md: the targets table's markers are missing"
    shown = section.split(begin, 1)[1].split(end, 1)[0]
    found = targets.load(ROOT / "configs" / "targets.toml")
    expected = targets.markdown(found)
    assert shown == expected, (
        "docs/evidence.md's table of calibration targets differs from configs/targets.toml; put this between "
        "its markers:\n" + expected)
    known = anchors(EVIDENCE)
    assert not [t.name for t in found if t.evidence not in known]
