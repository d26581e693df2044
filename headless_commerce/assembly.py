"""Reading a synthesized cloud assembly (`cdk.out`) the way CloudFormation will deploy it.

A stack that holds nested stacks (`AWS::CloudFormation::Stack`) is deployed as several
templates; the cost estimate, the diagram and the tests want the stack as one thing.
`inline_nested_stacks` folds each nested template into its parent: its resources join the
parent's, each parameter the parent passes becomes the parent's own expression, and each
`Outputs.X` the parent reads becomes the nested output's value. `nested_templates` lists the
templates as files, for what is limited per template (500 resources, 200 parameters).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

NESTED_STACK = "AWS::CloudFormation::Stack"


def _asset_files(outdir: Path) -> dict[str, Path]:
    """Asset hash -> file, from every asset manifest of the assembly (nested templates are file assets)."""
    files: dict[str, Path] = {}
    for manifest in outdir.glob("*.assets.json"):
        for asset_hash, asset in json.loads(manifest.read_text()).get("files", {}).items():
            files[asset_hash] = outdir / asset["source"]["path"]
    return files


def _template_file(resource: Mapping, assets: Mapping[str, Path]) -> Path | None:
    """The nested template a stack resource deploys: its TemplateURL ends in `<asset hash>.json`."""
    url = resource.get("Properties", {}).get("TemplateURL")
    parts = url.get("Fn::Join", [None, []])[1] if isinstance(url, dict) else [url]
    last = parts[-1] if parts and isinstance(parts[-1], str) else ""
    return assets.get(last.rsplit("/", 1)[-1].removesuffix(".json"))


def _substitute(value: Any, refs: Mapping[str, Any], outputs: Mapping[tuple[str, str], Any]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in refs:
            return copy.deepcopy(refs[value["Ref"]])
        attribute = value.get("Fn::GetAtt")
        if (set(value) == {"Fn::GetAtt"} and isinstance(attribute, list) and len(attribute) == 2
                and isinstance(attribute[1], str) and (attribute[0], attribute[1]) in outputs):
            return copy.deepcopy(outputs[(attribute[0], attribute[1])])
        return {key: _substitute(item, refs, outputs) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, refs, outputs) for item in value]
    return value


def nested_templates(template: Mapping, outdir: str | Path) -> Iterator[tuple[str, Path, dict]]:
    """(logical id of the stack resource, template file, template) of each nested stack, depth first."""
    outdir = Path(outdir)
    assets = _asset_files(outdir)
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != NESTED_STACK:
            continue
        path = _template_file(resource, assets)
        if path is None or not path.exists():
            continue
        nested = json.loads(path.read_text())
        yield logical_id, path, nested
        yield from nested_templates(nested, outdir)


def inline_nested_stacks(template: Mapping, outdir: str | Path) -> dict:
    """`template` with every nested stack's resources in it (recursively); the nested stack
    resources themselves stay, so what they cost and depend on is still visible."""
    outdir = Path(outdir)
    assets = _asset_files(outdir)
    result = copy.deepcopy(dict(template))
    resources: dict = result.setdefault("Resources", {})
    outputs: dict[tuple[str, str], Any] = {}
    for logical_id, resource in list(resources.items()):
        if resource.get("Type") != NESTED_STACK:
            continue
        path = _template_file(resource, assets)
        if path is None or not path.exists():
            continue
        nested = inline_nested_stacks(json.loads(path.read_text()), outdir)
        refs = resource.get("Properties", {}).get("Parameters", {})
        for child_id, child in nested.get("Resources", {}).items():
            if child_id in resources:
                raise ValueError(f"nested stack {logical_id} reuses the parent's logical id {child_id}")
            resources[child_id] = _substitute(child, refs, {})
        for name, output in nested.get("Outputs", {}).items():
            outputs[(logical_id, f"Outputs.{name}")] = _substitute(output.get("Value"), refs, {})
    if outputs:
        result["Resources"] = _substitute(resources, {}, outputs)
        result["Outputs"] = _substitute(result.get("Outputs", {}), {}, outputs)
    return result
