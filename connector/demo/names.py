"""Word lists and catalogues the demo product database is drawn from.

Kept apart from the generator so the shape of the data (plans, modules, events, regions) can be
read in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

FIRST_NAMES: tuple[str, ...] = (
    "Ada", "Aisha", "Alex", "Amara", "Ana", "Andre", "Anna", "Ben", "Carla", "Chen", "Chloe",
    "Daniel", "David", "Diego", "Elena", "Emma", "Fatima", "Felix", "Grace", "Hana", "Hugo",
    "Ines", "Isaac", "Jade", "James", "Jonas", "Julia", "Kai", "Kenji", "Laura", "Leo", "Lina",
    "Lucas", "Maya", "Mei", "Mia", "Nadia", "Noah", "Nora", "Olga", "Omar", "Paul", "Priya",
    "Rafael", "Ravi", "Rosa", "Sam", "Sara", "Sofia", "Tariq", "Theo", "Tom", "Uma", "Vera",
    "Wei", "Yara", "Yusuf", "Zoe",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Abara", "Andersen", "Baker", "Bauer", "Becker", "Costa", "Dubois", "Eriksen", "Fischer",
    "Garcia", "Gomez", "Haddad", "Hansen", "Ito", "Jansen", "Kim", "Kowalski", "Kumar", "Larsen",
    "Lee", "Lopez", "Martin", "Meyer", "Moreau", "Murphy", "Nakamura", "Nguyen", "Novak",
    "Okafor", "Olsen", "Park", "Patel", "Perez", "Rossi", "Santos", "Schmidt", "Silva", "Singh",
    "Smith", "Sato", "Tanaka", "Taylor", "Wagner", "Walsh", "Weber", "Wong", "Yilmaz", "Zhang",
)  # fmt: skip

COMPANY_STEMS: tuple[str, ...] = (
    "Acorn", "Alder", "Apex", "Arbor", "Aurora", "Basalt", "Beacon", "Birch", "Bluefin",
    "Brightline", "Cascade", "Cedar", "Cinder", "Cobalt", "Copper", "Crescent", "Delta", "Ember",
    "Evergreen", "Falcon", "Fernwood", "Fjord", "Granite", "Harbor", "Helix", "Horizon", "Indigo",
    "Juniper", "Kestrel", "Lantern", "Larch", "Lumen", "Magnolia", "Maple", "Meridian", "Nimbus",
    "Northwind", "Oakridge", "Onyx", "Orbit", "Pinnacle", "Polaris", "Quartz", "Redwood",
    "Ridgeline", "Sable", "Sequoia", "Sierra", "Silverline", "Solstice", "Summit", "Tidal",
    "Timber", "Topaz", "Vertex", "Willow", "Zenith",
)  # fmt: skip

COMPANY_SUFFIXES: tuple[str, ...] = (
    "Analytics", "Bio", "Capital", "Cloud", "Commerce", "Consulting", "Dynamics", "Energy",
    "Foods", "Freight", "Health", "Insights", "Labs", "Learning", "Logistics", "Media",
    "Networks", "Partners", "Retail", "Robotics", "Security", "Software", "Studios", "Systems",
    "Travel",
)  # fmt: skip

COMPANY_QUALIFIERS: tuple[str, ...] = ("Group", "Holdings", "International", "Co", "Global")

TLDS: tuple[str, ...] = ("com", "com", "com", "io", "co", "net", "ai")

INDUSTRIES: tuple[str, ...] = (
    "Software", "Financial Services", "Healthcare", "Retail", "Manufacturing", "Education",
    "Media", "Logistics", "Professional Services",
)  # fmt: skip


@dataclass(frozen=True)
class Region:
    """A sales region, how common it is, and the time zones its customers work in."""

    name: str
    weight: float
    zones: tuple[str, ...]


REGIONS: tuple[Region, ...] = (
    Region("North America", 0.45, ("America/New_York", "America/Chicago", "America/Los_Angeles")),
    Region("EMEA", 0.32, ("Europe/London", "Europe/Berlin")),
    Region("APAC", 0.15, ("Asia/Singapore", "Australia/Sydney")),
    Region("LATAM", 0.08, ("America/Sao_Paulo",)),
)

ZONES: tuple[str, ...] = tuple(z for r in REGIONS for z in r.zones)

CSM_EMAILS: tuple[str, ...] = (
    "dana.whitfield@demo-vendor.example",
    "marco.bianchi@demo-vendor.example",
    "priya.raman@demo-vendor.example",
    "samuel.osei@demo-vendor.example",
    "ingrid.holm@demo-vendor.example",
)


@dataclass(frozen=True)
class Plan:
    """A paid plan: how common it is, the seat counts sold, the company sizes that buy it."""

    name: str
    weight: float
    licenses: tuple[int, ...]
    company_sizes: tuple[str, ...]


PLANS: tuple[Plan, ...] = (
    Plan("starter", 0.52, (3, 5, 5, 10, 10), ("1-10", "11-50")),
    Plan("growth", 0.36, (10, 15, 20, 25, 30, 40, 50), ("11-50", "51-200", "201-1000")),
    Plan("enterprise", 0.12, (60, 80, 100, 150, 200), ("201-1000", "1001-5000", "5000+")),
)

COMPANY_SIZES: tuple[str, ...] = ("1-10", "11-50", "51-200", "201-1000", "1001-5000", "5000+")


@dataclass(frozen=True)
class EventKind:
    """One event name: its module, how often it occurs in a session, its typical duration.

    `duration_median` is None for machine events that have no duration (API calls, syncs).
    """

    name: str
    module: str
    weight: float
    duration_median: float | None


LOGIN = EventKind("login", "core", 0.0, 15.0)
INVITE_SENT = EventKind("invite_sent", "admin", 0.0, 40.0)
INTEGRATION_CONNECTED = EventKind("integration_connected", "integrations", 0.004, 240.0)

# The events of a session after its login; weights are relative frequencies.
SESSION_EVENTS: tuple[EventKind, ...] = (
    EventKind("view_dashboard", "dashboards", 0.33, 75.0),
    EventKind("create_dashboard", "dashboards", 0.025, 420.0),
    EventKind("search", "core", 0.05, 12.0),
    EventKind("view_report", "reports", 0.16, 150.0),
    EventKind("create_report", "reports", 0.07, 540.0),
    EventKind("export", "reports", 0.06, 25.0),
    EventKind("api_call", "api", 0.16, None),
    EventKind("integration_synced", "integrations", 0.08, None),
    INTEGRATION_CONNECTED,
    EventKind("settings_changed", "admin", 0.03, 60.0),
    EventKind("view_user_list", "admin", 0.026, 30.0),
)

ALL_EVENTS: tuple[EventKind, ...] = (LOGIN, INVITE_SENT, *SESSION_EVENTS)

MODULES: tuple[str, ...] = ("core", "dashboards", "reports", "integrations", "api", "admin")

# Modules whose first use marks real adoption (the "first use of a key module" milestone); an
# account that has not adopted one yet does the dashboard view instead.
KEY_MODULES: tuple[str, ...] = ("reports", "integrations", "api")
