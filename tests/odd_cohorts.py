"""Odd but legal cohorts, and every notebook's computation run on them in this process.

:func:`odd_cohorts` draws cohorts from the valid 40-patient cohort of ``tests/cohort_factory.py`` with a seeded
generator: each applies one to three of the :data:`ODD` perturbations (a constant covariate, an empty or all-censored
group, a group of one or two patients, no progression at all, missing optional columns, a covariate identical to the
group, one patient per level, a tiny cohort, the author's own variables used in every list ...), each with the
configuration that goes with it (a dictionary of ``study.yml`` keys).

:func:`run_notebooks` executes the code cells of every section notebook (``notebooks/*.ipynb``) as papermill would
(its parameters injected after the parameters cell), on the study cache the runner would prepare, with figures drawn
on the Agg canvas but not written (writing SVG, PNG and PDF is most of a notebook's time and no computation). A
failing cell raises :class:`NotebookFailed` naming the notebook and the cell.
"""
from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from cohort_factory import make_cohort, write_cohort  # noqa: E402
from hcc_utils.config import REPO_ROOT, StudyConfig, parse_config  # noqa: E402
from hcc_utils.study.cache import STUDY_CACHE_ENV  # noqa: E402
from hcc_utils.study.cohort import prepare_study_cache  # noqa: E402

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: The enrolled patients of the factory cohort: P001-P030 (P001, P003, ... lenvatinib; P002, P004, ... sorafenib).
ENROLLED = np.arange(30)


class NotebookFailed(AssertionError):
    """A notebook's cell raised: the notebook, the cell and the exception."""


@dataclass(eq=False)
class OddCohort:
    """A cohort (typed frame, screened patients) and its configuration (``study.yml`` keys), with the names of
    the perturbations that made it."""

    frame: pd.DataFrame
    settings: dict
    made_by: list = field(default_factory=list)

    def config(self) -> StudyConfig:
        return parse_config(self.settings, " + ".join(self.made_by) or "odd cohort")

    def write(self, folder: Path) -> tuple[Path, StudyConfig]:
        """The cohort as CSV in ``folder`` and its configuration (data path resolved)."""
        Path(folder).mkdir(parents=True, exist_ok=True)
        path = write_cohort(self.frame, Path(folder) / "cohort.csv")
        return path, self.config().model_copy(update={"data": str(path)})


# --------------------------------------------------------------------------------------------------------------
# the perturbations: each changes the frame and the settings in place
# --------------------------------------------------------------------------------------------------------------
def _lists(settings: dict) -> dict:
    """The settings' analysis lists, filled with the defaults where not set yet (to edit them)."""
    defaults = StudyConfig()
    settings.setdefault("matching", {}).setdefault("covariates", list(defaults.matching.covariates))
    settings.setdefault("cox", {}).setdefault("candidates", list(defaults.cox.candidates))
    settings.setdefault("baseline", {}).setdefault("rows", [row.model_dump(exclude_none=True)
                                                            for row in defaults.baseline.rows])
    return settings


def _remove_everywhere(settings: dict, *names: str) -> None:
    """Take ``names`` out of every analysis list (as an author without those columns would)."""
    _lists(settings)
    settings["matching"]["covariates"] = [c for c in settings["matching"]["covariates"] if c not in names]
    settings["cox"]["candidates"] = [c for c in settings["cox"]["candidates"] if c not in names]
    settings["cox"]["forced"] = [c for c in settings["cox"].get("forced", []) if c not in names]
    settings["baseline"]["rows"] = [r for r in settings["baseline"]["rows"]
                                    if (r if isinstance(r, str) else r["variable"]) not in names]
    if not settings["matching"]["covariates"]:
        settings["matching"]["covariates"] = ["age"]


def _enrolled_of(frame: pd.DataFrame, regimen: str | None = None) -> pd.Index:
    """Index labels of the enrolled patients still in ``frame`` (of one regimen when given)."""
    rows = frame["patient_id"].isin([f"P{i + 1:03d}" for i in ENROLLED])
    if regimen is not None:
        rows &= frame["second_line_regimen"] == regimen
    return frame.index[rows.to_numpy()]


