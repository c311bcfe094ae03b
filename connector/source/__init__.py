"""Readers of the vendor's product database: presets, watermarks, pushed-down rollups."""
