"""The recommenders custom resource against stubbed Personalize responses (botocore Stubber;
moto has no Personalize): find-or-create, recommenders that already exist, update, turning them
off, deletion that waits for recommenders still deleting, and the CloudFormation responses."""

from __future__ import annotations

import json

import pytest
from botocore.stub import Stubber

from headless_commerce.runtime.common import aws
from headless_commerce.runtime.recommendations import resources

GROUP = "arn:aws:personalize:us-east-1:123456789012:dataset-group/hc-shop"
KINDS = ("for_you", "also_viewed", "bought_together")


def arn(kind: str) -> str:
    return f"arn:aws:personalize:us-east-1:123456789012:recommender/hc-shop-{kind}"


def properties(enabled: bool = True, min_rps: int = 1) -> dict:
    return {"DatasetGroupArn": GROUP, "Enabled": "true" if enabled else "false", "Recommenders": [
        {"Kind": kind, "Name": f"hc-shop-{kind}", "Parameter": f"/hc/recommenders/{kind}",
         "MinRecommendationRequestsPerSecond": str(min_rps)} for kind in KINDS]}


def summary(kind: str, status: str, min_rps: int = 1) -> dict:
    return {"name": f"hc-shop-{kind}", "recommenderArn": arn(kind), "datasetGroupArn": GROUP,
            "recipeArn": resources.RECIPES[kind], "status": status,
            "recommenderConfig": {"minRecommendationRequestsPerSecond": min_rps}}


def listed(stub: Stubber, *summaries: dict) -> None:
    stub.add_response("list_recommenders", {"recommenders": list(summaries)},
                      {"datasetGroupArn": GROUP, "maxResults": 100})


@pytest.fixture
def personalize(table):
    with Stubber(aws.personalize()) as stub:
        yield stub
        stub.assert_no_pending_responses()


@pytest.fixture
def parameters(table) -> dict[str, str]:
    for kind in KINDS:
        aws.ssm().put_parameter(Name=f"/hc/recommenders/{kind}", Value="NONE", Type="String")
    return {kind: f"/hc/recommenders/{kind}" for kind in KINDS}


def parameter(kind: str) -> str:
    return aws.ssm().get_parameter(Name=f"/hc/recommenders/{kind}")["Parameter"]["Value"]


@pytest.fixture
def responses(monkeypatch) -> list[dict]:
    sent: list[dict] = []
    monkeypatch.setattr(resources, "respond", lambda event, status, physical_id, data=None, reason="":
                        sent.append({"status": status, "id": physical_id, "data": data or {}, "reason": reason}))
    return sent


def cfn_event(request_type: str, props: dict, **extra) -> dict:
    return {"RequestType": request_type, "ResourceProperties": props, "StackId": "stack", "RequestId": "r1",
            "LogicalResourceId": "Recommenders", "ResponseURL": "https://cfn.example/response", **extra}


class Context:
    function_name = "recommenders"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:recommenders"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 840_000


def test_create_makes_the_missing_recommenders_and_keeps_those_that_exist(personalize, parameters, responses):
    listed(personalize, summary("also_viewed", "ACTIVE"))
    for kind in ("for_you", "bought_together"):
        personalize.add_response("create_recommender", {"recommenderArn": arn(kind)}, {
            "name": f"hc-shop-{kind}", "datasetGroupArn": GROUP, "recipeArn": resources.RECIPES[kind],
            "recommenderConfig": {"minRecommendationRequestsPerSecond": 1}})
    listed(personalize, summary("also_viewed", "ACTIVE"), summary("for_you", "CREATE PENDING"),
           summary("bought_together", "CREATE PENDING"))
    resources.handler(cfn_event("Create", properties()), Context())
    (reply,) = responses
    assert reply["status"] == "SUCCESS" and reply["id"] == f"{GROUP}/recommenders"
    assert json.loads(reply["data"]["Statuses"]) == {"also_viewed": "ACTIVE", "bought_together": "CREATE PENDING",
                                                     "for_you": "CREATE PENDING"}
    # Only the active one is published; the others read NONE until a reconcile sees them ACTIVE.
    assert [parameter(k) for k in KINDS] == ["NONE", arn("also_viewed"), "NONE"]


def test_a_create_that_lost_a_race_or_has_no_data_yet_does_not_fail_the_stack(personalize, parameters, responses):
    listed(personalize)
    personalize.add_client_error("create_recommender", "ResourceAlreadyExistsException", http_status_code=400)
    personalize.add_client_error("create_recommender", "InvalidInputException", http_status_code=400,
                                 service_message="Not enough interactions")
    personalize.add_response("create_recommender", {"recommenderArn": arn("bought_together")})
    resources.handler(cfn_event("Create", properties()), Context())
    assert responses[0]["status"] == "SUCCESS"
    assert json.loads(responses[0]["data"]["Statuses"]) == {
        "for_you": "CREATE PENDING", "also_viewed": "ABSENT", "bought_together": "CREATE PENDING"}


