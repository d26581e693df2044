"""AppTier: the commerce core — table (+ DAX), microservice functions, REST API, regional WAF."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from ..config import PAYMENT_PROVIDERS, Profile
from ..runtime import routes, settings
from ._nag import acknowledge
from ._props import check_exclusive
from .commerce_api import CommerceApi
from .commerce_table import CommerceTable
from .encryption import EncryptionKey
from .fargate_functions import Compute, FargateFunctions, FargateService
from .python_functions import PythonFunctions
from .regional_waf import RegionalWaf

# The DAX client and the two libraries it needs beyond the runtime's botocore, pinned.
DAX_CLIENT_REQUIREMENTS = ["amazon-dax-client==2.1.0", "antlr4-python3-runtime==4.13.2", "six==1.17.0"]
# The Stripe SDK and what it needs beyond the runtime (botocore's urllib3 is not importable as such).
STRIPE_REQUIREMENTS = ["stripe==16.1.0", "requests==2.34.2", "typing_extensions==4.16.0", "urllib3==2.8.0",
                       "charset-normalizer==3.5.2", "idna==3.20", "certifi==2026.10.19.post1"]


class AppTier(Construct):
    """Public attributes: `table`, `dax_cluster`, `functions` (by route-table name),
    `post_confirmation`, `api`, `web_acl`, `payment_secret`, and `function_factory` for other
    constructs in the stack that add functions built the same way.

    Functions get exactly the table actions `runtime/table_permissions.py` declares for them;
    only checkout, the payment webhook and the order sweeper can read the payment secret.

    Parameters (every dependency is an interface, so each can be an imported resource):
    `profile`; `user_pool` (cognito.IUserPool, required: the API's authorizer accepts its ID
    tokens; when it is a `cognito.UserPool` of this app the post-confirmation trigger is
    attached, otherwise attach `post_confirmation` where the pool is defined); `vpc` (default
    None: functions outside a VPC; DAX needs one); `encryption_key` (default None: the
    construct creates its own CMK, `key`, so logs, table and secret stay customer-managed);
    `existing_table` or `table_props` (default: a new `CommerceTable`); `dax_enabled`
    (default None: the profile decides); `allowed_origins` (default ("*",)); `payment_provider`
    (default "sandbox"; or "stripe"); `existing_payment_secret` (default None: a generated
    secret `{api_key, webhook_secret}`); `powertools_layer_arn` (default None: AWS's public
    parameter, see `PythonFunctions`); `rest_api_props` (default None: see `CommerceApi`);
    `api_domain_name` and `api_certificate` (default None: the execute-api URL with a TLS 1.2+
    security policy; given: a regional custom domain, see `CommerceApi`);
    `waf_rate_limit_exempt_cidrs` (default none: see `RegionalWaf.rate_limit_exempt_cidrs`);
    `capabilities` (default (): only the core routes; ("search",) adds the search function and
    the /search routes, to be connected with `SearchDomain.grant_query(functions["search"])`);
    `compute` (default None: the profile's `fargate_functions` on Fargate, the rest on Lambda;
    a mapping of function name to `Compute.LAMBDA` or `Compute.FARGATE` replaces it: a Fargate
    function is a service in `services`, reached through `fargate`'s NLB and VPC link, and is
    absent from `functions`).
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, user_pool: cognito.IUserPool,
                 vpc: ec2.IVpc | None = None, encryption_key: kms.IKey | None = None,
                 existing_table: dynamodb.ITableV2 | None = None, table_props: dict | None = None,
                 dax_enabled: bool | None = None, allowed_origins: Sequence[str] = ("*",),
                 payment_provider: str = "sandbox",
                 existing_payment_secret: secretsmanager.ISecret | None = None,
                 powertools_layer_arn: str | None = None, rest_api_props: dict | None = None,
                 api_domain_name: str | None = None, api_certificate: acm.ICertificate | None = None,
                 waf_rate_limit_exempt_cidrs: Sequence[str] = (),
                 capabilities: Sequence[str] = (),
                 compute: Mapping[str, Compute] | None = None) -> None:
        super().__init__(scope, id)
        check_exclusive(type(self).__name__, existing_table=existing_table, table_props=table_props)
        self._profile = profile
        # Compliant on its own: without a key passed in, one is created (PCI DSS wants
        # customer-managed keys on logs and secrets).
        encryption_key = encryption_key or EncryptionKey(self, "Key", profile=profile).key
        self.key = encryption_key
        if payment_provider not in PAYMENT_PROVIDERS:
            raise ValueError(f"AppTier: payment_provider must be one of {', '.join(PAYMENT_PROVIDERS)}, "
                             f"got {payment_provider!r}")
        self.data = CommerceTable(self, "Data", profile=profile, encryption_key=encryption_key,
                                  existing_table=existing_table, table_props=table_props,
                                  dax_enabled=dax_enabled, vpc=vpc)
        self.table = self.data.table
        self.dax_cluster = self.data.dax_cluster
        self.payment_provider = payment_provider
        self.payment_secret = existing_payment_secret or self._payment_secret(encryption_key)

        self.function_factory = factory = PythonFunctions(
            self,
            "Functions",
            profile=profile,
            vpc=vpc,
            encryption_key=encryption_key,
            powertools_layer_arn=powertools_layer_arn,
        )
        environment = {
            settings.TABLE_NAME: self.table.table_name,
            settings.PAYMENT_PROVIDER: payment_provider,
            # The handlers echo the caller's origin when it is one of these.
            settings.ALLOWED_ORIGIN: ",".join(allowed_origins),
        }
        self.dax_client_layer = (
            factory.pip_layer("DaxClient", requirements=DAX_CLIENT_REQUIREMENTS,
                              description="amazondax client for catalog reads through DAX")
            if self.data.dax_endpoint is not None else None)
        # Functions that talk to the payment provider get its SDK; the sandbox needs none.
        self.payment_layers: list[lambda_.ILayerVersion] = (
            [factory.pip_layer("StripeSdk", requirements=STRIPE_REQUIREMENTS,
                               description="Stripe SDK for the stripe payment provider")]
            if payment_provider == "stripe" else [])
        compute = dict(compute if compute is not None else dict.fromkeys(profile.fargate_functions, Compute.FARGATE))
        unknown = sorted(set(compute) - set(routes.FUNCTIONS))
        if unknown:
            raise ValueError(f"AppTier: compute names unknown functions {', '.join(unknown)} "
                             f"(known: {', '.join(routes.FUNCTIONS)})")
        on_fargate = [n for n, c in compute.items() if c is Compute.FARGATE]
        self.fargate = (FargateFunctions(self, "Fargate", profile=profile, vpc=vpc, encryption_key=encryption_key,
                                         extra_requirements=STRIPE_REQUIREMENTS if payment_provider == "stripe"
                                         else None) if on_fargate else None)
        self.functions: dict[str, lambda_.Function] = {}
        # Function name -> FargateService, for those served from containers (`compute`).
        self.services: dict[str, FargateService] = {}
        for spec in routes.FUNCTIONS.values():
            # An optional capability's function and routes exist only when it is on (`-c search=false`).
            if spec.capability is not None and spec.capability not in capabilities:
                continue
            if spec.name in on_fargate:
                self.services[spec.name] = self._service(spec, environment, user_pool)
            else:
                self.functions[spec.name] = self._function(factory, spec, environment)
        self.post_confirmation = self._function(factory, routes.POST_CONFIRMATION, environment)
        if isinstance(user_pool, cognito.UserPool):
            user_pool.add_trigger(cognito.UserPoolOperation.POST_CONFIRMATION, self.post_confirmation)
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(self, "Authorizer", cognito_user_pools=[user_pool])

        self.rest = CommerceApi(self, "Rest", profile=profile, functions=self.functions,
                                http_backend=self.fargate,
                                authorizer=self.authorizer,
                                allowed_origins=allowed_origins, encryption_key=encryption_key,
                                rest_api_props=rest_api_props, domain_name=api_domain_name,
                                certificate=api_certificate,
                                routes=[r for r in routes.ROUTES
                                        if r.function in self.functions or r.function in self.services])
        self.api = self.rest.api
        self.waf = RegionalWaf(self, "Waf", profile=profile, encryption_key=encryption_key,
                               rate_limit_per_5_min=profile.api_throttle_burst * 10,
                               rate_limit_exempt_cidrs=waf_rate_limit_exempt_cidrs)
        self.web_acl = self.waf.web_acl
        self.waf.associate("ApiStage", self.api.deployment_stage.stage_arn)

    def _reads_through_dax(self, spec: routes.FunctionSpec) -> bool:
        return spec.name == "catalog" and self.data.dax_endpoint is not None

    def _environment(self, spec: routes.FunctionSpec, environment: dict) -> dict[str, str]:
        env = dict(environment)
        if spec.needs_payment_secret:
            env[settings.PAYMENT_SECRET_ARN] = self.payment_secret.secret_arn
        if self._reads_through_dax(spec):
            env[settings.DAX_ENDPOINT] = self.data.dax_endpoint
        return env

    def _grant(self, spec: routes.FunctionSpec, role: iam.IRole, peer: ec2.IConnectable) -> None:
        """What `spec` may do, whether it runs as a Lambda or a Fargate task: one place, so both
        compute choices get the same permissions."""
        self.data.grant_function(role, spec.name)
        if spec.needs_payment_secret:
            self.payment_secret.grant_read(role)
        if self._reads_through_dax(spec):
            self.data.grant_dax(role)
            self.data.allow_dax_from(peer)

    def _function(self, factory: PythonFunctions, spec: routes.FunctionSpec, environment: dict) -> lambda_.Function:
        fn = factory.add(spec.name, handler=spec.handler, memory_mb=spec.memory_mb, timeout_s=spec.timeout_s,
                         environment=self._environment(spec, environment),
                         reserved_concurrency=self._profile.reserved_concurrency.get(spec.name,
                                                                                     spec.reserved_concurrency),
                         extra_layers=([self.dax_client_layer] if self._reads_through_dax(spec) else [])
                         + (self.payment_layers if spec.needs_payment_secret else []))
        self._grant(spec, fn.role, fn)
        return fn

    def _service(self, spec: routes.FunctionSpec, environment: dict, user_pool: cognito.IUserPool) -> FargateService:
        env = {**self._environment(spec, environment), settings.USER_POOL_ID: user_pool.user_pool_id}
        service = self.fargate.add(spec, env)
        self._grant(spec, service.role, service.service)
        return service

    def _payment_secret(self, key: kms.IKey | None) -> secretsmanager.Secret:
        # Holds the provider's API key (set by the operator) and a generated webhook signing secret.
        secret = secretsmanager.Secret(
            self, "PaymentSecret", encryption_key=key,
            description="Payment provider credentials: {api_key, webhook_secret}",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template='{"api_key": ""}', generate_string_key="webhook_secret",
                exclude_punctuation=True, password_length=48),
        )
        acknowledge(secret, "AwsSolutions-SMG4",
                    "Payment provider API keys are issued and rolled in the provider's dashboard; no "
                    "rotation Lambda can mint them, so operators update this secret when they roll.")
        acknowledge(secret, "PCI.DSS.321-SecretsManagerRotationEnabled",
                    "Payment provider API keys are rolled in the provider's dashboard and pasted here; "
                    "automatic rotation cannot create provider keys.")
        return secret
