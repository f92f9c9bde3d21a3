"""The typed configuration schema: defaults in one place, every problem of a file reported at once."""
from __future__ import annotations

import pandas as pd
import pytest

from hcc_utils.config import DEFAULTS, ConfigError, StudyConfig, as_config, load_config, parse_config, schema_rows
from hcc_utils.data.derive import analysis_table
from hcc_utils.study.labels import variable_labels
from cohort_factory import make_cohort


def _write(tmp_path, text):
    path = tmp_path / "study.yml"
    path.write_text(text)
    return path


def test_a_short_file_takes_every_other_default(tmp_path):
    config = load_config(_write(tmp_path, "data: my.csv\nmatching: {caliper: 0.1}\n"))
    assert config.matching.caliper == 0.1
    assert config.matching.ratio == StudyConfig().matching.ratio == 1
    assert config.cutpoints.age_years == 65 and config.cox.selection_p == 0.05
    assert config.data == str((tmp_path / "my.csv").resolve())


def test_unknown_keys_are_refused_with_a_suggestion_and_all_problems_at_once(tmp_path):
    text = "matchng: {}\nmatching: {ratoi: 2, caliper: -1, order: sideways}\ncox: {selection_p: 2}\nseed: abc\n"
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, text))
    message = str(caught.value)
    assert "unknown key 'matchng' (did you mean 'matching'?)" in message
    assert "unknown key 'matching.ratoi' (did you mean 'matching.ratio'?)" in message
    assert "key 'matching.caliper'" in message and "got -1" in message
    assert "key 'matching.order'" in message and "'sideways'" in message
    assert "key 'cox.selection_p'" in message
    assert "key 'seed'" in message
    assert all(line.startswith(str(tmp_path / "study.yml")) for line in message.splitlines())


def test_groups_must_differ(tmp_path):
    with pytest.raises(ConfigError, match="groups.treatment and groups.control must differ"):
        load_config(_write(tmp_path, "groups: {treatment: sorafenib, control: sorafenib}\n"))


def test_not_a_mapping_and_not_yaml(tmp_path):
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(_write(tmp_path, "- a\n- b\n"))
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(_write(tmp_path, "a: [unclosed\n"))
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.yml")


def test_as_config_round_trips_the_papermill_parameter():
    config = load_config()
    assert as_config(config.to_dict()) == config
    assert as_config(None) == StudyConfig()
    with pytest.raises(ConfigError, match="unknown key 'bogus'"):
        as_config({"bogus": 1})


def test_replace_validates_dotted_keys():
    assert StudyConfig().replace(**{"matching.ratio": 2}).matching.ratio == 2
    with pytest.raises(ConfigError, match="matching.ratio"):
        StudyConfig().replace(**{"matching.ratio": 0})


def test_configuration_page_lists_every_key_of_the_schema():
    keys = {row["key"] for row in schema_rows()}

    def flat(mapping, prefix=""):
        out = set()
        for key, value in mapping.items():
            out.add(prefix + key)
            if isinstance(value, dict):
                out |= flat(value, f"{prefix}{key}.")
        return out

    items = {key for key in keys if "[]." in key}   # the keys of a list's items: variables[].name ...
    assert keys - items == flat(DEFAULTS)
    assert {key.split("[].")[0] for key in items} == {"variables", "baseline.rows", "study.authors"}
    assert all(row["description"] for row in schema_rows())


def test_cut_points_change_the_derivation_and_the_labels_not_the_column_names():
    config = parse_config({"cutpoints": {"tumor_size_cm": 8, "atebev_cycles_low": 4, "age_years": 70}}, "test")
    cohort = make_cohort()
    table = analysis_table(cohort, config)
    assert {"tumor_size_large", "atebev_cycles_few", "age_older"} <= set(table.columns)
    enrolled = table["tumor_size_cm"].notna()
    assert (table.loc[enrolled, "tumor_size_large"] == (table.loc[enrolled, "tumor_size_cm"] >= 8).astype(int)).all()
    labels = variable_labels(config)
    assert labels["tumor_size_large"] == "Tumour size ≥8 cm"
    assert labels["atebev_cycles_few"] == "ATE+BEV cycles <4"
    assert labels["age_older"] == "Age ≥70 years"


def test_a_group_must_be_a_regimen_and_case_does_not_make_two(tmp_path):
    with pytest.raises(ConfigError, match="groups.treatment = 'none' is not a second-line regimen"):
        load_config(_write(tmp_path, "groups: {treatment: None, control: sorafenib}\n"))
    with pytest.raises(ConfigError, match="must differ"):
        load_config(_write(tmp_path, "groups: {treatment: Lenvatinib, control: lenvatinib}\n"))


