"""What CloudFormation cannot create in a Personalize dataset group: its recommenders.

One function, two entry points:
- a CloudFormation custom resource (Create/Update: find-or-create or remove the recommenders
  the properties ask for; Delete: delete every recommender of the group and wait until they are
  gone, because the group's datasets cannot be deleted while a recommender uses them);
- a schedule ({"action": "reconcile", ...the same properties}) that repeats Create/Update and
  writes each recommender's ARN to its SSM parameter once it is ACTIVE ("NONE" until then), so
  the API starts using a recommender the moment it can answer.

Idempotent throughout: a recommender is found by name before one is created, "already exists"
and "already deleting" are outcomes, not errors, and a retried delete resumes the wait.
Recommenders train on the group's data: creating one before enough interactions exist is
refused or fails, and the next reconcile simply tries again.
"""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass

from botocore.exceptions import ClientError

from headless_commerce.runtime.common import aws
from headless_commerce.runtime.common.logging import lambda_entry, logger
from headless_commerce.runtime.recommendations.personalize import NO_RECOMMENDER

# The ECOMMERCE domain's recipes, one per slot (params.KINDS).
RECIPES = {
    "for_you": "arn:aws:personalize:::recipe/aws-ecomm-recommended-for-you",
    "bought_together": "arn:aws:personalize:::recipe/aws-ecomm-frequently-bought-together",
    "also_viewed": "arn:aws:personalize:::recipe/aws-ecomm-customers-who-viewed-x-also-viewed",
}
NOT_CREATED = "recommenders-not-created"
ACTIVE = "ACTIVE"
FAILED = "CREATE FAILED"
DELETING = ("DELETE PENDING", "DELETE IN_PROGRESS")
POLL_S = 15.0
# Leave this much of the invocation to answer CloudFormation.
RESPONSE_MARGIN_S = 30.0
# Personalize's answers that mean "not possible yet" (no or too little data, the group busy).
_NOT_YET = ("InvalidInputException", "ResourceInUseException", "ResourceNotFoundException",
            "LimitExceededException")


@dataclass(frozen=True)
class RecommenderSpec:
    kind: str
    name: str
    parameter: str
    min_rps: int

    @property
    def recipe_arn(self) -> str:
        return RECIPES[self.kind]


@dataclass(frozen=True)
class Config:
    dataset_group_arn: str
    enabled: bool
    recommenders: tuple[RecommenderSpec, ...]


def parse(properties: dict) -> Config:
    """The custom resource's (and the schedule's) properties; CloudFormation passes every value
    as a string."""
    specs = tuple(RecommenderSpec(kind=r["Kind"], name=r["Name"], parameter=r["Parameter"],
                                  min_rps=int(r.get("MinRecommendationRequestsPerSecond", 1)))
                  for r in properties.get("Recommenders", []))
    unknown = [s.kind for s in specs if s.kind not in RECIPES]
    if unknown:
        raise ValueError(f"unknown recommender kind(s) {', '.join(unknown)}; known: {', '.join(RECIPES)}")
    return Config(dataset_group_arn=properties["DatasetGroupArn"],
                  enabled=str(properties.get("Enabled", "false")).lower() == "true", recommenders=specs)


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def existing(group_arn: str) -> dict[str, dict]:
    """The group's recommenders by name (summaries: recommenderArn, status, recommenderConfig)."""
    found: dict[str, dict] = {}
    kwargs: dict = {"datasetGroupArn": group_arn, "maxResults": 100}
    while True:
        page = aws.personalize().list_recommenders(**kwargs)
        found.update({r["name"]: r for r in page.get("recommenders", [])})
        if not page.get("nextToken"):
            return found
        kwargs["nextToken"] = page["nextToken"]


def apply(config: Config) -> dict[str, str]:
    """Bring the group's recommenders to the config; returns kind -> status ("ABSENT" when not
    created yet). With `enabled` false every configured recommender is deleted (they bill
    hourly whether asked or not)."""
    client = aws.personalize()
    current = existing(config.dataset_group_arn)
    statuses: dict[str, str] = {}
    for spec in config.recommenders:
        found = current.get(spec.name)
        if not config.enabled:
            if found is not None:
                _delete(found)
            statuses[spec.kind] = "ABSENT"
            continue
        if found is not None and found["status"] == FAILED:
            # A failed create (usually too little data yet) is removed; a later reconcile retries.
            logger.warning("recommender failed to create; deleting it to retry later", extra={"recommender": spec.name})
            _delete(found)
            statuses[spec.kind] = FAILED
            continue
        if found is None:
            statuses[spec.kind] = _create(spec, config.dataset_group_arn)
            continue
        wanted = spec.min_rps
        have = (found.get("recommenderConfig") or {}).get("minRecommendationRequestsPerSecond")
        if found["status"] == ACTIVE and have is not None and int(have) != wanted:
            client.update_recommender(recommenderArn=found["recommenderArn"],
                                      recommenderConfig={"minRecommendationRequestsPerSecond": wanted})
            statuses[spec.kind] = "UPDATE PENDING"
            continue
        statuses[spec.kind] = found["status"]
    return statuses


