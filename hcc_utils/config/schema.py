"""The study configuration: one typed schema, with every default in one place.

The bundled ``study.yml`` restates these defaults (the article's settings; a test checks that it does). Authors
copy it, edit it and pass it with ``--config``; any key they leave out takes the default below, so a configuration
may be as short as ``data: my_cohort.xlsx``. Unknown keys are refused with a suggestion, every problem of a file
is reported at once, and the book's *Configuration* page documents every key from this schema.
"""
from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal, Optional, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from hcc_utils.config.extract import Extract
from hcc_utils.config.identity import StudyIdentity
from hcc_utils.config.section import Section

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_PATH = REPO_ROOT / "study.yml"


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and every offending key."""


_Section = Section  # every section refuses unknown keys and is frozen (hcc_utils.config.section)


#: The parts the two compared regimens play; result ids name a group by its role (``survival.os_median_treatment``).
ROLES = ("treatment", "control")


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

    def role(self, regimen: str) -> str:
        """The role of a compared regimen, as result ids name its group: 'treatment' or 'control' (the one place
        a group becomes a part of an id, so that ids do not depend on which regimens a study compares).

        Raises
        ------
        ValueError
            ``regimen`` is neither of the compared regimens.
        """
        name = str(regimen).strip().lower()
        for role in ROLES:
            if getattr(self, role).strip().lower() == name:
                return role
        raise ValueError(f"{regimen!r} is not a compared group ({self.treatment!r} or {self.control!r})")


class Matching(_Section):
    """Propensity-score matching (nearest neighbour, without replacement)."""

    covariates: list[str] = Field(
        ["age", "sex_male", "tumor_size_cm", "tumor_multiple", "extrahepatic_metastasis", "lymph_node_metastasis",
         "child_pugh_b"],
        min_length=1,
        description="Columns of the analysis table (or variables of the configuration's variables list) entering "
                    "the unpenalised logistic propensity model, linearly: numbers, whole numbers or yes/no "
                    "variables (a category must be given as yes/no variables, one per level). The weighting, "
                    "the bootstrap and the chapter on matching choices use the same model.")
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

    @field_validator("covariates")
    @classmethod
    def _distinct_covariates(cls, names: list[str]) -> list[str]:
        return _distinct(names, "matching.covariates")


class BaselineRow(_Section):
    """One row block of Table 1 (a bare column name in YAML is a row with everything inferred)."""

    variable: str = Field(description="Column of the analysis table, or a variable of the configuration's "
                                      "variables list.")
    kind: Optional[Literal["median_iqr", "mean_sd", "binary", "categorical"]] = Field(
        None, description="How the row is summarised: median (IQR), mean ± SD, n (%) of a yes/no variable, or n (%) "
                          "per level; null infers it from the variable's type (number and whole number: median_iqr; "
                          "yes/no: binary; category: categorical).")
    label: Optional[str] = Field(None, description="Text of the row; null takes the variable's label.")
    levels: Optional[list[Union[int, str]]] = Field(
        None, description="Levels of a categorical row in display order; null takes the variable's allowed values "
                          "(or its range of whole numbers). Levels no patient has are left out.")

    @model_validator(mode="before")
    @classmethod
    def _bare_name(cls, given: Any) -> Any:
        return {"variable": given} if isinstance(given, str) else given


#: Table 1 of the article: the rows' variables, with the kind or label where the inferred one would differ.
ARTICLE_TABLE1_ROWS = [
    "age", "sex_male", {"variable": "ecog", "kind": "categorical"}, "etiology",
    {"variable": "viral_etiology", "label": "Viral aetiology (HBV and/or HCV)"}, "child_pugh_class",
    {"variable": "bclc_c", "label": "BCLC stage C"}, "tumor_multiple", "tumor_size_cm", "tumor_size_large",
    "lymph_node_metastasis", "extrahepatic_metastasis", "macrovascular_invasion", "afp_ng_ml", "afp_high",
    "pivka_mau_ml", "pivka_high", {"variable": "atebev_cycles", "label": "Prior ATE+BEV cycles"},
]


class Baseline(_Section):
    """Rows, tests and quantiles of the baseline table (Table 1) and of 2x2 comparisons."""

    rows: list[BaselineRow] = Field(
        default_factory=lambda: [BaselineRow.model_validate(row) for row in ARTICLE_TABLE1_ROWS], min_length=1,
        description="Table 1's rows in order: a column name, or a mapping with variable and optionally kind, "
                    "label and levels (see baseline.rows[] below). The numbers the text quotes from Table 1 "
                    "(age, men, Child-Pugh class ...) are 'not estimable' when their row is left out.")

    categorical_test: Literal["chisq", "fisher_if_sparse"] = Field(
        "chisq", description="Pearson chi-square without continuity correction (as the article's p-values "
                             "imply), or Fisher's exact test when an expected count is below 5.")
    continuous_test: Literal["auto", "ttest", "mannwhitney"] = Field(
        "auto", description="auto: t-test for mean±SD rows, Mann-Whitney for median (IQR) rows.")
    quantile_method: Literal["sas5", "r7"] = Field(
        "sas5", description="Descriptive quantiles: SAS PCTLDEF=5 (= R type 2, the article's software) or "
                            "R's default type 7.")

    @field_validator("rows")
    @classmethod
    def _distinct_rows(cls, rows: list[BaselineRow]) -> list[BaselineRow]:
        _distinct([row.variable for row in rows], "baseline.rows")
        return rows


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
    candidates: list[str] = Field(
        ["age_older", "sex_male", "ecog_2", "viral_etiology", "child_pugh_b", "bclc_c", "tumor_multiple",
         "tumor_size_large", "lymph_node_metastasis", "extrahepatic_metastasis", "macrovascular_invasion",
         "afp_high", "pivka_high", "control_group", "atebev_cycles_few"], min_length=1,
        description="Candidate predictors of Table 4, in its row order: each is screened by a univariable Cox model "
                    "of each endpoint. Columns of the analysis table or variables of the configuration (numbers, "
                    "whole numbers or yes/no; a number's hazard ratio is per unit), and control_group (1 = the "
                    "control regimen). A candidate that is constant, or has no event in one of its levels, gets a "
                    "row 'not estimable' with the reason. Result ids name the article's candidates as the article "
                    "does (cox.os_uni_ecog2_hr) and any other by its name.")
    forced: list[str] = Field([], description="Candidates that always enter the multivariable model, whatever their "
                                              "univariable P (each must be in cox.candidates).")

    @field_validator("candidates", "forced")
    @classmethod
    def _distinct_names(cls, names: list[str], info) -> list[str]:
        return _distinct(names, f"cox.{info.field_name}")

    @model_validator(mode="after")
    def _forced_among_candidates(self):
        outside = [name for name in self.forced if name not in self.candidates]
        if outside:
            raise ValueError(f"cox.forced: {', '.join(outside)} not in cox.candidates; add them there too (a forced "
                             "covariate is screened like the others and always enters the multivariable model)")
        return self


class Diagnostics(_Section):
    """The models whose proportional-hazards assumption the chapter *Checking the models* tests."""

    regimen_models: bool = Field(True, description="The regimen-only Cox model of each endpoint and cohort "
                                                   "(Table 3, Figures 2-3).")
    univariable: Optional[list[str]] = Field(
        None, description="Covariates whose univariable Cox model of each endpoint is tested; null: every one of "
                          "cox.candidates (Table 4's univariable models).")
    multivariable: bool = Field(True, description="The multivariable Cox model of each endpoint (Table 4).")

    @field_validator("univariable")
    @classmethod
    def _distinct_univariable(cls, names: Optional[list[str]]) -> Optional[list[str]]:
        return None if names is None else _distinct(names, "diagnostics.univariable")


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


class Variable(_Section):
    """A variable of the author's extract that the data dictionary does not have (e.g. ALBI grade)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$",
                      description="Column name after normalisation (lower case, letters, digits and _); "
                                  "extract.columns may map the extract's own name to it.")
    type: Literal["number", "integer", "boolean", "category"] = Field(
        description="number, integer (whole number), boolean (yes/no; 0/1 in the analysis table) or category "
                    "(text, one of allowed).")
    label: Optional[str] = Field(None, description="How tables, figures and the text name it; null: the name.")
    description: str = Field("", description="Shown on the book's Data page.")
    unit: Optional[str] = Field(None, description="Measurement unit, e.g. mg/dL.")
    allowed: Optional[list[str]] = Field(None, description="Values of a category (required for one; "
                                                           "case-insensitive).")
    min: Optional[float] = Field(None, description="Smallest valid value of a number or integer; below is an error.")
    max: Optional[float] = Field(None, description="Largest valid value of a number or integer; above is an error.")
    required: Literal["always", "enrolled", "optional"] = Field(
        "optional", description="always (every row), enrolled (every patient of the two groups) or optional "
                                "(may be empty; a model leaves out the patients without it).")

    @model_validator(mode="after")
    def _consistent(self):
        where = f"variables: {self.name}"
        if self.type == "category" and not self.allowed:
            raise ValueError(f"{where}: a category needs its allowed values")
        if self.type != "category" and self.allowed is not None:
            raise ValueError(f"{where}: allowed values are for a category, not a {self.type}")
        if self.type in ("boolean", "category") and (self.min is not None or self.max is not None):
            raise ValueError(f"{where}: min and max are for a number or integer")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"{where}: min {self.min:g} is above max {self.max:g}")
        return self

    @property
    def shown(self) -> str:
        """The variable's label (its name when none is given)."""
        return self.label or self.name


