"""Everything that talks to Salesforce: auth, the client, Collections, Bulk API 2.0, Tasks."""
