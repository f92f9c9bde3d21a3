"""The article's result ids in a run's terms: groups by role, regimens by what they count.

``data/targets.csv`` keeps the article's ids, which name its groups by regimen (``survival.os_median_len``,
``flow.enrolled_sorafenib``; the ``group`` column says which). A run names its groups by role
(``survival.os_median_treatment``: :meth:`hcc_utils.config.schema.Groups.role`), so that its ids do not depend on
the regimens it compares. This module is the one place where an article id becomes a run id
(:func:`align_targets`); the scorecard, the introduction's "Article" column and the synthetic cohort's calibration
all go through it.

The article compared lenvatinib (its treatment group, the propensity model's "treated") with sorafenib (its
control). A run of other regimens is compared with it **by role**: the article's lenvatinib numbers beside the
run's treatment group, its sorafenib numbers beside the run's control group. Numbers that count a named regimen
(the flow diagram's ``flow.second_line_<regimen>``, third-line regimens ``thirdline.<group>_<regimen>``) keep the
regimen, except that

* a regimen the article compared is read by its role: the article's 40 patients given lenvatinib at second line
  stand beside the run's patients given its treatment regimen;
* a regimen that the article did not compare but the run does (regorafenib: 8 patients the article excluded) is
  *not comparable*: the article counted patients outside its study, the run counts one of its groups.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from hcc_utils.config.schema import ROLES
from hcc_utils.data.derive import regimen_key

#: The article's compared regimens by role.
ARTICLE_GROUPS: dict[str, str] = {"treatment": "lenvatinib", "control": "sorafenib"}
#: The article's regimens -> their roles.
ARTICLE_GROUPS_BY_REGIMEN: dict[str, str] = {name: role for role, name in ARTICLE_GROUPS.items()}


def _normalised(groups) -> tuple[str, str]:
    """(treatment, control) in lower case from a ``{role: regimen}`` mapping, a pair, a ``Groups`` section or
    None (the article's)."""
    if groups is None:
        groups = ARTICLE_GROUPS
    if isinstance(groups, dict):
        pair = (groups["treatment"], groups["control"])
    elif hasattr(groups, "treatment"):
        pair = (groups.treatment, groups.control)
    else:
        pair = tuple(groups)
    return tuple(str(name).strip().lower() for name in pair)  # type: ignore[return-value]


def _article_role_tokens() -> dict[str, str]:
    """Words of the article's ids that name one of its groups: the regimen and its first three letters."""
    return {word: role for role, name in ARTICLE_GROUPS.items() for word in (name, name[:3])}


def _regimen_of(row) -> str | None:
    """The named regimen a target counts (second-line or third-line regimen counts), else None."""
    endpoint = str(getattr(row, "endpoint", ""))
    if str(row.id).startswith("flow.second_line_") and endpoint == "second_line":
        return str(row.group)
    if endpoint.startswith("third_line_") and str(row.id).endswith("_" + endpoint.removeprefix("third_line_")):
        return endpoint.removeprefix("third_line_")
    return None


@dataclass(frozen=True)
class Alignment:
    """An article id, the run's id that measures the same thing (None when none does) and the reason."""

    article_id: str
    run_id: str | None
    reason: str = ""


def align_target(row, groups=None) -> Alignment:
    """The run's id of one published number (a row of ``targets.csv``: ``id``, ``group``, ``endpoint``).

    Parameters
    ----------
    row : a row of :func:`hcc_utils.reproduction.targets.load_targets` (itertuples) or any object with ``id``,
        ``group`` and ``endpoint`` (without them, only the words of the id that name the article's groups are read).
    groups : the run's (treatment, control) regimens; the article's when None.
    """
    run = _normalised(groups)
    article = _normalised(ARTICLE_GROUPS)
    by_role = dict(zip(ROLES, run))
    tokens = _article_role_tokens()
    regimen = _regimen_of(row)
    section, dot, rest = str(row.id).rpartition(".")
    parts = rest.split("_")
    if regimen is not None:
        width = len(regimen_key(regimen).split("_"))
        head, counted = parts[:-width], parts[-width:]
        if regimen in article:  # a regimen the article compared: the run's regimen of the same role
            counted = regimen_key(by_role[ARTICLE_GROUPS_BY_REGIMEN[regimen]]).split("_")
        elif regimen in run:
            role = ROLES[run.index(regimen)]
            where = "at second line" if section == "flow" else "as third-line therapy"
            return Alignment(str(row.id), None,
                             f"the article counts patients given {regimen} {where}, a regimen it did not compare; "
                             f"this run compares {regimen} (its {role} group)")
        parts = [tokens.get(part, part) for part in head] + counted
    else:
        parts = [tokens.get(part, part) for part in parts]
    return Alignment(str(row.id), f"{section}{dot}{'_'.join(parts)}")


def align_targets(targets: pd.DataFrame, groups=None) -> dict[str, Alignment]:
    """:func:`align_target` of every published number, ``{article id: Alignment}`` in the order of ``targets``.

    Raises
    ------
    ValueError
        Two published numbers would be compared with the same run id (the translation must be one-to-one).
    """
    out = {row.id: align_target(row, groups) for row in targets.itertuples(index=False)}
    seen: dict[str, str] = {}
    for alignment in out.values():
        if alignment.run_id is None:
            continue
        if alignment.run_id in seen:
            raise ValueError(f"{seen[alignment.run_id]} and {alignment.article_id} would both be compared with "
                             f"{alignment.run_id}")
        seen[alignment.run_id] = alignment.article_id
    return out


def same_regimens(groups) -> bool:
    """Whether the run compares the article's regimens (in the article's roles)."""
    return _normalised(groups) == _normalised(ARTICLE_GROUPS)


def role_note(groups) -> str:
    """The sentence that says how a run of other regimens is compared with the article ('' for the article's):
    'different regimens: compared by role (treatment = cabozantinib vs the article's lenvatinib; control =
    regorafenib vs sorafenib)'."""
    if same_regimens(groups):
        return ""
    treatment, control = _normalised(groups)
    return (f"different regimens: compared by role (treatment = {treatment} vs the article's "
            f"{ARTICLE_GROUPS['treatment']}; control = {control} vs {ARTICLE_GROUPS['control']})")


def role_paragraph(groups) -> str:
    """What the scorecard page says of the regimens: that the build compares the article's, or that it compares
    others by role (:func:`role_note`) and what that leaves out."""
    note = role_note(groups)
    if not note:
        return "This build compares the article's regimens."
    return (f"Different regimens: {note.removeprefix('different regimens: ')}. Each published number stands beside "
            "this build's number of the same role; a number the article gives for a regimen it did not compare, "
            "but this build does, is not comparable and is left out of the count.")


def regimen_names(groups) -> dict[str, str]:
    """The article's regimens -> the run's regimens of the same role (for the items of published lists, such as
    the predictors of Table 4, where the control group is named by its regimen)."""
    return dict(zip(_normalised(ARTICLE_GROUPS), _normalised(groups)))