def test_update_changes_throughput_and_a_failed_recommender_is_removed_for_a_retry(personalize, parameters, responses):
    listed(personalize, summary("for_you", "ACTIVE", min_rps=1), summary("also_viewed", "CREATE FAILED"),
           summary("bought_together", "ACTIVE", min_rps=5))
    personalize.add_response("update_recommender", {"recommenderArn": arn("for_you")}, {
        "recommenderArn": arn("for_you"), "recommenderConfig": {"minRecommendationRequestsPerSecond": 5}})
    personalize.add_response("delete_recommender", {}, {"recommenderArn": arn("also_viewed")})
    listed(personalize, summary("for_you", "UPDATE PENDING"), summary("bought_together", "ACTIVE", min_rps=5))
    resources.handler(cfn_event("Update", properties(min_rps=5), PhysicalResourceId=f"{GROUP}/recommenders"),
                      Context())
    assert responses[0]["status"] == "SUCCESS" and responses[0]["id"] == f"{GROUP}/recommenders"
    assert json.loads(responses[0]["data"]["Statuses"]) == {
        "for_you": "UPDATE PENDING", "also_viewed": "CREATE FAILED", "bought_together": "ACTIVE"}
    assert [parameter(k) for k in KINDS] == ["NONE", "NONE", arn("bought_together")]


def test_turning_recommenders_off_deletes_them_and_clears_the_parameters(personalize, parameters, responses):
    aws.ssm().put_parameter(Name=parameters["for_you"], Value=arn("for_you"), Type="String", Overwrite=True)
    listed(personalize, summary("for_you", "ACTIVE"), summary("also_viewed", "DELETE PENDING"))
    personalize.add_response("delete_recommender", {}, {"recommenderArn": arn("for_you")})
    resources.handler(cfn_event("Update", properties(enabled=False), PhysicalResourceId=f"{GROUP}/recommenders"),
                      Context())
    assert responses[0]["status"] == "SUCCESS"
    assert [parameter(k) for k in KINDS] == ["NONE", "NONE", "NONE"]


def test_delete_waits_for_dependants_to_be_gone(personalize, monkeypatch):
    slept: list[float] = []
    listed(personalize, summary("for_you", "ACTIVE"), summary("also_viewed", "CREATE IN_PROGRESS"))
    personalize.add_response("delete_recommender", {}, {"recommenderArn": arn("for_you")})
    # Still creating: Personalize refuses the delete for now.
    personalize.add_client_error("delete_recommender", "ResourceInUseException", http_status_code=400)
    listed(personalize, summary("for_you", "DELETE IN_PROGRESS"), summary("also_viewed", "ACTIVE"))
    personalize.add_response("delete_recommender", {}, {"recommenderArn": arn("also_viewed")})
    listed(personalize, summary("also_viewed", "DELETE PENDING"))
    listed(personalize)
    resources.delete_all(GROUP, deadline=1e9, sleep=slept.append, clock=lambda: 0.0)
    assert slept == [resources.POLL_S] * 3


def test_delete_that_outlasts_the_invocation_fails_so_a_retry_resumes(personalize, responses, monkeypatch):
    listed(personalize, summary("for_you", "DELETE IN_PROGRESS"))
    monkeypatch.setattr(resources, "POLL_S", 1e6)
    resources.handler(cfn_event("Delete", properties(), PhysicalResourceId=f"{GROUP}/recommenders"), Context())
    (reply,) = responses
    assert reply["status"] == "FAILED" and "still deleting: hc-shop-for_you" in reply["reason"]


def test_delete_of_a_group_already_gone_and_of_a_create_that_never_happened(personalize, responses):
    personalize.add_client_error("list_recommenders", "ResourceNotFoundException", http_status_code=404)
    resources.handler(cfn_event("Delete", properties(), PhysicalResourceId=f"{GROUP}/recommenders"), Context())
    resources.handler(cfn_event("Delete", {"DatasetGroupArn": "broken"}), Context())
    assert [r["status"] for r in responses] == ["SUCCESS", "SUCCESS"]


def test_unexpected_errors_fail_the_resource_with_the_reason(personalize, parameters, responses):
    personalize.add_client_error("list_recommenders", "AccessDeniedException", http_status_code=403)
    resources.handler(cfn_event("Create", properties()), Context())
    assert responses[0]["status"] == "FAILED" and "AccessDenied" in responses[0]["reason"]
    bad = properties()
    bad["Recommenders"][0]["Kind"] = "trending"
    resources.handler(cfn_event("Create", bad), Context())
    assert responses[1]["status"] == "FAILED" and "unknown recommender kind" in responses[1]["reason"]


def test_the_schedule_publishes_a_recommender_once_active(personalize, parameters):
    listed(personalize, summary("for_you", "ACTIVE"), summary("also_viewed", "ACTIVE"),
           summary("bought_together", "CREATE IN_PROGRESS"))
    listed(personalize, summary("for_you", "ACTIVE"), summary("also_viewed", "ACTIVE"),
           summary("bought_together", "CREATE IN_PROGRESS"))
    result = resources.handler({"action": "reconcile", **properties()}, Context())
    assert result["statuses"]["bought_together"] == "CREATE IN_PROGRESS"
    assert [parameter(k) for k in KINDS] == [arn("for_you"), arn("also_viewed"), "NONE"]


def test_the_response_follows_the_custom_resource_protocol(monkeypatch):
    sent = {}

    class Reply:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self):
            return b""

    def urlopen(request, timeout):
        sent.update(url=request.full_url, method=request.get_method(), body=json.loads(request.data))
        return Reply()

    monkeypatch.setattr(resources.urllib.request, "urlopen", urlopen)
    resources.respond(cfn_event("Create", properties()), "SUCCESS", "pid", {"Statuses": "{}"})
    assert sent["url"] == "https://cfn.example/response" and sent["method"] == "PUT"
    assert sent["body"] == {"Status": "SUCCESS", "Reason": "SUCCESS", "PhysicalResourceId": "pid", "StackId": "stack",
                            "RequestId": "r1", "LogicalResourceId": "Recommenders", "NoEcho": False,
                            "Data": {"Statuses": "{}"}}
