"""Readable names of the analysis table's columns, endpoints and cohorts; cut-points come from the configuration,
so a label never states a cut-point the run did not use."""
from __future__ import annotations

import re

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
    """Label of every characteristic of the analysis table, with the configured cut-points, and of every variable of
    the configuration (its ``label``, else its name)."""
    cut = config.cutpoints
    return {
        "age": "Age, years", "age_older": f"Age ≥{_cut(cut.age_years)} years", "sex_male": "Male sex",
        "ecog": "ECOG performance status", "etiology": "Aetiology", "child_pugh_class": "Child-Pugh class",
        "afp_ng_ml": "AFP, ng/mL", "pivka_mau_ml": "PIVKA-II, mAU/mL",
        "ecog_2": "ECOG 2", "viral_etiology": "Viral aetiology", "child_pugh_b": "Child-Pugh B", "bclc_c": "BCLC C",
        "tumor_number": "Tumour number", "tumor_multiple": "Multiple tumours",
        "tumor_size_cm": "Largest tumour size, cm", "tumor_size_large": f"Tumour size ≥{_cut(cut.tumor_size_cm)} cm",
        "lymph_node_metastasis": "Lymph-node metastasis", "extrahepatic_metastasis": "Extrahepatic metastasis",
        "macrovascular_invasion": "Macrovascular invasion", "afp_high": f"AFP ≥{_cut(cut.afp_ng_ml)} ng/mL",
        "pivka_high": f"PIVKA-II ≥{_cut(cut.pivka_mau_ml)} mAU/mL", "atebev_cycles": "ATE+BEV cycles",
        "atebev_cycles_few": f"ATE+BEV cycles <{_cut(cut.atebev_cycles_low)}",
        "atebev_cycles_many": f"ATE+BEV cycles >{_cut(cut.atebev_cycles_subgroup)}",
        "control_group": f"{group_label(config.groups.control)} (vs {config.groups.treatment})",
        **{variable.name: variable.shown for variable in config.variables},
    }


def label(column: str, config: StudyConfig | None = None) -> str:
    """Label of a column (the schema's default cut-points when no configuration is given)."""
    return variable_labels(config or StudyConfig()).get(column, column.replace("_", " "))


#: Readable names of regimen codes that are not words (the flow counts name fluorouracil ``5fu``).
REGIMEN_LABELS = {"5fu": "5-FU-based chemotherapy"}


def regimen_label(code: str) -> str:
    """A regimen code as the book writes it: '5fu' -> '5-FU-based chemotherapy', combinations 'a_b' -> 'a + b', others unchanged."""
    return REGIMEN_LABELS.get(str(code), str(code).replace("_", " + "))


def group_label(name: str) -> str:
    """A configured group name as a table heading or the start of a sentence: 'lenvatinib' -> 'Lenvatinib'
    (only the first letter changes, so 'FOLFOX' and 'nab-Paclitaxel' keep their case)."""
    text = str(name)
    return text[:1].upper() + text[1:]


def in_sentence(text: str) -> str:
    """A label (a table's row, a variable's name) inside a sentence: without a unit after its comma ('Age, years' ->
    'age'), its first word in lower case when it is an ordinary capitalised word ('Macrovascular invasion',
    'Lymph-node metastasis', 'Sorafenib (vs lenvatinib)'), names and abbreviations kept ('Child-Pugh B',
    'ECOG 2', 'ATE+BEV cycles <3')."""
    text = str(text).split(",")[0].strip()
    first = text.split(" ")[0]
    return text[:1].lower() + text[1:] if re.fullmatch(r"[A-Z][a-z]+(-[a-z]+)*", first) else text


def group_heading(name: str, n: int) -> str:
    """A group's column heading with its size, as journals print it: 'Lenvatinib\\nN = 40'."""
    return f"{group_label(name)}\nN = {int(n)}"


#: Abbreviations of the book's tables, spelled out in their footnotes.
ABBREVIATIONS = {
    "AFP": "alpha-fetoprotein", "ATE": "average treatment effect",
    "ATO": "average treatment effect in the overlap population", "ATE+BEV": "atezolizumab plus bevacizumab", "BCLC": "Barcelona Clinic Liver Cancer",
    "CI": "confidence interval", "CR": "complete response", "DCR": "disease control rate",
    "ECOG": "Eastern Cooperative Oncology Group performance status", "HBV": "hepatitis B virus",
    "HCV": "hepatitis C virus", "HR": "hazard ratio", "IPTW": "inverse probability of treatment weighting",
    "IQR": "interquartile range",
    "mRECIST": "modified RECIST", "NA": "not applicable", "NASH": "non-alcoholic steatohepatitis",
    "NR": "not reached", "ORR": "objective response rate", "PD": "progressive disease",
    "PIVKA-II": "protein induced by vitamin K absence or antagonist-II", "PR": "partial response",
    "PS": "propensity score", "RECIST": "Response Evaluation Criteria in Solid Tumors", "SD": "stable disease",
    "SE": "standard error", "SMD": "standardized mean difference",
}


def abbreviation_note(*names: str) -> str:
    """The footnote spelling out ``names``: 'CI, confidence interval; HR, hazard ratio.'"""
    return "; ".join(f"{name}, {ABBREVIATIONS[name]}" for name in names) + "."


def categorical_test_text(rule: str) -> str:
    """The configured test of categorical variables, named as a footnote names it."""
    return {"chisq": "Pearson's chi-square test without continuity correction",
            "fisher_if_sparse": "Pearson's chi-square test without continuity correction, or Fisher's exact test "
                                "when an expected count is below 5",
            "fisher": "Fisher's exact test"}.get(rule, rule)


def continuous_test_text(rule: str) -> str:
    """The configured test of continuous variables (Table 1 shows them as median (IQR))."""
    return {"auto": "Mann–Whitney U test", "mannwhitney": "Mann–Whitney U test",
            "ttest": "Student's t-test (pooled variance)"}.get(rule, rule)


def cox_ties_text(ties: str) -> str:
    """The configured handling of tied event times of the Cox models."""
    return {"efron": "Efron's method for tied event times", "breslow": "Breslow's method for tied event times"}.get(
        ties, ties)
