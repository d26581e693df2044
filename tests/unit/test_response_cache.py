"""ResponseCache in the Commerce stack: Valkey per profile, the cached functions wired to it,
the invalidation function on the bus, and the toggle."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template

from headless_commerce.app_builder import build
from headless_commerce.constructs.response_cache import INVALIDATION_HANDLER, ResponseCache, cached_functions
from headless_commerce.runtime import routes, settings

from .helpers import new_stack


def _resources(tmpl: dict, type_: str) -> dict[str, dict]:
    return {k: r for k, r in tmpl["Resources"].items() if r["Type"] == type_}


def _functions(tmpl: dict) -> dict[str, dict]:
    return {f["Properties"]["Handler"]: f["Properties"] for f in _resources(tmpl, "AWS::Lambda::Function").values()
            if "Handler" in f["Properties"]}


def _reads_cache_secret(statement: dict) -> bool:
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    resource = statement.get("Resource")
    return "secretsmanager:GetSecretValue" in actions and "ResponseCacheAuthSecret" in str(resource)


def test_cached_functions_are_those_serving_a_route_with_a_ttl():
    assert set(cached_functions()) == {r.function for r in routes.ROUTES if r.cache_ttl_s}
    assert {"catalog", "search"} <= set(cached_functions())
    assert not {"cart", "checkout", "orders", "customers"} & set(cached_functions())


@pytest.mark.parametrize(("profile", "kind"), [("dev", "AWS::ElastiCache::ServerlessCache"),
                                               ("prod", "AWS::ElastiCache::ReplicationGroup")])
def test_commerce_stack_caches_with_tls_and_a_password_by_profile(request, profile, kind):
    commerce = request.getfixturevalue(f"{profile}_app").template("Commerce")
    (cache,) = _resources(commerce, kind).values()
    props = cache["Properties"]
    assert props.get("UserGroupId") or props.get("UserGroupIds")
    if kind.endswith("ReplicationGroup"):
        assert props["TransitEncryptionEnabled"] is True and props["TransitEncryptionMode"] == "required"
        assert props["AtRestEncryptionEnabled"] is True
    functions = _functions(commerce)
    for name in cached_functions():
        env = functions[routes.FUNCTIONS[name].handler]["Environment"]["Variables"]
        assert {settings.CACHE_URL, settings.CACHE_AUTH_SECRET_ARN} <= set(env), name
    uncached = [routes.FUNCTIONS[n].handler for n in ("cart", "checkout", "orders", "customers", "payments_webhook")]
    for handler in uncached:
        if handler in functions:       # prod serves checkout and the webhook from Fargate
            assert settings.CACHE_URL not in functions[handler]["Environment"]["Variables"]
    invalidation = functions[INVALIDATION_HANDLER]
    assert "VpcConfig" in invalidation and settings.CACHE_URL in invalidation["Environment"]["Variables"]
    rules = [r["Properties"] for r in _resources(commerce, "AWS::Events::Rule").values()
             if sorted(r["Properties"].get("EventPattern", {}).get("detail-type", [])) ==
             ["InventoryChanged", "ProductModified"]]
    assert len(rules) == 1
    # The API functions share one security group, so one ingress rule admits them all; only the
    # cached ones can read the password.
    ingress = [r["Properties"] for r in _resources(commerce, "AWS::EC2::SecurityGroupIngress").values()
               if r["Properties"].get("Description") == "Cache invalidation to Valkey"]
    assert len(ingress) == 1 and ingress[0]["FromPort"] == (6379 if profile == "dev" else 6380)
    readers = [p for p in _resources(commerce, "AWS::IAM::ManagedPolicy").values()
               if any(_reads_cache_secret(s) for s in p["Properties"]["PolicyDocument"]["Statement"])]
    assert len(readers) == len(cached_functions()) + 1


def test_the_toggle_removes_cache_and_invalidation():
    reference = build({"response_cache": "false", "web": "false", "edge": "false", "integration": "false"},
                      compliance=False)
    commerce = Template.from_stack(reference.stacks["Commerce"]).to_json()
    assert not _resources(commerce, "AWS::ElastiCache::ServerlessCache")
    assert INVALIDATION_HANDLER not in _functions(commerce)
    catalog = _functions(commerce)[routes.FUNCTIONS["catalog"].handler]
    assert settings.CACHE_URL not in catalog["Environment"]["Variables"]


def test_the_construct_needs_a_vpc():
    stack, profile = new_stack()
    with pytest.raises(ValueError, match="`vpc` is required"):
        ResponseCache(stack, "Cache", profile=profile, vpc=None, functions=None, bus=None)  # type: ignore[arg-type]
