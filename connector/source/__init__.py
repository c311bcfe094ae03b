"""Readers of the vendor's product database: presets, watermarks, pushed-down rollups.

`pull.pull(settings, store_engine, full=False, progress=None) -> PullReport` is the entry
point. Around it: `generic` and `segment` (the presets, producing `relations.Relation`s with
the generic column names), `timezones` (local days per SQL dialect), `events` (the window and
bad-row classification), `pushdown` (the rollup computed by the database), `fanout` (that
rollup split across connections), `cursor` (rows read straight from the driver),
`streaming` (the fallback that rolls raw events up here), `normalize` (typed account and user
rows), `engine` (the source engine, sessions in UTC), `report` and `pull_view` (what a pull
did).
"""
