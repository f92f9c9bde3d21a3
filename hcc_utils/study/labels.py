"""Readable names of the analysis table's columns, endpoints and cohorts; cut-points come from the configuration,
so a label never states a cut-point the run did not use."""
from __future__ import annotations

from hcc_utils.config import StudyConfig


#: Endpoints: id code -> (time column, event column, name).
ENDPOINTS = {"os": ("os_months", "os_event", "Overall survival"),
             "pfs": ("pfs_months", "pfs_event", "Progression-free survival")}

#: Cohorts: id suffix -> name (all enrolled patients, the propensity-score-matched cohort).
COHORT_NAMES = {"": "All enrolled", "_matched": "PS-matched"}


def _cut(value: float) -> str:
    """A cut-point as written in a label: 10, 2.5, 1,000."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,g}"


def variable_labels(config: StudyConfig) -> dict[str, str]:
    """Label of every modelled column of the analysis table, with the configured cut-points."""
    cut = config.cutpoints
    return {
        "age": "Age, years", "age_older": f"Age ≥{_cut(cut.age_years)} years", "sex_male": "Male sex",
        "ecog_2": "ECOG 2", "viral_etiology": "Viral aetiology", "child_pugh_b": "Child-Pugh B", "bclc_c": "BCLC C",
        "tumor_number": "Tumour number", "tumor_multiple": "Multiple tumours",
        "tumor_size_cm": "Largest tumour size, cm", "tumor_size_large": f"Tumour size ≥{_cut(cut.tumor_size_cm)} cm",
        "lymph_node_metastasis": "Lymph-node metastasis", "extrahepatic_metastasis": "Extrahepatic metastasis",
        "macrovascular_invasion": "Macrovascular invasion", "afp_high": f"AFP ≥{_cut(cut.afp_ng_ml)} ng/mL",
        "pivka_high": f"PIVKA-II ≥{_cut(cut.pivka_mau_ml)} mAU/mL", "atebev_cycles": "ATE+BEV cycles",
        "atebev_cycles_few": f"ATE+BEV cycles <{_cut(cut.atebev_cycles_low)}",
        "atebev_cycles_many": f"ATE+BEV cycles >{_cut(cut.atebev_cycles_subgroup)}",
        "control_group": f"{config.groups.control.capitalize()} (vs {config.groups.treatment})",
    }


def label(column: str, config: StudyConfig | None = None) -> str:
    """Label of a column (the schema's default cut-points when no configuration is given)."""
    return variable_labels(config or StudyConfig()).get(column, column.replace("_", " "))


#: Readable names of regimen codes that are not words (the flow counts name fluorouracil ``5fu``).
REGIMEN_LABELS = {"5fu": "5-FU-based chemotherapy"}


def regimen_label(code: str) -> str:
    """A regimen code as the book writes it: '5fu' -> '5-FU-based chemotherapy', combinations 'a_b' -> 'a + b', others unchanged."""
    return REGIMEN_LABELS.get(str(code), str(code).replace("_", " + "))
