"""The rules language (grammar, type checks, evaluation) and the rule-file loader."""
