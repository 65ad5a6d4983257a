import json

import pytest

from commentmine.encoders import HashEncoder
from commentmine.errors import LabelsError
from commentmine.model import load_model
from commentmine.training import evaluate, read_labels, train


def _write(path, records):
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def test_read_labels_jsonl_and_csv(tmp_path):
    j = _write(tmp_path / "l.jsonl", [{"text": "a", "themes": ["hold_time"]}, {"text": "b", "themes": []}])
    assert read_labels(j).themes == [["hold_time"], []]
    c = tmp_path / "l.csv"
    c.write_text("text,themes\nslow,hold_time;unresolved_issue\nfine,\n")
    assert read_labels(c).themes == [["hold_time", "unresolved_issue"], []]


@pytest.mark.parametrize("records, fragment", [
    ([{"themes": []}], "no 'text' field"),
    ([{"text": "a", "themes": "hold_time"}], "list of theme names"),
])
def test_read_labels_errors(tmp_path, records, fragment):
    with pytest.raises(LabelsError, match=fragment):
        read_labels(_write(tmp_path / "l.jsonl", records))


def test_train_writes_reproducible_model(tmp_path, tiny_data):
    texts, labels = tiny_data
    src = _write(tmp_path / "l.jsonl", [{"text": t, "themes": y} for t, y in zip(texts, labels)])
    kw = dict(encoder=HashEncoder(8), cv=2, min_examples=3)
    m1, f1 = train(src, tmp_path / "m1", seed=3, **kw)
    m2, f2 = train(src, tmp_path / "m2", seed=3, **kw)
    meta = json.loads((f1 / "meta.json").read_text())
    assert meta["training_data"]["records"] == len(texts) and meta["seed"] == 3
    assert "Cross-validated metrics" in (f1 / "README.md").read_text()
    assert load_model(f1).tag(texts) == load_model(f2).tag(texts)
    result = evaluate(f1, src)
    assert result["micro_f1"] > 0.5


def test_model_card_lists_trained_heads(tiny_model):
    from commentmine.training import model_card

    meta = {"name": "m", "training_data": {"file": "x.jsonl", "records": 3, "sha256": "-"},
            "sentiment": {"trained_on": 20, "extra": None},
            "alerts": {"cv": {"threshold": 0.3, "precision": 0.4, "recall": 0.9}},
            "preferences": {"cv": {"channel": {"precision": 0.7, "recall": 0.6, "support": 12,
                                               "rules": {"precision": 0.5, "recall": 0.7}}}}}
    card = model_card(tiny_model, meta)
    assert "## Sentiment head" in card and "## Alert head" in card and "| channel | 0.700 | 0.600 |" in card
