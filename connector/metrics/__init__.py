"""Pure metric functions, the rules language, milestones, tags and lifecycle."""
