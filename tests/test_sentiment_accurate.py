import copy

import numpy as np
import pytest

from commentmine.errors import ModelError
from commentmine.model import load_model, save_model

pytest.importorskip("peft")


def test_model_without_accurate_head_says_how_to_get_one(tiny_model_dir):
    with pytest.raises(ModelError, match="no accurate sentiment head"):
        load_model(tiny_model_dir, sentiment="accurate")
    with pytest.raises(ModelError, match="unknown sentiment mode"):
        load_model(tiny_model_dir, sentiment="best")


@pytest.mark.slow
def test_fine_tune_save_load_and_tag(tiny_model, tmp_path):
    from commentmine.pipeline import tag_file
    from commentmine.sentiment_accurate import AccurateSentiment, FineTuneArguments

    texts = ["great agent, very helpful", "worst service ever", "ok", "she fixed it, thank you",
             "rude and useless", "please call me"] * 3
    labels = ["positive", "negative", "neutral", "positive", "negative", "neutral"] * 3
    head = AccurateSentiment.fine_tune(texts, labels, FineTuneArguments(epochs=1, batch_size=6))
    before = head.predict_proba(texts[:6])
    assert before.shape == (6, 3) and np.allclose(before.sum(axis=1), 1, atol=1e-5)
    model = copy.copy(tiny_model)
    model.sentiment_accurate_ = head
    folder = save_model(model, tmp_path / "m", {"name": "m"})
    assert (folder / "sentiment-accurate" / "adapter_model.safetensors").is_file()
    assert not any(p.suffix in (".bin", ".pkl", ".pt") for p in folder.rglob("*"))
    loaded = load_model(folder, sentiment="accurate")
    assert np.allclose(loaded.sentiment_accurate_.predict_proba(texts[:6]), before, atol=1e-5)
    src = tmp_path / "in.csv"
    src.write_text("comment\n" + "\n".join(texts[:6]) + "\n")
    tag_file(src, tmp_path / "out.csv", model_path=folder, jobs=1, sentiment="accurate")
    assert "sentiment_score" in (tmp_path / "out.csv").read_text().splitlines()[0]
