"""The study as one object: a validated cohort, its derived analysis table and its matched pairs.

Notebooks call :func:`load_study` once, then the section modules of :mod:`hcc_utils.study.sections`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hcc_utils.config import REPO_ROOT, StudyConfig, as_config
from hcc_utils.data.derive import analysis_table, cohort_flow
from hcc_utils.data.readers import read_cohort, release_freed_memory
from hcc_utils.data.validate import validate_cohort
from hcc_utils.study.cache import (STUDY_CACHE_DIR, STUDY_CACHE_ENV, cache_is_current, read_cached_study,  # noqa: F401
                                   study_cache_key, write_cached_study)
from hcc_utils.study.matching import match_cohort

SYNTHETIC_CENTRE_PREFIX = "synthetic"


def group_code(study: "Study", regimen: str) -> str:
    """A group as result ids name it: its role, ``treatment`` or ``control`` (``survival.os_median_treatment``),
    whatever the regimens compared (:meth:`hcc_utils.config.schema.Groups.role`)."""
    return study.config.groups.role(regimen)


@dataclass
class Study:
    """A validated cohort with its derived tables.

    Attributes
    ----------
    config : the study configuration.
    raw : the screened cohort as read (one row per screened patient).
    flow : counts of the flow diagram.
    data : analysis table of the enrolled patients with ``ps``, ``logit_ps``, ``pair_id``, ``matched``.
    match_summary, ps_coefficients : from :func:`hcc_utils.study.matching.match_cohort`.
    source_name : the data file's name (never its rows) for captions.
    synthetic : whether the cohort is one of this project's synthetic cohorts.
    """

    config: StudyConfig
    raw: pd.DataFrame
    flow: dict
    data: pd.DataFrame
    match_summary: dict
    ps_coefficients: pd.DataFrame
    source_name: str
    synthetic: bool
    # subsets and masks computed once per ``data`` frame (dataclasses.replace gives a fresh, empty store)
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def _memoised(self, name: str, compute):
        """``compute()`` once per ``self.data`` object: reassigning ``data`` invalidates every stored value."""
        data = self.data
        hit = self._memo.get(name)
        if hit is not None and hit[0] is data:
            return hit[1]
        value = compute()
        self._memo[name] = (data, value)
        return value

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_memo"] = {}  # recomputed on demand; keeps the study cache small
        if state.get("_raw_source") is not None:
            state.pop("raw", None)  # the screened cohort is read again from its file if ever asked for
        return state

    def __getattr__(self, name: str):
        # only reached for attributes not set: ``raw`` of a study loaded from the cache without it
        source = self.__dict__.get("_raw_source")
        if name != "raw" or source is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        self.raw = read_cohort(source[0], config=source[1])
        return self.raw

    @property
    def treatment(self) -> str:
        return self.config.groups.treatment

    @property
    def control(self) -> str:
        return self.config.groups.control

    @property
    def groups(self) -> list[str]:
        return [self.treatment, self.control]

    @property
    def matched(self) -> pd.DataFrame:
        """The propensity-score-matched patients (computed once; do not modify the frame in place)."""
        return self._memoised("matched", lambda: self.data[self.data["matched"].to_numpy() == 1])

    def group_mask(self, cohort: pd.DataFrame, group: str) -> np.ndarray:
        """Boolean mask of ``group`` over the rows of ``cohort`` (``study.data`` or ``study.matched``: stored)."""
        if cohort is self.data or cohort is self.matched:
            which = "data" if cohort is self.data else "matched"
            return self._memoised(f"mask:{which}:{group}", lambda: (cohort["group"] == group).to_numpy(dtype=bool))
        return (cohort["group"] == group).to_numpy(dtype=bool)

    def cohorts(self) -> dict[str, pd.DataFrame]:
        """The analysed cohorts keyed by their id suffix: '' (all enrolled) and '_matched' — only those that can
        be analysed (see :meth:`cohort_problems`); sections loop over these."""
        problems = self.cohort_problems()
        return {suffix: cohort for suffix, cohort in (("", self.data), ("_matched", self.matched))
                if suffix not in problems}

    def cohort_problems(self) -> dict[str, str]:
        """Cohorts that cannot be analysed, with the reason: a group with fewer than two patients (for example
        when matching formed no pair)."""
        return dict(self._memoised("problems", self._cohort_problems))

    def _cohort_problems(self) -> dict[str, str]:
        problems = {}
        for suffix, cohort in (("", self.data), ("_matched", self.matched)):
            sizes = cohort["group"].value_counts()
            small = [g for g in self.groups if sizes.get(g, 0) < 2]
            if small:
                what = "no pair was formed by the matching" if suffix and len(cohort) == 0 else \
                    f"fewer than two patients in {' and '.join(small)}"
                problems[suffix] = what
        return problems


def is_synthetic_frame(raw: pd.DataFrame) -> bool:
    """A synthetic cohort of this project names every centre ``synthetic-...``."""
    centres = raw.get("centre")
    if centres is None or len(centres) == 0:
        return False
    if isinstance(centres.dtype, pd.CategoricalDtype):  # the reader's categorical: test each centre once
        codes = centres.cat.codes.to_numpy()
        if (codes < 0).any():  # a missing centre, as the text "nan", is not synthetic
            return False
        centres = pd.Series(centres.cat.categories[np.unique(codes)])
    return bool(centres.astype(str).str.lower().str.startswith(SYNTHETIC_CENTRE_PREFIX).all())


def is_synthetic_file(path: Path) -> bool:
    try:
        return is_synthetic_frame(read_cohort(path))
    except Exception:
        return False


def build_study(raw: pd.DataFrame, config: StudyConfig | dict | None = None, source_name: str = "cohort",
                validate: bool = True) -> Study:
    """Validate a screened cohort, derive the analysis table and match it."""
    config = as_config(config)
    derived: list[pd.DataFrame] = []

    def table() -> pd.DataFrame:  # derived once, checked by validation and then analysed
        if not derived:
            derived.append(analysis_table(raw, config))
        return derived[0]

    shared = {"analysis_table": table}
    if validate:
        validate_cohort(raw, source=source_name, config=config, shared=shared).raise_if_invalid()
    flow = cohort_flow(raw, config)
    fitted = (shared["propensity"], shared["match"]) if "propensity" in shared else None
    matched = match_cohort(table(), config, fitted=fitted)
    del shared, derived, fitted
    release_freed_memory()  # the validation's typed columns and the matching's work arrays
    return Study(config, raw, flow, matched.data, matched.summary, matched.coefficients, source_name,
                 bool(is_synthetic_frame(raw)))


def load_study(data_path: str | Path, config: StudyConfig | dict | None = None,
               cache: str | Path | bool | None = None) -> Study:
    """Read, validate, derive and match the cohort file of a run (what every notebook does first).

    Parameters
    ----------
    data_path : the cohort file (relative paths from the working folder, else from the project folder).
    config : the study configuration.
    cache : folder of the study cache (:mod:`hcc_utils.study.cache`) to load the study from; None takes the
        folder the runner names in ``HCC_STUDY_CACHE_DIR`` (a notebook run alone computes the study), False
        never uses a cache. A missing, stale or damaged entry is recomputed (never written: only the runner
        writes the cache).
    """
    path = Path(data_path)
    if not path.is_absolute():
        path = (REPO_ROOT / path).resolve() if not path.exists() else path.resolve()
    config = as_config(config)
    folder = os.environ.get(STUDY_CACHE_ENV) if cache is None else (cache or None)
    if folder and path.is_file():
        key = study_cache_key(path, config)
        cached = read_cached_study(folder, key)
        if cached is not None:
            return cached
    study = build_study(read_cohort(path, config=config), config, source_name=path.name)
    study._raw_source = (path, config)  # lets the study cache leave the screened cohort out
    return study


def prepare_study_cache(data_path: str | Path, config: StudyConfig | dict | None, folder: str | Path) -> Path:
    """Make sure ``folder`` holds the study of ``data_path`` under ``config``, computing it only when its entry is
    missing, stale or damaged; return ``folder`` (what the runner names in ``HCC_STUDY_CACHE_DIR``)."""
    path, config = Path(data_path).resolve(), as_config(config)
    key = study_cache_key(path, config)
    if not cache_is_current(folder, key):
        write_cached_study(load_study(path, config, cache=False), folder, key)
    return Path(folder)
