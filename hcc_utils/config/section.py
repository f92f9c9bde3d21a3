"""The base of every section of the configuration."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A configuration section: unknown keys are refused (with a suggestion, by the loader) and values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)
