"""The study's variables (hcc_utils.data.variables): the analysis table's columns and their sources, the run's data
dictionary (the author's variables appended, columns no configured analysis uses optional), the list checks."""
from __future__ import annotations

from hcc_utils.config import StudyConfig, parse_config
from hcc_utils.data.derive import ANALYSIS_COLUMNS, analysis_table
from hcc_utils.data.dictionary import load_dictionary
from hcc_utils.data.variables import (ARTICLE_COLUMNS, analysis_columns, list_problems, needed_sources,
                                      study_dictionary)
from cohort_factory import make_cohort


def _without(*names: str):
    """The default lists with ``names`` taken out of every one."""
    config = StudyConfig()
    return parse_config({
        "baseline": {"rows": [row.model_dump(exclude_none=True) for row in config.baseline.rows
                              if row.variable not in names]},
        "matching": {"covariates": [c for c in config.matching.covariates if c not in names]},
        "cox": {"candidates": [c for c in config.cox.candidates if c not in names]}}, "test")


def test_the_article_columns_are_the_analysis_table_and_come_from_dictionary_columns():
    assert [column.name for column in ARTICLE_COLUMNS] == list(ANALYSIS_COLUMNS)
    assert list(analysis_table(make_cohort()).columns) == list(ANALYSIS_COLUMNS)
    dictionary = load_dictionary()
    assert all(source in dictionary for column in ARTICLE_COLUMNS for source in column.sources)
    kinds = {column.name: column.kind for column in ARTICLE_COLUMNS}
    assert kinds["child_pugh_b"] == "binary" and kinds["tumor_size_cm"] == "number" and kinds["os_months"] == "outcome"
    assert analysis_columns()["ecog"].levels == (0, 1, 2, 3, 4)           # the dictionary's range
    assert analysis_columns()["etiology"].levels == dictionary.column("etiology").allowed


def test_the_default_configuration_keeps_the_bundled_dictionary():
    assert study_dictionary() is load_dictionary()


def test_a_column_is_required_only_while_a_configured_analysis_uses_it():
    def required(config, name):
        return study_dictionary(config).column(name).required

    assert required(StudyConfig(), "lymph_node_metastasis") == "enrolled"
    assert required(_without("lymph_node_metastasis"), "lymph_node_metastasis") == "optional"
    # child_pugh_score feeds child_pugh_b (matching, Cox) and child_pugh_class (Table 1): required while one is used
    assert required(_without("child_pugh_b"), "child_pugh_score") == "enrolled"
    assert required(_without("child_pugh_b", "child_pugh_class"), "child_pugh_score") == "optional"
    # the prior cycles' subgroups use atebev_cycles whatever the lists; always-required columns stay so
    assert required(_without("atebev_cycles", "atebev_cycles_few"), "atebev_cycles") == "enrolled"
    assert required(_without("age", "age_older"), "patient_id") == "always"
    assert "atebev_cycles" in needed_sources(_without("atebev_cycles", "atebev_cycles_few"))


def test_the_configuration_s_variables_are_appended_to_the_dictionary():
    config = parse_config({"variables": [{"name": "albi_grade", "type": "integer", "min": 1, "max": 3,
                                          "label": "ALBI grade", "unit": "grade", "required": "enrolled"},
                                         {"name": "pdl1", "type": "category", "allowed": ["Low", "HIGH"]}]}, "test")
    dictionary = study_dictionary(config)
    assert dictionary.names[-2:] == ["albi_grade", "pdl1"]
    albi = dictionary.column("albi_grade")
    assert (albi.type, albi.minimum, albi.maximum, albi.required, albi.unit) == ("integer", 1, 3, "enrolled", "grade")
    assert dictionary.column("pdl1").allowed == ("low", "high")
    assert analysis_columns(config)["albi_grade"].kind == "integer"
    assert analysis_columns(config)["albi_grade"].levels == (1, 2, 3)


def test_list_problems_are_none_for_the_defaults_and_name_the_key_otherwise():
    assert list_problems() == []
    config = parse_config({"baseline": {"rows": ["os_months", {"variable": "etiology", "kind": "median_iqr"}]},
                           "matching": {"covariates": ["age", "bclc_stage"]},
                           "diagnostics": {"univariable": ["ecog_3"]}}, "test")
    found = {(problem.key, problem.name, problem.rule) for problem in list_problems(config)}
    assert found == {("baseline.rows", "os_months", "variable_kind"), ("baseline.rows", "etiology", "variable_kind"),
                     ("matching.covariates", "bclc_stage", "variable_kind"),
                     ("diagnostics.univariable", "ecog_3", "unknown_variable")}
    message = next(p.message for p in list_problems(config) if p.name == "ecog_3")
    assert message.startswith("diagnostics.univariable: 'ecog_3' is not a column")
    assert "did you mean 'ecog_2'" in message
