"""The dashboard's caches: a cached figure or table is only reused for exactly the same inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard import components


def test_a_figure_input_differing_in_one_cell_of_a_large_frame_is_a_different_key():
    # Streamlit's own hash samples the rows of a frame over 100,000 rows, so two caseloads that
    # differ in one patient could share a cached chart; the figure cache hashes every cell.
    n = 150_000
    a = pd.DataFrame({"patient_id": [f"P{i:06d}" for i in range(n)], "change_pct": np.zeros(n)})
    b = a.copy()
    b.loc[n - 7, "change_pct"] = -30.0
    assert components._frame_digest(a) != components._frame_digest(b)
    assert components._frame_digest(a) == components._frame_digest(a.copy())
    renamed = a.rename(columns={"change_pct": "change_points"})
    assert components._frame_digest(a) != components._frame_digest(renamed)
    with_lists = pd.DataFrame({"patient_id": ["P1"], "because": [["review due"]]})
    assert components._frame_digest(with_lists) != components._frame_digest(
        with_lists.assign(because=[["urgent flag"]])
    )
