"""The generated usage looks like a real B2B product's: the behaviours the metrics rely on."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pytest

from connector.demo import DemoSpec, build
from connector.demo.activity import EventChunk, Scale, generate_days, scale_for_target
from connector.demo.names import ZONES
from connector.demo.population import Population
from connector.demo.window import DAY

AS_OF = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday afternoon
SPEC = DemoSpec(accounts=200, days=90, seed=11, as_of=AS_OF)


@dataclass(frozen=True)
class Generated:
    pop: Population
    events: EventChunk
    account: np.ndarray  # account index of each event
    day: np.ndarray  # window day of each event (UTC)


def _generate(spec: DemoSpec, scale: Scale | None = None) -> Generated:
    pop = build(spec)
    chunks = [c for _, c in generate_days(pop, spec.seed, scale or Scale())]
    events = EventChunk.concat(chunks)
    index = {a.account_id: i for i, a in enumerate(pop.accounts)}
    account = np.array([index[a] for a in events.account_id.tolist()])
    day = (events.occurred_at - pop.window.start) // DAY
    return Generated(pop, events, account, day)


@pytest.fixture(scope="module")
def demo() -> Generated:
    return _generate(SPEC)


def _active_days(g: Generated, account: int) -> set[int]:
    return set(g.day[g.account == account].tolist())


def _paying(g: Generated) -> list[int]:
    return [i for i, a in enumerate(g.pop.accounts) if a.status == "paying"]


def test_same_seed_and_as_of_give_identical_events(demo: Generated) -> None:
    again = _generate(SPEC)
    for name in ("event_id", "account_id", "user_id", "event", "module", "occurred_at"):
        assert np.array_equal(getattr(demo.events, name), getattr(again.events, name)), name
    assert np.array_equal(demo.events.duration_seconds, again.events.duration_seconds)


def test_another_seed_gives_other_events(demo: Generated) -> None:
    other = _generate(DemoSpec(accounts=200, days=90, seed=12, as_of=AS_OF))
    assert len(other.events) != len(demo.events) or not np.array_equal(
        other.events.occurred_at, demo.events.occurred_at
    )


def test_events_lie_in_the_window_with_ids_rising_in_time(demo: Generated) -> None:
    window = demo.pop.window
    assert demo.events.occurred_at.min() >= window.start
    assert demo.events.occurred_at.max() <= window.as_of
    assert np.all(np.diff(demo.events.event_id) == 1)
    assert np.all(np.diff(demo.events.occurred_at) >= 0)
    assert set(demo.day.tolist()) == set(range(window.days))


def test_no_user_acts_before_joining(demo: Generated) -> None:
    users = demo.pop.users
    index = {u: i for i, u in enumerate(users.user_id)}
    created = users.created[[index[u] for u in demo.events.user_id.tolist()]]
    invites = demo.events.event == "invite_sent"
    assert np.all(demo.events.occurred_at[~invites] >= created[~invites])


def test_some_paying_accounts_are_dormant_for_14_days_or_more(demo: Generated) -> None:
    last_two_weeks = set(range(SPEC.days - 14, SPEC.days))
    paying = _paying(demo)
    dormant = [i for i in paying if not _active_days(demo, i) & last_two_weeks]
    assert 0.05 * len(paying) <= len(dormant) <= 0.35 * len(paying)


def test_paying_accounts_spread_over_good_average_and_poor_health(demo: Generated) -> None:
    week, before = set(range(83, 90)), set(range(76, 83))
    ranks = defaultdict(int)
    for i in _paying(demo):
        days = _active_days(demo, i)
        if not days & (week | before):
            ranks["poor"] += 1
        elif len(days & week) >= 2 and len(days & before) >= 2:
            ranks["good"] += 1
        else:
            ranks["average"] += 1
    paying = len(_paying(demo))
    assert ranks["good"] >= 0.35 * paying
    assert ranks["average"] >= 0.08 * paying
    assert ranks["poor"] >= 0.05 * paying


def test_some_trials_are_engaged_in_their_first_14_days(demo: Generated) -> None:
    window = demo.pop.window
    engaged = 0
    trials = [i for i, a in enumerate(demo.pop.accounts) if a.status == "trial"]
    for i in trials:
        start = demo.pop.accounts[i].trial_started_at
        assert start is not None
        first = (start - window.start) // DAY
        if len({d for d in _active_days(demo, i) if first <= d < first + 14}) >= 3:
            engaged += 1
    assert engaged >= 0.2 * len(trials)
    assert engaged < len(trials)  # and some are not


def test_weekdays_are_busier_than_weekends(demo: Generated) -> None:
    per_day = np.bincount(demo.day, minlength=SPEC.days)[:-1]  # the last day is partial
    weekend = demo.pop.weekend[:-1]
    assert per_day[~weekend].mean() > 2.5 * per_day[weekend].mean()


def test_events_happen_in_local_working_hours(demo: Generated) -> None:
    zone = demo.pop.account_zone[demo.account]
    offsets = demo.pop.offsets[zone, np.clip(demo.day, 0, SPEC.days - 1)]
    local_hour = ((demo.events.occurred_at + offsets) % DAY) // 3600
    assert np.mean((local_hour >= 7) & (local_hour < 21)) > 0.95
    # …in several time zones, so UTC hours are spread wider than any one office's day
    utc_hour = (demo.events.occurred_at % DAY) // 3600
    assert len(set(utc_hour.tolist())) >= 20
    assert len({ZONES[z] for z in zone.tolist()}) >= 5


def test_invitations_precede_the_colleagues_who_join(demo: Generated) -> None:
    users, window = demo.pop.users, demo.pop.window
    invites = demo.events.event == "invite_sent"
    invite_times = defaultdict(list)
    for acc, at in zip(
        demo.account[invites].tolist(), demo.events.occurred_at[invites].tolist(), strict=True
    ):
        invite_times[acc].append(at)
    first_of_account = {int(a): i for i, a in reversed(list(enumerate(users.account.tolist())))}
    joiners = 0
    for i, (acc, created) in enumerate(
        zip(users.account.tolist(), users.created.tolist(), strict=True)
    ):
        if created < window.start or first_of_account[acc] == i:
            continue
        joiners += 1
        assert any(t < created for t in invite_times[acc]), users.user_id[i]
    assert joiners >= 30


def test_invited_colleagues_show_up_in_the_events(demo: Generated) -> None:
    window = demo.pop.window
    users = demo.pop.users
    new = {users.user_id[i] for i in np.flatnonzero(users.created >= window.start)}
    seen = set(demo.events.user_id.tolist())
    assert len(new & seen) >= 0.8 * len(new)


def test_some_accounts_return_after_30_days_away(demo: Generated) -> None:
    returned = 0
    for i in _paying(demo):
        days = sorted(_active_days(demo, i))
        gaps = np.diff(days) if len(days) > 1 else np.array([])
        if len(gaps) and gaps.max() > 30 and days[-1] >= SPEC.days - 12:
            returned += 1
    assert returned >= 2


def test_some_paying_accounts_decline(demo: Generated) -> None:
    declining = 0
    for i in _paying(demo):
        days = demo.day[demo.account == i]
        now, before = np.sum(days >= 76), np.sum((days >= 62) & (days < 76))
        if now > 0 and now <= 0.8 * before:
            declining += 1
    assert declining >= 5


def test_some_accounts_use_every_licence(demo: Generated) -> None:
    index = {u: i for i, u in enumerate(demo.pop.users.user_id)}
    recent = demo.day >= SPEC.days - 30
    active: dict[int, set[int]] = defaultdict(set)
    for acc, user in zip(
        demo.account[recent].tolist(), demo.events.user_id[recent].tolist(), strict=True
    ):
        active[acc].add(index[user])
    full = [
        i
        for i, a in enumerate(demo.pop.accounts)
        if a.licenses and a.status == "paying" and len(active[i]) >= a.licenses
    ]
    assert len(full) >= 3


def test_most_events_have_durations_but_api_calls_do_not(demo: Generated) -> None:
    ev = demo.events
    assert 0.6 < np.mean(~ev.no_duration) < 0.95
    assert np.all(ev.no_duration[ev.event == "api_call"])
    assert np.all(ev.duration_seconds[~ev.no_duration] > 0)


def test_every_catalogue_event_occurs_and_key_modules_get_adopted(demo: Generated) -> None:
    names = set(demo.events.event.tolist())
    for name in (
        "login",
        "view_dashboard",
        "create_report",
        "export",
        "invite_sent",
        "api_call",
        "integration_connected",
        "settings_changed",
    ):
        assert name in names
    assert set(demo.events.module.tolist()) >= {"dashboards", "reports", "integrations", "api"}
    # An account's first integrations event in the window is the connection itself.
    integ = demo.events.module == "integrations"
    first_seen: dict[str, str] = {}
    for acc, name in zip(
        demo.events.account_id[integ].tolist(), demo.events.event[integ].tolist(), strict=True
    ):
        first_seen.setdefault(acc, name)
    assert "integration_connected" in first_seen.values()


def test_each_active_user_day_opens_with_a_login(demo: Generated) -> None:
    ev = demo.events
    sessions = ev.event == "login"
    # Nearly one login per user and day (a session crossing UTC midnight may show twice).
    pairs = {(u, d) for u, d in zip(ev.user_id.tolist(), demo.day.tolist(), strict=True)}
    assert 0.9 * len(pairs) <= int(sessions.sum()) <= 1.1 * len(pairs)


@pytest.mark.parametrize("factor", [0.25, 3.0])
def test_events_target_scales_the_total(demo: Generated, factor: float) -> None:
    target = int(len(demo.events) * factor)
    spec = DemoSpec(accounts=200, days=90, seed=11, as_of=AS_OF, events_target=target)
    scaled = _generate(spec, scale_for_target(build(spec), target))
    assert abs(len(scaled.events) - target) <= 0.15 * target
