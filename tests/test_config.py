"""The typed configuration schema: defaults in one place, every problem of a file reported at once."""
from __future__ import annotations

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
    assert {key.split("[].")[0] for key in items} == {"variables", "baseline.rows"}
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
