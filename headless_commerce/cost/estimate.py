"""Price a synthesized cloud assembly (cdk.out): per stack, per resource type, per capability.

Capability shares come from the construct path of each resource (the cloud assembly's
`aws:cdk:logicalId` metadata maps logical ids to paths): a resource belongs to the toggle whose
construct, function or stack it sits under, or to "core" when no toggle removes it. That takes
one synth per profile; synthesizing once more per toggle and diffing would take minutes. A test
checks the attribution against a synth with every toggle off: what disappears is exactly what
the shares add up to.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..assembly import inline_nested_stacks
from .pricing import Line, PriceTable, load_prices, price_template

CORE = "core"
# What the dev profile may cost idle with every capability on (the project's budget).
DEV_BUDGET_USD = 200.0
# Stacks that exist only with their toggle (`-c web=false` removes Web and Edge).
STACK_TOGGLES = {"Integration": "integration", "Web": "web", "Edge": "edge"}
# A construct id that is the capability's own construct.
CONSTRUCT_TOGGLES = {"Search": "search", "Personalization": "personalization", "Marketing": "marketing",
                     "ResponseCache": "response_cache", "Location": "location", "Fraud": "fraud",
                     "Chatbot": "chatbot"}
# Functions, their layers and alarms are created by the shared function factory, so their paths
# name the function instead (`AppTier/Functions/search_indexer`, `Alarms/search_indexerErrors`).
# First match wins: the consent fan-out's audience writer stays with marketing off.
NAME_PREFIX_TOGGLES = (("marketing_audience", CORE), ("search", "search"), ("OpenSearchPy", "search"),
                       ("recommendation", "personalization"), ("personalize_", "personalization"),
                       ("marketing_", "marketing"), ("unsubscribe", "marketing"),
                       ("cache_invalidation", "response_cache"), ("InvalidationRedisClient", "response_cache"),
                       ("Dax", "dax"), ("location", "location"), ("stores", "location"),
                       ("fraud", "fraud"), ("chat", "chatbot"))


def capability_of_path(stack_name: str, path: str) -> str:
    """The toggle that removes the resource at construct `path` of stack `stack_name`, or "core"."""
    suffix = stack_name.rsplit("-", 1)[-1]
    if suffix in STACK_TOGGLES:
        return STACK_TOGGLES[suffix]
    # The first is the stack; cdk-monitoring-constructs names its alarm constructs
    # `<stack name>-<function or resource>-...`, so that prefix is dropped.
    segments = [s.removeprefix(f"{stack_name}-") for s in path.split("/") if s][1:]
    for segment in segments:
        if segment in CONSTRUCT_TOGGLES:
            return CONSTRUCT_TOGGLES[segment]
    for segment in segments:
        for prefix, toggle in NAME_PREFIX_TOGGLES:
            if segment.startswith(prefix):
                return toggle
    return CORE


@dataclasses.dataclass(frozen=True)
class StackTemplate:
    name: str
    template: Mapping
    paths: Mapping[str, str]  # logical id -> construct path


def read_assembly(outdir: str | Path) -> list[StackTemplate]:
    """The stacks of a cloud assembly in manifest order, with their construct paths; a nested
    stack's resources are part of its parent's (`assembly.inline_nested_stacks`)."""
    outdir = Path(outdir)
    manifest = json.loads((outdir / "manifest.json").read_text())
    stacks = []
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        template = inline_nested_stacks(json.loads((outdir / artifact["properties"]["templateFile"]).read_text()),
                                        outdir)
        metadata = dict(artifact.get("metadata") or {})
        if artifact.get("additionalMetadataFile"):
            metadata.update(json.loads((outdir / artifact["additionalMetadataFile"]).read_text()))
        paths = {entry["data"]: path for path, entries in metadata.items() for entry in entries
                 if entry.get("type") == "aws:cdk:logicalId"}
        stacks.append(StackTemplate(artifact.get("displayName", artifact_id), template, paths))
    return stacks


@dataclasses.dataclass
class Estimate:
    label: str
    lines: list[Line]
    stacks: list[str]

    @property
    def total(self) -> float:
        return sum(line.monthly for line in self.lines)

    def _sum_by(self, key) -> dict[str, float]:
        sums: dict[str, float] = defaultdict(float)
        for line in self.lines:
            sums[key(line)] += line.monthly
        return dict(sums)

    def by_stack(self) -> dict[str, float]:
        sums = self._sum_by(lambda line: line.stack)
        return {stack: sums.get(stack, 0.0) for stack in self.stacks}

    def by_capability(self) -> dict[str, float]:
        sums = self._sum_by(lambda line: line.capability)
        core = sums.pop(CORE, 0.0)
        return {CORE: core, **dict(sorted(sums.items(), key=lambda item: (-item[1], item[0])))}

    def by_type(self) -> dict[str, tuple[int, float]]:
        counts: dict[str, set] = defaultdict(set)
        for line in self.lines:
            counts[line.type].add((line.stack, line.logical_id))
        sums = self._sum_by(lambda line: line.type)
        return {t: (len(counts[t]), sums[t]) for t in sorted(sums, key=lambda t: (-sums[t], t))}


def estimate_stacks(label: str, stacks: Iterable[StackTemplate], table: PriceTable | None = None) -> Estimate:
    table = table or load_prices()
    stacks = list(stacks)
    lines: list[Line] = []
    for stack in stacks:
        lines += price_template(stack.name, stack.template, table,
                                lambda logical_id, s=stack: capability_of_path(s.name, s.paths.get(logical_id, "")))
    return Estimate(label, lines, [s.name for s in stacks])


def estimate_assembly(outdir: str | Path, label: str, table: PriceTable | None = None) -> Estimate:
    return estimate_stacks(label, read_assembly(outdir), table)


# ---- output ----------------------------------------------------------------------------------

def _usd(value: float) -> str:
    return f"${value:,.2f}"


def render_text(estimates: list[Estimate], table: PriceTable | None = None, *, details: bool = False) -> str:
    table = table or load_prices()
    out = [f"Estimated monthly idle cost: {table.region} on-demand list prices as of {table.as_of}, "
           f"{table.hours:g} hours a month, no free tier; traffic is extra (per-request prices below)."]
    for estimate in estimates:
        out += ["", f"== {estimate.label}: {_usd(estimate.total)} a month idle", ""]
        if estimate.label == "dev":
            gap = estimate.total - DEV_BUDGET_USD
            out += [f"dev budget with every capability on: {_usd(DEV_BUDGET_USD)} "
                    f"({'over by ' + _usd(gap) if gap > 0 else 'met'})", ""]
        out += ["by stack:"]
        out += [f"  {stack:<40} {_usd(value):>11}" for stack, value in estimate.by_stack().items()]
        out += ["", "by capability (what `-c NAME=false` saves; core is always deployed):"]
        for capability, value in estimate.by_capability().items():
            share = value / estimate.total if estimate.total else 0.0
            note = " (also removes edge)" if capability == "web" else ""
            out.append(f"  {capability:<40} {_usd(value):>11} {share:6.1%}{note}")
        out += ["", "by resource type:"]
        out += [f"  {type_:<40} {_usd(value):>11}  ({count} resource{'s' if count != 1 else ''})"
                for type_, (count, value) in estimate.by_type().items()]
        if details:
            out += ["", "every charge:"]
            out += [f"  {line.stack}/{line.logical_id} [{line.capability}] {_usd(line.monthly)}: {line.detail}"
                    for line in sorted(estimate.lines, key=lambda line: (line.stack, -line.monthly))]
    out += ["", "usage-billed (no idle cost; per request):"]
    out += [f"  {entry['service']}: {entry['price']}" for entry in table.per_request]
    out += ["", "sources: each price's page and date are in headless_commerce/cost/prices.json"]
    return "\n".join(out) + "\n"


def render_markdown(estimates: list[Estimate], table: PriceTable | None = None) -> str:
    """The README's cost table: one column per estimate."""
    table = table or load_prices()
    header = "| | " + " | ".join(e.label for e in estimates) + " |"
    rule = "|---|" + "---:|" * len(estimates)
    rows = [header, rule]
    capabilities: list[str] = []
    for estimate in estimates:
        capabilities += [c for c in estimate.by_capability() if c not in capabilities]
    for capability in capabilities:
        cells = []
        for estimate in estimates:
            value = estimate.by_capability().get(capability, 0.0)
            share = value / estimate.total if estimate.total else 0.0
            cells.append(f"{_usd(value)} ({share:.0%})")
        name = "core (always deployed)" if capability == CORE else f"`{capability}`"
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    rows.append("| **total** | " + " | ".join(f"**{_usd(e.total)}**" for e in estimates) + " |")
    stack_rows = ["", "| stack | " + " | ".join(e.label for e in estimates) + " |", rule]
    stacks: list[str] = []
    for estimate in estimates:
        stacks += [s for s in estimate.by_stack() if s not in stacks]
    for stack in stacks:
        stack_rows.append(f"| `{stack}` | " + " | ".join(_usd(e.by_stack().get(stack, 0.0)) for e in estimates) + " |")
    return "\n".join(rows + stack_rows) + "\n"
