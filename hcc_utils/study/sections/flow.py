"""Figure 1: the flow of patients from first-line atezolizumab+bevacizumab to the two study groups."""
from __future__ import annotations

from hcc_utils.study.cohort import Study, group_code
from hcc_utils.study.registry import Kind, ResultSet
from hcc_utils.study.sections import SectionResult


def flow_results(study: Study) -> ResultSet:
    """Counts of the flow diagram: ``flow.*`` ids (patients at each step and excluded at each step)."""
    values = ResultSet()
    words = {f"flow.enrolled_{group_code(study, group)}": f"enrolled {group}" for group in study.groups}
    for key, count in study.flow.items():  # a group's count is named by role, labelled by its regimen
        text = words.get(key, key.removeprefix("flow.").replace("_", " "))
        values.add(key, count, Kind.COUNT, "Patients: " + text)
    return values


def compute(study: Study) -> SectionResult:
    return SectionResult(flow_results(study))
