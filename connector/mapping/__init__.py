"""Mapping YAML: schema, loader, and checks against the org's describe."""
