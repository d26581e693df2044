"""Commerce: identity and the commerce services. Depends on Foundation."""

from __future__ import annotations

from aws_cdk import CfnOutput, NestedStack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .. import model
from ..config import ApiDomain, HostedSignIn
from ..constructs.app_tier import AppTier
from ..constructs.chatbot import Chatbot
from ..constructs.consent_fanout import ConsentFanout
from ..constructs.fraud import Fraud, disable_screening
from ..constructs.identity import Identity
from ..constructs.location import Location
from ..constructs.marketing import Marketing, SmsOptions
from ..constructs.monitoring import StackMonitoring
from ..constructs.order_events import OrderEvents
from ..constructs.order_sweeper import PendingOrderSweeper
from ..constructs.outbox_relay import OutboxRelay
from ..constructs.personalization import Personalization
from ..constructs.response_cache import ResponseCache, cached_functions
from ..constructs.search_domain import SearchDomain
from ..runtime.events.subscriptions import RELAY_HANDLER
from ._base import CommerceStackBase
from .foundation_stack import FoundationStack


class CommerceStack(CommerceStackBase):
    def __init__(self, scope: Construct, id: str, *, foundation: FoundationStack,
                 dax_enabled: bool | None = None, allowed_origins: tuple[str, ...] = ("*",),
                 payment_provider: str = "sandbox", consent_webhook_url: str | None = None,
                 email_from: str | None = None, hosted_sign_in: HostedSignIn | None = None,
                 api_domain: ApiDomain | None = None, powertools_layer_arn: str | None = None,
                 search: bool = True, response_cache: bool = True, personalization: bool = True,
                 recommenders: bool | None = None, marketing: bool = True,
                 marketing_sms: bool = False, sms_origination_identity: str | None = None, fraud: bool = True,
                 chatbot: bool = True, location: bool = True,
                 push_platform_application_arns: tuple[str, ...] = (), **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.add_stack_dependency(foundation, reason="Commerce runs in Foundation's VPC and uses its key")
        # Imported by ARN, like the key: this stack's alarms notify Foundation's topic.
        topic = sns.Topic.from_topic_arn(self, "AlarmTopic", foundation.alarm_topic.topic.topic_arn)
        # A nested stack: the dashboard and its alarms (one per function, API, table, ...) would
        # push this stack past CloudFormation's 500 resources per template with every capability on.
        self.monitoring = StackMonitoring(
            NestedStack(self, "MonitoringStack", description="Headless commerce: Commerce dashboard and alarms"),
            "Monitoring", profile=self.profile, alarm_topic=topic, watched=self)
        self.identity = Identity(
            self, "Identity", profile=self.profile, email_from=email_from,
            hosted_sign_in_domain_prefix=hosted_sign_in.domain_prefix if hosted_sign_in else None,
            callback_urls=hosted_sign_in.callback_urls if hosted_sign_in else (),
            logout_urls=hosted_sign_in.logout_urls if hosted_sign_in else ())
        # Imported by ARN: grants then go to this stack's role policies (the key policy already
        # delegates to IAM), instead of editing Foundation's key policy and pointing back up.
        key = kms.Key.from_key_arn(self, "SharedKey", foundation.encryption.key.key_arn)
        self.app_tier = AppTier(self, "AppTier", profile=self.profile, user_pool=self.identity.user_pool,
                                vpc=foundation.network.vpc, encryption_key=key,
                                dax_enabled=dax_enabled, allowed_origins=allowed_origins,
                                payment_provider=payment_provider, powertools_layer_arn=powertools_layer_arn,
                                api_domain_name=api_domain.name if api_domain else None,
                                api_certificate=acm.Certificate.from_certificate_arn(
                                    self, "ApiCertificate", api_domain.certificate_arn) if api_domain else None,
                                capabilities=(("search",) if search else ())
                                + (("recommendations",) if personalization else ())
                                + (("marketing",) if marketing else ())
                                + (("chatbot",) if chatbot else ())
                                + (("location",) if location else ()),
                                # The storefront calls the API for every shopper from the NAT addresses;
                                # CloudFront's web ACL rate-limits the shoppers themselves.
                                waf_rate_limit_exempt_cidrs=foundation.network.nat_cidrs)
        self._add_event_flows(foundation, key, consent_webhook_url)
        # `-c marketing=false` creates no marketing table, senders, schedules or unsubscribe route.
        self.marketing = None
        if marketing:
            self.marketing = Marketing(
                self, "Marketing", profile=self.profile, functions=self.app_tier.function_factory,
                bus=foundation.events.bus, commerce_table=self.app_tier.table,
                audience_table=self.consent_fanout.audience_table, api_url=self.app_tier.rest.url,
                email_from=email_from, encryption_key=key,
                sms=SmsOptions(origination_identity=sms_origination_identity) if marketing_sms else None,
                push_platform_application_arns=push_platform_application_arns)
            self.marketing.grant_unsubscribe(self.app_tier.functions["unsubscribe"])
            self.marketing.grant_push_registration(self.app_tier.functions["customers"])
        self.order_sweeper = PendingOrderSweeper(
            self, "OrderSweeper", functions=self.app_tier.function_factory, table=self.app_tier.table,
            payment_secret=self.app_tier.payment_secret, payment_provider=self.app_tier.payment_provider,
            encryption_key=key, reserved_concurrency=self.profile.reserved_concurrency.get("order_sweeper"),
            payment_layers=self.app_tier.payment_layers)
        # The risk scorer screens checkout; `-c fraud=false` leaves an explicit pass-through instead.
        checkout = self.app_tier.functions.get("checkout") or self.app_tier.services["checkout"]
        self.fraud = None
        if fraud:
            self.fraud = Fraud(self, "Fraud", functions=self.app_tier.function_factory, table=self.app_tier.table,
                               payment_secret=self.app_tier.payment_secret,
                               payment_provider=self.app_tier.payment_provider,
                               payment_layers=self.app_tier.payment_layers, encryption_key=key,
                               # The storefront's calls come from the NAT addresses: not one shopper.
                               trusted_proxy_cidrs=foundation.network.nat_cidrs)
            self.fraud.connect(checkout)
        else:
            disable_screening(checkout)
        # `-c search=false` creates no domain, no indexer and no search layer.
        self.search = (SearchDomain(self, "Search", profile=self.profile, table=self.app_tier.table,
                                    functions=self.app_tier.function_factory, vpc=foundation.network.vpc,
                                    encryption_key=key) if search else None)
        if self.search is not None:
            self.search.grant_query(self.app_tier.functions["search"])
            CfnOutput(self, "SearchIndexerFunction", value=self.search.indexer.function_name,
                      description="Invoke with {\"action\": \"reindex\"} for a full backfill "
                                  "(headless-commerce search reindex --function NAME)")
        # `-c personalization=false` creates no dataset group, no consumers and no /recommendations;
        # `recommenders` (default: the profile's) decides the billed recommenders.
        self.personalization = (Personalization(
            self, "Personalization", profile=self.profile, functions=self.app_tier.function_factory,
            table=self.app_tier.table, bus=foundation.events.bus, encryption_key=key,
            recommenders=recommenders) if personalization else None)
        if self.personalization is not None:
            self.personalization.grant_recommend(self.app_tier.functions["recommendations"])
        self._add_location(location, key, allowed_origins)
        # `-c chatbot=false` creates no bot, no fulfillment function and no /chat routes.
        self.chatbot = (Chatbot(self, "Chatbot", profile=self.profile, functions=self.app_tier.function_factory,
                                table=self.app_tier.table, encryption_key=key) if chatbot else None)
        if self.chatbot is not None:
            self.chatbot.connect(self.app_tier.functions["chat"])
            if self.search is not None:
                # FindProduct asks the same search service as GET /search.
                self.search.grant_query(self.chatbot.fulfillment)
            if self.location is not None:
                # FindStore asks the same store locator as GET /stores.
                self.location.grant_store_search(self.chatbot.fulfillment)
        # `-c response_cache=false`: no Valkey and no invalidation function; every read reaches the table.
        self.response_cache = (ResponseCache(self, "ResponseCache", profile=self.profile, vpc=foundation.network.vpc,
                                             functions=self.app_tier.function_factory, bus=foundation.events.bus,
                                             encryption_key=key) if response_cache else None)
        if self.response_cache is not None:
            for name in cached_functions():
                if name in self.app_tier.functions:
                    self.response_cache.connect(self.app_tier.functions[name])
        self._monitor()
        CfnOutput(self, "ApiUrl", value=self.app_tier.rest.url)
        if self.app_tier.api.domain_name is not None:
            CfnOutput(self, "ApiDomainTarget", value=self.app_tier.api.domain_name.domain_name_alias_domain_name,
                      description="Point the API's DNS name (alias or CNAME) here")
        CfnOutput(self, "UserPoolId", value=self.identity.user_pool.user_pool_id)
        CfnOutput(self, "WebClientId", value=self.identity.web_client.user_pool_client_id)
        CfnOutput(self, "MobileClientId", value=self.identity.mobile_client.user_pool_client_id)

    def _add_event_flows(self, foundation: FoundationStack, key: kms.IKey, consent_webhook_url: str | None) -> None:
        """Outbox relay and this stack's consumers; their rules live here, on Foundation's bus."""
        functions = self.app_tier.function_factory
        relay = functions.add("outbox_relay", handler=RELAY_HANDLER, memory_mb=256, timeout_s=30, environment={})
        self.outbox_relay = OutboxRelay(self, "OutboxRelay", table=self.app_tier.table, bus=foundation.events.bus,
                                        enrichment=relay, encryption_key=key,
                                        sources=sorted(set(model.EVENT_SOURCES.values())), profile=self.profile)
        handoff = foundation.oms_handoff
        # Imported with the imported key, so consumer grants stay in this stack's role policies.
        oms_queue, oms_dead_letters = (
            sqs.Queue.from_queue_attributes(self, id, queue_arn=queue.queue_arn, queue_url=queue.queue_url,
                                            key_arn=key.key_arn, fifo=True)
            for id, queue in (("OmsQueue", handoff.queue), ("OmsDeadLetters", handoff.dead_letter_queue)))
        self.order_events = OrderEvents(self, "OrderEvents", functions=functions, table=self.app_tier.table,
                                        bus=foundation.events.bus, oms_queue=oms_queue,
                                        oms_dead_letter_queue=oms_dead_letters, encryption_key=key)
        self.consent_fanout = ConsentFanout(self, "ConsentFanout", profile=self.profile, functions=functions,
                                            bus=foundation.events.bus, encryption_key=key,
                                            profile_table=self.app_tier.table, webhook_url=consent_webhook_url)

    def _add_location(self, enabled: bool, key: kms.IKey, allowed_origins: tuple[str, ...]) -> None:
        """`-c location=false` creates no location table, API key, tracker, geofences, functions or
        /stores. Its own resources live in a nested stack (this stack is near CloudFormation's 500
        resources); the API's `location` function stays here with the other routes."""
        self.location = None
        if not enabled:
            return
        nested = NestedStack(self, "LocationStack",
                             description="Headless commerce: store locator and delivery tracking (Amazon Location)")
        self.location = Location(nested, "Location", profile=self.profile, functions=self.app_tier.function_factory,
                                 commerce_table=self.app_tier.table, encryption_key=key,
                                 allowed_referers=tuple(f"{o}/*" for o in allowed_origins if o != "*"))
        api = self.app_tier.functions["location"]
        self.location.grant_store_search(api)
        self.location.grant_tracking(api)
        CfnOutput(self, "LocationCouriersFunction", value=self.location.couriers.function_name,
                  description="The fleet's backend invokes it to assign orders and send couriers' positions")
        CfnOutput(self, "LocationApiKeyName", value=self.location.api_key.key_name,
                  description="Clients' map key: aws location describe-key --key-name NAME")

    def _monitor(self) -> None:
        """The Commerce dashboard and alarms; functions capabilities add later are monitored by
        the factory hook, and every alarm of the stack is routed and listed by StackMonitoring."""
        monitoring, tier = self.monitoring, self.app_tier
        emitters = {"orders": "checkout", "search": "search" if self.search else ""}
        monitoring.add_business_kpis(tier.function_factory.metrics_namespace, emitters)
        for group, name in emitters.items():
            if name in tier.services:
                tier.services[name].publish_counts(model.BUSINESS_KPIS[group])
        monitoring.monitor_function_factory(tier.function_factory)
        monitoring.monitor_api(tier.api, tier.api.deployment_stage.stage_name)
        monitoring.monitor_table("Commerce", tier.table)
        monitoring.monitor_web_acl("Api", tier.web_acl)
        for name, service in sorted(tier.services.items()):
            # FargateFunctions alarms on memory and unhealthy tasks itself.
            monitoring.monitor_fargate_service(name, service.service, memory=False)
        monitoring.show_alarms({"Outbox relay pipe failures": self.outbox_relay.failure_alarm})
        if self.search is not None and self.search.domain is not None:
            monitoring.monitor_search_domain(self.search.domain)
        if self.response_cache is not None:
            monitoring.monitor_cache("ResponseCache", self.response_cache.cache.cache)

