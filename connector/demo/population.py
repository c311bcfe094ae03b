"""Who the demo customers are: accounts and their lifecycle, their users, and the invitations.

Everything here is decided up front and is small (one row per account and per user); the events
are drawn from it day by day in `connector.demo.activity`. Each account draws from its own
random stream, so an account looks the same whatever else is generated around it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from connector.demo import names
from connector.demo.lifecycle import ESTABLISHED, Lifecycle, assign_profiles, lifecycle
from connector.demo.window import DAY, HOUR, Window

SALESFORCE_ID_SHARE = 0.88  # paying and cancelled accounts already linked to a Salesforce Account
ADOPTION_CHANCE = {"reports": 0.85, "integrations": 0.55, "api": 0.4}


@dataclass(frozen=True)
class Account:
    """One customer account as the product database holds it, plus how it behaves."""

    account_id: str
    name: str
    domain: str
    status: str
    plan: str
    licenses: int | None
    created_at: int
    trial_started_at: int | None
    trial_ends_at: int | None
    paid_at: int | None
    cancelled_at: int | None
    csm_email: str | None
    company_size: str
    salesforce_id: str | None
    industry: str
    region: str
    zone: int
    profile: str

    def row(self) -> dict[str, Any]:
        """The `accounts` table row (timestamps as UTC datetimes)."""
        return {
            "account_id": self.account_id,
            "name": self.name,
            "status": self.status,
            "licenses": self.licenses,
            "plan": self.plan,
            "created_at": _dt(self.created_at),
            "trial_started_at": _dt(self.trial_started_at),
            "trial_ends_at": _dt(self.trial_ends_at),
            "paid_at": _dt(self.paid_at),
            "cancelled_at": _dt(self.cancelled_at),
            "csm_email": self.csm_email,
            "company_size": self.company_size,
            "salesforce_id": self.salesforce_id,
            "domain": self.domain,
            "industry": self.industry,
            "region": self.region,
        }


@dataclass(frozen=True)
class Users:
    """Every user of every account, as columns (row i is one user), ordered by account."""

    user_id: list[str]
    account: np.ndarray  # index into Population.accounts
    email: list[str]
    name: list[str]
    created: np.ndarray  # epoch seconds
    propensity: np.ndarray  # chance of being active on a full-intensity weekday
    rate: np.ndarray  # mean events per active day beyond the login

    def __len__(self) -> int:
        return len(self.user_id)

    def rows(self, account_ids: list[str]) -> list[dict[str, Any]]:
        """The `users` table rows, given the id of each account by index."""
        return [
            {
                "user_id": self.user_id[i],
                "account_id": account_ids[int(self.account[i])],
                "email": self.email[i],
                "name": self.name[i],
                "created_at": _dt(int(self.created[i])),
            }
            for i in range(len(self))
        ]


@dataclass(frozen=True)
class Population:
    """The accounts, their users and invitations, and each account's activity curve."""

    window: Window
    accounts: list[Account]
    users: Users
    intensity: np.ndarray  # (accounts, days): activity multiplier, 0 = no use at all
    adoption_day: np.ndarray  # (accounts, key modules): window day a key module is first used
    invite_user: np.ndarray  # the inviting user of each invitation
    invite_at: np.ndarray  # epoch seconds of each invitation
    offsets: np.ndarray  # (zones, days): seconds east of UTC
    weekend: np.ndarray  # (days,): bool

    @property
    def account_zone(self) -> np.ndarray:
        return np.array([a.zone for a in self.accounts], dtype=np.int64)


