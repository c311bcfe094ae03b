"""What a converted Lead followed to its Contact receives (`salesforce.converted_leads: follow`).

The mapping file maps Accounts and Leads; a followed Lead's Contact gets the Lead mapping's
fields under the same API names (no Tasks: those stay with Leads). With follow configured,
`check` and `provision` cover those Contact fields as they do the Lead's, and the push leaves
out any field the Contact lacks (with a warning) instead of failing the record.
"""

from __future__ import annotations

from dataclasses import replace

from connector.mapping.schema import Match, ObjectMapping, SalesforceMapping

CONTACT = "Contact"


def followed_contact(mapping: SalesforceMapping) -> ObjectMapping | None:
    """The Contact side of the Lead mapping (None without a Lead mapping)."""
    lead = mapping.get("Lead")
    if lead is None:
        return None
    return ObjectMapping(
        CONTACT,
        Match(where=lead.match.where),
        tuple(replace(f, sobject=CONTACT) for f in lead.fields),
        lead.tags_field,
        (),
        lead.where,
    )


def with_followed_contacts(mapping: SalesforceMapping, converted_leads: str) -> SalesforceMapping:
    """The mapping plus the Contact fields followed Leads write, when follow is configured."""
    contact = followed_contact(mapping) if converted_leads == "follow" else None
    if contact is None or CONTACT in mapping.objects:
        return mapping
    return replace(mapping, objects={**mapping.objects, CONTACT: contact})