def constant_candidate(frame, settings, rng):
    """A yes/no covariate (not one of the matching's) is the same for every enrolled patient: the issue's defect."""
    column = rng.choice(["macrovascular_invasion", "bclc_stage"])
    rows = _enrolled_of(frame)
    frame.loc[rows, column] = False if column == "macrovascular_invasion" else "c"


def constant_matching_covariate(frame, settings, rng):
    """A matching covariate is constant: validation must refuse it (the propensity model cannot take it)."""
    frame.loc[_enrolled_of(frame), "lymph_node_metastasis"] = False


def constant_covariate_removed(frame, settings, rng):
    """lymph_node_metastasis constant, and taken out of every list as validation asks."""
    constant_matching_covariate(frame, settings, rng)
    _remove_everywhere(settings, "lymph_node_metastasis")


def no_lymph_node_column(frame, settings, rng):
    """The extract has no lymph-node column; the author took it out of the lists."""
    frame.drop(columns=["lymph_node_metastasis"], inplace=True)
    _remove_everywhere(settings, "lymph_node_metastasis")


def no_lymph_node_column_kept_in_lists(frame, settings, rng):
    """The column is absent but the lists still use it: a required column is missing (validation error)."""
    frame.drop(columns=["lymph_node_metastasis"], inplace=True)


def no_tumour_markers(frame, settings, rng):
    """No AFP and PIVKA-II columns (optional); their variables taken out of the lists."""
    frame.drop(columns=["afp_ng_ml", "pivka_mau_ml"], inplace=True)
    _remove_everywhere(settings, "afp_ng_ml", "afp_high", "pivka_mau_ml", "pivka_high")


def all_censored(frame, settings, rng):
    """Nobody died (validation: no OS event)."""
    rows = _enrolled_of(frame)
    frame.loc[rows, "last_followup_date"] = frame.loc[rows, ["progression_date", "second_line_start_date"]].max(
        axis=1) + pd.Timedelta(days=30)
    frame.loc[rows, "death_date"] = pd.NaT


def group_all_censored(frame, settings, rng):
    """No death and no progression in one group."""
    rows = _enrolled_of(frame, "lenvatinib" if rng.random() < 0.5 else "sorafenib")
    frame.loc[rows, "last_followup_date"] = frame.loc[rows, "second_line_start_date"] + pd.Timedelta(days=90)
    frame.loc[rows, ["death_date", "progression_date"]] = pd.NaT


def no_progression(frame, settings, rng):
    """No progression recorded: PFS events are the deaths."""
    frame.loc[_enrolled_of(frame), "progression_date"] = pd.NaT


def small_group(frame, settings, rng):
    """The treatment group keeps one, two or three patients (min_group_size 1): one cannot be compared."""
    keep = int(rng.integers(1, 4))
    frame.drop(index=_enrolled_of(frame, "lenvatinib")[keep:], inplace=True)
    settings["min_group_size"] = 1
    _lists(settings)["matching"]["covariates"] = ["age"]


def tiny_cohort(frame, settings, rng):
    """Three patients per group."""
    kept = [f"P{i + 1:03d}" for i in range(6)]
    frame.drop(index=_enrolled_of(frame).difference(frame.index[frame["patient_id"].isin(kept).to_numpy()]),
               inplace=True)
    settings["min_group_size"] = 1
    _lists(settings)["matching"]["covariates"] = ["age"]


def covariate_is_the_group(frame, settings, rng):
    """lymph_node_metastasis is the regimen itself: in matching it separates the groups (validation error)."""
    rows = _enrolled_of(frame)
    frame.loc[rows, "lymph_node_metastasis"] = (frame.loc[rows, "second_line_regimen"] == "lenvatinib").to_numpy()


