"""The README's Constructs reference cannot drift from the code.

- every construct the package exports is documented: a section of its own or a named
  building block;
- a section's props table lists exactly the constructor's keyword-only parameters, and the
  ones without a default say "required";
- its example (marked to run here, not in tests/test_readme.py) synthesizes in a new app
  through the compliance gate, every resource type its **Creates** paragraph names is in the
  template, and the idle cost it states is what `headless-commerce cost`'s price table gives
  for the construct's own resources in that template.

Examples run in this process, where jsii is already up: a fresh interpreter per example would
start Node.js again each time.
"""

from __future__ import annotations

import inspect
import json
import re
import shutil
from pathlib import Path

import pytest
from constructs import Construct

import headless_commerce
from headless_commerce.cost.estimate import estimate_stacks, read_assembly
from tests.test_readme import README, readme_blocks

MARKER = "runs in tests/unit/test_readme_constructs.py with the other construct examples, in one process"
TEXT = README.read_text()
CHAPTER_TITLE = "## Constructs reference"


def chapter() -> str:
    start = TEXT.index(f"\n{CHAPTER_TITLE}\n")
    end = TEXT.index("\n## ", start + 1)
    return TEXT[start:end]


def sections() -> dict[str, str]:
    parts = re.split(r"^### `(\w+)`\n", chapter(), flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


SECTIONS = sections()
INTRO = re.split(r"^### ", chapter(), maxsplit=1, flags=re.MULTILINE)[0]


def exported_constructs() -> list[str]:
    return [name for name in headless_commerce.__all__
            if inspect.isclass(obj := getattr(headless_commerce, name)) and issubclass(obj, Construct)]


def keyword_parameters(name: str) -> dict[str, inspect.Parameter]:
    signature = inspect.signature(getattr(headless_commerce, name).__init__)
    return {p.name: p for p in signature.parameters.values() if p.kind is p.KEYWORD_ONLY}


def props_rows(section: str) -> dict[str, list[str]]:
    rows = {}
    for line in section.splitlines():
        found = re.match(r"^\| `(\w+)` \|(.*)\|$", line)
        if found:
            rows[found[1]] = [cell.strip() for cell in found[2].split(" | ")]
    return rows


def test_every_exported_construct_is_documented():
    missing = [name for name in exported_constructs()
               if name not in SECTIONS and f"`{name}`" not in INTRO]
    assert missing == [], (
        f"README '{CHAPTER_TITLE}' does not mention {missing}: give each a '### `Name`' section "
        "(what it creates, props table, example, idle cost) or, for a building block that the "
        "documented constructs compose, name it in the chapter's introduction")
    assert set(SECTIONS) <= set(exported_constructs()), "a section names something the package does not export"


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_props_table_lists_every_parameter(name):
    rows = props_rows(SECTIONS[name])
    parameters = keyword_parameters(name)
    assert set(rows) == set(parameters), (
        f"{name}: the README table lacks {sorted(set(parameters) - set(rows))} "
        f"and lists unknown {sorted(set(rows) - set(parameters))}")
    for prop, (dev, prod, what) in rows.items():
        required = parameters[prop].default is inspect.Parameter.empty
        assert (dev == "required" and prod == "required") is required, f"{name}.{prop}: required is {required}"
        assert what, f"{name}.{prop}: say what it does"


def examples() -> list[tuple[str, str]]:
    found = []
    for name, section in SECTIONS.items():
        blocks = [b for b in readme_blocks(section) if b.lang == "python"]
        assert len(blocks) == 1, f"{name}: one example per construct"
        assert blocks[0].skip_reason == MARKER, f"{name}: mark its example <!-- readme-test: skip ({MARKER}) -->"
        found.append((name, blocks[0].code))
    return found


COST = re.compile(r"idle, as in this example \((dev|prod)[^)]*\):\s+\*\*\$([\d,]+\.\d\d)/month\*\*")


def construct_cost(outdir: Path, construct_id: str) -> float:
    """Idle $/month of the resources under `<stack>/<construct_id>/`, by the cost command's prices."""
    stacks = read_assembly(outdir)
    paths = {(stack.name, logical_id): path for stack in stacks for logical_id, path in stack.paths.items()}
    return sum(line.monthly for line in estimate_stacks("example", stacks).lines
               if paths.get((line.stack, line.logical_id), "").strip("/").split("/")[1:2] == [construct_id])


def resource_types(outdir: Path) -> set[str]:
    return {resource["Type"] for template in outdir.glob("*.template.json")
            for resource in json.loads(template.read_text())["Resources"].values()}


@pytest.mark.parametrize(("name", "code"), examples(), ids=[name for name, _ in examples()])
def test_example_synthesizes_alone_through_the_gate(name, code):
    assert f"{name}(" in code and "add_compliance_gate(app)" in code and "app.synth()" in code
    namespace: dict = {"__name__": f"readme_{name}"}
    exec(compile(code, f"README {name} example", "exec"), namespace)   # the gate raises on a finding
    outdir = Path(namespace["app"].outdir)
    try:
        report = outdir / "validation-report.json"
        if report.exists():
            assert [v for p in json.loads(report.read_text())["pluginReports"] for v in p["violations"]] == []
        named = set(re.findall(r"`(AWS::[\w:]+|Custom::\w+)`", SECTIONS[name].split("**Creates**", 1)[1]
                               .split("\n\n", 1)[0]))
        assert named, f"{name}: **Creates** names no resource type"
        missing = named - resource_types(outdir)
        assert not missing, f"{name}: not in the example's template: {missing}"
        construct_id = re.search(rf'{name}\(stack, "(\w+)"', code)[1]
        cost = construct_cost(outdir, construct_id)
        stated = COST.search(SECTIONS[name])
        assert stated, f"{name}: state 'idle, as in this example (dev|prod): **${cost:,.2f}/month**'"
        assert f'get_profile("{stated[1]}")' in code, f"{name}: the example's profile is not {stated[1]}"
        assert float(stated[2].replace(",", "")) == pytest.approx(cost, abs=0.005), f"{name}: ${cost:,.2f}/month"
    finally:
        shutil.rmtree(outdir, ignore_errors=True)
