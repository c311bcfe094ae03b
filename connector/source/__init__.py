"""Readers of the vendor's product database: presets, watermarks, pushed-down rollups.

`pull.pull(settings, store_engine, full=False, progress=None) -> PullReport` is the entry
point. Around it: `generic` and `segment` (the presets, producing `relations.Relation`s with
the generic column names), `timezones` (local days per SQL dialect), `events` (rollups pushed
down or streamed, and bad-row classification), `normalize` (typed account and user rows),
`engine` (the source engine, sessions in UTC), `report` and `pull_view` (what a pull did).
"""
