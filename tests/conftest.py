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
