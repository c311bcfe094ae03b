"""A local Salesforce API emulator, faithful enough for unmodified real clients."""
