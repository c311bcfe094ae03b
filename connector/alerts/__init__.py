"""Follows, real-time alerts and daily digests for the success team.

- `dispatch.run_alerts(settings, engine, as_of=None)`: detect what changed since the last pass
  (conditions that start to hold, new milestones, tags added or removed, changed values),
  record each delivery before sending it, send on Chatter, email and webhooks;
- `dispatch.run_digests(settings, engine, as_of=None)`: one email per follower listing what
  changed in their accounts since their last digest (none when nothing did);
- `preview.preview(settings, engine, as_of)`: what would go out now, without sending;
- `follows.follow` / `follows.unfollow` / `follows.summarize`: who follows what (CSM books by
  default, `alerts.yaml`, the store);
- `rules.load_alert_rules(folder, …)`: `alerts.yaml`, checked with file, line and fix.
"""

from connector.alerts.dispatch import SendReport, run_alerts, run_digests

__all__ = ["SendReport", "run_alerts", "run_digests"]
