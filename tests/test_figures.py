"""The book's figures as the package builds them: names the notebooks glue, panels, texts, and awkward subgroups."""
from __future__ import annotations

import ast
import dataclasses
import html
import re
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
                                      cycles_alt_texts, cycles_subgroup_figures, flow_alt_text, forest_alt_text,
                                      free_corner, matching_figures, multivariable_forest, multivariable_forest_table,
                                      panel_letters, survival_alt_texts, survival_figures, third_line_alt_texts,
                                      third_line_figures)
from hcc_utils.report.figures.forest import HR_TICKS, hr_ticks  # noqa: E402
from hcc_utils.report.figures.style import MIN_FONT_PT  # noqa: E402
from hcc_utils.study.labels import ENDPOINTS  # noqa: E402
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
    assert branches == [f"{study.treatment.capitalize()}\nn = {flow['flow.enrolled_treatment']}",
                        f"{study.control.capitalize()}\nn = {flow['flow.enrolled_control']}"]
    others = {k.removeprefix("flow.second_line_"): v for k, v in flow.items()
              if k.startswith("flow.second_line_") and v and k.removeprefix("flow.second_line_") not in study.groups}
    assert others, "the bundled cohort has other second-line regimens"
    for code, n in others.items():
        assert f"{regimen_label(code)[:1].upper()}{regimen_label(code)[1:]}, n = {n}" in exclusions[2]
    assert "5fu" not in text and "5-FU-based chemotherapy, n = 2" in exclusions[2]
    alt = flow_alt_text(flow, study.treatment, study.control)
    assert f"n = {flow['flow.eligible']}" in alt and "5-FU-based chemotherapy, n = 2" in alt


def test_flow_boxes_of_a_cohort_without_other_regimens():
    flow = {"flow.eligible": 20, "flow.died_on_first_line": 1, "flow.deteriorated_on_first_line": 2,
            "flow.progressed": 17, "flow.deteriorated_after_first_line": 3, "flow.no_second_line": 4,
            "flow.second_line": 10, "flow.second_line_lenvatinib": 4, "flow.second_line_sorafenib": 6,
            "flow.second_line_5fu": 0, "flow.enrolled": 10, "flow.enrolled_treatment": 4, "flow.enrolled_control": 6}
    boxes, exclusions, branches = cohort_flow_boxes(flow, "lenvatinib", "sorafenib")
    assert exclusions[2] == "Excluded: other second-line regimens\n(n = 0)"
    assert exclusions[1].endswith(", no second-line therapy (n = 4)")
    assert [key for key, _ in boxes] == ["eligible", "progressed", "second_line", "enrolled"]
    fig = cohort_flow_figure(flow, "lenvatinib", "sorafenib")
    shown = [t.get_text() for t in fig.axes[0].texts]
    assert "Lenvatinib\nn = 4" in shown and "Stopped first-line ATE+BEV\nn = 20" in shown


def test_regimen_labels_are_readable():
    assert regimen_label("5fu") == "5-FU-based chemotherapy"
    assert regimen_label("ipilimumab_nivolumab") == "ipilimumab + nivolumab"
    assert regimen_label("sorafenib") == "sorafenib"


# ----------------------------------------------------------------------------------------------- KM building blocks
def _panels(fig):
    """Per panel of a composite: its letter, title, legend texts, plot axis and numbers-at-risk axis."""
    out = []
    for sub in fig.subfigs:
        letter = [t.get_text() for t in sub.texts if (t.get_gid() or "").startswith("panel-")]
        header, plot, *risk = sub.axes
        legend = header.get_legend()
        out.append(SimpleNamespace(
            letter=letter[0] if letter else "", title=header.texts[0].get_text() if header.texts else "",
            legend=[t.get_text() for t in legend.get_texts()] if legend else [], header=header, plot=plot,
            risk=risk[0] if risk else None,
            stat=" ".join(t.get_text().strip() for ax in (header, plot) for t in ax.texts
                          if (t.get_gid() or "").startswith("stat-"))))
    return out


def _risk_numbers(risk_ax) -> dict[str, dict[float, int]]:
    """The numbers at risk as drawn: row label -> {x position: count}."""
    labels = {round(tick): label.get_text() for tick, label in zip(risk_ax.get_yticks(), risk_ax.get_yticklabels())}
    rows: dict[str, dict[float, int]] = {}
    for text in risk_ax.texts:
        x, y = text.get_position()
        rows.setdefault(labels[round(y)], {})[float(x)] = int(text.get_text())
    return rows