def _dt(ts: int | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def _company_names(total: int, rng: np.random.Generator) -> list[tuple[str, str]]:
    """Unique (company name, web domain) pairs."""
    combos = [(s, x) for s in names.COMPANY_STEMS for x in names.COMPANY_SUFFIXES]
    out: list[tuple[str, str]] = []
    round_ = 0
    while len(out) < total:
        qualifier = "" if round_ == 0 else names.COMPANY_QUALIFIERS[(round_ - 1) % 5]
        number = "" if round_ <= len(names.COMPANY_QUALIFIERS) else f" {round_}"
        for i in rng.permutation(len(combos)):
            stem, suffix = combos[i]
            name = " ".join(p for p in (stem, suffix, qualifier) if p) + number
            slug = name.lower().replace(" ", "-")
            tld = names.TLDS[int(i) % len(names.TLDS)]
            out.append((name, f"{slug}.{tld}"))
            if len(out) == total:
                break
        round_ += 1
    return out


_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def salesforce_account_id(n: int) -> str:
    """A well-formed 18-character Account Id (prefix 001) for counter `n`."""
    digits = ""
    for _ in range(9):
        n, r = divmod(n, 62)
        digits = _BASE62[r] + digits
    id15 = "001Dm0" + digits
    suffix = ""
    for start in (0, 5, 10):
        bits = sum(1 << i for i, ch in enumerate(id15[start : start + 5]) if "A" <= ch <= "Z")
        suffix += _SUFFIX[bits]
    return id15 + suffix


def _seat_count(profile: str, licenses: int | None, rng: np.random.Generator) -> int:
    if profile == "at_capacity" and licenses:
        return licenses + int(rng.integers(0, 3))
    if licenses:
        share = rng.uniform(0.3, 0.7) if profile == "onboarding" else rng.uniform(0.45, 0.95)
        return max(1, round(licenses * share))
    return {
        "engaged_trial": int(rng.integers(2, 7)),
        "lukewarm_trial": int(rng.integers(1, 3)),
        "lapsed_trial": int(rng.integers(1, 4)),
        "casual_free": int(rng.integers(1, 4)),
    }.get(profile, 1)


def _person_names(rng: np.random.Generator, count: int, domain: str) -> tuple[list[str], list[str]]:
    firsts = rng.integers(0, len(names.FIRST_NAMES), count)
    lasts = rng.integers(0, len(names.LAST_NAMES), count)
    seen: dict[str, int] = {}
    emails, full = [], []
    for f, la in zip(firsts.tolist(), lasts.tolist(), strict=True):
        first, last = names.FIRST_NAMES[f], names.LAST_NAMES[la]
        local = f"{first}.{last}".lower()
        seen[local] = seen.get(local, 0) + 1
        if seen[local] > 1:
            local += str(seen[local])
        emails.append(f"{local}@{domain}")
        full.append(f"{first} {last}")
    return emails, full


@dataclass
class _AccountUsers:
    created: list[int]
    propensity: list[float]
    rate: list[float]
    emails: list[str]
    names: list[str]
    invites: list[tuple[int, int]]  # (index of the inviting user within the account, time)


def _join_times(
    rng: np.random.Generator,
    count: int,
    life: Lifecycle,
    window: Window,
    weekend: np.ndarray,
    offsets: np.ndarray,
) -> list[int]:
    """Times at which `count` colleagues join during the window, on working days and hours."""
    days = np.arange(window.days)
    weight = life.curve * np.where(weekend, 0.1, 1.0)
    # From the second window day and a day and a half after signup (so an invitation, sent up
    # to 20 hours earlier, falls inside the window and after its sender joined).
    usable = (days >= 1) & (days > life.created + 1.5) & (days <= window.days - 2)
    weight = np.where(usable, weight, 0)
    if life.created >= 0:  # a new account: colleagues arrive in its first weeks
        weight = weight * np.exp(-np.clip(days - life.created, 0, None) / 14)
    if count == 0 or weight.sum() <= 0:
        return []
    picked = rng.choice(window.days, size=count, p=weight / weight.sum())
    hours = rng.uniform(8.5, 17.5, count)
    times = (
        int(window.start + d * DAY + h * HOUR - offsets[d])
        for d, h in zip(picked.tolist(), hours.tolist(), strict=True)
    )
    return sorted(x for x in times if x < window.as_of - HOUR)


def _users_for(
    rng: np.random.Generator,
    profile: str,
    life: Lifecycle,
    seats: int,
    domain: str,
    window: Window,
    weekend: np.ndarray,
    offsets: np.ndarray,
) -> _AccountUsers:
    """The account's users: the signup first, colleagues before or during the window."""
    created_ts = window.start + life.created * DAY
    first = int(created_ts + rng.integers(30, 900))
    if life.created >= -1:  # new: the colleagues all arrive during the window
        joining = seats - 1
    elif profile in ESTABLISHED and profile != "dormant":
        joining = round((seats - 1) * float(rng.uniform(0.0, 0.25)))
    else:
        joining = 0
    joined = _join_times(rng, joining, life, window, weekend, offsets)
    earlier = 0 if life.created >= -1 else seats - 1 - len(joined)
    before = sorted(rng.integers(first + 60, window.start, earlier).tolist()) if earlier else []
    created = [first, *before, *joined]
    invites: list[tuple[int, int]] = []
    for k in range(1 + len(before), len(created)):
        ts = created[k]
        # Colleagues are invited by someone who has been around for at least an hour.
        senior = [i for i in range(k) if created[i] <= ts - HOUR] or [0]
        inviter = 0 if rng.random() < 0.5 else int(rng.choice(senior))
        slack = max(120, min(20 * HOUR, ts - created[inviter] - 60))
        invites.append((inviter, int(ts - rng.integers(60, slack))))
    propensity = rng.beta(1.6, 3.2, len(created))
    propensity[0] = max(propensity[0], 0.6)  # the champion who signed up
    if profile == "middling":
        propensity *= 0.6
    if profile == "at_capacity":
        propensity = np.maximum(propensity, 0.35)
    rate = rng.gamma(2.0, 1.9, len(created))
    emails, full = _person_names(rng, len(created), domain)
    return _AccountUsers(
        created,
        propensity.tolist(),
        rate.tolist(),
        emails,
        full,
        sorted(invites, key=lambda x: x[1]),
    )


def _adoption(rng: np.random.Generator, life: Lifecycle) -> list[float]:
    """The window day each key module is first used (-inf: before the window; inf: never)."""
    out = []
    for module in names.KEY_MODULES:
        if rng.random() >= ADOPTION_CHANCE[module]:
            out.append(np.inf)
            continue
        day = life.created + rng.exponential(12.0)
        out.append(-np.inf if day < 0 else day)
    return out


_REGION_WEIGHTS = np.array([r.weight for r in names.REGIONS])
_PLAN_WEIGHTS = np.array([p.weight for p in names.PLANS])


def _account(
    i: int, status: str, profile: str, company: tuple[str, str], life: Lifecycle, window: Window,
    rng: np.random.Generator,
) -> Account:  # fmt: skip
    """The account row: plan and seats, CSM and Salesforce link for customers, attributes."""
    region = names.REGIONS[int(rng.choice(len(names.REGIONS), p=_REGION_WEIGHTS))]
    zone = names.ZONES.index(region.zones[int(rng.integers(0, len(region.zones)))])
    licenses: int | None = None
    csm: str | None = None
    sf_id: str | None = None
    if status in ("paying", "cancelled"):
        plan = names.PLANS[int(rng.choice(len(names.PLANS), p=_PLAN_WEIGHTS))]
        plan_name, licenses = plan.name, int(rng.choice(plan.licenses))
        size = str(rng.choice(plan.company_sizes))
        csm = names.CSM_EMAILS[int(rng.integers(0, len(names.CSM_EMAILS)))]
        if rng.random() < SALESFORCE_ID_SHARE:
            sf_id = salesforce_account_id(i + 1)
    else:  # free and trial sign-ups are Leads in Salesforce, not Accounts
        plan_name = "free" if status == "free" else str(rng.choice(["growth", "enterprise"]))
        size = names.COMPANY_SIZES[int(rng.integers(0, 4))]

    def ts(offset: float | None) -> int | None:
        return None if offset is None else int(window.start + offset * DAY)

    return Account(
        account_id=f"acc_{i + 1:05d}",
        name=company[0],
        domain=company[1],
        status=status,
        plan=plan_name,
        licenses=licenses,
        created_at=int(window.start + life.created * DAY),
        trial_started_at=ts(life.trial[0]) if life.trial else None,
        trial_ends_at=ts(life.trial[1]) if life.trial else None,
        paid_at=ts(life.paid),
        cancelled_at=ts(life.cancelled),
        csm_email=csm,
        company_size=size,
        salesforce_id=sf_id,
        industry=names.INDUSTRIES[int(rng.integers(0, len(names.INDUSTRIES)))],
        region=region.name,
        zone=zone,
        profile=profile,
    )


@dataclass
class _UserColumns:
    """Users and invitations gathered account by account, then turned into columns."""

    account: list[int] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    propensity: list[float] = field(default_factory=list)
    rate: list[float] = field(default_factory=list)
    email: list[str] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    invite_user: list[int] = field(default_factory=list)
    invite_at: list[int] = field(default_factory=list)

    def add(self, account: int, people: _AccountUsers) -> None:
        base = len(self.account)
        self.account += [account] * len(people.created)
        self.created += people.created
        self.propensity += people.propensity
        self.rate += people.rate
        self.email += people.emails
        self.name += people.names
        self.invite_user += [base + k for k, _ in people.invites]
        self.invite_at += [at for _, at in people.invites]

    def users(self) -> Users:
        return Users(
            user_id=[f"usr_{j + 1:06d}" for j in range(len(self.account))],
            account=np.array(self.account, dtype=np.int64),
            email=self.email,
            name=self.name,
            created=np.array(self.created, dtype=np.int64),
            propensity=np.array(self.propensity),
            rate=np.array(self.rate),
        )


def build_population(accounts: int, seed: int, window: Window) -> Population:
    """Every account, user and invitation of the demo, deterministic given seed and window."""
    rng = np.random.default_rng([seed, 0])
    profiles = assign_profiles(accounts, rng)
    companies = _company_names(accounts, rng)
    weekend = window.weekend()
    offsets = window.zone_offsets()
    t = np.arange(window.days) + 0.5
    rows: list[Account] = []
    curves, adoption = [], []
    people = _UserColumns()
    for i, ((status, profile), company) in enumerate(zip(profiles, companies, strict=True)):
        arng = np.random.default_rng([seed, 1, i])
        life = lifecycle(profile, arng, t, window.span)
        account = _account(i, status, profile, company, life, window, arng)
        seats = _seat_count(profile, account.licenses, arng)
        zone_offsets = offsets[account.zone]
        people.add(
            i, _users_for(arng, profile, life, seats, company[1], window, weekend, zone_offsets)
        )
        rows.append(account)
        curves.append(np.where(t + 0.5 > life.created, life.curve, 0.0))
        adoption.append(_adoption(arng, life))
    return Population(
        window=window,
        accounts=rows,
        users=people.users(),
        intensity=np.array(curves, dtype=np.float32).reshape(accounts, window.days),
        adoption_day=np.array(adoption, dtype=float).reshape(accounts, len(names.KEY_MODULES)),
        invite_user=np.array(people.invite_user, dtype=np.int64),
        invite_at=np.array(people.invite_at, dtype=np.int64),
        offsets=offsets,
        weekend=weekend,
    )
