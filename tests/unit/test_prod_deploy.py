"""What a prod deploy into a new account needs, read from the templates: no reservations unless
asked, named AZs, retry-safe removal policies, TLS 1.2+, the archive on the CMK, a WAF that lets
the API's own body limit decide, OAuth only when configured, SES mail, alarms that notify."""

from __future__ import annotations

import itertools
import json

import pytest

from headless_commerce.app_builder import build
from headless_commerce.config import RESERVED_CONCURRENCY, ConfigError, from_context
from headless_commerce.runtime.routes import MAX_BODY_BYTES, ORDER_SWEEPER
from tests.conftest import PROD_CONTEXT, Synthesized

# The least a prod synth accepts: everything else at its default.
PROD_MINIMUM = {"profile": "prod", "stage": "prodmin", "region": "us-east-1",
                "availability_zones": "us-east-1a,us-east-1b,us-east-1c",
                "storefront_origin": "https://shop.example.com", "email_from": "no-reply@shop.example.com"}


@pytest.fixture(scope="module")
def prod_minimum(tmp_path_factory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("prodmin")
    # The gate runs on the full prod fixture; this one checks defaults, so skip it (and DAX's layer).
    reference = build({**PROD_MINIMUM, "dax": "false"}, outdir=str(outdir), compliance=False)
    reference.app.synth()
    return Synthesized(outdir=outdir, reference=reference)


def _all(app: Synthesized, type_: str) -> dict:
    found = {}
    for stack in app.reference.stacks:
        found.update({k: v for k, v in app.template(stack)["Resources"].items() if v["Type"] == type_})
    return found


def _ours(app: Synthesized) -> dict:
    return {k: f for k, f in _all(app, "AWS::Lambda::Function").items()
            if f["Properties"].get("Handler", "").startswith("headless_commerce.")}


# 1. Reserved concurrency is opt-in.
def test_prod_reserves_no_concurrency_unless_asked(prod_minimum, prod_app):
    assert all("ReservedConcurrentExecutions" not in f["Properties"] for f in _ours(prod_minimum).values())
    reserved = {f["Properties"]["Handler"]: f["Properties"].get("ReservedConcurrentExecutions")
                for f in _ours(prod_app).values()}
    assert reserved[ORDER_SWEEPER.handler] == RESERVED_CONCURRENCY["order_sweeper"]
    assert from_context(PROD_MINIMUM).profile.reserved_concurrency == {}
    assert from_context({**PROD_MINIMUM, "reserved_concurrency": "yes"}).profile.reserved_concurrency == \
        RESERVED_CONCURRENCY


# 2. Prod takes explicit AZ names; dev keeps GetAZs (documented in the README).
def test_prod_without_zone_names_is_one_clear_error():
    context = {k: v for k, v in PROD_MINIMUM.items() if k != "availability_zones"}
    with pytest.raises(ConfigError) as err:
        from_context(context)
    message = str(err.value)
    assert "\n" not in message
    assert "-c availability_zones=" in message and "us-east-1a,us-east-1b,us-east-1c" in message


def test_zone_names_must_be_zones_of_the_region():
    with pytest.raises(ConfigError, match="must all be in region us-east-1"):
        from_context({**PROD_MINIMUM, "availability_zones": "eu-west-1a,eu-west-1b,eu-west-1c"})
    with pytest.raises(ConfigError, match="availability zone names"):
        from_context({**PROD_MINIMUM, "availability_zones": "a,b,c"})


def test_dev_still_selects_zones_at_deploy_time(dev_app):
    subnets = [r for r in dev_app.template("Foundation")["Resources"].values() if r["Type"] == "AWS::EC2::Subnet"]
    assert all("Fn::GetAZs" in json.dumps(s["Properties"]["AvailabilityZone"]) for s in subnets)


# 3. A failed first create can be retried: nothing is kept on create rollback.
def test_prod_keeps_nothing_when_the_first_create_rolls_back(prod_app):
    policies = {}
    for stack in prod_app.reference.stacks:
        for logical_id, resource in prod_app.template(stack)["Resources"].items():
            if "DeletionPolicy" in resource:
                policies[logical_id] = (resource["DeletionPolicy"], resource.get("UpdateReplacePolicy"))
    assert policies and "Retain" not in {deletion for deletion, _ in policies.values()}
    retained = {k: v for k, v in policies.items() if v[0] == "RetainExceptOnCreate"}
    assert all(update == "Retain" for _, update in retained.values())
    tables = _all(prod_app, "AWS::DynamoDB::GlobalTable")
    assert tables and all(t["DeletionPolicy"] == "RetainExceptOnCreate" for t in tables.values())


# 4. TLS 1.2+ on the API.
def test_default_endpoint_refuses_tls_1_0(prod_minimum, dev_app):
    for app in (prod_minimum, dev_app):
        (api,) = _all(app, "AWS::ApiGateway::RestApi").values()
        assert api["Properties"]["SecurityPolicy"] == "SecurityPolicy_TLS13_1_2_2021_06"
        assert api["Properties"]["EndpointAccessMode"] == "STRICT"
        assert _all(app, "AWS::ApiGateway::DomainName") == {}


def test_custom_domain_uses_tls_1_2_and_disables_execute_api(prod_app):
    (api,) = _all(prod_app, "AWS::ApiGateway::RestApi").values()
    assert api["Properties"]["DisableExecuteApiEndpoint"] is True
    (domain_id, domain), = _all(prod_app, "AWS::ApiGateway::DomainName").items()
    assert domain["Properties"]["DomainName"] == PROD_CONTEXT["api_domain_name"]
    assert domain["Properties"]["SecurityPolicy"] == "TLS_1_2"
    assert domain["Properties"]["RegionalCertificateArn"] == PROD_CONTEXT["api_certificate_arn"]
    assert len(_all(prod_app, "AWS::ApiGateway::BasePathMapping")) == 1
    outputs = prod_app.template("Commerce")["Outputs"]
    assert outputs["ApiUrl"]["Value"] == {"Fn::Join": ["", ["https://", {"Ref": domain_id}, "/"]]}
    assert outputs["ApiDomainTarget"]["Value"] == {"Fn::GetAtt": [domain_id, "RegionalDomainName"]}


def test_domain_and_certificate_go_together():
    with pytest.raises(ConfigError, match="api_domain_name and api_certificate_arn go together"):
        from_context({"api_domain_name": "api.shop.example.com"})


# 5. The archive is encrypted with the CMK, and the key lets EventBridge archive.
def test_event_archive_is_on_the_cmk(any_app):
    resources = any_app.template("Foundation")["Resources"]
    (archive,) = [r for r in resources.values() if r["Type"] == "AWS::Events::Archive"]
    key_id = archive["Properties"]["KmsKeyIdentifier"]
    assert key_id != "" and "Fn::GetAtt" in key_id
    key = resources[key_id["Fn::GetAtt"][0]]
    assert key["Type"] == "AWS::KMS::Key"
    statements = {s.get("Sid"): s for s in key["Properties"]["KeyPolicy"]["Statement"]}
    archive_statement = statements["AllowEventBridgeArchiveOfCommerceBus"]
    assert "kms:ReEncrypt*" in archive_statement["Action"]
    assert archive_statement["Principal"] == {"Service": "events.amazonaws.com"}


# 6. The WAF lets the API's own 16 KB limit decide body size.
def test_waf_counts_the_8kb_rule_and_enforces_the_api_limit(any_app):
    # The API's regional ACL (the edge stack's CloudFront ACL leaves body size to this one).
    (acl,) = [a for a in _all(any_app, "AWS::WAFv2::WebACL").values() if a["Properties"]["Scope"] == "REGIONAL"]
    rules = {r["Name"]: r for r in acl["Properties"]["Rules"]}
    common = rules["AWSManagedRulesCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    assert common["RuleActionOverrides"] == [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]
    size = rules["BodyTooLarge"]
    constraint = size["Statement"]["SizeConstraintStatement"]
    assert constraint["Size"] == MAX_BODY_BYTES and constraint["ComparisonOperator"] == "GT"
    assert constraint["FieldToMatch"] == {"Body": {"OversizeHandling": "MATCH"}}
    block = size["Action"]["Block"]["CustomResponse"]
    assert block["ResponseCode"] == 413
    body = json.loads(acl["Properties"]["CustomResponseBodies"][block["CustomResponseBodyKey"]]["Content"])
    assert body["error"]["code"] == "body_too_large"
    priorities = [r["Priority"] for r in acl["Properties"]["Rules"]]
    assert len(priorities) == len(set(priorities))


# 7. OAuth off unless configured; then code flow + PKCE-capable public clients, minimal scopes.
def _identity_clients(app: Synthesized) -> list[dict]:
    # The web and mobile clients; the storefront's server-side client (Web stack) never uses OAuth.
    return [r for r in app.template("Commerce")["Resources"].values() if r["Type"] == "AWS::Cognito::UserPoolClient"]


def test_clients_have_no_oauth_by_default(prod_minimum, dev_app):
    for app in (prod_minimum, dev_app):
        clients = _identity_clients(app)
        assert len(clients) == 2
        for client in clients:
            props = client["Properties"]
            assert props.get("AllowedOAuthFlowsUserPoolClient") is False
            assert "AllowedOAuthFlows" not in props and "CallbackURLs" not in props
        assert _all(app, "AWS::Cognito::UserPoolDomain") == {}


def test_hosted_sign_in_is_code_flow_with_minimal_scopes(prod_app):
    callbacks = PROD_CONTEXT["auth_callback_urls"].split(",")
    for client in _identity_clients(prod_app):
        props = client["Properties"]
        assert props["AllowedOAuthFlowsUserPoolClient"] is True
        assert props["AllowedOAuthFlows"] == ["code"]
        assert sorted(props["AllowedOAuthScopes"]) == ["email", "openid", "profile"]
        assert props["CallbackURLs"] == callbacks
        assert props["LogoutURLs"] == [PROD_CONTEXT["auth_logout_urls"]]
        assert props["GenerateSecret"] is False  # public client: PKCE, never a secret
    (domain,) = _all(prod_app, "AWS::Cognito::UserPoolDomain").values()
    assert domain["Properties"]["Domain"] == PROD_CONTEXT["auth_domain_prefix"]


@pytest.mark.parametrize("context,message", [
    ({"auth_domain_prefix": "shop"}, "auth_domain_prefix and auth_callback_urls go together"),
    ({"auth_domain_prefix": "my-aws-shop", "auth_callback_urls": "https://shop.example.com/cb"}, "may not contain"),
    ({"auth_domain_prefix": "shop", "auth_callback_urls": "http://shop.example.com/cb"}, "auth_callback_urls"),
])
def test_hosted_sign_in_settings_are_checked(context, message):
    with pytest.raises(ConfigError, match=message):
        from_context(context)


# 8. Prod mail goes through SES.
def test_prod_pool_sends_through_ses(prod_app):
    (pool,) = _all(prod_app, "AWS::Cognito::UserPool").values()
    email = pool["Properties"]["EmailConfiguration"]
    assert email["EmailSendingAccount"] == "DEVELOPER"
    assert email["From"] == PROD_CONTEXT["email_from"]
    assert PROD_CONTEXT["email_from"] in json.dumps(email["SourceArn"])


def test_prod_without_an_ses_sender_is_refused():
    context = {k: v for k, v in PROD_MINIMUM.items() if k != "email_from"}
    with pytest.raises(ConfigError, match="needs -c email_from="):
        from_context(context)


# 9. Every alarm notifies an encrypted topic CloudWatch can use.
def test_every_alarm_notifies_the_alarm_topic(any_app):
    foundation = any_app.template("Foundation")["Resources"]
    (topic_id, topic), = [(k, r) for k, r in foundation.items() if r["Type"] == "AWS::SNS::Topic"]
    key = foundation[topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]]
    cloudwatch = [s for s in key["Properties"]["KeyPolicy"]["Statement"]
                  if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert cloudwatch and "kms:GenerateDataKey*" in cloudwatch[0]["Action"]
    alarms = _all(any_app, "AWS::CloudWatch::Alarm")
    assert len(alarms) > 20
    for logical_id, alarm in alarms.items():
        actions = json.dumps(alarm["Properties"].get("AlarmActions"))
        assert topic_id in actions, logical_id


def test_alarms_cover_functions_api_and_pipes(any_app):
    # Per stack, not merged by logical id: two stacks may hold same-named alarms (each its own
    # cache_invalidation function).
    alarms = [r["Properties"] for stack in any_app.reference.stacks
              for r in any_app.template(stack)["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    by_metric = {}
    for alarm in alarms:
        # One metric, as a plain metric alarm or as the single query cdk-monitoring-constructs writes.
        queries = [q["MetricStat"] for q in alarm.get("Metrics", []) if "MetricStat" in q]
        if "MetricName" in alarm:
            queries = [{"Metric": alarm, "Stat": alarm.get("Statistic") or alarm.get("ExtendedStatistic")}]
        if len(queries) == 1:
            metric = queries[0]["Metric"]
            by_metric.setdefault((metric["Namespace"], metric["MetricName"]), []).append((alarm, queries[0]["Stat"]))
    functions = _all(any_app, "AWS::Lambda::Function")
    # One alarm per function over its errors and throttles (StackMonitoring.monitor_function); in dev
    # over its errors, with the Region's throttles on one alarm (profile `function_throttle_alarms`).
    per_function = any_app.reference.config.profile.function_throttle_alarms
    watched = {"Errors", "Throttles"} if per_function else {"Errors"}
    failures = [a for a in alarms if {q["MetricStat"]["Metric"]["MetricName"]
                                      for q in a.get("Metrics", []) if "MetricStat" in q} == watched]
    assert len(failures) == len(_ours(any_app)) <= len(functions)
    region_throttles = [a for a, _ in by_metric.get(("AWS/Lambda", "Throttles"), []) if not a.get("Dimensions")]
    assert len(region_throttles) == (0 if per_function else 1)
    ((server_errors, stat),) = by_metric[("AWS/ApiGateway", "5XXError")]
    assert stat == "Average" and server_errors["Threshold"] == 0.01
    ((_, stat),) = by_metric[("AWS/ApiGateway", "Latency")]
    assert stat == "p99"
    # Each pipe construct alarms on its own failures (execution, enrichment and target stages).
    pipe_alarms = [a for a in alarms if '"AWS/EventBridge/Pipes"' in json.dumps(a.get("Metrics", []))]
    assert len(pipe_alarms) == len(_all(any_app, "AWS::Pipes::Pipe"))


def test_alarm_subscriptions_come_from_context(prod_app, dev_app):
    subscriptions = [s["Properties"] for s in _all(prod_app, "AWS::SNS::Subscription").values()]
    assert {(s["Protocol"], s["Endpoint"]) for s in subscriptions} == {
        ("email", PROD_CONTEXT["alarm_emails"]), ("https", PROD_CONTEXT["alarm_https_endpoints"])}
    assert all("RedrivePolicy" in s for s in subscriptions)
    assert _all(dev_app, "AWS::SNS::Subscription") == {}


# 10/11. Context validated up front, one line per problem.
def test_prod_needs_a_storefront_origin():
    context = {k: v for k, v in PROD_MINIMUM.items() if k != "storefront_origin"}
    with pytest.raises(ConfigError, match="needs -c storefront_origin="):
        from_context(context)
    with pytest.raises(ConfigError, match="needs -c storefront_origin="):
        from_context({**PROD_MINIMUM, "storefront_origin": "*"})
    with pytest.raises(ConfigError, match="only https:// storefront origins, got http://localhost:3000"):
        from_context({**PROD_MINIMUM, "storefront_origin": "https://shop.example.com,http://localhost:3000"})
    assert from_context({"storefront_origin": "http://localhost:3000"}).storefront_origins == ("http://localhost:3000",)


@pytest.mark.parametrize("context,message", [
    ({"payment_provider": "paypal"}, "payment_provider 'paypal' is not supported; choose one of sandbox, stripe"),
    ({"storefront_origin": "shop.example.com"}, "storefront_origin: 'shop.example.com' must be an origin"),
    ({"storefront_origin": "https://shop.example.com/path"}, "must be an origin"),
    ({"consent_webhook_url": "http://cms.example.com"}, "consent_webhook_url 'http://cms.example.com' must be"),
    ({"account": "12345"}, "12-digit"),
    ({"region": "moon-1"}, "AWS region"),
    ({"email_from": "not-an-address"}, "email_from"),
    ({"alarm_emails": "ops@example.com,nope"}, "alarm_emails"),
    ({"alarm_https_endpoints": "http://hooks.example.com"}, "alarm_https_endpoints"),
    ({"reserved_concurrency": "sometimes"}, "'reserved_concurrency' must be true or false"),
])
def test_each_bad_value_is_a_one_line_error(context, message):
    with pytest.raises(ConfigError) as err:
        from_context(context)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_several_origins_are_passed_to_handlers_and_preflight(prod_app):
    origins = PROD_CONTEXT["storefront_origin"].split(",")
    for fn in _ours(prod_app).values():
        variables = fn["Properties"]["Environment"]["Variables"]
        if "ALLOWED_ORIGIN" in variables:
            assert variables["ALLOWED_ORIGIN"].split(",") == origins
    responses = _all(prod_app, "AWS::ApiGateway::GatewayResponse").values()
    assert all(r["Properties"]["ResponseParameters"]["gatewayresponse.header.Vary"] == "'Origin'" for r in responses)
    options = [
        m for m in _all(prod_app, "AWS::ApiGateway::Method").values() if m["Properties"]["HttpMethod"] == "OPTIONS"
    ]
    template = json.dumps(options[0]["Properties"]["Integration"])
    assert all(origin in template for origin in origins)


def test_make_synth_keeps_the_last_output_when_the_context_is_bad(tmp_path):
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "cdk.out"
    out.mkdir()
    (out / "last-good.template.json").write_text("{}")
    result = subprocess.run(["make", "--no-print-directory", "synth", f"OUT={out}",
                             "CONTEXT=-c payment_provider=paypal"],
                            cwd=root, capture_output=True, text=True)
    assert result.returncode != 0
    assert "error: invalid CDK context: payment_provider 'paypal' is not supported" in result.stderr
    assert "Traceback" not in result.stderr
    assert (out / "last-good.template.json").exists() and not (tmp_path / "cdk.out.next").exists()


def test_the_readme_prod_command_is_a_valid_prod_context():
    import re
    import shlex
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("### The prod deploy"):]
    command = section[section.index("```bash") + len("```bash"):section.index("```", section.index("```bash") + 7)]
    words = shlex.split(command.replace("\\\n", " "))
    assert words[:4] == ["npx", "aws-cdk@2", "deploy", "--all"]
    flags = dict(w.split("=", 1) for flag, w in itertools.pairwise(words) if flag == "-c")
    config = from_context(flags)
    assert config.profile.name == "prod" and len(config.availability_zones) == 3
    assert re.match(r"https://", config.storefront_origins[0]) and config.email_from


def test_synth_needs_only_the_synth_requirements():
    # `make synth` on a fresh clone installs requirements.txt only; runtime-only libraries
    # (Powertools, boto3, search clients) must not be imported by the CDK side.
    import subprocess
    import sys

    code = ("import sys\n"
            "for name in ('aws_lambda_powertools', 'boto3', 'botocore', 'opensearchpy', 'tantivy', 'moto'):\n"
            "    sys.modules[name] = None\n"
            "import headless_commerce.app_builder\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