def covariate_is_the_group_not_matched(frame, settings, rng):
    """... and taken out of the matching only: a Cox candidate equal to the regimen indicator."""
    covariate_is_the_group(frame, settings, rng)
    _lists(settings)
    settings["matching"]["covariates"] = [c for c in settings["matching"]["covariates"] if c != "lymph_node_metastasis"]
    settings["cox"]["forced"] = ["lymph_node_metastasis", "control_group"]


def one_patient_per_level(frame, settings, rng):
    """Rare levels: one patient with ECOG 4, one of each aetiology but the commonest, one BCLC stage A."""
    rows = _enrolled_of(frame)
    frame.loc[rows, "etiology"] = "hbv"
    for row, value in zip(rows[:5], ["hcv", "hbv_hcv", "alcohol", "nash", "other"]):
        frame.loc[row, "etiology"] = value
    frame.loc[rows[len(rows) // 2], "ecog"] = 4
    frame.loc[rows[-1], "bclc_stage"] = "a"


def no_pairs(frame, settings, rng):
    """A caliper no control meets: the matched cohort is not estimable."""
    settings.setdefault("matching", {})["caliper"] = 1e-7


def two_controls_each(frame, settings, rng):
    """1:2 matching."""
    settings.setdefault("matching", {})["ratio"] = 2


def mrecist_in_one_group(frame, settings, rng):
    """mRECIST recorded for one group only."""
    frame.loc[_enrolled_of(frame, "lenvatinib"), "best_response_mrecist"] = None


def nobody_third_line(frame, settings, rng):
    """No patient received third-line therapy."""
    frame.loc[_enrolled_of(frame), "third_line_regimen"] = "none"


def same_death_day(frame, settings, rng):
    """Every death on the 100th day (ties everywhere)."""
    rows = _enrolled_of(frame).intersection(frame.index[frame["death_date"].notna().to_numpy()])
    day = frame.loc[rows, "second_line_start_date"] + pd.Timedelta(days=100)
    frame.loc[rows, "death_date"] = day
    frame.loc[rows, "last_followup_date"] = day
    frame.loc[rows, "progression_date"] = frame.loc[rows, "progression_date"].where(
        frame.loc[rows, "progression_date"] <= day, day)


def albi_everywhere(frame, settings, rng):
    """The author's ALBI grade (whole number 1-3) in Table 1, the matching, the Cox candidates (forced) and the
    diagnostics."""
    frame["albi_grade"] = rng.integers(1, 4, size=len(frame))
    settings.setdefault("variables", []).append({"name": "albi_grade", "type": "integer", "min": 1, "max": 3,
                                                 "label": "ALBI grade", "required": "enrolled"})
    _lists(settings)
    settings["baseline"]["rows"].append({"variable": "albi_grade", "kind": "categorical"})
    settings["matching"]["covariates"].append("albi_grade")
    settings["cox"]["candidates"].append("albi_grade")
    settings["cox"]["forced"] = ["albi_grade"]
    settings.setdefault("diagnostics", {})["univariable"] = ["albi_grade", "control_group"]


def author_variables_of_each_type(frame, settings, rng):
    """A category (Table 1), a yes/no variable (matching and Cox) and an optional number with gaps (Table 1, Cox)."""
    frame["pdl1"] = rng.choice(["negative", "low", "high"], size=len(frame))
    frame["portal_hypertension"] = rng.random(len(frame)) < 0.4
    nlr = np.round(rng.gamma(3, 1.2, size=len(frame)), 1).astype(object)
    nlr[rng.random(len(frame)) < 0.3] = None
    frame["nlr"] = nlr
    settings.setdefault("variables", []).extend([
        {"name": "pdl1", "type": "category", "allowed": ["negative", "low", "high"], "label": "PD-L1"},
        {"name": "portal_hypertension", "type": "boolean", "label": "Portal hypertension", "required": "enrolled"},
        {"name": "nlr", "type": "number", "min": 0, "label": "Neutrophil-to-lymphocyte ratio"}])
    _lists(settings)
    settings["baseline"]["rows"] += [{"variable": "pdl1", "levels": ["negative", "low", "high"]},
                                     "portal_hypertension", "nlr"]
    settings["matching"]["covariates"].append("portal_hypertension")
    settings["cox"]["candidates"] += ["portal_hypertension", "nlr"]


def constant_forced(frame, settings, rng):
    """A forced covariate that takes one value: the multivariable models are not estimable."""
    frame.loc[_enrolled_of(frame), "macrovascular_invasion"] = True
    _lists(settings)
    settings["cox"]["forced"] = ["macrovascular_invasion"]


def constant_age(frame, settings, rng):
    """Everybody is 60: a constant matching covariate (validation error) and a constant Table 1 row."""
    frame.loc[_enrolled_of(frame), "age"] = 60.0


def category_in_a_model(frame, settings, rng):
    """A category as a Cox candidate: the configuration is refused by validation (variable_kind)."""
    _lists(settings)["cox"]["candidates"].append("etiology")


def misspelled_candidate(frame, settings, rng):
    """A name no column has (validation: unknown_variable, with the closest name)."""
    _lists(settings)["cox"]["candidates"].append("albi")


def levels_short_of_the_values(frame, settings, rng):
    """A Table 1 row whose given levels miss values of the data (validation: baseline_levels)."""
    _lists(settings)["baseline"]["rows"].append({"variable": "ecog", "kind": "categorical", "levels": [0, 1]})
    settings["baseline"]["rows"] = [r for r in settings["baseline"]["rows"]
                                    if not (isinstance(r, dict) and r.get("variable") == "ecog" and "levels" not in r)]


def author_variable_with_gaps_matched(frame, settings, rng):
    """An optional variable with missing values in the matching (validation: covariate_missing)."""
    values = np.round(rng.gamma(3, 1.2, size=len(frame)), 1).astype(object)
    values[::4] = None
    frame["crp_mg_l"] = values
    settings.setdefault("variables", []).append({"name": "crp_mg_l", "type": "number", "min": 0, "unit": "mg/L"})
    _lists(settings)["matching"]["covariates"].append("crp_mg_l")


def diagnostics_left_out(frame, settings, rng):
    """The chapter on model checks tests the univariable models of two covariates only."""
    settings["diagnostics"] = {"regimen_models": False, "univariable": ["ecog_2", "child_pugh_b"],
                               "multivariable": False}


def no_metastasis_columns(frame, settings, rng):
    """No macrovascular-invasion and extrahepatic-metastasis columns (the letter's exact matching cannot run)."""
    frame.drop(columns=["macrovascular_invasion", "extrahepatic_metastasis"], inplace=True)
    _remove_everywhere(settings, "macrovascular_invasion", "extrahepatic_metastasis")


def quoted_rows_left_out(frame, settings, rng):
    """Table 1 without age, sex and Child-Pugh class: the text's numbers from them are computed for the text alone."""
    _remove_everywhere(settings, "age", "sex_male", "child_pugh_class")
    settings["matching"]["covariates"] = settings["matching"]["covariates"] or ["tumor_size_cm"]


def no_sex_column(frame, settings, rng):
    """No sex column (and sex in no list): the text's count of men is not estimable."""
    frame.drop(columns=["sex"], inplace=True)
    _remove_everywhere(settings, "sex_male")
    settings["matching"]["covariates"] = settings["matching"]["covariates"] or ["tumor_size_cm"]


#: Every perturbation, by name.
ODD: dict[str, Callable] = {f.__name__: f for f in (
    constant_candidate, constant_matching_covariate, constant_covariate_removed, no_lymph_node_column,
    no_lymph_node_column_kept_in_lists, no_tumour_markers, all_censored, group_all_censored, no_progression,
    small_group, tiny_cohort, covariate_is_the_group, covariate_is_the_group_not_matched, one_patient_per_level,
    no_pairs, two_controls_each, mrecist_in_one_group, nobody_third_line, same_death_day, albi_everywhere,
    author_variables_of_each_type, constant_forced, constant_age, category_in_a_model, misspelled_candidate,
    levels_short_of_the_values, author_variable_with_gaps_matched, diagnostics_left_out, no_metastasis_columns,
    quoted_rows_left_out, no_sex_column)}


def odd_cohort(*names: str, seed: int = 0) -> OddCohort:
    """The factory cohort with the named perturbations applied in order (few bootstrap replicates)."""
    rng = np.random.default_rng(seed)
    cohort = OddCohort(make_cohort(), {"bootstrap": {"replicates": 4, "n_jobs": 1}}, list(names))
    for name in names:
        ODD[name](cohort.frame, cohort.settings, rng)
    cohort.frame = cohort.frame.reset_index(drop=True)
    return cohort


def odd_cohorts(n: int, seed: int = 20240723) -> list[OddCohort]:
    """``n`` cohorts, each with one to three perturbations drawn by a generator seeded with ``seed``."""
    rng = np.random.default_rng(seed)
    names = list(ODD)
    cohorts = []
    for index in range(n):
        chosen = [str(name) for name in rng.choice(names, size=int(rng.integers(1, 4)), replace=False)]
        cohorts.append(odd_cohort(*chosen, seed=seed + index))
    return cohorts


# --------------------------------------------------------------------------------------------------------------
# every notebook, in this process
# --------------------------------------------------------------------------------------------------------------
def _draw_only(fig, output_dir, name):
    """Stand-in for ``style.save_figure``: the figure is built and laid out (``publish_figure`` measures its tight
    box), only not rendered into files; an empty SVG stands for them (the book's glue reads it)."""
    folder = Path(output_dir) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.svg"
    path.write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    return [path]


@contextlib.contextmanager
def figures_drawn_not_written():
    from hcc_utils.report.figures import style

    saved, stacked = style.save_figure, style.stacked_rendering
    style.save_figure = _draw_only
    style.stacked_rendering = lambda fig, stamp=None: []   # the phones' panels are rendered SVG too
    try:
        yield
    finally:
        style.save_figure, style.stacked_rendering = saved, stacked
        plt.close("all")


def run_notebooks(data_path: Path, config: StudyConfig, folder: Path, notebooks=NOTEBOOKS) -> None:
    """Execute every section notebook's code cells here, as the runner would on this cohort and configuration.

    Raises
    ------
    NotebookFailed
        Naming the notebook and the cell that raised (with the exception chained).
    """
    folder = Path(folder)
    cache = prepare_study_cache(data_path, config, folder / "study-cache")
    parameters = {"data_path": str(data_path), "config": config.to_dict(), "run_dir": str(folder)}
    previous = os.environ.get(STUDY_CACHE_ENV)
    os.environ[STUDY_CACHE_ENV] = str(cache)
    try:
        with figures_drawn_not_written():
            for notebook in notebooks:
                cells = [cell for cell in json.loads(Path(notebook).read_text())["cells"]
                         if cell["cell_type"] == "code"]
                namespace = {"__name__": "__main__"}
                injected = {**parameters, "output_dir": str(folder / notebook.stem)}
                for index, cell in enumerate(cells):
                    source = "".join(cell["source"])
                    try:
                        exec(compile(source, f"{notebook.name} cell {index}", "exec"), namespace)  # noqa: S102
                    except Exception as error:  # noqa: BLE001 - reported with the notebook and cell
                        raise NotebookFailed(f"{notebook.name}, code cell {index}: {type(error).__name__}: {error}") \
                            from error
                    if index == 0:               # papermill injects the run's parameters after the parameters cell
                        namespace.update(injected)
                plt.close("all")
    finally:
        if previous is None:
            os.environ.pop(STUDY_CACHE_ENV, None)
        else:
            os.environ[STUDY_CACHE_ENV] = previous