def _step(times, values):
    return np.asarray(times, float), np.asarray(values, float), np.asarray(values, float)


def test_free_corner_avoids_every_curve_and_median_line():
    # a curve falling from 1 to 0.1 by month 12: upper right is free, lower left is not
    falling = _step([2, 4, 6, 8, 10, 12], [0.9, 0.7, 0.5, 0.35, 0.2, 0.1])
    assert free_corner([falling], (0, 18), (0, 1.03), 0.3, 0.15) == "upper right"
    # a curve staying high to month 18 crosses the upper right; the lower left is free without median lines
    high = _step([5, 18], [0.95, 0.9])
    assert free_corner([high], (0, 18), (0, 1.03), 0.3, 0.15) == "lower left"
    # a median line at 2 months (horizontal at 0.5 from 0, vertical down to 0) blocks the lower left
    assert free_corner([high], (0, 18), (0, 1.03), 0.3, 0.15, medians=[2.0]) == "lower right"
    # a curve that ends early leaves the right side free even when it stays high
    short = _step([3], [0.95])
    assert free_corner([short], (0, 18), (0, 1.03), 0.3, 0.15) == "upper right"
    # every corner crossed: None (the text goes to the header)
    diagonal = _step(np.linspace(0.5, 18, 40), np.linspace(0.99, 0.0, 40))
    flat_high, flat_low = _step([18], [1.0]), _step([0.01, 18], [0.1, 0.1])
    assert free_corner([diagonal, flat_high, flat_low], (0, 18), (0, 1.03), 0.5, 0.3) is None


def test_free_corner_result_is_not_crossed_by_the_drawn_curves(study):
    """Whatever corner the panel uses, the curves' heights over the box's x range stay outside its y range."""
    fig = survival_figures(study)["figure2"]
    for panel in _panels(fig):
        stat = [t for t in panel.plot.texts if (t.get_gid() or "").startswith("stat-")]
        if not stat:
            continue
        box = stat[0].get_window_extent(fig.canvas.get_renderer()).transformed(panel.plot.transData.inverted())
        for line in panel.plot.get_lines():
            xy = line.get_xydata()
            if line.get_linestyle() != "-" or not len(xy):
                continue
            inside = (xy[:, 0] >= box.x0) & (xy[:, 0] <= box.x1)
            ys = np.concatenate([xy[inside, 1], np.interp([box.x0, box.x1], xy[:, 0], xy[:, 1])])
            assert not ((ys >= box.y0) & (ys <= box.y1)).any()


def test_numbers_at_risk_under_the_axis_equal_the_risk_sets_at_the_ticks(study):
    from hcc_utils.stats.survival import numbers_at_risk

    fig = survival_figures(study)["figure2"]
    times = study.config.survival.risk_table_months
    for panel, (endpoint, (time_col, event_col, _)) in zip(_panels(fig), ENDPOINTS.items()):
        assert list(panel.plot.get_xticks()) == list(times)  # same ticks on the plot and under it
        drawn = _risk_numbers(panel.risk)
        for group in study.groups:
            part = study.data[study.data["group"] == group]
            expected = numbers_at_risk(part[time_col], part[event_col], times)
            assert drawn[group.capitalize()] == {float(t): int(n) for t, n in expected.items()}
        colours = {label.get_text(): label.get_color() for label in panel.risk.get_yticklabels()}
        assert colours == {"Lenvatinib": figures.style.text_colour(figures.TREATMENT_COLOUR),
                           "Sorafenib": figures.style.text_colour(figures.CONTROL_COLOUR)}


