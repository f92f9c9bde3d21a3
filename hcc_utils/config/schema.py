"""The study configuration: one typed schema, with every default in one place.

The bundled ``study.yml`` restates these defaults (the article's settings; a test checks that it does). Authors
copy it, edit it and pass it with ``--config``; any key they leave out takes the default below, so a configuration
may be as short as ``data: my_cohort.xlsx``. Unknown keys are refused with a suggestion, every problem of a file
is reported at once, and the book's *Configuration* page documents every key from this schema.
"""
from __future__ import annotations

import difflib
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Optional, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hcc_utils.config.dates import check_date_format

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_PATH = REPO_ROOT / "study.yml"


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and every offending key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Groups(_Section):
    """The two second-line regimens compared."""

    treatment: str = Field("lenvatinib", description="The 'treated' group of the propensity model; matched "
                                                       "without replacement.")
    control: str = Field("sorafenib", description="The comparison group.")

    @model_validator(mode="after")
    def _regimens(self):
        names = {role: getattr(self, role).strip().lower() for role in ("treatment", "control")}
        for role, name in names.items():
            if name in ("", "none"):
                raise ValueError(f"groups.{role} = {name!r} is not a second-line regimen")
        if names["treatment"] == names["control"]:
            raise ValueError("groups.treatment and groups.control must differ")
        return self


class Matching(_Section):
    """Propensity-score matching (nearest neighbour, without replacement)."""

    covariates: list[str] = Field(
        ["age", "sex_male", "tumor_size_cm", "tumor_multiple", "extrahepatic_metastasis", "lymph_node_metastasis",
         "child_pugh_b"],
        description="Columns of the analysis table entering the unpenalised logistic propensity model.")
    ratio: int = Field(1, ge=1, description="Controls matched to each treated patient (1 = 1:1). Above 1, the "
                       "matched cohort's hazard ratios weigh the sets as MatchIt does (a treated patient left with "
                       "fewer controls keeps its full weight; variance robust to the clustering within sets); its "
                       "Kaplan-Meier curves and log-rank tests count each patient once.")
    caliper: Optional[float] = Field(0.2, gt=0, description="Caliper width in standard deviations of the score "
                                                             "scale below; null for no caliper.")
    caliper_scale: Literal["logit", "score"] = Field("logit", description="Scale of the caliper: logit of the "
                                                                           "score (Austin 2011) or the score.")
    order: Literal["largest", "smallest", "random", "data"] = Field(
        "largest", description="Order in which treated patients choose a control (largest score first is "
                               "MatchIt's default); 'random' uses the seed.")
    compat: Optional[Literal["matchit-4.5.1", "matchit-4.5.1-integer-abs"]] = Field(
        None, description="null: the intended greedy algorithm; the others reproduce known bugs of those MatchIt "
                          "builds (see hcc_utils.stats.matching).")


class Baseline(_Section):
    """Tests and quantiles of the baseline table (Table 1) and of 2x2 comparisons."""

    categorical_test: Literal["chisq", "fisher_if_sparse"] = Field(
        "chisq", description="Pearson chi-square without continuity correction (as the article's p-values "
                             "imply), or Fisher's exact test when an expected count is below 5.")
    continuous_test: Literal["auto", "ttest", "mannwhitney"] = Field(
        "auto", description="auto: t-test for mean±SD rows, Mann-Whitney for median (IQR) rows.")
    quantile_method: Literal["sas5", "r7"] = Field(
        "sas5", description="Descriptive quantiles: SAS PCTLDEF=5 (= R type 2, the article's software) or "
                            "R's default type 7.")


class Cutpoints(_Section):
    """Cut-points of the dichotomised covariates (a value at the cut-point counts as 'high')."""

    age_years: float = Field(65, gt=0, description="Age at or above this is 'older' in the Cox models.")
    tumor_size_cm: float = Field(10, gt=0, description="Largest tumour size at or above this is 'large'.")
    afp_ng_ml: float = Field(400, gt=0, description="AFP at or above this (ng/mL) is 'high'.")
    pivka_mau_ml: float = Field(1000, gt=0, description="PIVKA-II at or above this (mAU/mL) is 'high'.")
    atebev_cycles_low: float = Field(3, gt=0, description="Fewer prior ATE+BEV cycles than this are 'few' "
                                                          "(a Cox candidate).")
    atebev_cycles_subgroup: float = Field(3, gt=0, description="Subgroups of prior ATE+BEV cycles: at most this "
                                                               "versus more (Supplementary Table 2).")


class Cox(_Section):
    """Cox proportional-hazards models (Table 4)."""

    ties: Literal["efron", "breslow"] = Field("efron", description="Handling of tied event times (R's default "
                                                                   "is Efron; SAS PHREG's is Breslow).")
    selection_p: float = Field(0.05, gt=0, le=1, description="A univariable p-value below this enters the "
                                                             "multivariable model.")


