"""The study configuration: its schema, defaults and loader (the layer every other layer may read)."""
from hcc_utils.config.schema import DEFAULT_CONFIG_PATH, DEFAULTS, REPO_ROOT, ConfigError, load_config

__all__ = ["DEFAULT_CONFIG_PATH", "DEFAULTS", "REPO_ROOT", "ConfigError", "load_config"]