# ----------------------------------------------------------------------------------------------- Figures 2-3
def test_survival_figures_are_two_composites_with_a_and_b(study):
    values = sections.survival_results(study)
    figs = survival_figures(study, values)
    assert list(figs) == ["figure2", "figure3"]
    for name, fig in figs.items():
        suffix = "_matched" if name == "figure3" else ""
        panels = _panels(fig)
        assert panel_letters(fig) == ["A", "B"]
        assert [p.title for p in panels] == ["Overall survival", "Progression-free survival"]
        for panel, endpoint in zip(panels, ENDPOINTS):
            assert panel.stat.startswith(fmt_p_label(values[f"survival.{endpoint}_logrank_p{suffix}"]))
            assert f"HR {values[f'survival.{endpoint}_hr{suffix}']:.3f}" in panel.stat
            n = {g: int((study.cohorts()[suffix]["group"] == g).sum()) for g in study.groups}
            assert panel.legend == [f"{g.capitalize()}, n = {n[g]}" for g in study.groups]
            medians = sorted(line.get_xdata()[0] for line in panel.plot.get_lines()
                             if line.get_linestyle() == "--" and line.get_xdata()[0] == line.get_xdata()[1])
            expected = sorted(values[f"survival.{endpoint}_median_{role}{suffix}"] for role in ("treatment", "control"))
            assert np.allclose(medians, expected)  # dashed median lines at the table's medians


def test_confidence_bands_are_an_option_off_by_default(study):
    plain = survival_figures(study)["figure2"]
    banded = survival_figures(study, confidence_bands=True)["figure2"]
    assert not any(ax.collections for ax in plain.axes)
    assert len(_panels(banded)[0].plot.collections) == len(study.groups)


def test_survival_alt_texts_give_medians_and_p(study):
    values = sections.survival_results(study)
    texts = survival_alt_texts(study, values)
    assert set(texts) == {"figure2", "figure3"}
    for endpoint in ENDPOINTS:
        for g in study.groups:
            assert f"{values[f'survival.{endpoint}_median_{study.config.groups.role(g)}']:.1f} months" in texts["figure2"]
            assert f"{values[f'survival.{endpoint}_median_{study.config.groups.role(g)}_matched']:.1f} months" \
                in texts["figure3"]
        assert fmt_p_label(values[f"survival.{endpoint}_logrank_p"]) in texts["figure2"]


# ----------------------------------------------------------------------------------------------- Supplementary Figures 1-4
def test_supplementary_figures_have_four_panels_a_to_d(study):
    third = third_line_figures(study, sections.third_line_results(study))
    cycles = cycles_subgroup_figures(study, sections.cycles_subgroup_results(study))
    assert list(third) == ["supp_figure1", "supp_figure2"] and list(cycles) == ["supp_figure3", "supp_figure4"]
    for fig in [*third.values(), *cycles.values()]:
        assert panel_letters(fig) == ["A", "B", "C", "D"]
    treatment, control = (g.capitalize() for g in study.groups)
    assert [p.title for p in _panels(third["supp_figure1"])] == [
        f"{treatment}, all enrolled", f"{treatment}, PS-matched", f"{control}, all enrolled", f"{control}, PS-matched"]
    cut = f"{study.config.cutpoints.atebev_cycles_subgroup:g}"
    assert [p.title for p in _panels(cycles["supp_figure4"])] == [
        f"≤{cut} cycles, all enrolled", f">{cut} cycles, all enrolled", f"≤{cut} cycles, PS-matched",
        f">{cut} cycles, PS-matched"]


def test_a_one_patient_level_is_not_drawn_and_a_panel_of_one_curve_prints_no_log_rank_p(study):
    """Supplementary Figure 2 A: sorafenib (15) and three regimens of one patient each. The section tests every
    level, as the article's P requires, but the panel draws one curve: a P there compared curves no reader sees
    (issue 24), so the panel says that no comparison is drawn."""
    from hcc_utils.report.figures.kaplan_meier import NO_COMPARISON_DRAWN

    values = sections.third_line_results(study)
    p = values["thirdline.os_type_treatment_p"]  # sorafenib (15) vs three one-patient regimens, every level tested
    assert 0 <= p < 1
    panel = _panels(third_line_figures(study, values)["supp_figure2"])[0]
    assert panel.legend == ["Sorafenib, n = 15", "Ipilimumab + nivolumab, n = 1: not drawn",
                            "Nivolumab, n = 1: not drawn", "Regorafenib, n = 1: not drawn"]
    curves = [line for line in panel.plot.get_lines() if line.get_linestyle() == "-"]
    assert len(curves) == 1
    assert list(_risk_numbers(panel.risk)) == ["Sorafenib"]
    assert panel.stat == NO_COMPARISON_DRAWN and "Log-rank" not in panel.stat.replace("log-rank P shown", "")
    received = _panels(third_line_figures(study, values)["supp_figure1"])[2]  # two curves: the P is printed
    assert received.stat == fmt_p_label(values["thirdline.os_received_control_p"])