class Survival(_Section):
    """Kaplan-Meier summaries and figures."""

    followup_method: Literal["observed", "reverse_km"] = Field(
        "observed", description="observed: quantiles of observed times (as the article); reverse_km: the "
                                "reverse Kaplan-Meier (potential follow-up).")
    risk_table_months: list[float] = Field([0, 3, 6, 9, 12, 15, 18], min_length=1,
                                           description="Times (months) of the numbers-at-risk table and the "
                                                       "x-axis ticks of survival figures.")
    min_subgroup_size: int = Field(1, ge=1, description="Within-group comparisons (third-line regimens, "
                                                         "prior-cycles subgroups) leave out levels with fewer "
                                                         "patients; 1 keeps every level, as the article's p-values "
                                                         "require. Figures never draw a curve of one patient.")


class Bootstrap(_Section):
    """Bootstrap of the matched analysis (chapter "How stable are the matched estimates?")."""

    replicates: int = Field(999, ge=1, description="Bootstrap replicates; each resamples the enrolled patients "
                                                   "within group, re-fits the propensity model and re-matches.")
    seed: int = Field(20240702, description="Seed of the replicates' random streams "
                                            "(numpy SeedSequence(seed).spawn(replicates)).")
    n_jobs: int = Field(-1, description="joblib workers on this machine (-1: all cores); ignored when a scheduler "
                                        "is given.")
    scheduler: Optional[str] = Field(None, description="Address of a Dask scheduler (tcp://host:port) to run the "
                                                       "replicates on that cluster; null runs them locally. "
                                                       "hcc-study build --scheduler sets it.")

    @model_validator(mode="after")
    def _address(self):
        if self.scheduler is not None and "://" not in self.scheduler:
            raise ValueError(f"bootstrap.scheduler must be an address such as tcp://host:8786, got {self.scheduler!r}")
        return self


class Extract(_Section):
    """How to read the author's extract as it comes: its column names, sheet, date and decimal formats."""

    columns: dict[str, str] = Field(
        {}, description="The extract's column names mapped to the data dictionary's, e.g. {Patient ID: patient_id}; "
                        "applied on reading, before validation.")
    sheet: Optional[str] = Field(None, description="Excel worksheet holding the cohort; null for the first sheet.")
    date_format: Optional[str] = Field(
        None, description="Format of every date column written as text: YYYY-MM-DD, DD/MM/YYYY, MM/DD/YYYY, "
                          "DD.MM.YYYY, DD-MM-YYYY, YYYY/MM/DD ...; null detects it per column (ISO 8601 when "
                          "ambiguous). Excel date cells and Excel serial numbers are read whatever the format.")
    date_formats: dict[str, str] = Field(
        {}, description="Per-column date formats (dictionary column names), overriding date_format.")
    decimal: Literal["auto", ".", ","] = Field(
        "auto", description="Decimal mark of numbers written as text: auto reads 1,5 as 1.5 in a "
                            "semicolon-separated CSV only; ',' or '.' force it.")

    @model_validator(mode="after")
    def _formats_known(self):
        for where, value in [("date_format", self.date_format), *((f"date_formats.{k}", v)
                                                                   for k, v in self.date_formats.items())]:
            if value is not None:
                check_date_format(value, where)
        return self


class StudyConfig(_Section):
    """The whole study configuration (what ``study.yml`` holds)."""

    data: str = Field("data/synthetic_cohort.csv", description="Cohort file (.csv, .xlsx or .parquet), relative "
                                                               "to the configuration file.")
    seed: int = Field(20240701, description="Seed of every random step (matching order 'random', bootstrap).")
    min_group_size: int = Field(10, ge=1, description="Fewer enrolled patients in a group than this is a "
                                                      "validation error.")
    max_missing_share: float = Field(0.2, ge=0, le=1, description="A share of enrolled patients missing an "
                                                                  "optional value above this is a warning.")
    significance_level: float = Field(0.05, gt=0, lt=1, description="A p-value below this is called significant "
                                                                     "where the text states significance (e.g. the "
                                                                     "adverse events more frequent in one group).")
    groups: Groups = Field(default_factory=Groups)
    matching: Matching = Field(default_factory=Matching)
    baseline: Baseline = Field(default_factory=Baseline)
    cutpoints: Cutpoints = Field(default_factory=Cutpoints)
    cox: Cox = Field(default_factory=Cox)
    survival: Survival = Field(default_factory=Survival)
    bootstrap: Bootstrap = Field(default_factory=Bootstrap)
    extract: Extract = Field(default_factory=Extract)

    def to_dict(self) -> dict:
        """Plain JSON-compatible mapping (papermill parameter, manifest, cache key)."""
        return self.model_dump(mode="json")

    def results_dict(self) -> dict:
        """:meth:`to_dict` without the keys that choose where the work runs, not what it computes
        (:data:`EXECUTION_KEYS`): the runner's cache key, so a build on a Dask cluster reuses a local one."""
        values = self.to_dict()
        for dotted in EXECUTION_KEYS:
            section, key = dotted.split(".")
            values[section].pop(key, None)
        return values

    def replace(self, **changes: Any) -> "StudyConfig":
        """A copy with top-level keys or dotted keys replaced and validated, e.g. ``replace(**{"matching.ratio": 2})``."""
        values = self.to_dict()
        for dotted, value in changes.items():
            node = values
            *parents, leaf = dotted.split(".")
            for key in parents:
                node = node[key]
            node[leaf] = value
        return parse_config(values, "replace()")


