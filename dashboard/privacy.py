"""How a patient is shown: the one place that decides, for screens and exports alike.

In privacy mode a patient is an alias (initials plus the end of the pseudonymous id), and birth
dates, free-text notes and safety-item detail are removed.
"""

from __future__ import annotations

import pandas as pd

from dashboard import schema

# Columns never shown in privacy mode: every column the schema marks private, plus the names of
# people in the patients table under the aliases queries give them.
PRIVATE_COLUMNS = frozenset(
    {c.name for t in schema.IMPORT_TABLES for c in t.columns if c.private} - {"name"}
) | {"patient_name", "birth_date"}
SAFETY_MASK = "safety flag: see record"


def alias(name: str | None, patient_id: str) -> str:
    """Initials plus the id's last four characters: 'A.E. ·0007'."""
    initials = "".join(part[0].upper() + "." for part in (name or "").split() if part[:1].isalpha())
    return f"{initials or '?'} ·{patient_id[-4:]}"


def patient_display(name: str | None, patient_id: str, privacy_mode: bool) -> str:
    """What a screen or export shows for a patient."""
    if privacy_mode:
        return alias(name, patient_id)
    return f"{name} ({patient_id})" if name else patient_id


def mask_frame(df: pd.DataFrame, privacy_mode: bool, name_column: str = "name") -> pd.DataFrame:
    """A copy for display: `name` becomes `patient` (alias in privacy mode), private columns go."""
    out = df.copy()
    if name_column in out.columns and "patient_id" in out.columns:
        out.insert(
            0,
            "patient",
            [
                patient_display(n, pid, privacy_mode)
                for n, pid in zip(out[name_column], out["patient_id"], strict=True)
            ],
        )
        out = out.drop(columns=[name_column])
    if privacy_mode:
        out = out.drop(columns=[c for c in out.columns if c in PRIVATE_COLUMNS])
    return out