def test_with_a_minimum_of_two_a_one_patient_level_is_neither_drawn_nor_tested(study):
    from hcc_utils.report.figures.kaplan_meier import NO_COMPARISON_DRAWN

    strict = load_study(REPO_ROOT / "data" / "synthetic_cohort.csv",
                        load_config().replace(**{"survival.min_subgroup_size": 2}))
    values = sections.third_line_results(strict)
    assert np.isnan(values["thirdline.os_type_treatment_p"])  # one regimen left: nothing to compare
    panel = _panels(third_line_figures(strict, values)["supp_figure2"])[0]
    assert panel.stat == NO_COMPARISON_DRAWN


def test_a_one_patient_arm_is_not_drawn_but_tested(study):
    from hcc_utils.report.figures.kaplan_meier import NO_COMPARISON_DRAWN

    cut = f"{study.config.cutpoints.atebev_cycles_subgroup:g}"
    data = study.data
    low = data["atebev_cycles"] <= study.config.cutpoints.atebev_cycles_subgroup
    keep_one = data.index[(data["group"] == study.control) & low][:1]
    small = dataclasses.replace(study, data=data[~((data["group"] == study.control) & low) | data.index.isin(keep_one)].copy())
    values = sections.cycles_subgroup_results(small)
    assert values[f"cycles.le{cut}_os_n_control"] == 1
    p = values[f"cycles.le{cut}_os_logrank_p"]
    assert 0 <= p <= 1
    panel = _panels(cycles_subgroup_figures(small, values)["supp_figure3"])[0]
    assert panel.legend[-1] == f"{study.control.capitalize()}, n = 1: not drawn"
    assert panel.stat == NO_COMPARISON_DRAWN  # one curve drawn: no P printed beside it
    assert len([line for line in panel.plot.get_lines() if line.get_linestyle() == "-"]) == 1


def test_a_panel_of_two_curves_with_a_level_not_drawn_says_its_test_includes_it(study):
    cut = f"{study.config.cutpoints.atebev_cycles_subgroup:g}"
    values = sections.third_line_results(study)
    panels = _panels(third_line_figures(study, values)["supp_figure2"])
    drawn = [p for p in panels if "not drawn" in " ".join(p.legend) and
             len([line for line in p.plot.get_lines() if line.get_linestyle() == "-"]) >= 2]
    for panel in drawn:
        assert "(test includes levels not drawn)" in panel.stat and "Log-rank P" in panel.stat
    assert cut  # the cycles figures draw both arms on the bundled cohort
    for panel in _panels(cycles_subgroup_figures(study, sections.cycles_subgroup_results(study))["supp_figure3"]):
        assert panel.stat.startswith("Log-rank P")


def test_numbers_at_risk_are_readable_in_every_curve_colour(study):
    """Text in a curve's colour is darkened to a contrast of at least 4.5:1 on white (a yellow curve's numbers
    at risk were unreadable); the check fails on the raw yellow of the palette."""
    from hcc_utils.report.figures.style import SPARE_COLOURS, TEXT_CONTRAST, contrast_ratio, text_colour

    assert contrast_ratio("#000000") == pytest.approx(21.0) and contrast_ratio("#FFFFFF") == pytest.approx(1.0)
    assert contrast_ratio("#767676") == pytest.approx(4.54, abs=0.01)  # WebAIM's reference grey
    assert contrast_ratio("#F0E442") < 1.5  # the injected defect: raw yellow text
    for colour in SPARE_COLOURS:
        assert contrast_ratio(text_colour(colour)) >= TEXT_CONTRAST
    assert SPARE_COLOURS[-1] == "#F0E442"  # yellow only for a seventh category
    values = sections.third_line_results(study)
    for fig in third_line_figures(study, values).values():
        for panel in _panels(fig):
            if panel.risk is None:
                continue
            colours = [t.get_color() for t in panel.risk.texts] + [t.get_color() for t in panel.risk.get_yticklabels()]
            assert all(contrast_ratio(c) >= TEXT_CONTRAST for c in colours), panel.title


