import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from commentmine.cli import app
from commentmine.errors import OutputError
from commentmine.recovery import alert_records, contact_columns, deliver

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sample_export.csv"


class Hook:
    """A local webhook on 127.0.0.1 that fails the first `fail_first` requests of each id."""

    def __init__(self, fail_first=0, always_fail_ids=()):
        self.received, self.attempts = [], {}
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                n = hook.attempts[body["id"]] = hook.attempts.get(body["id"], 0) + 1
                hook.auth = self.headers.get("Authorization")
                if body["id"] in always_fail_ids or n <= fail_first:
                    self.send_response(503)
                else:
                    hook.received.append(body)
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def _alerts_file(tmp_path, ids):
    f = tmp_path / "alerts.jsonl"
    f.write_text("".join(json.dumps({"id": i, "priority": "high"}) + "\n" for i in ids))
    return f


def test_retries_then_delivers(tmp_path):
    hook = Hook(fail_first=2)
    try:
        report = deliver(_alerts_file(tmp_path, ["a", "b"]), hook.url, backoff=0.01, token="s3cret")
    finally:
        hook.close()
    assert report.sent == 2 and report.failed == 0 and report.retry_file is None
    assert hook.attempts == {"a": 3, "b": 3} and hook.auth == "Bearer s3cret"


def test_failures_are_kept_for_retry(tmp_path):
    hook = Hook(always_fail_ids={"b"})
    try:
        report = deliver(_alerts_file(tmp_path, ["a", "b", "c"]), hook.url, retries=2, backoff=0.01)
    finally:
        hook.close()
    assert report.sent == 2 and report.failed == 1
    assert [json.loads(line)["id"] for line in report.retry_file.read_text().splitlines()] == ["b"]
    assert "HTTP 503" in report.errors[0]


def test_unreachable_and_bad_url(tmp_path):
    report = deliver(_alerts_file(tmp_path, ["a"]), "http://127.0.0.1:9/none", retries=1, backoff=0.01, timeout=1)
    assert report.failed == 1 and report.retry_file.exists()
    with pytest.raises(OutputError, match="must start with http"):
        deliver(_alerts_file(tmp_path, ["a"]), "ftp://x")


def test_alert_records_redact_and_pass_through():
    tagged = pd.DataFrame({"rid": ["r1", "r2"], "customer_id": ["C1", "C2"], "text": ["call me at 9876543210", "ok"],
                           "themes": [["rude_agent"], []], "alert": [True, False], "alert_priority": ["high", None],
                           "alert_reasons": [["very_negative"], []], "sentiment": ["negative", "neutral"],
                           "sentiment_score": [-0.9, 0.0]})
    out = alert_records(tagged, "text", "rid", contact_columns(list(tagged.columns)))
    assert out.to_dict("records") == [{"id": "r1", "priority": "high", "reasons": ["very_negative"],
                                       "themes": ["rude_agent"], "sentiment": "negative", "sentiment_score": -0.9,
                                       "excerpt": "call me at [PHONE]", "customer_id": "C1"}]


def test_cli_alerts_with_webhook(tmp_path, tiny_model_dir):
    hook = Hook()
    out = tmp_path / "alerts.jsonl"
    try:
        r = CliRunner().invoke(app, ["alerts", str(EXAMPLE), "-o", str(out), "--model", str(tiny_model_dir),
                                     "--webhook", hook.url, "--jobs", "1", "--id-column", "response_id"])
    finally:
        hook.close()
    assert r.exit_code == 0, r.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert records and all(rec["id"].startswith("R-") for rec in records)
    assert {rec["id"] for rec in hook.received} == {rec["id"] for rec in records}
    assert f"{len(records)} delivered, 0 failed" in r.output