#: Keys that change where or how fast a result is computed, never the result (bootstrap replicates are seeded per
#: replicate, so any scheduler and number of workers gives the same numbers).
EXECUTION_KEYS = ("bootstrap.n_jobs", "bootstrap.scheduler")

#: The defaults, as a plain mapping (for readers; the schema above is the source).
DEFAULTS: dict[str, Any] = StudyConfig().to_dict()


def _unknown_keys(model: type[BaseModel], given: dict, prefix: str = "") -> list[str]:
    """Unknown keys anywhere in ``given``, each with a suggestion of the closest known key."""
    problems = []
    for key, value in given.items():
        dotted = f"{prefix}{key}"
        field = model.model_fields.get(key)
        if field is None:
            close = difflib.get_close_matches(str(key), list(model.model_fields), n=1)
            hint = f" (did you mean '{prefix}{close[0]}'?)" if close else ""
            problems.append(f"unknown key '{dotted}'{hint}")
            continue
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(value, dict):
            problems.extend(_unknown_keys(annotation, value, dotted + "."))
    return problems


def parse_config(given: dict, source: str) -> StudyConfig:
    """Validate a mapping against the schema; every problem is reported at once, naming ``source`` and the key."""
    if not isinstance(given, dict):
        raise ConfigError(f"{source}: the configuration must be a mapping of keys to values")
    problems = _unknown_keys(StudyConfig, given)
    try:
        config = StudyConfig.model_validate(given)
    except ValidationError as exc:
        for error in exc.errors():
            if error["type"] == "extra_forbidden":  # reported above, with a suggestion
                continue
            where = ".".join(str(part) for part in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            got = f", got {error['input']!r}" if "input" in error and not isinstance(error["input"], dict) else ""
            problems.append(f"key '{where}': {message}{got}" if where else message)
    else:
        if not problems:
            return config
    raise ConfigError("\n".join(f"{source}: {problem}" for problem in problems))


def as_config(config: StudyConfig | dict | None) -> StudyConfig:
    """The configuration as a :class:`StudyConfig`: the schema's defaults (the article's settings) when None, a
    mapping validated (what papermill passes to a notebook)."""
    if config is None:
        return StudyConfig()
    if isinstance(config, StudyConfig):
        return config
    return parse_config(dict(config), "configuration")


def load_config(path: str | Path | None = None, data: str | Path | None = None) -> StudyConfig:
    """Read a study configuration, fill in defaults and resolve the data path.

    Parameters
    ----------
    path : path to a YAML file; the bundled ``study.yml`` when None.
    data : a cohort file that overrides the configuration's ``data`` (as ``--data`` on the command line).

    Returns
    -------
    StudyConfig
        ``data`` is an absolute path: relative paths in a file are taken relative to that file, a ``data``
        argument relative to the current directory.

    Raises
    ------
    ConfigError
        When the file is missing, is not YAML, or breaks the schema (all problems listed).
    """
    path = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    if not path.is_file():
        raise ConfigError(f"configuration file not found: {path}")
    try:
        given = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    config = parse_config(given, str(path))
    resolved = Path(data).resolve() if data is not None else (path.parent / config.data).resolve()
    return config.model_copy(update={"data": str(resolved)})


def schema_rows() -> list[dict[str, str]]:
    """Every key of the schema with its type, default and description (for the book's Configuration page)."""
    rows = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                rows.append({"key": f"{prefix}{name}", "type": "section", "default": "",
                             "description": (annotation.__doc__ or "").strip()})
                walk(annotation, f"{prefix}{name}.")
                continue
            default = field.get_default(call_default_factory=True)
            rows.append({"key": f"{prefix}{name}", "type": _type_name(annotation),
                         "default": yaml.safe_dump(default, default_flow_style=True, width=10_000)
                                        .strip().removesuffix("...").strip(),
                         "description": field.description or ""})

    walk(StudyConfig, "")
    return rows


def _type_name(annotation: Any) -> str:
    """A type as readers of the Configuration page write it: 'number', 'one of: a, b', 'list of text'..."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return "one of: " + ", ".join(str(a) for a in args)
    if origin in (Union, UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(names) + (" or null" if type(None) in args else "")
    if origin is list:
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"mapping of {_type_name(args[0])} to {_type_name(args[1])}" if args else "mapping"
    return {str: "text", int: "whole number", float: "number", bool: "true/false"}.get(annotation, str(annotation))