def test_a_hazard_ratio_that_cannot_be_estimated_is_said_on_the_panel():
    from hcc_utils.report.figures.kaplan_meier import HR_NOT_ESTIMABLE, _hr_line

    values = {"survival.os_hr": 1.5, "survival.os_hr_lo": 1.1, "survival.os_hr_hi": 2.0, "survival.os_hr_matched": float("nan")}
    assert _hr_line(values, "survival.os", "") == ["HR 1.500 (95% CI 1.100–2.000)"]
    assert _hr_line(values, "survival.os", "_matched") == [HR_NOT_ESTIMABLE]


def test_third_line_alt_texts_name_levels_not_drawn(study):
    texts = third_line_alt_texts(study, sections.third_line_results(study))
    assert "not drawn: Ipilimumab + nivolumab (n = 1)" in texts["supp_figure2"]
    assert texts["supp_figure1"].count("Panel ") == 4 and "median" in texts["supp_figure1"]
    cycles = cycles_alt_texts(study, sections.cycles_subgroup_results(study))
    assert set(cycles) == {"supp_figure3", "supp_figure4"}


# ----------------------------------------------------------------------------------------------- forest plot
def test_forest_ticks_are_plain_numbers_with_a_reference_line_at_1(study):
    fig = multivariable_forest(study, sections.predictor_models(study))
    ax = fig.axes[0]
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
    assert labels and all(label.replace(".", "", 1).isdigit() for label in labels), labels
    assert "1" in labels and not any("10^" in label or "times" in label or "$" in label for label in labels)
    assert [t.get_text() for t in ax.get_xminorticklabels() if t.get_text()] == []
    assert any(np.allclose(line.get_xdata(), 1.0) for line in ax.get_lines())


def test_hr_ticks_cover_the_intervals():
    assert hr_ticks(0.72, 4.3) == [0.5, 1, 2, 4, 8]
    assert hr_ticks(1.1, 1.8) == [1, 2]
    assert all(t in HR_TICKS for t in hr_ticks(0.01, 100)) and len(hr_ticks(0.01, 100)) <= 6


def test_forest_text_columns_show_hr_ci_and_p(study):
    models = sections.predictor_models(study)
    table = multivariable_forest_table(study, models)
    fig = multivariable_forest(study, models)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert {"Variable", "HR (95% CI)", "P"} <= set(texts)
    for row in table.itertuples():
        assert row.label in texts
        assert f"{row.hr:.3f} ({row.ci_low:.3f}–{row.ci_high:.3f})" in texts
    assert all(t.get_fontsize() >= MIN_FONT_PT for t in fig.axes[0].texts)
    assert figures.style.figure_width_in(fig) * figures.style.DISPLAY_DPI <= 768  # as saved: unshrunk in the 768 px column at 1400 px
    alt = forest_alt_text(study, models)
    assert all(f"HR {row.hr:.3f}" in alt for row in table.itertuples())


def test_multivariable_forest_table_has_readable_labels(study):
    models = sections.predictor_models(study)
    table = multivariable_forest_table(study, models)
    expected_panels = [f"{name} (multivariable)" for endpoint, name in
                       (("os", "Overall survival"), ("pfs", "Progression-free survival")) if len(models[endpoint].multivariable)]
    assert list(dict.fromkeys(table["panel"])) == expected_panels
    assert "control_group" not in set(table["label"])
    if (table["covariate"] == "control_group").any():
        assert f"{study.control.capitalize()} (vs {study.treatment})" in set(table["label"])
    fig = multivariable_forest(study, models)
    assert set(expected_panels) <= {t.get_text() for t in fig.axes[0].texts}


def test_multivariable_forest_without_a_selected_predictor_says_so(study):
    empty = SimpleNamespace(multivariable=pd.DataFrame(columns=["covariate", "hr", "ci_low", "ci_high", "p"]), selected=[])
    models = {"os": empty, "pfs": empty}
    assert multivariable_forest_table(study, models).empty
    fig = multivariable_forest(study, models)
    assert [t.get_text() for t in fig.axes[0].texts] == ["No predictor met the univariable selection threshold"]


