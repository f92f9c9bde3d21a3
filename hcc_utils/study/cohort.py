"""The study as one object: a validated cohort, its derived analysis table and its matched pairs.

Notebooks call :func:`load_study` once, then the section modules of :mod:`hcc_utils.study.sections`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hcc_utils.config import REPO_ROOT, StudyConfig, as_config
from hcc_utils.data.derive import analysis_table, cohort_flow
from hcc_utils.data.readers import read_cohort
from hcc_utils.data.validate import validate_cohort
from hcc_utils.study.matching import match_cohort

SYNTHETIC_CENTRE_PREFIX = "synthetic"


def group_code(regimen: str) -> str:
    """Short name of a group in result ids: the regimen's first three letters (lenvatinib -> len)."""
    return str(regimen)[:3]


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
        return self.data[self.data["matched"] == 1]

    def cohorts(self) -> dict[str, pd.DataFrame]:
        """The analysed cohorts keyed by their id suffix: '' (all enrolled) and '_matched' — only those that can
        be analysed (see :meth:`cohort_problems`); sections loop over these."""
        problems = self.cohort_problems()
        return {suffix: cohort for suffix, cohort in (("", self.data), ("_matched", self.matched))
                if suffix not in problems}

    def cohort_problems(self) -> dict[str, str]:
        """Cohorts that cannot be analysed, with the reason: a group with fewer than two patients (for example
        when matching formed no pair)."""
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
    return centres is not None and len(centres) > 0 and centres.astype(str).str.lower().str.startswith(SYNTHETIC_CENTRE_PREFIX).all()


def is_synthetic_file(path: Path) -> bool:
    try:
        return is_synthetic_frame(read_cohort(path))
    except Exception:
        return False


def build_study(raw: pd.DataFrame, config: StudyConfig | dict | None = None, source_name: str = "cohort",
                validate: bool = True) -> Study:
    """Validate a screened cohort, derive the analysis table and match it."""
    config = as_config(config)
    if validate:
        validate_cohort(raw, source=source_name, config=config).raise_if_invalid()
    flow = cohort_flow(raw, config)
    analysis = analysis_table(raw, config)
    matched = match_cohort(analysis, config)
    return Study(config, raw, flow, matched.data, matched.summary, matched.coefficients, source_name,
                 is_synthetic_frame(raw))


def load_study(data_path: str | Path, config: StudyConfig | dict | None = None) -> Study:
    """Read, validate, derive and match the cohort file of a run (what every notebook does first)."""
    path = Path(data_path)
    if not path.is_absolute():
        path = (REPO_ROOT / path).resolve() if not path.exists() else path.resolve()
    config = as_config(config)
    return build_study(read_cohort(path, config=config), config, source_name=path.name)
