"""synthetic layer."""
