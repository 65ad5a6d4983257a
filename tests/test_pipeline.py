import json

import pandas as pd
import pytest

from commentmine.errors import InputError
from commentmine.pipeline import OUTPUT_COLUMNS, tag_file, tag_frame


def test_tag_frame_keeps_columns_and_adds_fields(tiny_model):
    df = pd.DataFrame({"id": [1, 2, 3], "comment": ["on hold for an hour", "very polite agent", None]})
    out = tag_frame(df, tiny_model, "comment")
    assert list(out.columns) == ["id", "comment", *OUTPUT_COLUMNS]
    assert "hold_time" in out["themes"][0]
    assert out["themes"][2] == [] and out["evidence"][2] == {}
    assert list(df.columns) == ["id", "comment"]  # pure: input untouched


def test_tag_frame_missing_column(tiny_model):
    with pytest.raises(InputError, match="'comment' not found"):
        tag_frame(pd.DataFrame({"x": ["a"]}), tiny_model, "comment")


@pytest.mark.parametrize("jobs", [1, 2])
def test_tag_file_chunks_and_workers_agree(tmp_path, tiny_model_dir, jobs):
    src = tmp_path / "in.csv"
    pd.DataFrame({"rid": [f"r{i}" for i in range(50)],
                  "comment": ["on hold forever", "polite and helpful agent", "", "refund late", "rude"] * 10}
                 ).to_csv(src, index=False)
    out = tmp_path / "out.jsonl"
    summary = tag_file(src, out, model_path=tiny_model_dir, chunksize=7, jobs=jobs, id_column="rid")
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert summary.rows == 50 and len(recs) == 50
    assert [r["rid"] for r in recs] == [f"r{i}" for i in range(50)]
    assert recs[2]["themes"] == []
    assert "hold_time" in recs[0]["themes"]


def test_tag_file_row_ids_and_empty_input(tmp_path, tiny_model_dir):
    src = tmp_path / "in.csv"
    src.write_text("comment\n")
    out = tmp_path / "out.csv"
    summary = tag_file(src, out, model_path=tiny_model_dir, jobs=1)
    assert summary.rows == 0
    assert pd.read_csv(out).columns.tolist() == ["row_id", "comment", *OUTPUT_COLUMNS]


def test_failed_run_leaves_no_output(tmp_path, tiny_model_dir):
    src = tmp_path / "in.csv"
    src.write_text("a,b\n1,2\n")
    out = tmp_path / "out.csv"
    with pytest.raises(InputError):
        tag_file(src, out, model_path=tiny_model_dir)
    assert not out.exists() and list(tmp_path.iterdir()) == [src]


def test_score_column_feeds_alerts(tiny_model):
    df = pd.DataFrame({"csat": ["1", "5", ""], "comment": ["agent was rude and shouted", "very polite agent", "ok"]})
    out = tag_frame(df, tiny_model, "comment", score_column="csat")
    assert out["score_normalized"].tolist()[:2] == [0.0, 1.0] and pd.isna(out["score_normalized"][2])
    assert out["alert"][0] and "low_score" in out["alert_reasons"][0]
    assert out["sentiment"][1] == "positive" and out["sentiment_score"][1] > 0
    assert "low_score" not in out["alert_reasons"][1]


def test_tag_file_detects_rating_column(tmp_path, tiny_model_dir):
    src = tmp_path / "in.csv"
    src.write_text("CSAT,comment\n1,agent was rude and shouted\n5,very polite agent\n")
    summary = tag_file(src, tmp_path / "o.jsonl", model_path=tiny_model_dir, jobs=1)
    assert summary.score_column == "CSAT"