def _distinct(names: list[str], key: str) -> list[str]:
    """``names`` unchanged, or a ValueError naming ``key`` and the names given twice."""
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"{key}: {', '.join(twice)} given more than once")
    return names


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
    variables: list[Variable] = Field(
        [], description="Variables of your extract to add to the data dictionary, e.g. "
                        "[{name: albi_grade, type: integer, min: 1, max: 3, label: ALBI grade, required: enrolled}]. "
                        "They are read (extract.columns may map to them), validated like the dictionary's columns, "
                        "carried into the analysis table (yes/no as 0/1, categories as text) and may be named in "
                        "baseline.rows, matching.covariates, cox.candidates, cox.forced and diagnostics.univariable.")
    study: StudyIdentity = Field(default_factory=StudyIdentity)
    groups: Groups = Field(default_factory=Groups)
    matching: Matching = Field(default_factory=Matching)
    baseline: Baseline = Field(default_factory=Baseline)
    cutpoints: Cutpoints = Field(default_factory=Cutpoints)
    cox: Cox = Field(default_factory=Cox)
    diagnostics: Diagnostics = Field(default_factory=Diagnostics)
    survival: Survival = Field(default_factory=Survival)
    bootstrap: Bootstrap = Field(default_factory=Bootstrap)
    extract: Extract = Field(default_factory=Extract)

    @field_validator("variables")
    @classmethod
    def _distinct_variables(cls, variables: list[Variable]) -> list[Variable]:
        _distinct([variable.name for variable in variables], "variables")
        return variables

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
        if _is_model(annotation) and isinstance(value, dict):
            problems.extend(_unknown_keys(annotation, value, dotted + "."))
        item = _list_item_model(annotation)
        if item is not None and isinstance(value, list):
            for position, entry in enumerate(value):
                if isinstance(entry, dict):
                    problems.extend(_unknown_keys(item, entry, f"{dotted}[{position}]."))
    return problems


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _list_item_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a list's items (``list[Variable]`` -> ``Variable``), None for any other annotation."""
    if get_origin(annotation) is list and get_args(annotation) and _is_model(get_args(annotation)[0]):
        return get_args(annotation)[0]
    return None


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
