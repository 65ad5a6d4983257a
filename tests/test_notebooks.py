"""Execute the notebooks on a small sample so they never rot (slow; CI runs it)."""

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.mark.parametrize("name", ["retrain_and_evaluate.ipynb"])
def test_notebook_runs(name, shared_data, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("COMMENTMINE_NOTEBOOK_SAMPLE", "400")
    monkeypatch.setenv("COMMENTMINE_SHARED", str(shared_data))
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "identical predictions" in outputs
