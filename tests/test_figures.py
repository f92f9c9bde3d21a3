"""The book's figures as the package builds them: names the notebooks glue, panels, texts, and awkward subgroups."""
from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display in tests

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from hcc_utils.config import REPO_ROOT, load_config  # noqa: E402
from hcc_utils.report import figures  # noqa: E402
from hcc_utils.report.figures import (cohort_flow_boxes, cohort_flow_figure, common_adverse_events_chart,  # noqa: E402
                                      cycles_subgroup_figures, matching_figures, multivariable_forest,
                                      multivariable_forest_table, survival_figures, third_line_figures)
from hcc_utils.report.presentation import matching_texts, predictor_texts, safety_texts  # noqa: E402
from hcc_utils.study import sections  # noqa: E402
from hcc_utils.study.cohort import load_study  # noqa: E402
from hcc_utils.study.labels import regimen_label  # noqa: E402
from hcc_utils.study.registry import Kind, ResultSet  # noqa: E402
from hcc_utils.tables.adverse_events import most_common_events  # noqa: E402
from hcc_utils.tables.formatting import fmt_p_label  # noqa: E402


@pytest.fixture(scope="module")
def study():
    return load_study(REPO_ROOT / "data" / "synthetic_cohort.csv", load_config())


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _main_axis(fig):
    return fig.axes[0]


def _title(fig) -> str:
    return _main_axis(fig).get_title(loc="left")


def _annotation(fig) -> str:
    texts = [t.get_text() for t in _main_axis(fig).texts]
    return texts[0] if texts else ""


def _curves(fig) -> list[str]:
    legend = _main_axis(fig).get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


# ----------------------------------------------------------------------------------------------- public names
def test_every_public_name_is_importable_from_report_figures():
    for name in figures.__all__:
        assert callable(getattr(figures, name)) or name.isupper(), name


def test_figure_modules_import_only_lower_layers():
    allowed = ("hcc_utils.config", "hcc_utils.stats", "hcc_utils.data", "hcc_utils.tables", "hcc_utils.study",
               "hcc_utils.report")
    folder = REPO_ROOT / "hcc_utils" / "report" / "figures"
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hcc_utils"):
                assert node.module.startswith(allowed), f"{path.name} imports {node.module}"


# ----------------------------------------------------------------------------------------------- Figure 1
def test_flow_boxes_carry_every_count(study):
    flow = study.flow
    boxes, exclusions, branches = cohort_flow_boxes(flow, study.treatment, study.control)
    text = "\n".join([t for _, t in boxes] + list(exclusions.values()) + branches)
    for key in ("flow.eligible", "flow.progressed", "flow.second_line", "flow.enrolled", "flow.died_on_first_line",
                "flow.deteriorated_on_first_line", "flow.deteriorated_after_first_line"):
        assert f"n = {flow[key]}" in text, key
    assert f"n = {flow['flow.second_line'] - flow['flow.enrolled']}" in exclusions[2]
    assert branches == [f"{study.treatment}\nn = {flow['flow.enrolled_' + study.treatment]}",
                        f"{study.control}\nn = {flow['flow.enrolled_' + study.control]}"]
    others = {k.removeprefix("flow.second_line_"): v for k, v in flow.items()
              if k.startswith("flow.second_line_") and v and k.removeprefix("flow.second_line_") not in study.groups}
    assert others, "the bundled cohort has other second-line regimens"
    for code, n in others.items():
        assert f"{regimen_label(code)} {n}" in exclusions[2]
    assert "5fu" not in text


def test_flow_boxes_of_a_cohort_without_other_regimens():
    flow = {"flow.eligible": 20, "flow.died_on_first_line": 1, "flow.deteriorated_on_first_line": 2,
            "flow.progressed": 17, "flow.deteriorated_after_first_line": 3, "flow.no_second_line": 4,
            "flow.second_line": 10, "flow.second_line_lenvatinib": 4, "flow.second_line_sorafenib": 6,
            "flow.second_line_5fu": 0, "flow.enrolled": 10, "flow.enrolled_lenvatinib": 4, "flow.enrolled_sorafenib": 6}
    boxes, exclusions, branches = cohort_flow_boxes(flow, "lenvatinib", "sorafenib")
    assert exclusions[2] == "Excluded: other second-line regimens\n(n = 0)"
    assert exclusions[1].endswith(", no second-line therapy (n = 4)")
    assert [key for key, _ in boxes] == ["eligible", "progressed", "second_line", "enrolled"]
    fig = cohort_flow_figure(flow, "lenvatinib", "sorafenib")
    shown = [t.get_text() for t in fig.axes[0].texts]
    assert "lenvatinib\nn = 4" in shown and "Stopped first-line ATE+BEV\nn = 20" in shown


def test_regimen_labels_are_readable():
    assert regimen_label("5fu") == "5-FU"
    assert regimen_label("ipilimumab_nivolumab") == "ipilimumab + nivolumab"
    assert regimen_label("sorafenib") == "sorafenib"


