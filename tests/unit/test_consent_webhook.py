"""The consent webhook's key path in the template: the connection reads the secret, and a
scheduled (and change-triggered) function may copy a new secret version into it."""

from __future__ import annotations

import json

from headless_commerce.constructs.consent_fanout import KEY_SYNC_HANDLER
from headless_commerce.runtime.consents import webhook_key_sync


def _resources(app, type_: str) -> dict:
    return {k: v for k, v in app.template("Commerce")["Resources"].items() if v["Type"] == type_}


def test_key_sync_runs_on_schedule_and_on_change_and_may_update_only_its_connection(prod_app):
    (connection_id, connection), = _resources(prod_app, "AWS::Events::Connection").items()
    api_key = connection["Properties"]["AuthParameters"]["ApiKeyAuthParameters"]
    (secret_ref,) = [k for k in _resources(prod_app, "AWS::SecretsManager::Secret") if k in json.dumps(api_key)]

    (fn_id, fn), = [(k, f) for k, f in _resources(prod_app, "AWS::Lambda::Function").items()
                    if f["Properties"].get("Handler") == KEY_SYNC_HANDLER]
    env = fn["Properties"]["Environment"]["Variables"]
    assert env[webhook_key_sync.ENV_CONNECTION_NAME] == {"Ref": connection_id}
    assert env[webhook_key_sync.ENV_SECRET_ARN] == {"Ref": secret_ref}
    assert env[webhook_key_sync.ENV_API_KEY_HEADER] == api_key["ApiKeyName"]
    assert "TargetArn" in fn["Properties"]["DeadLetterConfig"]

    rules = [r["Properties"] for r in _resources(prod_app, "AWS::Events::Rule").values()
             if r["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [fn_id, "Arn"]}]
    assert sorted(r.get("ScheduleExpression", "on-change") for r in rules) == ["on-change", "rate(5 minutes)"]
    (on_change,) = [r for r in rules if "EventPattern" in r]
    assert on_change["EventPattern"]["detail"]["eventName"] == ["PutSecretValue", "UpdateSecret"]
    assert {"Ref": secret_ref} in on_change["EventPattern"]["detail"]["requestParameters"]["secretId"]
    assert all("Arn" in r["Targets"][0]["DeadLetterConfig"] for r in rules)

    role_id = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = [
        s
        for p in _resources(prod_app, "AWS::IAM::ManagedPolicy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    by_action = {
        a: s["Resource"] for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert by_action["events:UpdateConnection"] == {"Fn::GetAtt": [connection_id, "Arn"]}
    assert by_action["secretsmanager:UpdateSecretVersionStage"] == {"Ref": secret_ref}
    assert "events!connection/" in json.dumps(by_action["secretsmanager:PutSecretValue"])


def test_no_webhook_no_key_sync(dev_app):
    handlers = {f["Properties"].get("Handler") for f in _resources(dev_app, "AWS::Lambda::Function").values()}
    assert KEY_SYNC_HANDLER not in handlers
    assert _resources(dev_app, "AWS::Events::Connection") == {}
