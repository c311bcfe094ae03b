"""The demo's accounts and users: statuses, plans, lifecycle dates and the attributes CSMs use."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest

from connector import clock
from connector.demo import DemoSpec, build, resolve_as_of
from connector.demo.lifecycle import allocate
from connector.demo.population import Population, salesforce_account_id
from connector.errors import InputError

AS_OF = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
SF_ID = re.compile(r"^001[0-9A-Za-z]{15}$")


@pytest.fixture(scope="module")
def pop() -> Population:
    return build(DemoSpec(accounts=200, days=90, seed=5, as_of=AS_OF))


def test_allocate_splits_exactly_and_keeps_every_share() -> None:
    counts = allocate(7, {"a": 0.58, "b": 0.14, "c": 0.16, "d": 0.12})
    assert sum(counts.values()) == 7
    assert counts["a"] == 4
    assert allocate(1000, {"x": 0.5, "y": 0.5}) == {"x": 500, "y": 500}


def test_status_shares_are_those_of_a_typical_b2b_product(pop: Population) -> None:
    statuses = Counter(a.status for a in pop.accounts)
    assert statuses == {"paying": 116, "free": 32, "trial": 28, "cancelled": 24}


def test_same_seed_gives_the_same_accounts_and_users(pop: Population) -> None:
    again = build(DemoSpec(accounts=200, days=90, seed=5, as_of=AS_OF))
    assert [a.row() for a in again.accounts] == [a.row() for a in pop.accounts]
    assert again.users.email == pop.users.email
    assert list(again.users.created) == list(pop.users.created)
    other = build(DemoSpec(accounts=200, days=90, seed=6, as_of=AS_OF))
    assert [a.row() for a in other.accounts] != [a.row() for a in pop.accounts]


def test_paying_accounts_have_plans_seats_csms_and_mostly_salesforce_ids(pop: Population) -> None:
    paying = [a for a in pop.accounts if a.status == "paying"]
    assert {a.plan for a in paying} == {"starter", "growth", "enterprise"}
    assert all(a.licenses and a.licenses > 0 for a in paying)
    assert all(a.paid_at is not None and a.paid_at >= a.created_at for a in paying)
    csms = {a.csm_email for a in paying}
    assert None not in csms
    assert 3 <= len(csms) <= 6
    linked = [a for a in paying if a.salesforce_id]
    assert all(SF_ID.match(a.salesforce_id or "") for a in linked)
    assert 0.7 * len(paying) <= len(linked) < len(paying)  # some are left empty


def test_trials_convert_or_lapse(pop: Population) -> None:
    as_of = int(AS_OF.timestamp())
    trials = [a for a in pop.accounts if a.status == "trial"]
    assert all(a.trial_started_at and a.trial_ends_at and a.trial_ends_at > as_of for a in trials)
    assert all(a.licenses is None and a.salesforce_id is None for a in trials)
    converted = [a for a in pop.accounts if a.status == "paying" and a.trial_started_at]
    assert converted
    assert all(
        a.paid_at and a.trial_started_at and a.paid_at >= a.trial_started_at for a in converted
    )
    lapsed = [a for a in pop.accounts if a.status == "free" and a.trial_ends_at]
    assert lapsed
    assert all(a.trial_ends_at and a.trial_ends_at < as_of for a in lapsed)


def test_cancelled_accounts_carry_their_cancellation(pop: Population) -> None:
    cancelled = [a for a in pop.accounts if a.status == "cancelled"]
    assert all(a.cancelled_at and a.paid_at and a.cancelled_at > a.paid_at for a in cancelled)
    assert all(a.cancelled_at is None for a in pop.accounts if a.status != "cancelled")


def test_names_domains_and_emails_are_unique_and_consistent(pop: Population) -> None:
    assert len({a.name for a in pop.accounts}) == len(pop.accounts)
    assert len({a.domain for a in pop.accounts}) == len(pop.accounts)
    assert len(set(pop.users.email)) == len(pop.users)
    for email, account in zip(pop.users.email, pop.users.account.tolist(), strict=True):
        # Trial users' emails at their company's domain are what Leads are matched on.
        assert email.endswith("@" + pop.accounts[account].domain)
        assert re.match(r"^[a-z]+\.[a-z]+\d*@", email)


def test_company_sizes_industries_and_regions_are_attributes(pop: Population) -> None:
    assert {a.company_size for a in pop.accounts} >= {"1-10", "11-50", "51-200", "201-1000"}
    assert len({a.industry for a in pop.accounts}) >= 5
    assert {a.region for a in pop.accounts} == {"North America", "EMEA", "APAC", "LATAM"}


def test_users_belong_to_accounts_in_order_and_join_after_signup(pop: Population) -> None:
    accounts = pop.users.account.tolist()
    assert accounts == sorted(accounts)
    assert set(accounts) == set(range(len(pop.accounts)))  # every account has a user
    for account, created in zip(accounts, pop.users.created.tolist(), strict=True):
        assert created >= pop.accounts[account].created_at


def test_salesforce_ids_carry_the_case_checksum() -> None:
    assert salesforce_account_id(1) == "001Dm0000000001IAA"
    assert salesforce_account_id(61)[:15] == "001Dm000000000z"
    assert salesforce_account_id(61)[15:] == "IAA"  # lower-case letters set no bits
    assert salesforce_account_id(35)[15:] == "IAQ"  # "Z" in 5th place of the last five: bit 4


def test_many_accounts_still_get_unique_names() -> None:
    big = build(DemoSpec(accounts=3_000, days=3, seed=1, as_of=AS_OF))
    assert len({a.name for a in big.accounts}) == 3_000
    assert len({a.domain for a in big.accounts}) == 3_000


def test_as_of_defaults_to_now_truncated_to_the_hour() -> None:
    clock.freeze(datetime(2026, 5, 4, 13, 47, 12, 5, tzinfo=UTC))
    try:
        assert resolve_as_of(None) == datetime(2026, 5, 4, 13, 0, tzinfo=UTC)
        window = build(DemoSpec(accounts=3, days=10)).window
        assert window.as_of == int(datetime(2026, 5, 4, 13, 0, tzinfo=UTC).timestamp())
        assert window.start == int(datetime(2026, 4, 25, tzinfo=UTC).timestamp())
    finally:
        clock.freeze(None)


def test_as_of_in_another_zone_is_the_same_instant() -> None:
    same = AS_OF.astimezone(timezone(timedelta(hours=1)))
    assert (
        build(DemoSpec(accounts=3, days=5, as_of=same)).window
        == build(DemoSpec(accounts=3, days=5, as_of=AS_OF)).window
    )


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        (DemoSpec(accounts=0), "at least 1 account"),
        (DemoSpec(days=0), "between 1 and"),
        (DemoSpec(events_target=-5), "positive number"),
        (DemoSpec(as_of=datetime(2026, 1, 1)), "has no time zone"),
    ],
)
def test_a_bad_spec_is_refused_with_the_fix(spec: DemoSpec, words: str) -> None:
    with pytest.raises(InputError, match=words) as caught:
        build(spec)
    assert "Fix:" in str(caught.value)
    assert caught.value.exit_code == 2
