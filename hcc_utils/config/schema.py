"""Study configuration: one YAML file drives every notebook's parameters.

The bundled ``study.yml`` at the repository root holds the article's settings. Authors running the study on
their own cohort copy it, edit it and pass it with ``--config``. Every key missing from a user's file takes
the default below, so a configuration may be as short as ``data: my_cohort.xlsx``.
"""
from __future__ import annotations

import copy
import difflib
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_PATH = REPO_ROOT / "study.yml"

#: Defaults for every key; ``study.yml`` restates them for readers.
DEFAULTS: dict[str, Any] = {
    "data": "data/synthetic_cohort.csv",
    "seed": 20240701,
    "groups": {"treatment": "lenvatinib", "control": "sorafenib"},
    "min_group_size": 10,
    "max_missing_share": 0.2,
    "matching": {
        "covariates": [
            "age", "sex_male", "tumor_size_cm", "tumor_multiple",
            "extrahepatic_metastasis", "lymph_node_metastasis", "child_pugh_b",
        ],
        "ratio": 1,
        "caliper": 0.2,
        "caliper_scale": "logit",
        "order": "largest",
        "compat": None,
    },
    "baseline": {"categorical_test": "chisq", "continuous_test": "auto", "quantile_method": "sas5"},
    "cutpoints": {
        "tumor_size_cm": 10, "afp_ng_ml": 400, "pivka_mau_ml": 1000,
        "atebev_cycles_low": 3, "atebev_cycles_subgroup": 3,
    },
    "cox": {"ties": "efron", "selection_p": 0.05},
    "survival": {"followup_method": "observed", "risk_table_months": [0, 3, 6, 9, 12, 15, 18]},
}


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and the key."""


def _merge(defaults: dict, given: dict, source: str, prefix: str = "") -> dict:
    merged = copy.deepcopy(defaults)
    problems = []
    for key, value in given.items():
        dotted = f"{prefix}{key}"
        if key not in defaults:
            close = difflib.get_close_matches(key, list(defaults), n=1)
            hint = f" (did you mean '{prefix}{close[0]}'?)" if close else ""
            problems.append(f"{source}: unknown key '{dotted}'{hint}")
            continue
        if isinstance(defaults[key], dict):
            if not isinstance(value, dict):
                problems.append(f"{source}: key '{dotted}' must be a mapping, got {value!r}")
                continue
            try:
                merged[key] = _merge(defaults[key], value, source, dotted + ".")
            except ConfigError as exc:
                problems.extend(str(exc).splitlines())
        else:
            merged[key] = value
    if problems:
        raise ConfigError("\n".join(problems))
    return merged


def _check_values(config: dict, source: str) -> None:
    problems = []
    m = config["matching"]
    if m["order"] not in {"largest", "smallest", "random", "data"}:
        problems.append(f"{source}: matching.order must be largest, smallest, random or data, got {m['order']!r}")
    if m["caliper_scale"] not in {"logit", "score"}:
        problems.append(f"{source}: matching.caliper_scale must be logit or score, got {m['caliper_scale']!r}")
    if m["caliper"] is not None and not (isinstance(m["caliper"], (int, float)) and m["caliper"] > 0):
        problems.append(f"{source}: matching.caliper must be a positive number or null, got {m['caliper']!r}")
    if m["compat"] not in (None, "matchit-4.5.1", "matchit-4.5.1-integer-abs"):
        problems.append(f"{source}: matching.compat must be null, matchit-4.5.1 or matchit-4.5.1-integer-abs, got {m['compat']!r}")
    if not (isinstance(m["ratio"], int) and m["ratio"] >= 1):
        problems.append(f"{source}: matching.ratio must be a whole number >= 1, got {m['ratio']!r}")
    if config["groups"]["treatment"] == config["groups"]["control"]:
        problems.append(f"{source}: groups.treatment and groups.control must differ")
    if config["baseline"]["categorical_test"] not in {"chisq", "fisher_if_sparse"}:
        problems.append(f"{source}: baseline.categorical_test must be chisq or fisher_if_sparse")
    if config["survival"]["followup_method"] not in {"observed", "reverse_km"}:
        problems.append(f"{source}: survival.followup_method must be observed or reverse_km")
    if not isinstance(config["seed"], int):
        problems.append(f"{source}: seed must be a whole number, got {config['seed']!r}")
    if problems:
        raise ConfigError("\n".join(problems))


def load_config(path: str | Path | None = None, data: str | Path | None = None) -> dict:
    """Read a study configuration, fill in defaults and resolve the data path.

    Parameters
    ----------
    path : path to a YAML file; the bundled ``study.yml`` when None.
    data : a cohort file that overrides the configuration's ``data`` (as ``--data`` on the command line).

    Returns
    -------
    dict
        The complete configuration. ``data`` is an absolute path: relative paths in a file are taken
        relative to that file, a ``data`` argument relative to the current directory.
    """
    path = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    if not path.is_file():
        raise ConfigError(f"configuration file not found: {path}")
    try:
        given = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(given, dict):
        raise ConfigError(f"{path}: the configuration must be a mapping of keys to values")
    config = _merge(DEFAULTS, given, str(path))
    _check_values(config, str(path))
    if data is not None:
        config["data"] = str(Path(data).resolve())
    else:
        config["data"] = str((path.parent / config["data"]).resolve())
    return config
