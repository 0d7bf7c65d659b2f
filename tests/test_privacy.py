"""How a patient is shown, with and without privacy mode."""

import pandas as pd

from dashboard import privacy


def test_alias_is_initials_and_id_suffix():
    assert privacy.alias("Avery Example", "P0007") == "A.E. ·0007"
    assert privacy.alias(None, "P12") == "? ·P12"


def test_display_with_and_without_privacy():
    assert privacy.patient_display("Avery Example", "P0007", False) == "Avery Example (P0007)"
    assert privacy.patient_display("Avery Example", "P0007", True) == "A.E. ·0007"


def test_mask_frame_hides_names_and_private_columns():
    df = pd.DataFrame(
        {
            "patient_id": ["P0001"],
            "name": ["Blake Sample"],
            "birth_year": [1970],
            "notes": ["private words"],
            "item9": [2],
            "site": ["North"],
        }
    )
    masked = privacy.mask_frame(df, True)
    assert list(masked.columns) == ["patient", "patient_id", "site"]
    assert masked.patient.tolist() == ["B.S. ·0001"]
    shown = privacy.mask_frame(df, False)
    assert shown.patient.tolist() == ["Blake Sample (P0001)"]
    assert "notes" in shown.columns and "name" not in shown.columns
