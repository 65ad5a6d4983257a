"""Shared fixtures: a tiny model trained on inline data with a deterministic stub encoder."""

from pathlib import Path

import pytest

from commentmine.encoders import HashEncoder
from commentmine.model import save_model
from commentmine.themes import ThemeClassifier

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"

TINY = [
    ("I was on hold for 40 minutes before anyone answered", ["hold_time"]),
    ("waiting time on the call was far too long", ["hold_time"]),
    ("kept on hold forever, terrible queue", ["hold_time"]),
    ("long wait to connect to customer care", ["hold_time"]),
    ("the agent was very polite and helpful", ["agent_praise"]),
    ("executive was helpful and patient, thank you", ["agent_praise"]),
    ("very polite lady, great support", ["agent_praise"]),
    ("nice helpful executive", ["agent_praise"]),
    ("my issue is still not resolved after three calls", ["unresolved_issue"]),
    ("problem not solved, called many times", ["unresolved_issue"]),
    ("still waiting, no solution yet", ["unresolved_issue"]),
    ("no resolution even after escalation", ["unresolved_issue"]),
    ("refund for my damaged product is late", ["policy_process"]),
    ("delivery was delayed and the courier was rude", ["policy_process"]),
    ("the app keeps crashing on payment", ["policy_process"]),
    ("return policy is confusing", ["policy_process"]),
    ("agent was rude and shouted at me", ["rude_agent"]),
    ("very rude executive, unprofessional", ["rude_agent"]),
    ("ok", []),
    ("nothing", []),
]


@pytest.fixture(scope="session")
def tiny_data():
    return [t for t, _ in TINY], [y for _, y in TINY]


SENTIMENT = ["negative"] * 4 + ["positive"] * 4 + ["negative"] * 10 + ["neutral"] * 2
ALERT = [False, False, True, False] + [False] * 4 + [True, False, False, True] + [False, True, False, False] + \
    [True, True, False, False]


def tiny_records():
    return [{"text": t, "themes": y, "sentiment": s, "alert": a}
            for (t, y), s, a in zip(TINY, SENTIMENT, ALERT)]


@pytest.fixture(scope="session")
def tiny_model(tiny_data):
    from commentmine.training import Labeled, fit_heads

    texts, labels = tiny_data
    model = ThemeClassifier(encoder=HashEncoder(16), cv=2, min_examples=3, C=4.0).fit(texts, labels)
    fit_heads(model, Labeled(texts, labels, tiny_records()))
    return model


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_model, tmp_path_factory):
    folder = tmp_path_factory.mktemp("models") / "tiny"
    meta = {"name": "tiny", "training_data": {"file": "inline", "sha256": "-", "records": len(TINY)}}
    return save_model(tiny_model, folder, meta, "# tiny test model\n")


@pytest.fixture
def shared_data():
    if not SHARED.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED


def _pg_bin() -> Path | None:
    import glob
    import shutil

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("pg_ctl")
    return Path(which).parent if which else None


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server started for the test session (Debian package), on 127.0.0.1."""
    import os
    import pwd
    import socket
    import subprocess

    pytest.importorskip("psycopg")
    bin_dir = _pg_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries not found; .ci/run installs the Debian postgresql package")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    import shutil
    import tempfile

    # not under pytest's tmp dir: that is private to root and the server runs as the postgres user
    base = Path(tempfile.mkdtemp(prefix="commentmine-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    prefix = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        user = pwd.getpwnam("postgres")
        for p in (base, sock):
            os.chown(p, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = lambda *cmd: subprocess.run([*prefix, *cmd], check=True, capture_output=True)  # noqa: E731
    run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l", str(base / "log"), "-o",
        f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"], capture_output=True)
    shutil.rmtree(base, ignore_errors=True)
