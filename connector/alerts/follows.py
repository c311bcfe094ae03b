"""Who follows which accounts: CSM books by default, the file's follows, and the store's
follows and mutes set with `connector follow` / `connector unfollow`."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from connector.alerts.frame import StoredFrame
from connector.alerts.rules import AlertRules
from connector.alerts.snapshot import AccountView
from connector.errors import InputError
from connector.store import alertlog
from connector.store.accounts import iter_accounts
from connector.store.models import Follow

ACCOUNT, SEGMENT, CSM = "account", "segment", "csm"
FOLLOW, MUTE = "follow", "mute"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Target:
    """What a person follows: one account, a segment, or a CSM's book."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


def segment_members(frame: StoredFrame, rules: AlertRules) -> dict[str, set[str]]:
    """The account ids in each segment."""
    ids = [v.account_id for v in frame.views]
    return {
        s.name: {a for a, held in zip(ids, frame.holds(s.when), strict=True) if held}
        for s in rules.segments
    }


def _sources(
    rules: AlertRules, stored: Sequence[Follow], csm_emails: Iterable[str]
) -> dict[str, set[Target]]:
    wanted: dict[str, set[Target]] = defaultdict(set)
    if rules.csm_book:
        for email in csm_emails:
            wanted[email].add(Target(CSM, email))
    for f in rules.follows:
        wanted[f.email] |= {Target(ACCOUNT, a) for a in f.accounts}
        wanted[f.email] |= {Target(SEGMENT, s) for s in f.segments}
        wanted[f.email] |= {Target(CSM, c) for c in f.csms}
    for f in stored:
        target = Target(f.kind, f.target)
        if f.mode == FOLLOW:
            wanted[f.email].add(target)
    for f in stored:
        if f.mode == MUTE:
            wanted[f.email].discard(Target(f.kind, f.target))
    return wanted


def followed_accounts(
    views: Sequence[AccountView],
    rules: AlertRules,
    stored: Sequence[Follow],
    segments: dict[str, set[str]],
) -> dict[str, set[str]]:
    """Per follower email, the account ids they follow (muted accounts taken out)."""
    by_csm: dict[str, set[str]] = defaultdict(set)
    known = {v.account_id for v in views}
    for v in views:
        if v.csm_email:
            by_csm[v.csm_email].add(v.account_id)
    muted = {(f.email, f.target) for f in stored if f.mode == MUTE and f.kind == ACCOUNT}
    out: dict[str, set[str]] = {}
    for email, targets in _sources(rules, stored, by_csm).items():
        accounts: set[str] = set()
        for t in targets:
            if t.kind == ACCOUNT and t.name in known:
                accounts.add(t.name)
            elif t.kind == SEGMENT:
                accounts |= segments.get(t.name, set())
            elif t.kind == CSM:
                accounts |= by_csm.get(t.name.lower(), set())
        accounts = {a for a in accounts if (email, a) not in muted}
        if accounts:
            out[email] = accounts
    return out


def followers_by_account(followed: dict[str, set[str]]) -> dict[str, set[str]]:
    """The inverse: per account id, the emails following it."""
    out: dict[str, set[str]] = defaultdict(set)
    for email, accounts in followed.items():
        for a in accounts:
            out[a].add(email)
    return out


def parse_target(engine: sa.Engine, rules: AlertRules, text: str) -> Target:
    """`csm:EMAIL`, `segment:NAME`, `account:ID`, a segment's name, or an account id."""
    kind, _, rest = text.partition(":")
    if rest and kind in (ACCOUNT, SEGMENT, CSM):
        target = Target(kind, rest.strip().lower() if kind == CSM else rest.strip())
    elif rules.segment(text) is not None:
        target = Target(SEGMENT, text)
    else:
        target = Target(ACCOUNT, text)
    if target.kind == SEGMENT and rules.segment(target.name) is None:
        known = ", ".join(s.name for s in rules.segments) or "none"
        raise InputError(
            f"There is no segment {target.name!r} in {rules.path}. Fix: use one of {known}, "
            "or define it under segments: in alerts.yaml."
        )
    if target.kind == CSM and not _EMAIL.match(target.name):
        raise InputError(f"{target.name!r} is not an email address. Fix: write csm:name@domain.")
    if target.kind == ACCOUNT and target.name not in {a.account_id for a in iter_accounts(engine)}:
        raise InputError(
            f"No account {target.name!r} is in the store, and no segment has that name. Fix: "
            "give a product account id (see `connector status`), a segment name, or csm:EMAIL."
        )
    return target


def _check_email(email: str) -> str:
    if not _EMAIL.match(email):
        raise InputError(f"{email!r} is not an email address. Fix: give the follower's email.")
    return email.strip().lower()


def follow(engine: sa.Engine, rules: AlertRules, email: str, target_text: str) -> Target:
    """Make `email` follow an account, a segment or a book (lifting a mute if there was one)."""
    email = _check_email(email)
    target = parse_target(engine, rules, target_text)
    alertlog.set_follow(engine, email, target.kind, target.name, FOLLOW)
    return target


def unfollow(
    engine: sa.Engine, rules: AlertRules, email: str, target_text: str
) -> tuple[Target, str]:
    """Stop `email` following something. A follow set with `connector follow` is removed; what
    the file or the CSM default still makes them follow is muted, so it stays off. Returns
    the target and `removed` (a stored follow was deleted) or `muted`."""
    email = _check_email(email)
    target = parse_target(engine, rules, target_text)
    removed = alertlog.remove_follow(engine, email, target.kind, target.name)
    # an account may still come in through a book or a segment: mute it either way (a later
    # `connector follow` lifts the mute); a segment or book only if the file still brings it
    still = target.kind == ACCOUNT or target in _sources(rules, [], [email])[email]
    if still:
        alertlog.set_follow(engine, email, target.kind, target.name, MUTE)
    return target, "removed" if removed else "muted"


@dataclass(frozen=True)
class FollowerSummary:
    """One person: what they follow, what they muted, and how many accounts that makes."""

    email: str
    follows: tuple[str, ...]
    muted: tuple[str, ...]
    accounts: int


def summarize(
    views: Sequence[AccountView],
    rules: AlertRules,
    stored: Sequence[Follow],
    segments: dict[str, set[str]],
) -> list[FollowerSummary]:
    """Everyone who follows something (or muted something), for `connector alerts follows`."""
    csms = {v.csm_email for v in views if v.csm_email}
    wanted = _sources(rules, stored, csms)
    followed = followed_accounts(views, rules, stored, segments)
    muted: dict[str, list[str]] = defaultdict(list)
    for f in stored:
        if f.mode == MUTE:
            muted[f.email].append(str(Target(f.kind, f.target)))
    people = sorted(set(wanted) | set(muted))
    return [
        FollowerSummary(
            email=e,
            follows=tuple(sorted(str(t) for t in wanted.get(e, ()))),
            muted=tuple(sorted(muted.get(e, ()))),
            accounts=len(followed.get(e, ())),
        )
        for e in people
    ]