# ----------------------------------------------------------------------------------------------- Figures 2-3
def test_survival_figures_names_panels_and_p_values(study):
    values = sections.survival_results(study)
    figs = survival_figures(study, values)
    assert list(figs) == ["figure2a_os", "figure2b_pfs", "figure3a_os", "figure3b_pfs"]
    assert [_title(f) for f in figs.values()] == [
        "Overall survival", "Progression-free survival",
        "Overall survival (PS-matched)", "Progression-free survival (PS-matched)"]
    for name, fig in figs.items():
        endpoint, suffix = name.split("_")[1], "_matched" if name.startswith("figure3") else ""
        assert _annotation(fig) == fmt_p_label(values[f"survival.{endpoint}_logrank_p{suffix}"])
        assert _curves(fig) == study.groups
        assert len(fig.axes) == 2  # curves and numbers at risk
        assert fig.axes[1].get_title(loc="left") == "Number at risk"


# ----------------------------------------------------------------------------------------------- Supplementary Figures 1-4
def test_third_line_figures_names_panels_and_p_values(study):
    values = sections.third_line_results(study)
    figs = third_line_figures(study, values)
    assert list(figs) == [f"supp_figure{n}{p}" for n in "12" for p in "abcd"]
    treatment, control = study.groups
    assert [_title(figs[f"supp_figure1{p}"]) for p in "abcd"] == [
        f"OS by received third-line therapy: {treatment}", f"OS by received third-line therapy: {treatment} (PS-matched)",
        f"OS by received third-line therapy: {control}", f"OS by received third-line therapy: {control} (PS-matched)"]
    assert _title(figs["supp_figure2d"]) == f"OS by type of third-line therapy: {control} (PS-matched)"
    assert _annotation(figs["supp_figure1c"]) == fmt_p_label(values[f"thirdline.os_received_{control[:3]}_p"])
    assert _annotation(figs["supp_figure2b"]) == fmt_p_label(values[f"thirdline.os_type_{treatment[:3]}_p_matched"])
    assert _curves(figs["supp_figure1a"]) == ["no third line", "third line"]
    for p in "abcd":
        levels = _curves(figs[f"supp_figure2{p}"])
        assert levels == sorted(levels) and "none" not in levels and not any("_" in level for level in levels)


def test_cycles_subgroup_figures_names_panels_and_p_values(study):
    values = sections.cycles_subgroup_results(study)
    cut = f"{study.config.cutpoints.atebev_cycles_subgroup:g}"
    figs = cycles_subgroup_figures(study, values)
    assert list(figs) == [f"supp_figure{n}{p}" for n in "34" for p in "abcd"]
    assert [_title(figs[f"supp_figure4{p}"]) for p in "abcd"] == [
        f"PFS, ≤{cut} cycles", f"PFS, >{cut} cycles", f"PFS, ≤{cut} cycles (PS-matched)", f"PFS, >{cut} cycles (PS-matched)"]
    assert _annotation(figs["supp_figure3b"]) == fmt_p_label(values[f"cycles.gt{cut}_os_logrank_p"])
    assert _annotation(figs["supp_figure4c"]) == fmt_p_label(values[f"cycles.le{cut}_pfs_logrank_p_matched"])
    assert all(_curves(f) == study.groups for f in figs.values())


def test_a_subgroup_with_one_group_gets_one_curve_and_no_p(study):
    cut = f"{study.config.cutpoints.atebev_cycles_subgroup:g}"
    data = study.data
    low = data["atebev_cycles"] <= study.config.cutpoints.atebev_cycles_subgroup
    only_treatment_low = data[~((data["group"] == study.control) & low)]
    small = dataclasses.replace(study, data=only_treatment_low.copy())
    values = sections.cycles_subgroup_results(small)
    assert np.isnan(values[f"cycles.le{cut}_os_logrank_p"])
    figs = cycles_subgroup_figures(small, values)
    assert len(figs) == 8
    assert _curves(figs["supp_figure3a"]) == [study.treatment]
    assert _annotation(figs["supp_figure3a"]) == "Log-rank P not estimable"
    assert _annotation(figs["supp_figure3b"]).startswith("Log-rank P ")


def test_a_group_without_third_line_therapy_does_not_crash(study):
    data = study.data.copy()
    control = data["group"] == study.control
    data.loc[control, "received_third_line"] = 0
    data.loc[control, "third_line_regimen"] = "none"
    small = dataclasses.replace(study, data=data)
    values = sections.third_line_results(small)
    figs = third_line_figures(small, values)
    assert len(figs) == 8
    assert _curves(figs["supp_figure1c"]) == ["no third line"]
    assert _annotation(figs["supp_figure1c"]) == "Log-rank P not estimable"
    assert _curves(figs["supp_figure2c"]) == []  # nobody to compare: an empty panel, said so
    assert _annotation(figs["supp_figure2c"]) == "Log-rank P not estimable"


def test_figure_functions_compute_the_values_when_not_given(study):
    assert [_annotation(f) for f in survival_figures(study).values()] == \
           [_annotation(f) for f in survival_figures(study, sections.survival_results(study)).values()]


