"""A small, VALID screened cohort for tests; each test perturbs one thing.

``make_cohort()`` returns 40 screened patients (typed values, dictionary column order):

======  =====================================================================
rows    who
======  =====================================================================
1-30    enrolled: progression on first line, second line lenvatinib (odd
        rows) or sorafenib (even rows); ids P001-P030
31-32   died on first-line ATE+BEV (P031, P032)
33-34   deteriorated on first-line ATE+BEV (P033, P034)
35-36   progressed, then deteriorated; no second line (P035, P036)
37-38   progressed, second line regorafenib (P037, P038)
39      progressed, second line 5-FU based chemotherapy (P039)
40      progressed, no second-line therapy (P040)
======  =====================================================================

Enrolled patient ``i`` (0-based) starts second line on 2022-01-03 + 10 i days; progresses
40 + 5 i days later unless ``i % 5 == 4``; dies 120 + 9 i days later unless ``i % 3 == 2``;
is last seen on the death date, else 200 + 3 i days after the start. Data cut-off 2023-12-31.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hcc_utils.data.dictionary import load_dictionary

START = pd.Timestamp("2022-01-03")
CUTOFF = pd.Timestamp("2023-12-31")
N_ENROLLED = 30
FLOW = {
    "flow.eligible": 40,
    "flow.died_on_first_line": 2,
    "flow.deteriorated_on_first_line": 2,
    "flow.progressed": 36,
    "flow.deteriorated_after_first_line": 2,
    "flow.no_second_line": 1,
    "flow.second_line": 33,
    "flow.second_line_sorafenib": 15,
    "flow.second_line_lenvatinib": 15,
    "flow.second_line_regorafenib": 2,
    "flow.second_line_5fu": 1,
    "flow.enrolled": 30,
    "flow.enrolled_treatment": 15,
    "flow.enrolled_control": 15,
}
_ETIOLOGIES = ["hbv", "hcv", "alcohol", "nash", "hbv_hcv", "other"]
_RESPONSES = ["pr", "sd", "pd", "sd", "ne", "cr"]
_THIRD_LINE = ["none", "sorafenib", "regorafenib", "none", "cabozantinib"]


def enrolled_dates(i: int) -> dict[str, pd.Timestamp | None]:
    """Second-line start, progression, death and last follow-up of enrolled patient ``i`` (0-based)."""
    start = START + pd.Timedelta(days=10 * i)
    progression = start + pd.Timedelta(days=40 + 5 * i) if i % 5 != 4 else None
    death = start + pd.Timedelta(days=120 + 9 * i) if i % 3 != 2 else None
    last_followup = death if death is not None else start + pd.Timedelta(days=200 + 3 * i)
    return {
        "second_line_start_date": start,
        "progression_date": progression,
        "death_date": death,
        "last_followup_date": last_followup,
    }


def _clinical(i: int) -> dict:
    ae = {spec.name: (i + k) % 5 if (i + k) % 7 else 0 for k, spec in enumerate(load_dictionary().adverse_event_columns)}
    return {
        "age": 40.0 + i,
        "sex": "male" if i % 3 else "female",  # patterns other than the groups (i % 2): no separation
        "ecog": (i // 2) % 3,  # not the death pattern (i % 3): every Cox candidate has events in both levels
        "body_weight_kg": 50.0 + i,
        "etiology": _ETIOLOGIES[i % len(_ETIOLOGIES)],
        "child_pugh_score": 5 + i % 5,
        "bclc_stage": "c" if i % 6 else "b",
        "tumor_number": 1 + (i // 3) % 3,  # not a combination of sex and metastases (collinear covariates)
        "tumor_size_cm": 2.5 + 0.5 * ((11 * i) % 30),  # not collinear with age (the propensity model)
        "lymph_node_metastasis": i % 3 == 1,  # not the group pattern (i % 2): no separation
        "extrahepatic_metastasis": i % 5 == 0,  # not a combination of the other covariates
        "macrovascular_invasion": i % 4 == 0,
        "afp_ng_ml": 10.0 * (i + 1) ** 2,
        "pivka_mau_ml": 50.0 * (i + 1),
        "atebev_cycles": 1 + i % 8,
        "best_response_recist": _RESPONSES[i % len(_RESPONSES)],
        "best_response_mrecist": _RESPONSES[(i + 1) % len(_RESPONSES)],
        "third_line_regimen": _THIRD_LINE[i % len(_THIRD_LINE)],
        "ae_led_to_discontinuation": i % 4 == 1,
        **ae,
    }


def _row(patient: int, reason: str, regimen: str, deteriorated: bool | None = None, **values) -> dict:
    return {
        "patient_id": f"P{patient:03d}",
        "centre": "severance" if patient % 2 else "cha bundang",
        "first_line_end_reason": reason,
        "deteriorated_after_first_line": deteriorated,
        "second_line_regimen": regimen,
        "data_cutoff_date": CUTOFF,
        **values,
    }


def make_cohort() -> pd.DataFrame:
    """The valid 40-patient screened cohort described in the module docstring.

    Returns
    -------
    pandas.DataFrame
        Dictionary columns in order; numbers as float64/Int64, booleans as nullable
        ``boolean``, dates as ``datetime64[ns]``, text as ``object``.
    """
    rows = []
    for i in range(N_ENROLLED):
        regimen = "lenvatinib" if i % 2 == 0 else "sorafenib"
        rows.append(_row(i + 1, "progression", regimen, False, **_clinical(i), **enrolled_dates(i)))
    first_line_death = pd.Timestamp("2021-11-20")
    rows.append(_row(31, "death", "none", death_date=first_line_death, last_followup_date=first_line_death))
    rows.append(_row(32, "death", "none", death_date=first_line_death + pd.Timedelta(days=3)))
    rows.append(_row(33, "deterioration", "none", last_followup_date=pd.Timestamp("2022-02-01")))
    rows.append(_row(34, "deterioration", "none"))
    rows.append(_row(35, "progression", "none", True, **_clinical(3)))
    rows.append(_row(36, "progression", "none", True))
    for patient, regimen, i in ((37, "regorafenib", 5), (38, "regorafenib", 6), (39, "fluorouracil", 7)):
        rows.append(_row(patient, "progression", regimen, False, **_clinical(i), **enrolled_dates(i)))
    rows.append(_row(40, "progression", "none", None, age=70.0, sex="male"))
    frame = pd.DataFrame(rows)
    dictionary = load_dictionary()
    typed = {}
    for spec in dictionary.columns:
        column = frame[spec.name] if spec.name in frame else pd.Series([None] * len(frame))
        if spec.type == "integer":
            typed[spec.name] = column.astype("Int64")
        elif spec.type == "number":
            typed[spec.name] = column.astype("float64")
        elif spec.type == "boolean":
            typed[spec.name] = column.astype("boolean")
        elif spec.type == "date":
            typed[spec.name] = pd.to_datetime(column).astype("datetime64[ns]")
        else:
            typed[spec.name] = column.astype(object).where(column.notna(), None)
    return pd.DataFrame(typed)


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The cohort as the text a CSV holds (dates ISO, booleans yes/no, missing as "")."""
    text = {}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            text[name] = column.dt.strftime("%Y-%m-%d").fillna("")
        elif pd.api.types.is_bool_dtype(column):
            text[name] = column.map({True: "yes", False: "no"}, na_action="ignore").astype(object).fillna("")
        else:
            text[name] = column.astype(object).where(column.notna(), "").astype(str)
    return pd.DataFrame(text)


def write_cohort(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` as CSV (text), Excel or Parquet according to the extension of ``path``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        as_text(frame).to_csv(path, index=False)
    elif suffix == ".xlsx":
        frame.to_excel(path, index=False, engine="openpyxl")
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False, engine="pyarrow")
    else:
        raise ValueError(f"no writer for {suffix}")
    return path

