import json

import pandas as pd
import pytest

from commentmine.errors import InputError, OutputError
from commentmine.io import AtomicWriter, detect_encoding, neutralise_formula, open_export


def rows(export):
    return pd.concat(list(export.chunks()))


def test_csv_utf8_with_embedded_newlines(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text('id,score,Comment\n1,5,"great agent,\nvery kind"\n2,1,"waited ""forever"""\n', "utf-8")
    ex = open_export(f)
    assert ex.text_column == "Comment"
    df = rows(ex)
    assert df["Comment"].tolist() == ["great agent,\nvery kind", 'waited "forever"']


@pytest.mark.parametrize("encoding, expected", [("utf-8-sig", "utf-8-sig"), ("cp1252", "cp1252"),
                                                ("utf-16", "utf-16")])
def test_encodings(tmp_path, encoding, expected):
    f = tmp_path / "a.csv"
    f.write_bytes("id,feedback\n1,café was “great”\n".encode(encoding))
    assert detect_encoding(f) == expected
    assert rows(open_export(f))["feedback"].iloc[0] == "café was “great”"


def test_semicolon_and_tab_sniffing(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("id;remarks\n1;slow reply\n2;good\n")
    assert rows(open_export(f))["remarks"].tolist() == ["slow reply", "good"]
    g = tmp_path / "b.tsv"
    g.write_text("id\tverbatim\n1\tslow, very slow\n")
    assert rows(open_export(g))["verbatim"].tolist() == ["slow, very slow"]


def test_qualtrics_three_header_rows_utf16_tsv(tmp_path):
    f = tmp_path / "q.tsv"
    body = ("ResponseId\tQ1\tQ2_TEXT\n"
            "Response ID\tHow satisfied were you?\tPlease tell us why\n"
            '{"ImportId":"_recordId"}\t{"ImportId":"QID1"}\t{"ImportId":"QID2_TEXT"}\n'
            "R_1\t5\tThe agent solved it quickly\n"
            "R_2\t1\ton hold for an hour and still not fixed\n")
    f.write_bytes(body.encode("utf-16"))
    ex = open_export(f)
    assert ex.qualtrics == "qualtrics" and ex.text_column == "Q2_TEXT"
    df = rows(ex)
    assert df["ResponseId"].tolist() == ["R_1", "R_2"]


def test_qualtrics_legacy_two_rows(tmp_path):
    f = tmp_path / "q.csv"
    f.write_text("V1,V2,Q3\nResponseID,ResponseSet,Any other comments?\nR_1,Default,nice and quick help\n")
    ex = open_export(f)
    assert ex.qualtrics == "qualtrics-legacy"
    assert rows(ex)["Q3"].tolist() == ["nice and quick help"]


def test_longest_free_text_fallback(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("a,b,c\n1,yes,the agent did not call me back at all\n2,no,waiting for refund since weeks\n")
    assert open_export(f).text_column == "c"


@pytest.mark.parametrize("ext", ["xlsx", "parquet", "jsonl"])
def test_other_formats(tmp_path, ext):
    df = pd.DataFrame({"id": ["1", "2"], "comments": ["slow", "rude agent"]})
    f = tmp_path / f"a.{ext}"
    if ext == "xlsx":
        df.to_excel(f, index=False)
    elif ext == "parquet":
        df.to_parquet(f)
    else:
        df.to_json(f, orient="records", lines=True)
    out = rows(open_export(f, chunksize=1))
    assert out["comments"].tolist() == ["slow", "rude agent"]


@pytest.mark.parametrize("setup, fragment", [
    (lambda p: None, "file not found"),
    (lambda p: p.write_bytes(b""), "empty"),
    (lambda p: p.write_bytes(b"\x89PNG\x00\x00\x00binary"), "binary"),
    (lambda p: p.write_text("a,b\n1,2\n3,4\n"), "pass --text-column"),
])
def test_bad_inputs(tmp_path, setup, fragment):
    f = tmp_path / "x.csv"
    setup(f)
    with pytest.raises(InputError, match=fragment):
        open_export(f)


def test_unknown_extension_and_missing_column(tmp_path):
    f = tmp_path / "x.docx"
    f.write_text("hi")
    with pytest.raises(InputError, match="unknown extension"):
        open_export(f)
    g = tmp_path / "g.csv"
    g.write_text("id,comment\n1,hi\n")
    with pytest.raises(InputError, match="'text' not found; columns are: id, comment"):
        open_export(g, text_column="text")


def test_formula_neutralised():
    assert neutralise_formula("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert neutralise_formula("@SUM") == "'@SUM"
    assert neutralise_formula("-5") == "-5" and neutralise_formula("ok") == "ok"


def test_atomic_writer_keeps_old_file_on_error(tmp_path):
    out = tmp_path / "out.csv"
    out.write_text("old")
    with pytest.raises(RuntimeError):
        with AtomicWriter(out) as w:
            w.write(pd.DataFrame({"a": [1]}))
            raise RuntimeError("boom")
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


@pytest.mark.parametrize("ext", ["csv", "jsonl", "parquet", "xlsx"])
def test_writer_formats(tmp_path, ext):
    out = tmp_path / f"o.{ext}"
    frame = pd.DataFrame({"c": ["=cmd", "x"], "themes": [["a", "b"], []], "theme_scores": [{"a": 0.9}, {}]})
    with AtomicWriter(out) as w:
        w.write(frame.iloc[:1])
        w.write(frame.iloc[1:])
    if ext == "csv":
        back = pd.read_csv(out, keep_default_na=False)
        assert back["c"].tolist() == ["'=cmd", "x"] and back["themes"].tolist() == ["a;b", ""]
        assert json.loads(back["theme_scores"][0]) == {"a": 0.9}
    elif ext == "jsonl":
        recs = [json.loads(line) for line in out.read_text().splitlines()]
        assert recs[0]["themes"] == ["a", "b"] and recs[0]["c"] == "=cmd"
    elif ext == "parquet":
        back = pd.read_parquet(out)
        assert list(back["themes"][0]) == ["a", "b"]
    else:
        back = pd.read_excel(out, keep_default_na=False)
        assert back["themes"].tolist() == ["a;b", ""]


def test_writer_rejects_unknown_extension(tmp_path):
    with pytest.raises(OutputError, match="unknown output extension"):
        AtomicWriter(tmp_path / "o.docx")


def test_outputs_get_the_umask_permissions_not_mkstemps(tmp_path):
    import os
    import stat

    out = tmp_path / "out.csv"
    old = os.umask(0o022)
    try:
        with AtomicWriter(out) as w:
            w.write(pd.DataFrame({"a": [1]}))
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
