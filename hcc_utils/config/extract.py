"""How the author's extract is read as it comes: its column names, sheet, encoding, date and number formats (the
``extract`` section of the study configuration, :mod:`hcc_utils.config.schema`)."""
from __future__ import annotations

import codecs
from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from hcc_utils.config.dates import check_date_format, two_digit_year
from hcc_utils.config.section import Section


class Extract(Section):
    """How to read the author's extract as it comes: its column names, sheet, encoding, date and number formats."""

    columns: dict[str, str] = Field(
        {}, description="The extract's column names mapped to the data dictionary's, e.g. {Patient ID: patient_id}; "
                        "applied on reading, before validation. A name that is not a dictionary column is refused "
                        "with the closest one as a suggestion.")
    sheet: Optional[str] = Field(None, description="Excel worksheet holding the cohort; null for the first sheet.")
    encoding: str = Field(
        "auto", description="Character encoding of a CSV file: auto detects UTF-8 (with or without BOM), UTF-16 "
                            "with a BOM (Excel's 'Unicode text', tab-separated), CP949/EUC-KR (Korean hospital "
                            "systems) and cp1252/Latin-1, and warns naming the encoding it chose when the guess is "
                            "uncertain; or name one (utf-8, utf-16, cp949, euc-kr, cp1252, latin-1 ...). A cell that "
                            "does not decode is an error, never silently garbled text.")
    date_format: Optional[str] = Field(
        None, description="Format of every date column written as text: YYYY-MM-DD, DD/MM/YYYY, MM/DD/YYYY, "
                          "DD.MM.YYYY, YYYY.MM.DD, DD-MM-YYYY, YYYY/MM/DD ..., or with a two-digit year such as "
                          "DD/MM/YY (which needs two_digit_year_pivot); null detects it per column (and says so "
                          "when day-first and month-first both fit). Excel date cells and Excel serial numbers are "
                          "read whatever the format, in the workbook's date system (1900 or 1904).")
    date_formats: dict[str, str] = Field(
        {}, description="Per-column date formats (dictionary column names), overriding date_format.")
    two_digit_year_pivot: Optional[int] = Field(
        None, ge=1000, le=9900,
        description="First year of the hundred years in which two-digit years (YY) are read, as SAS's YEARCUTOFF: "
                    "1950 reads 50-99 as 1950-1999 and 00-49 as 2000-2049. null: dates with a two-digit year "
                    "are refused with a hint.")
    decimal: Literal["auto", ".", ","] = Field(
        "auto", description="Decimal mark of numbers written as text. auto: ',' in a semicolon-separated CSV, '.' "
                            "otherwise, and a cell written with the other mark is read when it can mean only one "
                            "number (2,5 or 1.401,5) and refused with a hint when it could mean two (1,401). "
                            "'.' or ',' declare it: the other mark is then never a decimal mark (with '.', 2,5 is "
                            "refused).")
    thousands: Optional[Literal[",", ".", " ", "'"]] = Field(
        None, description="Thousands separator of numbers written as text (1,401.5 with ','; 1.401,5 with '.'). "
                          "null: groups are read where they are unambiguous (1,401.5, 1.401,5, 1 401,5, "
                          "1,401,000) and a number such as 1,401 in a '.'-decimal file is refused with a hint "
                          "(1401 or 1.401?).")

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        if value != "auto":
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown encoding {value!r}; use auto, utf-8, utf-16, cp949, euc-kr, cp1252 or "
                                 "latin-1") from None
        return value

    @model_validator(mode="after")
    def _formats_known(self):
        for where, value in [("date_format", self.date_format), *((f"date_formats.{k}", v)
                                                                   for k, v in self.date_formats.items())]:
            if value is not None:
                check_date_format(value, where)
                if two_digit_year(value) and self.two_digit_year_pivot is None:
                    raise ValueError(f"{where} {value!r} has a two-digit year: state its century with "
                                     "extract.two_digit_year_pivot (e.g. 1950 reads 50-99 as 1950-1999 and 00-49 "
                                     "as 2000-2049)")
        if self.thousands is not None and self.thousands == self.decimal:
            raise ValueError(f"extract.thousands and extract.decimal are both {self.decimal!r}; they must differ")
        return self
