import pytest
from aws_cdk import RemovalPolicy

from headless_commerce.config import TOGGLES, ConfigError, from_context, get_profile


def test_dev_is_cheap_and_destroyable_prod_is_durable():
    dev, prod = get_profile("dev"), get_profile("prod")
    assert (dev.az_count, dev.nat_gateways, dev.removal_policy) == (2, 1, RemovalPolicy.DESTROY)
    # RETAIN would also keep resources when the first create rolls back, so a retry collides.
    assert (prod.az_count, prod.nat_gateways, prod.removal_policy) == (3, 3, RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)
    assert not dev.point_in_time_recovery and prod.point_in_time_recovery
    assert not dev.deletion_protection and prod.deletion_protection


def test_unknown_profile_lists_valid_ones():
    with pytest.raises(ConfigError, match=r"unknown profile 'qa'; valid profiles: dev, prod"):
        from_context({"profile": "qa"})


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as err:
        from_context({"profile": "qa", "serch": "false", "search": "maybe", "stage": "Bad Stage"})
    message = str(err.value)
    for expected in ("unknown profile 'qa'", "unknown context key(s) serch", "'search' must be true or false",
                     "stage 'Bad Stage'"):
        assert expected in message


@pytest.mark.parametrize("raw,expected", [("false", False), ("0", False), ("no", False), (False, False),
                                          ("true", True), ("YES", True), (True, True)])
def test_toggles_parse_cli_strings(raw, expected):
    assert from_context({"search": raw}).enabled("search") is expected


def test_defaults_enable_every_toggle_and_ignore_cdk_keys():
    config = from_context({"@aws-cdk/core:checkSecretUsage": True, "aws:cdk:enable-path-metadata": True})
    # Every capability is on by default; SMS is opt-in (its origination identity bills monthly).
    assert {name for name in TOGGLES if not config.enabled(name)} == {"marketing_sms"}
    assert config.profile.name == "dev"
    with pytest.raises(ConfigError, match="unknown toggle"):
        config.enabled("nope")


def test_stage_prefixes_stack_ids_and_env_comes_from_context():
    config = from_context({"stage": "blue", "account": "123456789012", "region": "eu-west-1"})
    assert config.stack_id("Foundation") == "HeadlessCommerce-blue-Foundation"
    assert (config.account, config.region) == ("123456789012", "eu-west-1")
    assert from_context({}).stack_id("Commerce") == "HeadlessCommerce-Commerce"


PROD_REQUIRED = {"profile": "prod", "storefront_origin": "https://shop.example.com",
                 "email_from": "no-reply@shop.example.com", "region": "eu-west-1"}


def test_availability_zones_must_cover_the_profile():
    with pytest.raises(ConfigError, match="needs 3 availability zones"):
        from_context({**PROD_REQUIRED, "availability_zones": "eu-west-1a,eu-west-1b"})
    config = from_context({**PROD_REQUIRED, "availability_zones": "eu-west-1a, eu-west-1b,eu-west-1c"})
    assert config.availability_zones == ("eu-west-1a", "eu-west-1b", "eu-west-1c")


def test_dev_trims_idle_cost_that_prod_keeps():
    dev, prod = get_profile("dev"), get_profile("prod")
    # The dev budget's profile settings (README, Cost); prod keeps each of them.
    assert (dev.dashboards, dev.container_insights, dev.function_throttle_alarms, dev.web_cache_shared) == \
        (False, False, False, True)
    assert (prod.dashboards, prod.container_insights, prod.function_throttle_alarms, prod.web_cache_shared) == \
        (True, True, True, False)
    # Both: the storefront's load balancer is internal behind a CloudFront VPC origin.
    assert dev.web_vpc_origin and prod.web_vpc_origin


def test_dashboards_context_overrides_the_profile():
    assert from_context({"dashboards": "true"}).profile.dashboards is True
    assert from_context({"dashboards": "false"}).profile.dashboards is False
    assert from_context({}).profile.dashboards is False
    with pytest.raises(ConfigError, match="'dashboards' must be true or false"):
        from_context({"dashboards": "sometimes"})
