"""The study as one object: a validated cohort, its derived analysis table and its matched pairs.

Notebooks call :func:`load_study` once, then the section functions of :mod:`hcc_utils.study.sections`, which return
``{result id: value}``. :func:`compute_results` runs them all; the synthetic cohort's calibration uses it, so the
numbers the calibration aims at are exactly the numbers the book reports.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hcc_utils.config import DEFAULTS, REPO_ROOT


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
    match_summary, ps_coefficients : from :func:`hcc_utils.stats.matching.match_cohort`.
    source_name : the data file's name (never its rows) for captions.
    synthetic : whether the cohort is one of this project's synthetic cohorts.
    """

    config: dict
    raw: pd.DataFrame
    flow: dict
    data: pd.DataFrame
    match_summary: dict
    ps_coefficients: pd.DataFrame
    source_name: str
    synthetic: bool

    @property
    def treatment(self) -> str:
        return self.config["groups"]["treatment"]

    @property
    def control(self) -> str:
        return self.config["groups"]["control"]

    @property
    def groups(self) -> list[str]:
        return [self.treatment, self.control]

    @property
    def matched(self) -> pd.DataFrame:
        return self.data[self.data["matched"] == 1]

    def cohorts(self) -> dict[str, pd.DataFrame]:
        """The two analysed cohorts keyed by their id suffix: '' (all enrolled) and '_matched'."""
        return {"": self.data, "_matched": self.matched}


def is_synthetic_frame(raw: pd.DataFrame) -> bool:
    """A synthetic cohort of this project names every centre ``synthetic-...``."""
    centres = raw.get("centre")
    return centres is not None and len(centres) > 0 and centres.astype(str).str.lower().str.startswith(SYNTHETIC_CENTRE_PREFIX).all()


def is_synthetic_file(path: Path) -> bool:
    from hcc_utils.data.readers import read_cohort

    try:
        return is_synthetic_frame(read_cohort(path))
    except Exception:
        return False


def build_study(raw: pd.DataFrame, config: dict | None = None, source_name: str = "cohort", validate: bool = True) -> Study:
    """Validate a screened cohort, derive the analysis table and match it."""
    from hcc_utils.data.derive import analysis_table, cohort_flow
    from hcc_utils.stats.matching import match_cohort
    from hcc_utils.data.validate import validate_cohort

    config = config or DEFAULTS
    if validate:
        validate_cohort(raw, source=source_name, config=config).raise_if_invalid()
    flow = cohort_flow(raw, config)
    analysis = analysis_table(raw, config)
    matched = match_cohort(analysis, config)
    return Study(config, raw, flow, matched.data, matched.summary, matched.coefficients, source_name,
                 is_synthetic_frame(raw))


def load_study(data_path: str | Path, config: dict | None = None) -> Study:
    """Read, validate, derive and match the cohort file of a run (what every notebook does first)."""
    from hcc_utils.data.readers import read_cohort

    path = Path(data_path)
    if not path.is_absolute():
        path = (REPO_ROOT / path).resolve() if not path.exists() else path.resolve()
    return build_study(read_cohort(path), config, source_name=path.name)


def data_note(study: Study):
    """A short note naming the data source, shown at the top of every section (never any row of data)."""
    from IPython.display import Markdown

    if study.synthetic:
        text = (f"```{{note}}\nThese results are computed from **{study.source_name}**, a *synthetic* cohort generated "
                "by this project and calibrated to the article's published aggregates. It contains no real patient; "
                "agreement with the article is by construction, not evidence.\n```")
    else:
        text = f"```{{note}}\nThese results are computed from the cohort file **{study.source_name}**.\n```"
    return Markdown(text)


ENDPOINTS = {"os": ("os_months", "os_event", "Overall survival"), "pfs": ("pfs_months", "pfs_event", "Progression-free survival")}


#: Readable labels of the analysis table's columns, for tables and figures.
LABELS = {
    "age": "Age, years", "sex_male": "Male sex", "ecog_2": "ECOG 2", "viral_etiology": "Viral aetiology",
    "child_pugh_b": "Child-Pugh B", "bclc_c": "BCLC C", "tumor_number": "Tumour number",
    "tumor_multiple": "Multiple tumours", "tumor_size_cm": "Largest tumour size, cm",
    "tumor_size_ge_10": "Tumour size ≥10 cm", "lymph_node_metastasis": "Lymph-node metastasis",
    "extrahepatic_metastasis": "Extrahepatic metastasis", "macrovascular_invasion": "Macrovascular invasion",
    "afp_ge_400": "AFP ≥400 ng/mL", "pivka_ge_1000": "PIVKA-II ≥1,000 mAU/mL", "atebev_cycles": "ATE+BEV cycles",
    "atebev_cycles_lt_3": "ATE+BEV cycles <3", "age_ge_65": "Age ≥65 years", "control_group": "Control regimen",
}


def label(column: str) -> str:
    return LABELS.get(column, column.replace("_", " "))


#: Readable names of regimen codes that are not words (the flow counts name fluorouracil ``5fu``).
REGIMEN_LABELS = {"5fu": "5-FU"}


def regimen_label(code: str) -> str:
    """A regimen code as the book writes it: '5fu' -> '5-FU', combinations 'a_b' -> 'a + b', others unchanged."""
    return REGIMEN_LABELS.get(str(code), str(code).replace("_", " + "))


def compute_results(raw: pd.DataFrame, config: dict | None = None, validate: bool = False) -> dict[str, Any]:
    """Every number of the book from a screened cohort, keyed by result id (what the notebooks record).

    Used by the synthetic cohort's calibration; the notebooks call the section functions one by one.
    """
    from hcc_utils.study.sections import SECTION_FUNCTIONS

    study = build_study(raw, config, validate=validate)
    values: dict[str, Any] = {}
    for function in SECTION_FUNCTIONS:
        values.update(function(study))
    return values
