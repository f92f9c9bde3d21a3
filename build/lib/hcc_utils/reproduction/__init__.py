"""reproduction layer."""