# ------------------------------------------------------------------------------------- variables and analysis lists
def test_the_analysis_lists_default_to_the_article(tmp_path):
    config = StudyConfig()
    assert [row.variable for row in config.baseline.rows][:4] == ["age", "sex_male", "ecog", "etiology"]
    assert len(config.baseline.rows) == 18 and config.baseline.rows[2].kind == "categorical"
    assert len(config.cox.candidates) == 15 and config.cox.candidates[13] == "control_group"
    assert config.cox.forced == [] and config.variables == []
    assert config.diagnostics.univariable is None


def test_a_table1_row_may_be_a_bare_name_or_a_mapping(tmp_path):
    config = load_config(_write(tmp_path, "baseline:\n  rows: [age, {variable: ecog, kind: categorical, "
                                          "levels: [0, 1, 2]}]\n"))
    assert [(row.variable, row.kind, row.levels) for row in config.baseline.rows] == [
        ("age", None, None), ("ecog", "categorical", [0, 1, 2])]


def test_variables_and_lists_are_checked_by_the_schema_all_at_once(tmp_path):
    text = ("variables:\n"
            "  - {name: albi_grade, type: integer, min: 3, max: 1}\n"
            "  - {name: pdl1, type: category}\n"
            "  - {name: Bad Name, type: number}\n"
            "  - {name: nlr, type: number, minimum: 0}\n"
            "  - {name: nlr, type: number}\n"
            "cox: {candidates: [age_older, age_older]}\n"
            "matching: {covariates: []}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, text))
    message = str(caught.value)
    assert "variables: albi_grade: min 3 is above max 1" in message
    assert "variables: pdl1: a category needs its allowed values" in message
    assert "key 'variables.2.name'" in message
    assert "unknown key 'variables[3].minimum' (did you mean 'variables[3].min'?)" in message
    assert "cox.candidates: age_older given more than once" in message
    assert "key 'matching.covariates'" in message
    with pytest.raises(ConfigError, match="cox.forced: ecog_2 not in cox.candidates; add them there too"):
        load_config(_write(tmp_path, "cox: {candidates: [age_older], forced: [ecog_2]}\n"))
    with pytest.raises(ConfigError, match="variables: nlr given more than once"):
        load_config(_write(tmp_path, "variables: [{name: nlr, type: number}, {name: nlr, type: integer}]\n"))


def test_the_configuration_page_documents_the_keys_of_list_items():
    rows = {row["key"]: row for row in schema_rows()}
    assert rows["variables[].name"]["type"] == "text, required"
    assert rows["variables[].type"]["type"] == "one of: number, integer, boolean, category, required"
    assert "albi_grade" in rows["variables"]["description"]
    assert rows["baseline.rows"]["default"].startswith("[{variable: age}, {variable: sex_male}, {variable: ecog, "
                                                       "kind: categorical}")


def test_an_author_variable_is_carried_into_the_analysis_table_in_its_type():
    cohort = make_cohort()
    cohort["portal_hypertension"] = ["yes" if i % 3 else "no" for i in range(len(cohort))]
    cohort["pdl1"] = ["High" if i % 2 else "low" for i in range(len(cohort))]
    cohort["nlr"] = [str(1.5 + i) if i % 4 else "" for i in range(len(cohort))]
    config = parse_config({"variables": [
        {"name": "portal_hypertension", "type": "boolean"},
        {"name": "pdl1", "type": "category", "allowed": ["low", "high"]},
        {"name": "nlr", "type": "number", "label": "NLR"}]}, "test")
    table = analysis_table(cohort, config)
    assert list(table.columns[-3:]) == ["portal_hypertension", "pdl1", "nlr"]
    assert table["portal_hypertension"].dtype == "Int64"
    assert table["portal_hypertension"].tolist()[:4] == [0, 1, 1, 0]
    assert table["pdl1"].tolist()[:2] == ["low", "high"]
    assert table["nlr"].dtype == "float64" and pd.isna(table["nlr"].iloc[0]) and table["nlr"].iloc[1] == 2.5
    assert variable_labels(config)["nlr"] == "NLR" and variable_labels(config)["pdl1"] == "pdl1"
    assert list(analysis_table(cohort).columns) == list(analysis_table(make_cohort()).columns)   # not without them