def _create(spec: RecommenderSpec, group_arn: str) -> str:
    try:
        aws.personalize().create_recommender(
            name=spec.name, datasetGroupArn=group_arn, recipeArn=spec.recipe_arn,
            recommenderConfig={"minRecommendationRequestsPerSecond": spec.min_rps})
    except ClientError as error:
        if _code(error) == "ResourceAlreadyExistsException":     # created meanwhile: found next time
            return "CREATE PENDING"
        if _code(error) in _NOT_YET:
            logger.warning("recommender cannot be created yet", extra={"recommender": spec.name, "reason": str(error)})
            return "ABSENT"
        raise
    return "CREATE PENDING"


def _delete(summary: dict) -> None:
    if summary["status"] in DELETING:
        return
    try:
        aws.personalize().delete_recommender(recommenderArn=summary["recommenderArn"])
    except ClientError as error:
        # Gone already, or busy (creating, updating): the wait loop asks again.
        if _code(error) not in ("ResourceNotFoundException", "ResourceInUseException"):
            raise


def sync_parameters(config: Config, statuses: dict[str, str]) -> None:
    """Each recommender's parameter: its ARN when ACTIVE, "NONE" otherwise (written only when it
    changes, so the parameter's history stays short)."""
    current = existing(config.dataset_group_arn) if any(s == ACTIVE for s in statuses.values()) else {}
    ssm = aws.ssm()
    for spec in config.recommenders:
        found = current.get(spec.name)
        value = found["recommenderArn"] if found and found["status"] == ACTIVE else NO_RECOMMENDER
        if ssm.get_parameter(Name=spec.parameter)["Parameter"]["Value"] != value:
            ssm.put_parameter(Name=spec.parameter, Value=value, Type="String", Overwrite=True)


def delete_all(group_arn: str, deadline: float, sleep=time.sleep, clock=time.monotonic) -> None:
    """Delete every recommender of the group and wait until none is left (their datasets cannot
    be deleted before). Raises TimeoutError at `deadline` (a retried stack delete resumes)."""
    while True:
        try:
            remaining = existing(group_arn)
        except ClientError as error:
            if _code(error) == "ResourceNotFoundException":    # the group itself is gone
                return
            raise
        if not remaining:
            return
        for summary in remaining.values():
            _delete(summary)
        if clock() + POLL_S > deadline:
            raise TimeoutError(f"recommenders still deleting: {', '.join(sorted(remaining))}; "
                               "retry the stack delete to keep waiting")
        sleep(POLL_S)


def on_event(event: dict, remaining_s: float) -> tuple[str, dict]:
    """(physical id, data) of a custom resource event."""
    properties = event["ResourceProperties"]
    config = parse(properties)
    physical_id = event.get("PhysicalResourceId") or f"{config.dataset_group_arn}/recommenders"
    if event["RequestType"] == "Delete":
        delete_all(config.dataset_group_arn, time.monotonic() + remaining_s - RESPONSE_MARGIN_S)
        return physical_id, {}
    statuses = apply(config)
    sync_parameters(config, statuses)
    return physical_id, {"Statuses": json.dumps(statuses, sort_keys=True)}


def respond(event: dict, status: str, physical_id: str, data: dict | None = None, reason: str = "") -> None:
    """PUT the result to CloudFormation's pre-signed URL (the custom resource protocol)."""
    body = json.dumps({
        "Status": status, "Reason": reason[:1000] or status, "PhysicalResourceId": physical_id,
        "StackId": event["StackId"], "RequestId": event["RequestId"], "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": False, "Data": data or {},
    }).encode()
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",
                                     headers={"Content-Type": "", "Content-Length": str(len(body))})
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


@lambda_entry
def handler(event: dict, context: object = None) -> dict | None:
    if event.get("action") == "reconcile":
        config = parse(event)
        statuses = apply(config)
        sync_parameters(config, statuses)
        logger.info("recommenders reconciled", extra={"statuses": statuses})
        return {"statuses": statuses}
    remaining_s = context.get_remaining_time_in_millis() / 1000 if context is not None else 840.0
    physical_id = event.get("PhysicalResourceId") or NOT_CREATED
    if event.get("RequestType") == "Delete" and physical_id == NOT_CREATED:
        # The create failed before anything existed: nothing to delete.
        respond(event, "SUCCESS", physical_id)
        return None
    try:
        physical_id, data = on_event(event, remaining_s)
    except Exception as error:
        logger.exception("custom resource failed")
        respond(event, "FAILED", physical_id, reason=f"{type(error).__name__}: {error}")
        return None
    respond(event, "SUCCESS", physical_id, data)
    return None
