"""Drop `DependsOn` entries that a `Ref`/`Fn::GetAtt` in the same resource already implies.

CDK L2s add construct-level dependencies (a function on its whole role, a pipe on its role) that
render as `DependsOn` next to the `Fn::GetAtt` of that same role; cfn-lint flags each one
(W3005). The edge stays (CloudFormation derives it from the reference), only the repetition goes.
CDK resolves construct dependencies after aspects run, so the list is computed lazily, when the
template is rendered, from the resource's final dependencies and properties.
"""

from __future__ import annotations

import jsii
from aws_cdk import CfnResource, IAspect, IResolvable, IResolveContext, Stack
from constructs import IConstruct


def _referenced(value: object, found: set[str]) -> set[str]:
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            found.add(value["Ref"])
        attribute = value.get("Fn::GetAtt")
        if isinstance(attribute, list) and attribute and isinstance(attribute[0], str):
            found.add(attribute[0])
        for item in value.values():
            _referenced(item, found)
    elif isinstance(value, list):
        for item in value:
            _referenced(item, found)
    return found


@jsii.implements(IResolvable)
class _DependsOn:
    def __init__(self, resource: CfnResource) -> None:
        self._resource = resource
        self.creation_stack: list[str] = []
        self.type_hint = None

    def to_string(self) -> str:
        return "<DependsOn without references>"

    def resolve(self, context: IResolveContext) -> object:
        stack = Stack.of(self._resource)
        own = {stack.resolve(d.logical_id) for d in self._resource.obtain_dependencies()
               if Stack.of(d).node.path == stack.node.path}
        referenced = _referenced(stack.resolve(self._resource._cfn_properties), set())
        return sorted(own - referenced) or None


@jsii.implements(IAspect)
class DropRedundantDependsOn:
    def visit(self, node: IConstruct) -> None:
        if isinstance(node, CfnResource):
            node.add_override("DependsOn", _DependsOn(node))
