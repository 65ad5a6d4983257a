import numpy as np
import pandas as pd
import pytest

from commentmine.errors import InputError
from commentmine.scores import detect_score_column, normalise_scores, score_kind


@pytest.mark.parametrize("values, kind", [
    (["1", "5", "3"], "csat5"), (["0", "10", "7"], "nps"), (["1", "7"], "scale7"),
    (["Very satisfied", "Dissatisfied", "N/A"], "likert"), (["hello", "world"], None),
])
def test_kinds(values, kind):
    assert score_kind(pd.Series(values)) == kind


def test_normalise():
    np.testing.assert_allclose(normalise_scores(pd.Series(["1", "3", "5"])), [0, 0.5, 1])
    np.testing.assert_allclose(normalise_scores(pd.Series(["0", "10"])), [0, 1])
    out = normalise_scores(pd.Series(["Very dissatisfied", "N/A do not use", "Strongly agree"]))
    assert out[0] == 0 and np.isnan(out[1]) and out[2] == 1


def test_detect_and_bad_column():
    df = pd.DataFrame({"id": ["1", "2"], "NPS Score": ["9", "3"], "comment": ["a", "b"]})
    assert detect_score_column(df) == "NPS Score"
    with pytest.raises(InputError, match="does not look like a rating"):
        normalise_scores(df["comment"], column="comment")
