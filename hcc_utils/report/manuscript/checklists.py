"""The STROBE checklist for cohort studies (von Elm 2007) and the RECORD extension for routinely collected data
(Benchimol 2015): each item with the manuscript's section that answers it (an appendix table of the manuscript).

Sections are named as the manuscript titles them ("Methods — Propensity-score matching"); an item the draft leaves to
the authors names the section they write (Introduction, Discussion, the title page's funding line) or, where the
draft has no such section (setting and dates, linkage, missing data by variable), :data:`AUTHORS`. A test checks
that every named section exists in the manuscript.
"""
from __future__ import annotations

#: An item no section of the draft answers: the authors add it.
AUTHORS = "To be completed by the authors"

#: (item, topic, recommendation in short, sections of the manuscript answering it)
STROBE = (
    ("1a", "Title and abstract", "Study design in the title or abstract", ("Title page", "Abstract")),
    ("1b", "Title and abstract", "Informative and balanced summary", ("Abstract",)),
    ("2", "Background/rationale", "Scientific background and rationale", ("Introduction",)),
    ("3", "Objectives", "Specific objectives and hypotheses", ("Introduction", "Abstract")),
    ("4", "Study design", "Key elements of study design early in the paper", ("Methods — Study design and patients",)),
    ("5", "Setting", "Setting, locations, dates of recruitment, follow-up", (AUTHORS,)),
    ("6a", "Participants", "Eligibility criteria, sources and methods of selection, follow-up",
     ("Methods — Study design and patients",)),
    ("6b", "Participants", "Matching criteria and number exposed and unexposed",
     ("Methods — Propensity-score matching", "Results — Propensity-score matching")),
    ("7", "Variables", "Outcomes, exposures, predictors, confounders, effect modifiers",
     ("Methods — Outcomes and statistical analysis",)),
    ("8", "Data sources/measurement", "Sources of data and methods of assessment",
     ("Methods — Study design and patients", "Methods — Outcomes and statistical analysis")),
    ("9", "Bias", "Efforts to address potential sources of bias",
     ("Methods — Propensity-score matching", "Methods — Sensitivity analyses")),
    ("10", "Study size", "How the study size was arrived at", ("Results — Cohort flow", "Figures")),
    ("11", "Quantitative variables", "How quantitative variables were handled, groupings chosen",
     ("Methods — Outcomes and statistical analysis",)),
    ("12a", "Statistical methods", "All statistical methods, including those to control for confounding",
     ("Methods — Propensity-score matching", "Methods — Outcomes and statistical analysis")),
    ("12b", "Statistical methods", "Methods to examine subgroups and interactions",
     ("Methods — Outcomes and statistical analysis",)),
    ("12c", "Statistical methods", "How missing data were addressed", ("Methods — Outcomes and statistical analysis",)),
    ("12d", "Statistical methods", "How loss to follow-up was addressed", ("Methods — Outcomes and statistical analysis",)),
    ("12e", "Statistical methods", "Sensitivity analyses", ("Methods — Sensitivity analyses",)),
    ("13a", "Participants", "Numbers at each stage of the study", ("Results — Cohort flow", "Figures")),
    ("13b", "Participants", "Reasons for non-participation at each stage", ("Results — Cohort flow", "Figures")),
    ("13c", "Participants", "Flow diagram", ("Figures",)),
    ("14a", "Descriptive data", "Characteristics of participants", ("Results — Baseline characteristics", "Tables")),
    ("14b", "Descriptive data", "Participants with missing data for each variable", (AUTHORS,)),
    ("14c", "Descriptive data", "Follow-up time", ("Results — Survival after second-line therapy",)),
    ("15", "Outcome data", "Numbers of outcome events or summary measures over time",
     ("Results — Survival after second-line therapy", "Tables")),
    ("16a", "Main results", "Unadjusted and adjusted estimates with precision",
     ("Results — Survival after second-line therapy", "Results — Predictors of survival", "Tables")),
    ("16b", "Main results", "Category boundaries of continuous variables categorised",
     ("Methods — Outcomes and statistical analysis", "Tables")),
    ("16c", "Main results", "Relative risk translated into absolute risk if relevant", ("Discussion",)),
    ("17", "Other analyses", "Subgroups, interactions and sensitivity analyses",
     ("Results — Third-line therapy and prior ATE+BEV cycles", "Methods — Sensitivity analyses")),
    ("18", "Key results", "Key results with reference to the objectives", ("Discussion", "Abstract")),
    ("19", "Limitations", "Limitations, sources of bias or imprecision", ("Discussion",)),
    ("20", "Interpretation", "Cautious overall interpretation", ("Discussion",)),
    ("21", "Generalisability", "External validity of the results", ("Discussion",)),
    ("22", "Funding", "Source of funding and role of the funders", ("Title page",)),
)

#: The RECORD statement's own items (added to STROBE's).
RECORD = (
    ("1.1", "Title and abstract", "Type of data used and the databases named", ("Title page", "Abstract")),
    ("1.2", "Title and abstract", "Geographic region and time frame", (AUTHORS,)),
    ("1.3", "Title and abstract", "Linkage between databases, if any", (AUTHORS,)),
    ("6.1", "Participants", "Methods of selection (codes, algorithms) of the population",
     ("Methods — Study design and patients",)),
    ("6.2", "Participants", "Validation studies of the codes or algorithms", (AUTHORS,)),
    ("6.3", "Participants", "Data linkage flow diagram, if linkage was done", (AUTHORS,)),
    ("7.1", "Variables", "Codes and algorithms classifying exposures, outcomes, confounders",
     ("Methods — Outcomes and statistical analysis",)),
    ("12.1", "Statistical methods", "Extent of access to the database population", (AUTHORS,)),
    ("12.2", "Statistical methods", "Data cleaning methods", ("Methods — Study design and patients",)),
    ("12.3", "Statistical methods", "Whether linkage was done and its methods", (AUTHORS,)),
    ("13.1", "Participants", "Selection of included persons from the data, with a flow diagram",
     ("Results — Cohort flow", "Figures")),
    ("19.1", "Limitations", "Implications of data not created for this research question", ("Discussion",)),
    ("22.1", "Other information", "Access to protocol, raw data and programming code", ("Methods — Software",
                                                                                        "Title page")),
)
