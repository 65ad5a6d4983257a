import csv
import io
import json
import threading
import urllib.error
import urllib.request

import pytest
from typer.testing import CliRunner

from commentmine.cli import app, main
from commentmine.errors import CommentmineError
from commentmine.notes import export_notes, store_notes
from commentmine.server import make_server

runner = CliRunner()


@pytest.fixture
def export(tmp_path):
    f = tmp_path / "survey.csv"
    f.write_text("rid,cust,date,comment\n"
                 "1,C1,2026-10-01,\"Please email me at a.b@example.com instead of calling\"\n"
                 "2,C2,2026-10-02,I want support in Bengali\n"
                 "3,C1,2026-10-03,stop calling me\n"
                 "4,C1,2026-10-04,please call me back\n"
                 "5,,2026-10-05,please email me\n"
                 "6,C3,2026-10-06,great agent\n")
    return f


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path / 'n.db'}"


def test_store_notes_redacts_and_is_idempotent(export, db):
    s1 = store_notes(export, db, "cust", "rid", "date")
    s2 = store_notes(export, db, "cust", "rid", "date")
    assert (s1.rows, s1.result.inserted, s1.result.conflicts) == (6, 3, 1)
    assert (s2.result.inserted, s2.result.updated) == (0, 0)
    lines = list(export_notes(db, "jsonl"))
    recs = [json.loads(x) for x in lines]
    email = next(r for r in recs if r["value"] == "email")
    assert "[EMAIL]" in email["evidence"] and "example.com" not in email["evidence"]
    assert email["comment_date"] == "2026-10-01" and email["response_id"] == "1"


def test_salesforce_and_hubspot_exports(export, db):
    store_notes(export, db, "cust", "rid")
    rows = list(csv.DictReader(io.StringIO("".join(export_notes(db, "salesforce-csv")))))
    assert rows[0].keys() >= {"External_Key__c", "Customer_Id__c", "Preference_Type__c", "Preference_Value__c"}
    assert len(rows) == 3
    batches = [json.loads(x) for x in export_notes(db, "hubspot-json")]
    inputs = batches[0]["inputs"]
    assert inputs[0]["idProperty"] == "external_key" and inputs[0]["id"] == inputs[0]["properties"]["external_key"]


def test_cli_notes_shorthand_pull_and_forget(export, db, monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["commentmine", "notes", str(export), "--customer-column", "cust", "--db", db, "-q"])
    with pytest.raises(SystemExit) as e:
        main()
    assert e.value.code == 0
    r = runner.invoke(app, ["notes", "pull", "--db", db, "--after", "1", "--limit", "1"])
    recs = [json.loads(x) for x in r.output.splitlines()]
    assert [x["seq"] for x in recs] == [2]
    r = runner.invoke(app, ["notes", "forget", "--db", db, "--customer", "C1"])
    assert r.exit_code == 0 and "forgot 2 notes" in r.output


def test_cli_bad_url_and_missing_column(export):
    r = runner.invoke(app, ["notes", "add", str(export), "--customer-column", "cust", "--db", "notes.db"])
    assert r.exit_code == 2 and "not a database URL" in r.output
    r = runner.invoke(app, ["notes", "add", str(export), "--customer-column", "nope", "--db", "sqlite:///x.db"])
    assert r.exit_code == 2 and "--customer-column 'nope' not found" in r.output


def test_model_version_names_what_decided(export, tmp_path):
    gated, rules = f"sqlite:///{tmp_path / 'g.db'}", f"sqlite:///{tmp_path / 'r.db'}"
    store_notes(export, gated, "cust", "rid")
    store_notes(export, rules, "cust", "rid", rules_only=True)
    assert {json.loads(x)["model_version"].rsplit("-", 1)[-1] for x in export_notes(rules, "jsonl")} == {"rules"}
    assert all("themes-default" in json.loads(x)["model_version"] for x in export_notes(gated, "jsonl"))
    r = runner.invoke(app, ["notes", "add", str(export), "--customer-column", "cust", "--db", gated,
                            "--model", str(tmp_path / "nope")])
    assert r.exit_code == 2 and "model folder not found" in r.output


def _get(url, token=None):
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_server_auth_and_pull(export, db):
    store_notes(export, db, "cust", "rid")
    with pytest.raises(CommentmineError, match="no API token"):
        make_server(db, None, port=0)
    server = make_server(db, "s3cret", port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        assert _get(f"{base}/notes")[0] == 401
        assert _get(f"{base}/notes", "wrong")[0] == 401
        assert _get(f"{base}/health", "s3cret") == (200, {"status": "ok", "last_seq": 3})
        status, body = _get(f"{base}/notes?after=1&limit=5", "s3cret")
        assert status == 200 and [n["seq"] for n in body["notes"]] == [2, 3] and body["next_after"] == 3
        assert _get(f"{base}/notes?after=x", "s3cret")[0] == 400
    finally:
        server.shutdown()
