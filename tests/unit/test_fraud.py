"""The Fraud construct and its toggle in the templates: the scorer configured on checkout, the
review function with exact permissions, the optional model endpoint's grant, AWS WAF Fraud
Control (ATP on sign-in, ACFP on sign-up) on the edge web ACL in prod only by default, no
Amazon Fraud Detector anywhere, and `-c fraud=false` leaving an explicit pass-through."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App, Environment, Stack

from headless_commerce.app_builder import build
from headless_commerce.config import ConfigError, from_context
from headless_commerce.constructs.cloudfront_waf import CloudFrontWaf
from headless_commerce.constructs.fraud import ACFP, ATP, Fraud, account_protection_rules
from headless_commerce.runtime import table_permissions
from tests.unit.helpers import commerce_base, resources_of, template

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:payment-AbCdEf"


def _fraud(**kwargs):
    from aws_cdk import aws_secretsmanager as secretsmanager

    base = commerce_base()
    secret = secretsmanager.Secret.from_secret_complete_arn(base.stack, "Secret", SECRET_ARN)
    fraud = Fraud(base.stack, "Fraud", functions=base.functions, table=base.table, payment_secret=secret,
                  payment_provider="sandbox", **kwargs)
    checkout = base.functions.add("checkout", handler="h.handler", memory_mb=256, timeout_s=10, environment={})
    fraud.connect(checkout)
    return base, fraud, template(base.stack).to_json()


def _function_env(resources: dict, name_part: str) -> dict:
    [fn] = [r for k, r in resources_of_type(resources, "AWS::Lambda::Function").items() if name_part in k]
    return fn["Properties"]["Environment"]["Variables"]


def resources_of_type(resources: dict, type_: str) -> dict:
    return {k: v for k, v in resources.items() if v["Type"] == type_}


def _statements(tpl: dict, role_part: str) -> list[dict]:
    found = []
    policies = [*resources_of(tpl, "AWS::IAM::ManagedPolicy").values(), *resources_of(tpl, "AWS::IAM::Policy").values()]
    for policy in policies:
        roles = json.dumps(policy["Properties"].get("Roles", []))
        if role_part in roles:
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def test_connect_configures_the_scorer_and_the_review_function_is_exact():
    _, _, tpl = _fraud(config={"review_at": 40, "rules": {"customer_velocity": {"limit": 3}}},
                       trusted_proxy_cidrs=["198.51.100.7/32"])
    checkout = _function_env(tpl["Resources"], "Fnscheckout")
    assert checkout["FRAUD_SCREEN"] == "rules"
    assert json.loads(checkout["FRAUD_CONFIG"]) == {
        "review_at": 40, "rules": {"customer_velocity": {"limit": 3}}, "trusted_proxy_cidrs": ["198.51.100.7/32"]}
    assert "FRAUD_MODEL_ENDPOINT" not in checkout
    review = _function_env(tpl["Resources"], "Fnsfraudreview")
    assert review["PAYMENT_SECRET_ARN"] == SECRET_ARN and review["PAYMENT_PROVIDER"] == "sandbox"
    actions = set()
    for statement in _statements(tpl, "fraudreview"):
        granted = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        actions |= {a for a in granted if a.startswith("dynamodb:")}
    assert actions == set(table_permissions.actions_for("fraud_review"))
    assert not any("sagemaker" in json.dumps(s) for s in _statements(tpl, "checkout"))


def test_a_model_endpoint_is_granted_alone_with_its_timeout():
    _, _, tpl = _fraud(model_endpoint_name="Fraud-Model-1", model_timeout_ms=250)
    checkout = _function_env(tpl["Resources"], "Fnscheckout")
    assert checkout["FRAUD_MODEL_ENDPOINT"] == "Fraud-Model-1" and checkout["FRAUD_MODEL_TIMEOUT_MS"] == "250"
    [grant] = [s for s in _statements(tpl, "checkout") if s["Action"] == "sagemaker:InvokeEndpoint"]
    assert "endpoint/fraud-model-1" in json.dumps(grant["Resource"])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"config": {"rules": {"customer_velocity": {"limt": 3}}}}, "limt"),
    ({"config": {"review_at": 95}}, "deny_at"),
    ({"config": {"trusted_proxy_cidrs": ["10.0.0.0/8"]}}, "trusted_proxy_cidrs as the construct parameter"),
    ({"trusted_proxy_cidrs": ["not-a-cidr"]}, "not-a-cidr"),
    ({"model_endpoint_name": "bad name!"}, "model_endpoint_name"),
    ({"model_endpoint_name": "m", "model_timeout_ms": 10}, "model_timeout_ms"),
])
def test_bad_props_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _fraud(**kwargs)


def _rule(acl_rules: list, name: str) -> dict:
    [found] = [r for r in acl_rules if r["Name"] == name]
    return found


def test_account_protection_rules_inspect_the_storefront_forms():
    stack = Stack(App(), "Edge", env=Environment(account="111111111111", region="us-east-1"))
    from headless_commerce.config import PROFILES

    CloudFrontWaf(stack, "Waf", profile=PROFILES["dev"], account_protection=True)
    [acl] = resources_of(template(stack).to_json(), "AWS::WAFv2::WebACL").values()
    rules = acl["Properties"]["Rules"]
    assert len({r["Priority"] for r in rules}) == len(rules)
    atp = _rule(rules, ATP)["Statement"]["ManagedRuleGroupStatement"]
    [atp_config] = atp["ManagedRuleGroupConfigs"]
    assert atp_config["AWSManagedRulesATPRuleSet"] == {
        "LoginPath": "/account/sign-in",
        "RequestInspection": {"PayloadType": "FORM_ENCODED", "UsernameField": {"Identifier": "email"},
                              "PasswordField": {"Identifier": "password"}},
        "ResponseInspection": {"StatusCode": {"SuccessCodes": [303], "FailureCodes": [400]}}}
    acfp = _rule(rules, ACFP)["Statement"]["ManagedRuleGroupStatement"]
    [acfp_config] = acfp["ManagedRuleGroupConfigs"]
    assert acfp_config["AWSManagedRulesACFPRuleSet"]["CreationPath"] == "/account/sign-up"
    assert acfp_config["AWSManagedRulesACFPRuleSet"]["RegistrationPagePath"] == "/account/sign-up"
    assert acfp_config["AWSManagedRulesACFPRuleSet"]["RequestInspection"] == {
        "PayloadType": "FORM_ENCODED", "EmailField": {"Identifier": "email"},
        "PasswordField": {"Identifier": "password"}}
    # Scoped down to their own paths: no other request is evaluated, or billed.
    for group, path in ((atp, "/account/sign-in"), (acfp, "/account/sign-up")):
        match = group["ScopeDownStatement"]["ByteMatchStatement"]
        assert (match["SearchString"], match["PositionalConstraint"]) == (path, "STARTS_WITH")
    # Last: the cheaper rules (rate limit, reputation) drop what they can first.
    assert _rule(rules, ATP)["Priority"] > max(r["Priority"] for r in rules if r["Name"] not in (ATP, ACFP))


def test_the_storefront_forms_have_the_fields_the_rules_inspect():
    templates = Path(__file__).resolve().parents[2] / "headless_commerce" / "runtime" / "storefront" / "templates"
    for page in ("signin.html", "signup.html"):
        html = (templates / page).read_text()
        assert 'name="email"' in html and 'name="password"' in html and 'method="post"' in html.lower()


def test_rules_take_other_paths():
    atp, acfp = account_protection_rules(first_priority=7, sign_in_path="/login", sign_up_path="/register")
    assert (atp.priority, acfp.priority) == (7, 8)
    assert atp.statement.managed_rule_group_statement.managed_rule_group_configs[0] \
        .aws_managed_rules_atp_rule_set.login_path == "/login"


def _all_templates(outdir: Path) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in outdir.glob("*.template.json")}


def _types(templates: dict[str, dict]) -> set[str]:
    return {r["Type"] for t in templates.values() for r in t.get("Resources", {}).values()}


def test_dev_screens_checkout_without_paid_edge_rules_and_prod_adds_them(dev_app, prod_app):
    for app, paid in ((dev_app, False), (prod_app, True)):
        [acl] = resources_of(app.template("Edge"), "AWS::WAFv2::WebACL").values()
        names = {r["Name"] for r in acl["Properties"]["Rules"]}
        assert ({ATP, ACFP} <= names) is paid and (bool({ATP, ACFP} & names)) is paid
        assert not any(t.startswith("AWS::FraudDetector::") for t in _types(_all_templates(Path(app.outdir))))
    dev_commerce = dev_app.template("Commerce")
    [checkout] = [r for k, r in resources_of(dev_commerce, "AWS::Lambda::Function").items() if "checkout" in k.lower()]
    assert checkout["Properties"]["Environment"]["Variables"]["FRAUD_SCREEN"] == "rules"
    assert any("fraudreview" in k.lower() for k in resources_of(dev_commerce, "AWS::Lambda::Function"))
    # prod serves checkout from Fargate: the container carries the same setting.
    containers = [c for r in resources_of(prod_app.template("Commerce"), "AWS::ECS::TaskDefinition").values()
                  for c in r["Properties"]["ContainerDefinitions"]]
    [checkout_container] = [c for c in containers
                            if {"Name": "SERVED_FUNCTION", "Value": "checkout"} in c["Environment"]]
    assert {"Name": "FRAUD_SCREEN", "Value": "rules"} in checkout_container["Environment"]


def test_fraud_false_keeps_an_explicit_pass_through_and_passes_the_gate(tmp_path):
    reference = build({"fraud": "false", "profile": "dev", "account_protection": "false", "web": "false",
                       "edge": "false", "integration": "false", "search": "false", "personalization": "false",
                       "marketing": "false", "response_cache": "false"}, outdir=str(tmp_path))
    reference.app.synth()  # the compliance gate (cdk-nag packs) fails synth on any finding
    templates = _all_templates(tmp_path)
    commerce = templates["HeadlessCommerce-Commerce.template.json"]
    functions = resources_of(commerce, "AWS::Lambda::Function")
    [checkout] = [r for k, r in functions.items() if "checkout" in k.lower()]
    assert checkout["Properties"]["Environment"]["Variables"]["FRAUD_SCREEN"] == "off"
    assert not any("fraudreview" in k.lower() for k in functions)
    assert not any(t.startswith("AWS::FraudDetector::") for t in _types(templates))


@pytest.mark.parametrize(("context", "expected"), [
    ({"profile": "dev"}, False),
    ({"profile": "dev", "account_protection": "true"}, True),
    ({"profile": "dev", "fraud": "false"}, False),
    ({"existing_web_acl_arn": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/a/"
                              "11111111-2222-3333-4444-555555555555"}, False),
])
def test_account_protection_follows_the_profile_unless_the_context_says(context, expected):
    assert from_context(context).account_protection is expected


def test_prod_profile_turns_account_protection_on(prod_app):
    assert prod_app.reference.config.account_protection is True


@pytest.mark.parametrize(("context", "message"), [
    ({"fraud": "false", "account_protection": "true"}, "account_protection is part of fraud"),
    ({"account_protection": "true", "existing_web_acl_arn": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/a/"
                                                            "11111111-2222-3333-4444-555555555555"},
     "add them to your own web ACL"),
    ({"account_protection": "perhaps"}, "'account_protection' must be true or false"),
])
def test_account_protection_context_is_validated(context, message):
    with pytest.raises(ConfigError, match=message):
        from_context(context)

