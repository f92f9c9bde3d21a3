"""Write tests/reference/paired_data.csv: the 1:1 PS-matched pairs of the bundled synthetic cohort (analysis columns
only), the input of paired_reference.R. Regenerate both when the bundled cohort changes:

    .venv/bin/python tests/reference/make_paired_data.py && Rscript tests/reference/paired_reference.R
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from hcc_utils.config import REPO_ROOT, StudyConfig
from hcc_utils.data.readers import read_cohort
from hcc_utils.study import build_study
from hcc_utils.study.sections.paired import BINARY_OUTCOMES, binary_outcome


def paired_data(cohort_path: Path) -> pd.DataFrame:
    study = build_study(read_cohort(cohort_path), StudyConfig())
    matched = study.matched.sort_values(["pair_id", "group"], key=lambda s: s if s.name == "pair_id" else
                                        (s != study.treatment).astype(int))
    frame = pd.DataFrame({
        "pair_id": matched["pair_id"].astype(int).to_numpy(),
        "treatment": (matched["group"] == study.treatment).astype(int).to_numpy(),
        "os_months": matched["os_months"].to_numpy(), "os_event": matched["os_event"].astype(int).to_numpy(),
        "pfs_months": matched["pfs_months"].to_numpy(), "pfs_event": matched["pfs_event"].astype(int).to_numpy(),
        "control_group": (matched["group"] == study.control).astype(int).to_numpy(),
    })
    for name in BINARY_OUTCOMES:
        frame[name] = binary_outcome(matched, name).astype("Int64").to_numpy()
    frame.insert(0, "row", range(1, len(frame) + 1))
    return frame


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO_ROOT / "data" / "synthetic_cohort.csv"
    paired_data(source).to_csv(Path(__file__).parent / "paired_data.csv", index=False)
