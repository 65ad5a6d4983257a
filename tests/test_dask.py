import os
import threading
import time

import pandas as pd
import pytest

pytest.importorskip("distributed")
from distributed import Client, LocalCluster  # noqa: E402

from commentmine.dask import _check_workers, read_parts, tag_dask, tag_to_folder  # noqa: E402
from commentmine.errors import CommentmineError, ModelError  # noqa: E402
from commentmine.pipeline import tag_frame  # noqa: E402

COMMENTS = ["on hold for an hour", "very polite and helpful agent", "", "refund for damaged product is late",
            "agent was rude and shouted", "nothing", "still not resolved after three calls"]


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


def _parts(folder, n_parts=3, rows=40):
    folder.mkdir()
    frames = []
    for p in range(n_parts):
        df = pd.DataFrame({"rid": [f"p{p}-{i}" for i in range(rows)],
                           "comment": [COMMENTS[(i + p) % len(COMMENTS)] for i in range(rows)]})
        df.to_csv(folder / f"part{p}.csv", index=False)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def test_identical_to_in_process(tmp_path, tiny_model, tiny_model_dir, cluster):
    full = _parts(tmp_path / "in")
    out = tmp_path / "out"
    rows = tag_to_folder(tmp_path / "in", out, tiny_model_dir, "comment", scheduler=cluster.scheduler_address)
    assert rows == len(full) and (out / "_SUCCESS").read_text().strip() == str(len(full))
    assert len(list(out.glob("part-*.parquet"))) == 3
    got = pd.read_parquet(out).sort_values("rid").reset_index(drop=True)
    want = tag_frame(full.astype(object), tiny_model, "comment").sort_values("rid").reset_index(drop=True)
    assert got["rid"].tolist() == want["rid"].tolist()
    for col in ("themes", "alert_reasons"):
        assert [list(v) for v in got[col]] == [list(v) for v in want[col]]
    assert [dict(v) for v in got["evidence"]] == want["evidence"].tolist()
    assert got["sentiment"].tolist() == want["sentiment"].tolist()
    pd.testing.assert_series_equal(got["sentiment_score"], want["sentiment_score"], check_dtype=False)


def test_tag_dask_is_lazy_with_explicit_meta(tmp_path, tiny_model_dir, cluster):
    _parts(tmp_path / "in")
    ddf = read_parts(tmp_path / "in")
    tagged = tag_dask(ddf, tiny_model_dir, "comment")
    assert list(tagged.columns)[-3:] == ["alert", "alert_priority", "alert_reasons"]
    with Client(cluster):
        result = tagged.compute()
    assert len(result) == 120 and result["alert"].dtype == bool


def test_worker_killed_mid_job(tmp_path, tiny_model_dir, cluster):
    full = _parts(tmp_path / "in", n_parts=12, rows=300)
    out = tmp_path / "out"
    done = {}
    job = threading.Thread(target=lambda: done.update(rows=tag_to_folder(
        tmp_path / "in", out, tiny_model_dir, "comment", scheduler=cluster.scheduler_address)))
    job.start()
    time.sleep(1.0)
    with Client(cluster) as client:
        victim = sorted(client.scheduler_info()["workers"])[0]
        client.run(os._exit, 1, workers=[victim], on_error="ignore")  # the worker dies: no answer
    job.join(timeout=120)
    assert done.get("rows") == len(full)
    got = pd.read_parquet(out)
    assert sorted(got["rid"]) == sorted(full["rid"])  # every row exactly once
    assert (out / "_SUCCESS").exists()


def test_bad_scheduler_and_missing_model(tmp_path, tiny_model_dir, cluster):
    _parts(tmp_path / "in")
    with pytest.raises(CommentmineError, match="cannot reach Dask scheduler"):
        tag_to_folder(tmp_path / "in", tmp_path / "o", tiny_model_dir, "comment", scheduler="tcp://127.0.0.1:1")
    assert not (tmp_path / "o").exists()
    with pytest.raises(ModelError, match="model folder not found"):
        tag_to_folder(tmp_path / "in", tmp_path / "o", tmp_path / "nomodel", "comment",
                      scheduler=cluster.scheduler_address)
    with Client(cluster) as client, pytest.raises(ModelError, match="not readable on worker"):
        _check_workers(client, str(tmp_path / "nomodel"))