# ----------------------------------------------------------------------------------------------- type sizes, files
def test_text_in_every_figure_is_at_least_9_pt(study):
    figs = {**survival_figures(study), **third_line_figures(study), **cycles_subgroup_figures(study),
            "flow": cohort_flow_figure(study.flow, study.treatment, study.control)}
    for name, fig in figs.items():
        sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text().strip()]
        assert min(sizes) >= MIN_FONT_PT, name
        width_px = fig.get_size_inches()[0] * figures.style.DISPLAY_DPI
        assert width_px / 768 <= 1.3, name  # shrunk at most 1.3x in the 768 px image column at 1400 px


def test_saved_files_are_byte_identical_when_saved_twice(study, tmp_path):
    from hcc_utils.report.figures import save_figure

    fig = survival_figures(study)["figure2"]
    first = [p.read_bytes() for p in save_figure(fig, tmp_path / "one", "figure2")]
    second = [p.read_bytes() for p in save_figure(survival_figures(study)["figure2"], tmp_path / "two", "figure2")]
    assert [p.suffix for p in save_figure(fig, tmp_path / "three", "x")] == [".svg", ".png", ".pdf"]
    assert first == second
    assert b"CreationDate" not in first[2] and b"<dc:date>" not in first[0]
    from PIL import Image
    import io
    width, _ = Image.open(io.BytesIO(first[1])).size
    assert width > 1.9 * fig.get_size_inches()[0] * figures.style.DISPLAY_DPI  # PNG at 2x


def test_published_figure_carries_alt_text_and_download_links(study, tmp_path):
    from hcc_utils.report.figures.style import prepare_figure

    values = sections.survival_results(study)
    alt = survival_alt_texts(study, values)["figure2"]
    image = prepare_figure(survival_figures(study, values)["figure2"], tmp_path / "05_survival", "figure2", alt)
    html_text = image._repr_mimebundle_()["text/html"]
    assert html_text.startswith('<img class="hcc-figure hcc-figure--composite" src="data:image/svg+xml;base64,')
    assert f'alt="{html.escape(alt)}"' in html_text
    assert f"{values['survival.os_median_treatment']:.1f} months" in alt
    for fmt in ("PDF", "SVG", "PNG"):
        assert f'href="../downloads/05_survival/figures/figure2.{fmt.lower()}" download>{fmt}</a>' in html_text


# ------------------------------------------------------------------------------------------- stacked panels
def _svg_texts(svg: bytes) -> str:
    """The text of an SVG (matplotlib writes text as text: svg.fonttype none)."""
    return " ".join(re.findall(r">([^<>]+)</text>", svg.decode("utf-8")))


def test_composite_figure_is_stacked_one_panel_per_image_in_reading_order(study, tmp_path):
    from hcc_utils.report.figures.panels import stacked_panels
    from hcc_utils.report.figures.style import prepare_figure

    values = sections.third_line_results(study)
    fig = figures.third_line_figures(study, values)["supp_figure1"]      # 2 x 2 panels, A-D
    letters = panel_letters(fig)
    pieces = stacked_panels(fig)
    assert [p.is_panel for p in pieces] == [True] * len(letters) == [True] * 4
    for letter, piece in zip(letters, pieces):   # each piece holds its own letter and no other panel's
        words = _svg_texts(piece.svg).split()
        assert letter in words and not set(letters) - {letter} & set(words), (letter, words)
        assert piece.width_in < 0.7 * figures.style.figure_width_in(fig)     # one panel, not the whole width
    # published: the wide image kept (with its alt text), the panels after it in a group carrying the same alt text
    alt = third_line_alt_texts(study, values)["supp_figure1"]
    image = prepare_figure(figures.third_line_figures(study, values)["supp_figure1"], tmp_path, "supp_figure1", alt)
    page = image.html()
    assert page.count('class="hcc-figure-panel hcc-figure-panel--part"') == 4
    assert f'<div class="hcc-figure-panels" role="img" aria-label="{html.escape(alt)}"' in page
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == [
        "supp_figure1.pdf", "supp_figure1.png", "supp_figure1.svg"]   # the downloads only


