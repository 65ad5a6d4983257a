import json

import numpy as np
import pytest

from commentmine.errors import ModelError
from commentmine.model import load_model, save_model


def test_roundtrip_identical(tiny_model, tiny_model_dir, tiny_data):
    texts, _ = tiny_data
    loaded = load_model(tiny_model_dir)
    np.testing.assert_allclose(loaded.predict_proba(texts), tiny_model.predict_proba(texts), rtol=1e-5, atol=1e-6)
    assert loaded.tag(texts) == tiny_model.tag(texts)


def test_folder_layout_has_no_pickle(tiny_model_dir):
    names = {p.name for p in tiny_model_dir.iterdir()}
    assert {"config.json", "weights.safetensors", "meta.json", "taxonomy.toml", "README.md"} <= names
    assert not [p for p in tiny_model_dir.rglob("*") if p.suffix in (".pkl", ".pickle", ".joblib")]
    meta = json.loads((tiny_model_dir / "meta.json").read_text())
    assert "scikit-learn" in meta["libraries"] and meta["files"]


def test_tampered_weights_are_refused(tiny_model, tmp_path):
    folder = save_model(tiny_model, tmp_path / "m", {"training_data": {"file": "x", "sha256": "-", "records": 1}})
    with open(folder / "weights.safetensors", "r+b") as f:
        f.seek(200)
        f.write(b"\x00\x01\x02")
    with pytest.raises(ModelError, match="does not match its checksum"):
        load_model(folder)


def test_missing_folder_and_not_a_model(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path / "none")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="meta.json"):
        load_model(tmp_path / "empty")


def test_user_taxonomy_adds_rule_only_theme(tiny_model_dir, tmp_path, tiny_data):
    f = tmp_path / "extra.toml"
    f.write_text('[[theme]]\nname = "billing"\ndescription = "charges"\nphrases = ["charged twice", "invoice"]\n')
    model = load_model(tiny_model_dir, taxonomy=f)
    out = model.tag(["I was charged twice for one order", "very polite and helpful agent"])
    assert out[0]["themes"] == ["billing"] or "billing" in out[0]["themes"]
    assert out[0]["evidence"]["billing"] == "charged twice"
    assert "billing" not in out[1]["themes"]
    # the trained themes still predict the same as without the extra theme
    base = load_model(tiny_model_dir)
    texts, _ = tiny_data
    np.testing.assert_allclose(model.predict_proba(texts)[:, :-1], base.predict_proba(texts), atol=1e-6)
