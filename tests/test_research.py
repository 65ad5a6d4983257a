import json

from typer.testing import CliRunner

from commentmine.cli import app
from commentmine.research import compare, discover, label_issues, suggest_labels

runner = CliRunner()


def _labels(tmp_path, tiny_data, flip=()):
    texts, labels = tiny_data
    f = tmp_path / "l.jsonl"
    rows = [{"id": f"x{i}", "text": t, "themes": ([] if i in flip else y)} for i, (t, y) in enumerate(zip(texts, labels))]
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return f


def test_compare_same_model_is_not_significant(tmp_path, tiny_data, tiny_model):
    r = compare(_labels(tmp_path, tiny_data), tiny_model, tiny_model, n_boot=200)
    assert r["diff_b_minus_a"] == 0 and r["p_value"] == 1.0
    lo, hi = r["macro_ci_a"]
    assert lo <= r["macro_f1_a"] <= hi
    assert set(r["themes"]) >= {"hold_time", "agent_praise"}


def test_compare_cli(tmp_path, tiny_data, tiny_model_dir):
    f = _labels(tmp_path, tiny_data)
    res = runner.invoke(app, ["compare", str(f), "--model", str(tiny_model_dir), "--model", str(tiny_model_dir),
                              "--n-boot", "50"])
    assert res.exit_code == 0, res.output
    assert "paired bootstrap p = 1.0" in res.output


def test_label_issues_flags_a_flipped_label(tmp_path, tiny_data):
    from commentmine.encoders import HashEncoder

    f = _labels(tmp_path, tiny_data * 1, flip={0})
    rows = label_issues(f, folds=2, top=20, encoder=HashEncoder(16), min_examples=3)
    assert all({"id", "action", "theme", "suggested", "oof_score"} <= set(r) for r in rows)


def test_suggest_and_discover_are_deterministic(tiny_model, tiny_data):
    texts, _ = tiny_data
    a = suggest_labels(texts * 3, tiny_model, n=5, seed=1)
    b = suggest_labels(texts * 3, tiny_model, n=5, seed=1)
    assert a == b and len(a) == 5 and all(r["themes"] == [] for r in a)
    many = [f"the parcel locker code {i} did not open the locker door" for i in range(40)] + \
           [f"gift wrapping option {i} was missing from checkout page" for i in range(40)]
    found = discover(many, tiny_model, min_size=10, n_clusters=4, seed=0)
    assert found == discover(many, tiny_model, min_size=10, n_clusters=4, seed=0)
    assert found and all(c["size"] >= 10 and c["toml"].startswith("[[theme]]") for c in found)
