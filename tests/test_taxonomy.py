import pytest

from commentmine.errors import TaxonomyError
from commentmine.taxonomy import load_taxonomy

GUIDE_THEMES = {"hold_time", "unresolved_issue", "rude_agent", "ivr_confusion", "transfer_routing",
                "agent_knowledge", "call_quality", "agent_praise", "issue_resolved", "policy_process"}


def test_default_has_the_ten_guide_themes():
    tax = load_taxonomy()
    assert set(tax.names) == GUIDE_THEMES
    assert all(t.description for t in tax.themes)


def test_user_file_replaces_and_adds(tmp_path):
    f = tmp_path / "t.toml"
    f.write_text('[[theme]]\nname = "billing"\nphrases = ["invoice", "charged twice"]\n'
                 '[[theme]]\nname = "hold_time"\nphrases = ["forever"]\n')
    merged = load_taxonomy().merge(load_taxonomy(f))
    assert merged.names[-1] == "billing"
    assert merged["hold_time"].phrases == ("forever",)
    assert len(merged.names) == 11


@pytest.mark.parametrize("body, fragment", [
    ("", "no [[theme]]"),
    ('[[theme]]\nname = "Bad Name"\nphrases=["x"]', "invalid name"),
    ('[[theme]]\nname = "a"\nphrases = [1]', "phrases must be"),
    ('[[theme]]\nname = "a"\nphrases=["x"]\n[[theme]]\nname = "a"\nphrases=["y"]', "defined twice"),
    ('[[theme]]\nname = "a"\nphrase = ["x"]', "unknown keys"),
    ("[[theme]\nname=", "invalid TOML"),
])
def test_bad_files_name_the_problem(tmp_path, body, fragment):
    f = tmp_path / "bad.toml"
    f.write_text(body)
    with pytest.raises(TaxonomyError, match=fragment.replace("[", r"\[")):
        load_taxonomy(f)


def test_missing_file(tmp_path):
    with pytest.raises(TaxonomyError, match="not found"):
        load_taxonomy(tmp_path / "nope.toml")
