"""The public REST API, built from the one route table in `headless_commerce.runtime.routes`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Protocol

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from ..config import Profile
from ..runtime.common.errors import error_body
from ..runtime.routes import ROUTES, Route
from ._checkov import skip_checkov
from ._nag import acknowledge
from ._props import merge

DRAFT4 = "http://json-schema.org/draft-04/schema#"
ALLOWED_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"]
# The default endpoint would accept TLS 1.0. This enhanced policy takes TLS 1.2 and 1.3 only;
# enhanced policies need an endpoint access mode, and STRICT also refuses requests whose SNI
# does not name this API (domain fronting).
REST_API_SECURITY_POLICY = "SecurityPolicy_TLS13_1_2_2021_06"
REST_API_ENDPOINT_ACCESS_MODE = "STRICT"

# API Gateway's own rejections (schema, missing header, no token) in the same error shape the
# handlers use, so clients parse one format.
_GATEWAY_ERRORS = {
    apigw.ResponseType.BAD_REQUEST_BODY: ("400", "invalid_body", '"Request body does not match the schema"'),
    apigw.ResponseType.BAD_REQUEST_PARAMETERS: ("400", "invalid_parameters", "$context.error.messageString"),
    apigw.ResponseType.UNAUTHORIZED: ("401", "unauthorized", '"Sign in to use this route"'),
    apigw.ResponseType.ACCESS_DENIED: ("403", "forbidden", "$context.error.messageString"),
    apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN: ("404", "not_found", '"No such route"'),
    apigw.ResponseType.THROTTLED: ("429", "throttled", '"Too many requests, retry later"'),
    apigw.ResponseType.DEFAULT_4_XX: (None, "bad_request", "$context.error.messageString"),
    apigw.ResponseType.DEFAULT_5_XX: (None, "unavailable", '"The service is unavailable, retry later"'),
}


def _error_template(code: str, message: str) -> str:
    """The handlers' error body (runtime/common/errors.error_body) as a mapping template; the
    message slot takes a JSON string literal or a $context variable API Gateway fills in."""
    slot = "MESSAGE_SLOT"
    return json.dumps(error_body(code, slot)).replace(json.dumps(slot), message)


class HttpBackend(Protocol):
    """What serves some route targets over HTTP instead of Lambda (`FargateFunctions`)."""

    @property
    def services(self) -> Mapping[str, object]: ...

    def integration(self, route: Route) -> apigw.Integration: ...


class CommerceApi(Construct):
    """`api` (REST, regional, stage `v1`): one method per route, Cognito on `user` routes,
    JSON Schema request models, access and execution logs, X-Ray, throttling, CORS, TLS 1.2+.

    Parameters: `profile` (throttling, log retention); `functions` (route-table function name
    -> lambda_.IFunction for the Lambda-served targets); `http_backend` (default None: serves the
    remaining targets, e.g. `FargateFunctions`, through its `integration(route)`); `authorizer`
    (apigw.IAuthorizer for `user` routes); `allowed_origins` (default ("*",); several origins:
    the handlers echo the caller's when listed, with `Vary: Origin`); `routes` (default: the route table
    `runtime.routes.ROUTES`); `encryption_key` (default None: AWS-managed log encryption);
    `rest_api_props` (default None: overrides of the RestApi props); `domain_name` and
    `certificate` (default None: the execute-api URL with `REST_API_SECURITY_POLICY`, TLS 1.2+;
    given: a regional custom domain with the TLS_1_2 policy, and the execute-api endpoint is
    disabled so nobody bypasses it).
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile,
                 functions: Mapping[str, lambda_.IFunction], authorizer: apigw.IAuthorizer,
                 http_backend: HttpBackend | None = None,
                 allowed_origins: Sequence[str] = ("*",), routes: Sequence[Route] = ROUTES,
                 encryption_key: kms.IKey | None = None, rest_api_props: dict | None = None,
                 domain_name: str | None = None, certificate: acm.ICertificate | None = None) -> None:
        super().__init__(scope, id)
        served = set(functions) | set(http_backend.services if http_backend is not None else ())
        missing = sorted({r.function for r in routes} - served)
        if missing:
            raise ValueError(f"CommerceApi: no function for route target(s) {', '.join(missing)}")
        if (domain_name is None) != (certificate is None):
            raise ValueError("CommerceApi: domain_name and certificate go together")
        if not allowed_origins or ("*" in allowed_origins and len(allowed_origins) > 1):
            raise ValueError("CommerceApi: allowed_origins is either ['*'] or a list of origins")
        custom_domain = {} if domain_name is None else {
            "domain_name": apigw.DomainNameOptions(
                domain_name=domain_name, certificate=certificate, endpoint_type=apigw.EndpointType.REGIONAL,
                security_policy=apigw.SecurityPolicy.TLS_1_2),
            "disable_execute_api_endpoint": True,
        }
        self.access_logs = logs.LogGroup(self, "AccessLogs", retention=profile.log_retention,
                                         removal_policy=profile.removal_policy, encryption_key=encryption_key)
        self.api = apigw.RestApi(self, "Api", **merge({
            "rest_api_name": f"{Stack.of(self).stack_name}-api",
            "description": "Headless commerce public API v1",
            "endpoint_types": [apigw.EndpointType.REGIONAL],
            "cloud_watch_role": True,
            # The role backs the region-wide API Gateway account setting, so deleting this stack
            # must not take it away from other APIs; but a failed first create should not strand it.
            "cloud_watch_role_removal_policy": RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
            "deploy_options": apigw.StageOptions(
                stage_name="v1",
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False, http_method=True, ip=True, protocol=True, request_time=True,
                    resource_path=True, response_length=True, status=True, user=True),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False, metrics_enabled=True, tracing_enabled=True,
                throttling_rate_limit=profile.api_throttle_rate,
                throttling_burst_limit=profile.api_throttle_burst,
            ),
            "default_cors_preflight_options": apigw.CorsOptions(
                allow_origins=list(allowed_origins), allow_headers=ALLOWED_HEADERS,
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
            **custom_domain,
        }, rest_api_props))
        cfn_api: apigw.CfnRestApi = self.api.node.default_child
        cfn_api.security_policy = REST_API_SECURITY_POLICY
        cfn_api.endpoint_access_mode = REST_API_ENDPOINT_ACCESS_MODE
        acknowledge(
            self.api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
            "API Gateway's account-level logging role needs exactly this AWS-maintained policy to "
            "write execution logs; it is the documented setup.",
        )
        stage = self.api.deployment_stage
        no_cache = ("Responses are per-shopper (cart, orders) or must show live stock; a stage cache "
                    "would leak or go stale. Catalog caching lives in the web tier and CloudFront.")
        acknowledge(stage, "PCI.DSS.321-APIGWCacheEnabledAndEncrypted", no_cache)
        skip_checkov(stage.node.default_child, "CKV_AWS_120", no_cache)
        acknowledge(stage, "PCI.DSS.321-APIGWSSLEnabled",
                    "Backend client certificates apply to public HTTP backends; Lambda routes are invoked over "
                    "API Gateway's signed AWS channel, and Fargate routes only through a VPC link (PrivateLink) "
                    "to an internal NLB, never over the internet.")
        self.validator = self.api.add_request_validator(
            "Validator", validate_request_body=True, validate_request_parameters=True)
        # Gateway responses cannot pick among several origins (their headers are static or copied
        # from the request unfiltered), so they name the first one; handlers echo any listed origin.
        cors = ({"Access-Control-Allow-Origin": "'*'"} if list(allowed_origins) == ["*"]
                else {"Access-Control-Allow-Origin": f"'{allowed_origins[0]}'", "Vary": "'Origin'"})
        for response_type, (status, code, message) in _GATEWAY_ERRORS.items():
            self.api.add_gateway_response(
                response_type.response_type, type=response_type, status_code=status,
                response_headers=cors,
                templates={"application/json": _error_template(code, message)})

        self.methods: dict[tuple[str, str], apigw.Method] = {}
        self._integrations: dict[str, apigw.LambdaIntegration] = {}
        for route in routes:
            if route.function in functions:
                integration = self._integrations.setdefault(
                    route.function, apigw.LambdaIntegration(functions[route.function], allow_test_invoke=False))
            else:
                integration = http_backend.integration(route)
            self._add_route(route, integration, authorizer)
        self._acknowledge_public_methods(routes)

    def _add_route(self, route: Route, integration: apigw.Integration, authorizer: apigw.IAuthorizer) -> None:
        resource = self.api.root.resource_for_path(route.path)
        parameters = {f"method.request.path.{p}": True for p in route.path_params}
        parameters |= {f"method.request.querystring.{q}": False for q in route.query_params}
        parameters |= {f"method.request.header.{h}": True for h in route.required_headers}
        models = None
        if route.request_schema is not None:
            cfn_model = apigw.CfnModel(self, f"{route.operation_id}Model", rest_api_id=self.api.rest_api_id,
                                       content_type="application/json",
                                       schema={"$schema": DRAFT4, "title": route.operation_id,
                                               **json.loads(json.dumps(route.request_schema))})
            models = {"application/json": apigw.Model.from_model_name(self, f"{route.operation_id}Ref", cfn_model.ref)}
        user = route.auth == "user"
        self.methods[(route.method, route.path)] = resource.add_method(
            route.method, integration, operation_name=route.operation_id,
            authorization_type=apigw.AuthorizationType.COGNITO if user else apigw.AuthorizationType.NONE,
            authorizer=authorizer if user else None,
            request_parameters=parameters or None, request_models=models,
            request_validator=self.validator if (parameters or models) else None,
        )

    def _acknowledge_public_methods(self, routes: Sequence[Route]) -> None:
        for route in routes:
            if route.auth == "user":
                continue
            reason = {"public": "Public by design: catalog browsing needs no account",
                      "token": "Unsubscribe links work without signing in; the handler verifies the "
                               "HMAC-signed token in the link instead"}.get(
                route.auth, "Called by the payment provider; the handler verifies the HMAC signature instead")
            method = self.methods[(route.method, route.path)]
            acknowledge(method, "AwsSolutions-APIG4", reason + " (WAF and stage throttling still apply).")
            acknowledge(method, "AwsSolutions-COG4", reason + "; no Cognito token exists for these callers.")
            skip_checkov(method.node.default_child, "CKV_AWS_59", reason + ".")
        for options in self.api.node.find_all():
            if isinstance(options, apigw.Method) and options.http_method == "OPTIONS":
                reason = "CORS preflight: browsers send OPTIONS without credentials by specification"
                acknowledge(options, "AwsSolutions-APIG4", reason + " and the mock integration returns headers only.")
                acknowledge(options, "AwsSolutions-COG4", reason + ", so no Cognito token can be required.")

    @property
    def url(self) -> str:
        """Where clients call the API: the custom domain when there is one."""
        if self.api.domain_name is not None:
            return f"https://{self.api.domain_name.domain_name}/"
        return self.api.url
