"""Report figures checked against hand computations on a small fixture."""

import os
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from commentmine.report import (breakdown, build_report, drivers, likert_tables, survey_scores, theme_table,
                                trends)
from commentmine.report_html import render_html, write_report


@pytest.fixture
def tagged():
    return pd.DataFrame({
        "comment": ["on hold forever", "rude agent, on hold", "great agent", "refund late", "", "ok"],
        "themes": [["hold_time"], ["rude_agent", "hold_time"], ["agent_praise"], ["policy_process"], [], []],
        "theme_scores": [{"hold_time": 0.9}, {"rude_agent": 0.8, "hold_time": 0.7}, {"agent_praise": 0.9},
                         {"policy_process": 0.6}, {}, {}],
        "sentiment": ["negative", "negative", "positive", "negative", "neutral", "neutral"],
        "nps": ["3", "0", "10", "6", "9", "10"],
        "agent": ["A", "A", "B", "B", "B", "C"],
        "date": ["2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26", "2026-02-02", "2026-02-02"],
        "Agent [Courtesy]": ["Strongly agree", "Agree", "Disagree", "N/A do not use", "Strongly agree",
                             "Neither agree nor disagree"],
        "Agent [Knowledge]": ["Always", "Never", "Rarely", "Mostly", "Always", "Sometimes"],
    })


def test_theme_table_by_hand(tagged):
    table, untagged = theme_table(tagged, "comment")
    row = table.set_index("theme").loc["hold_time"]
    # 5 non-empty comments; hold_time in 2 of them, both negative
    assert row["comments"] == 2 and row["share_pct"] == 40.0 and row["negative_pct"] == 100.0
    assert untagged == 20.0  # "ok" is the one non-empty comment with no theme


def test_nps_and_csat_by_hand():
    s = survey_scores(pd.Series([10, 9, 7, 6, 3, 10], dtype=float), "nps")
    assert (s["promoters_pct"], s["detractors_pct"], s["nps"]) == (50.0, 33.3, 16.7)
    c = survey_scores(pd.Series([5, 4, 3, 2, 1], dtype=float), "csat")
    assert (c["top2_pct"], c["low2_pct"]) == (40.0, 40.0)


def test_drivers_by_hand(tagged):
    scores = pd.Series([3, 0, 10, 6, 9, 10], dtype=float)
    big = pd.concat([tagged] * 4, ignore_index=True)
    d = drivers(big, pd.concat([scores] * 4, ignore_index=True), n_boot=50, min_count=2).set_index("theme")
    # hold_time rows score 3 and 0 (mean 1.5); the others 10, 6, 9, 10 (mean 8.75)
    assert d.loc["hold_time", "mean_with"] == 1.5 and d.loc["hold_time", "mean_without"] == 8.75
    assert d.loc["hold_time", "difference"] == -7.25
    assert d.index[0] in ("hold_time", "rude_agent") and d.loc["hold_time", "ci_low"] <= d.loc["hold_time", "coefficient"]


def test_likert_by_hand(tagged):
    table, cats = likert_tables(tagged)
    c = table.set_index("question").loc["Courtesy"]
    # 5 valid answers (one N/A): top-2 = 3/5, low-2 = 1/5
    assert (c["n"], c["not_applicable"], c["top2_pct"], c["low2_pct"], c["net"]) == (5, 1, 60.0, 20.0, 40.0)
    k = table.set_index("question").loc["Knowledge"]
    assert (k["top2_pct"], k["low2_pct"], k["net"]) == (50.0, 33.3, 16.7)
    assert cats.set_index("category").loc["Agent", "mean_net"] == round((40.0 + 16.666666) / 2, 1)


def test_trend_spike_by_hand():
    dates = ["2026-01-05"] + ["2026-01-12"] + ["2026-01-19"] + ["2026-01-26"] + ["2026-02-02"] * 5
    frame = pd.DataFrame({"date": dates, "themes": [["hold_time"]] * 9})
    table, freq = trends(frame, "date")
    assert freq == "week"
    hold = table[table["theme"] == "hold_time"]
    assert hold["comments"].tolist() == [1, 1, 1, 1, 5] and hold["spike"].tolist() == [False] * 4 + [True]


def test_breakdown_marks_small_groups(tagged):
    scores = pd.Series([3, 0, 10, 6, 9, 10], dtype=float)
    b = breakdown(tagged, "agent", scores, "nps").set_index("agent")
    assert b.loc["A", "comments"] == 2 and b.loc["A", "hold_time_pct"] == 100.0 and b.loc["A", "small_group"]
    assert b.loc["A", "nps"] == -100.0  # two detractors


def test_outputs_and_chart_renders_in_chromium(tagged, tmp_path):
    rep = build_report(tagged, "comment", "date", ("agent",), "nps", "nps")
    html = render_html(rep)
    assert html.count('<img class="chart"') >= 2 and "http" not in html.split("<body>")[1].split("Generated")[0]
    for ext in ("html", "xlsx", "md"):
        out = write_report(rep, tmp_path / f"r.{ext}")
        assert out.stat().st_size > 0
    assert set(pd.read_excel(tmp_path / "r.xlsx", sheet_name=None)) >= {"summary", "themes", "drivers", "by_agent"}
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium not found; .ci/run installs the Debian chromium package")
        pytest.skip("chromium not installed (.ci/run installs the Debian package)")
    shot = tmp_path / "shot.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,1400",
                    f"--screenshot={shot}", (tmp_path / "r.html").as_uri()], check=True, capture_output=True,
                   timeout=120)
    import matplotlib.image as mpimg

    pixels = mpimg.imread(shot)[..., :3]
    assert pixels.std() > 0.05  # not blank
    bar = np.array([0x3E, 0x7C, 0xB1]) / 255  # the theme chart's bar colour
    assert (np.abs(pixels - bar).sum(axis=2) < 0.05).sum() > 500  # the chart drew
