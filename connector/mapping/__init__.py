"""Mapping YAML: schema, loader, value shaping, and checks and provisioning against the org.

The push uses: `load_mapping_for_org(settings)` → `SalesforceMapping` (per object: `match`,
`fields`, `tags_field`, `tasks`); `record_values(object_mapping, values, tz)` for the mapped
fields of one record; `RecordShaper(describe, tz).shape(values)` (or `shape(value, field)`)
for the wire values the org accepts; `render_task(rule, values, today=...)` for a Task's text.
"""

from connector.mapping.loader import load_mapping, load_mapping_for_org
from connector.mapping.schema import (
    FieldMapping,
    Match,
    ObjectMapping,
    SalesforceMapping,
    TaskRule,
)
from connector.mapping.shape import (
    RecordShaper,
    Shaped,
    ShapedRecord,
    ShapeError,
    field_shaper,
    shape,
    shape_record,
)
from connector.mapping.tasks import TaskText, render_task
from connector.mapping.transforms import record_values

__all__ = [
    "FieldMapping",
    "Match",
    "ObjectMapping",
    "RecordShaper",
    "SalesforceMapping",
    "ShapeError",
    "Shaped",
    "ShapedRecord",
    "TaskRule",
    "TaskText",
    "field_shaper",
    "load_mapping",
    "load_mapping_for_org",
    "record_values",
    "render_task",
    "shape",
    "shape_record",
]
