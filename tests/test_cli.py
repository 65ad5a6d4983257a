import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from commentmine.cli import app

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sample_export.csv"
runner = CliRunner()


def _file(name, data):
    def make(d):
        f = d / name
        f.write_bytes(data)
        return f
    return make


def test_tag_sample_export(tmp_path, tiny_model_dir):
    out = tmp_path / "tagged.csv"
    r = runner.invoke(app, ["tag", str(EXAMPLE), "-o", str(out), "--model", str(tiny_model_dir), "--jobs", "1"])
    assert r.exit_code == 0, r.output
    assert "tagged 16 rows" in r.output
    text = out.read_text()
    assert "'=HYPERLINK" in text


@pytest.mark.parametrize("make, args, fragment", [
    (lambda d: d / "missing.csv", [], "file not found"),
    (_file("e.csv", b""), [], "empty"),
    (_file("b.csv", b"\x00\x01\x02\x03"), [], "binary"),
    (_file("n.csv", b"a,b\n1,2\n"), [], "--text-column"),
    (_file("x.pdf", b"x"), [], "unknown extension"),
    (lambda d: EXAMPLE, ["--taxonomy", "nope.toml"], "taxonomy file not found"),
    (lambda d: EXAMPLE, ["--model", "no/such/model"], "model folder not found"),
    (lambda d: EXAMPLE, ["--text-column", "nope"], "'nope' not found"),
])
def test_bad_input_one_line_exit_2(tmp_path, tiny_model_dir, make, args, fragment):
    src = make(tmp_path)
    out = tmp_path / "out.csv"
    model = [] if "--model" in args else ["--model", str(tiny_model_dir)]
    r = runner.invoke(app, ["tag", str(src), "-o", str(out), *model, *args])
    assert r.exit_code == 2
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]
    assert "Traceback" not in r.output
    assert not out.exists()


def test_bad_output_extension(tmp_path, tiny_model_dir):
    r = runner.invoke(app, ["tag", str(EXAMPLE), "-o", str(tmp_path / "o.doc"), "--model", str(tiny_model_dir)])
    assert r.exit_code == 2 and "unknown output extension" in r.output


def test_evaluate_json(tmp_path, tiny_model_dir):
    labels = tmp_path / "l.jsonl"
    labels.write_text("\n".join(json.dumps(r) for r in [
        {"text": "on hold for an hour", "themes": ["hold_time"]},
        {"text": "very polite agent", "themes": ["agent_praise"]}]))
    r = runner.invoke(app, ["evaluate", str(labels), "--model", str(tiny_model_dir), "--json"])
    assert r.exit_code == 0, r.output
    result = json.loads(r.output)
    assert set(result) >= {"themes", "macro_f1", "micro_f1"}
    assert result["themes"]["hold_time"]["support"] == 1


def test_evaluate_bad_labels(tmp_path, tiny_model_dir):
    labels = tmp_path / "l.jsonl"
    labels.write_text('{"text": "x", "themes": ["hold_time"]}\nnot json\n')
    r = runner.invoke(app, ["evaluate", str(labels), "--model", str(tiny_model_dir)])
    assert r.exit_code == 2 and "line 2 is not valid JSON" in r.output


def test_report_from_raw_and_from_tag_output(tmp_path, tiny_model_dir):
    md = tmp_path / "r.md"
    r = runner.invoke(app, ["report", str(EXAMPLE), "-o", str(md), "--model", str(tiny_model_dir),
                            "--date-column", "submitted_at", "--group-by", "agent", "--score-column", "csat"])
    assert r.exit_code == 0, r.output
    text = md.read_text()
    assert "## Themes" in text and "## By agent" in text and "CSAT (top-2 box)" in text
    tagged = tmp_path / "tagged.csv"
    runner.invoke(app, ["tag", str(EXAMPLE), "-o", str(tagged), "--model", str(tiny_model_dir), "--jobs", "1"])
    html = tmp_path / "r.html"
    r = runner.invoke(app, ["report", str(tagged), "-o", str(html), "--text-column", "comment"])
    assert r.exit_code == 0, r.output
    assert "<img class=\"chart\"" in html.read_text()


def test_report_bad_column(tmp_path, tiny_model_dir):
    r = runner.invoke(app, ["report", str(EXAMPLE), "-o", str(tmp_path / "r.html"), "--group-by", "nope",
                            "--model", str(tiny_model_dir)])
    assert r.exit_code == 2 and "--group-by 'nope' not found" in r.output
    assert not (tmp_path / "r.html").exists()