# ----------------------------------------------------------------------------------------------- forest plot
def test_multivariable_forest_has_a_panel_per_endpoint_with_readable_labels(study):
    models = sections.predictor_models(study)
    table = multivariable_forest_table(study, models)
    expected_panels = [f"{name} (multivariable)" for endpoint, name in
                       (("os", "Overall survival"), ("pfs", "Progression-free survival")) if len(models[endpoint].multivariable)]
    assert list(dict.fromkeys(table["panel"])) == expected_panels
    assert "control_group" not in set(table["label"])
    if (table["covariate"] == "control_group").any():
        assert f"{study.control.capitalize()} (vs {study.treatment})" in set(table["label"])
    assert "Tumour size ≥10 cm" in set(table["label"]) or "tumor_size_large" not in set(table["covariate"])
    fig = multivariable_forest(study, models)
    assert [ax.get_title(loc="left") for ax in fig.axes] == expected_panels


def test_multivariable_forest_without_a_selected_predictor_says_so(study):
    empty = SimpleNamespace(multivariable=pd.DataFrame(columns=["covariate", "hr", "ci_low", "ci_high", "p"]), selected=[])
    models = {"os": empty, "pfs": empty}
    assert multivariable_forest_table(study, models).empty
    fig = multivariable_forest(study, models)
    assert [t.get_text() for t in fig.axes[0].texts] == ["No predictor met the univariable selection threshold"]


# ----------------------------------------------------------------------------------------------- adverse events
def test_most_common_events_sorted_at_most_ten(study):
    long = sections.safety_tables(study)["long"]
    common = most_common_events(long, study.groups)
    assert list(common.columns) == ["label", *study.groups, "max"]
    assert 0 < len(common) <= 10
    assert common["max"].is_monotonic_decreasing
    assert np.allclose(common["max"], common[study.groups].max(axis=1))
    any_grade = long[long["section"] == "any_grade"].groupby("label")["percent"].max()
    assert common["max"].iloc[-1] >= any_grade.drop(common["label"]).max()  # nothing left out beats the tenth
    assert len(most_common_events(long, study.groups, n=3)) == 3
    few = long[long["term"].isin(long["term"].unique()[:5])]  # summary rows and a few terms
    assert len(most_common_events(few, study.groups)) <= 5


def test_common_adverse_events_chart_shows_the_top_ten(study):
    long = sections.safety_tables(study)["long"]
    common = most_common_events(long, study.groups)
    fig = common_adverse_events_chart(study, long)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    y = list(ax.get_yticks())
    by_height = [label for _, label in sorted(zip(y, labels), reverse=True)]
    assert by_height == list(common["label"][::-1])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == study.groups


# ----------------------------------------------------------------------------------------------- matching, prose pieces
def test_matching_figures_and_texts(study):
    tables = sections.matching_tables(study)
    figs = matching_figures(study, tables["balance"])
    assert list(figs) == ["ps_overlap", "love_plot"]
    texts = matching_texts(study)
    assert set(texts) == {"caliper_text", "order_text", "n_treated", "n_control"}
    summary = study.match_summary
    assert texts["n_treated"] == summary["n_treated"] and texts["n_control"] == summary["n_control"]
    if summary["caliper"] is not None:
        assert texts["caliper_text"].startswith(f"a caliper of {summary['caliper']} standard deviations")


def test_predictor_and_safety_texts(study):
    models = sections.predictor_models(study)
    texts = predictor_texts(study, models)
    assert texts == {"n_selected_os": len(models["os"].selected), "n_selected_pfs": len(models["pfs"].selected),
                     "selection_p": f"{study.config.cox.selection_p:g}"}
    for listed, text in ((["hand_foot_syndrome", "rash"], "hand foot syndrome, rash"), ([], "none")):
        values = ResultSet()
        values.add(f"safety.higher_in_{study.treatment}", listed, Kind.LIST)
        assert safety_texts(study, values) == {"safety_higher_in_treatment_name": text}


def test_notebook_figure_cells_are_calls():
    """The notebooks' figure cells are one or two calls: no loops, no definitions."""
    import json

    for path in sorted((REPO_ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(Path(path).read_text())["cells"]:
            if cell["cell_type"] != "code" or "parameters" in cell["metadata"].get("tags", []):
                continue
            tree = ast.parse("".join(cell["source"]))
            loops = [n for n in ast.walk(tree) if isinstance(n, (ast.For, ast.While, ast.FunctionDef, ast.ListComp,
                                                                  ast.DictComp, ast.GeneratorExp, ast.If))]
            assert not loops, f"{path.name}: logic in a notebook cell belongs in hcc_utils"


def test_publish_figures_saves_each_under_its_name_and_shows_nothing(study, tmp_path):
    from hcc_utils.report.figures import publish_figures

    figs = survival_figures(study)
    assert publish_figures(figs, tmp_path) is None
    saved = sorted(p.name for p in (tmp_path / "figures").iterdir())
    assert saved == sorted(f"{name}.{ext}" for name in figs for ext in ("png", "svg"))