def test_axes_side_by_side_are_panels_and_a_single_panel_is_not_stacked(study):
    from hcc_utils.report.figures.panels import stacked_panels

    fig, axes = plt.subplots(1, 2, figsize=(8, 3), sharey=True)   # the right panel's y axis is not numbered
    for ax, title in zip(axes, ("left", "right")):
        ax.set_title(title)
    fig.legend(handles=[axes[0].plot([0, 1], [0, 35], label="curve")[0]], loc="upper center")
    fig.supxlabel("shared axis")
    fig.supylabel("shared count")
    pieces = stacked_panels(fig)
    texts = [_svg_texts(p.svg) for p in pieces]
    # legend and the shared y label above, the panels, the shared x label below
    assert [p.is_panel for p in pieces] == [False, False, True, True, False], texts
    assert "curve" in texts[0] + texts[1] and "shared count" in texts[0] + texts[1]
    assert "left" in texts[2] and "right" not in texts[2] and "right" in texts[3] and "shared axis" in texts[4]
    assert "30" in texts[3].split()                     # standing alone, the right panel numbers its y axis
    assert not axes[1].yaxis.get_major_ticks()[0].label1.get_visible()   # ... and the figure is left as it was
    assert fig.texts[-1].get_rotation() == 90
    one, _ = plt.subplots(figsize=(8, 3))
    assert stacked_panels(one) == []                                           # nothing to stack
    column = plt.figure(figsize=(4, 6))
    column.subplots(2, 1)
    assert stacked_panels(column) == []                                        # already one under the other


def test_reading_order_is_rows_from_the_top_then_left_to_right():
    from matplotlib.transforms import Bbox

    from hcc_utils.report.figures.panels import reading_order, side_by_side

    grid = [Bbox.from_bounds(x, y, 4, 3) for y in (0, 3.2) for x in (4.2, 0)]  # bottom right, bottom left, top ...
    assert reading_order(grid) == [3, 2, 1, 0]
    assert side_by_side(grid) and not side_by_side([grid[0], Bbox.from_bounds(4.2, 3.2, 4, 3)])


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
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [g.capitalize() for g in study.groups]


def _legend_covers_a_point(fig) -> bool:
    ax = fig.axes[0]
    fig.canvas.draw()
    box = ax.get_legend().get_window_extent()
    points = np.vstack([c.get_offsets() for c in ax.collections])
    shown = ax.transData.transform(points)
    return bool(((shown[:, 0] >= box.x0) & (shown[:, 0] <= box.x1) & (shown[:, 1] >= box.y0)
                 & (shown[:, 1] <= box.y1)).any())


def test_adverse_event_chart_axis_starts_at_zero_and_its_legend_covers_no_point(study):
    long = sections.safety_tables(study)["long"]
    fig = common_adverse_events_chart(study, long)
    ax = fig.axes[0]
    assert ax.get_xlim()[0] == 0
    assert not _legend_covers_a_point(fig)
    ax.legend(loc="lower right")  # the injected defect: the legend inside the plot, where the dots are
    assert _legend_covers_a_point(fig)


def test_publish_figure_shows_nothing_so_a_cell_ending_with_it_adds_no_uncaptioned_copy(study, tmp_path):
    from hcc_utils.report.figures import publish_figure

    assert publish_figure(survival_figures(study)["figure2"], tmp_path, "figure2", "Kaplan-Meier curves") is None


def test_a_figure_without_alt_text_is_refused_not_named_after_its_file(study, tmp_path):
    """Alt text like "ps overlap" (the file name) described nothing (issue 24): publishing requires a description,
    and the matching and adverse-event figures have theirs, with their numbers."""
    from hcc_utils.report.figures import adverse_events_alt_text, matching_alt_texts, publish_figure

    with pytest.raises(ValueError, match="no alt text"):
        publish_figure(survival_figures(study)["figure2"], tmp_path, "ps_overlap", "")
    alts = matching_alt_texts(study, sections.matching_tables(study)["balance"])
    assert set(alts) == {"ps_overlap", "love_plot"}
    assert "Histograms of the propensity score" in alts["ps_overlap"] and "n = 36" in alts["ps_overlap"]
    assert "largest is" in alts["love_plot"]
    text = adverse_events_alt_text(study, sections.safety_tables(study)["long"])
    assert text.count("%") == 2 * 10 and "Proteinuria Lenvatinib" in text


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
        values.add("safety.higher_in_treatment", listed, Kind.LIST)
        assert safety_texts(study, values) == {"safety_higher_in_treatment_name": text}


