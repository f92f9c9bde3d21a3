"""The study configuration: its typed schema, defaults and loader (the bottom layer; every other layer may read it)."""
from hcc_utils.config.schema import (DEFAULT_CONFIG_PATH, DEFAULTS, REPO_ROOT, ConfigError, StudyConfig, as_config,
                                     load_config, parse_config)
from hcc_utils.config.reference import schema_rows

__all__ = ["DEFAULT_CONFIG_PATH", "DEFAULTS", "REPO_ROOT", "ConfigError", "StudyConfig", "as_config", "load_config",
           "parse_config", "schema_rows"]
