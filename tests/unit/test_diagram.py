"""`make diagram`: the committed DOT source is what the synthesized dev app generates."""

from __future__ import annotations

from headless_commerce.cost import read_assembly
from headless_commerce.diagram import DIAGRAM_CONTEXT, dot_of_assembly, graph
from tests.conftest import ROOT


def test_committed_diagram_is_generated_from_the_app(dev_app):
    assert DIAGRAM_CONTEXT == {"profile": "dev"}  # what the dev_app fixture synthesizes
    committed = (ROOT / "docs/architecture.dot").read_text()
    assert dot_of_assembly(dev_app.outdir) == committed, "docs/architecture.dot is stale: run `make diagram`"
    assert (ROOT / "docs/architecture.svg").read_text().lstrip().startswith("<?xml")


def test_stacks_are_clusters_and_capabilities_nodes_with_cross_stack_edges(dev_app):
    nodes, edges = graph(read_assembly(dev_app.outdir))
    assert list(nodes) == ["Foundation", "Commerce", "Integration", "Web", "Edge"]
    assert {"Search", "Personalization", "Marketing", "AppTier", "Identity"} <= set(nodes["Commerce"])
    assert "OpenSearch" in nodes["Commerce"]["Search"]
    plain = {(a, b) for a, b, rule in edges if not rule}
    # Cross-stack references resolved through the exporting stack's outputs.
    assert ("Edge/Edge", "Web/Web") in plain and ("Integration/Pipelines", "Foundation/Network") in plain
    # Event rules on Foundation's bus.
    assert ("Commerce/Marketing", "Foundation/Events", True) in edges