def test_notebook_figure_cells_are_calls():
    """The notebooks' figure cells are one or two calls: no loops, no definitions. The lessons' cells (a chapter's
    "Step by step", its exercises' worked answers and self-checks) are written out for trainees to read, and may."""
    import json

    lessons = {"parameters", "hcc-step-by-step", "hcc-answer", "hcc-self-check"}
    for path in sorted((REPO_ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(Path(path).read_text())["cells"]:
            if cell["cell_type"] != "code" or lessons & set(cell["metadata"].get("tags", [])):
                continue
            tree = ast.parse("".join(cell["source"]))
            loops = [n for n in ast.walk(tree) if isinstance(n, (ast.For, ast.While, ast.FunctionDef, ast.ListComp,
                                                                  ast.DictComp, ast.GeneratorExp, ast.If))]
            assert not loops, f"{path.name}: logic in a notebook cell belongs in hcc_utils"


def test_publish_figures_saves_each_under_its_name_and_shows_nothing(study, tmp_path):
    from hcc_utils.report.figures import publish_figures

    figs = survival_figures(study)
    assert publish_figures(figs, tmp_path, survival_alt_texts(study, sections.survival_results(study))) is None
    saved = sorted(p.name for p in (tmp_path / "figures").iterdir())
    assert saved == sorted(f"{name}.{ext}" for name in figs for ext in ("pdf", "png", "svg"))


# ------------------------------------------------------------------------------------------ thinning (issue 14)
def _large_km_table(n: int, continuous: bool, seed: int = 3) -> pd.DataFrame:
    from hcc_utils.stats.survival import kaplan_meier
    rng = np.random.default_rng(seed)
    days = rng.exponential(400, n)
    time = (days if continuous else np.ceil(days)) / 30.4375
    return kaplan_meier(time, (rng.random(n) < 0.7).astype(int)).table


def test_thinned_steps_stay_within_a_fraction_of_a_pixel_of_every_step():
    from hcc_utils.report.figures.km_draw import THIN_CELLS, Y_LIMITS, thin_steps
    for n, continuous in [(200_000, True), (200_000, False)]:
        table = _large_km_table(n, continuous)
        times = np.concatenate([[0.0], table["time"].to_numpy()])
        surv = np.concatenate([[1.0], table["survival"].to_numpy()])
        cell_x, cell_y = 36 / THIN_CELLS, (Y_LIMITS[1] - Y_LIMITS[0]) / THIN_CELLS
        keep = thin_steps(times, [surv], cell_x, cell_y)
        assert keep[0] == 0 and keep[-1] == times.size - 1 and (np.diff(keep) > 0).all()
        if continuous:
            assert keep.size < times.size / 5
        # the thinned curve at every original time: the last kept step at or before it
        drawn = surv[keep][np.searchsorted(keep, np.arange(times.size), side="right") - 1]
        assert np.abs(drawn - surv).max() < cell_y
        # a dropped step lies within one cell (time) of the kept step drawn for it
        last_kept = times[keep][np.searchsorted(keep, np.arange(times.size), side="right") - 1]
        assert (times - last_kept).max() < cell_x
    # points in distinct cells (one day is about 8 cells of a 36-month axis) are all kept
    days = np.arange(0, 1000) / 30.4375
    assert thin_steps(days, [np.linspace(1, 0.1, days.size)], cell_x, cell_y).size == days.size


def test_a_km_figure_of_a_million_patients_stays_light():
    import io
    from hcc_utils.report.figures.km_draw import KMCurve, KMPanel, THIN_CELLS, draw_km_panel
    table = _large_km_table(1_000_000, continuous=True)
    panel = KMPanel(title="A", curves={"all": KMCurve(table, 1_000_000, float("nan"), "#1f77b4")},
                    ticks=[0, 12, 24, 36])
    fig = plt.figure(figsize=(4.9, 4.5))
    axes = draw_km_panel(fig, panel)
    step, ticks = axes["plot"].lines[0], axes["plot"].lines[1]
    assert len(step.get_xdata()) <= 2 * 2 * THIN_CELLS and len(ticks.get_xdata()) <= 2 * 2 * THIN_CELLS
    assert len(table) > 200_000                        # the numbers keep every step
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    assert len(buffer.getvalue()) < 1_500_000
