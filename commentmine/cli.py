"""Command-line interface: parse arguments, call the library, print. Nothing else."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer

from .errors import CommentmineError, OutputError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="commentmine: tag contact-center survey comments with themes.")


@contextmanager
def _errors():
    """One line on stderr and exit code 2 for any user-fixable problem; no traceback."""
    try:
        yield
    except CommentmineError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        typer.echo("error: interrupted; no output was written", err=True)
        raise typer.Exit(130) from None


@app.command()
def tag(
    input: Path = typer.Argument(..., help="Export to tag: .csv .tsv .xlsx .parquet .jsonl"),
    output: Path = typer.Option(..., "-o", "--output", help="Output file: .csv .jsonl .parquet .xlsx"),
    text_column: Optional[str] = typer.Option(None, help="Column with the comment (default: auto-detect)"),
    id_column: Optional[str] = typer.Option(None, help="Column with the response id (default: row number)"),
    score_column: Optional[str] = typer.Option(None, help="CSAT/NPS/Likert rating column (default: auto-detect)"),
    model: Optional[Path] = typer.Option(None, help="Model folder (default: the shipped model)"),
    taxonomy: Optional[Path] = typer.Option(None, help="TOML file that edits or adds themes"),
    jobs: int = typer.Option(0, help="Worker processes (0: one per core, up to 4)"),
    chunksize: int = typer.Option(20000, help="Rows per chunk"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary"),
    engine: str = typer.Option("local", help="local (in-process) or dask (INPUT may be a glob or folder; "
                               "OUTPUT is a folder of parts)"),
    scheduler: Optional[str] = typer.Option(None, help="Dask scheduler address (default: start a LocalCluster)"),
    workers: int = typer.Option(2, help="LocalCluster worker processes (dask engine)"),
    output_format: str = typer.Option("parquet", help="Part format for the dask engine: parquet or csv"),
    sentiment: str = typer.Option("fast", help="fast (default head, ~10k rows/s) or accurate (fine-tuned "
                                  "MiniLM, ~50x slower; needs commentmine[train])"),
):
    """Tag every comment of an export with themes, scores and evidence spans."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from .pipeline import tag_file

    if engine == "dask":
        with _errors():
            if sentiment != "fast":
                raise OutputError("--sentiment accurate runs with --engine local only")
            from .dask import tag_to_folder

            rows = tag_to_folder(input, output, model, text_column, taxonomy, scheduler, workers, output_format,
                                 score_column)
        if not quiet:
            typer.echo(f"tagged {rows:,} rows on Dask -> {output}/ (_SUCCESS written)", err=True)
        return
    with _errors():
        if engine != "local":
            raise OutputError(f"unknown --engine {engine!r}; use local or dask")
        progress = Progress(TextColumn("tagging"), BarColumn(), TextColumn("{task.completed:,} rows"),
                            TextColumn("{task.fields[rate]:,.0f} rows/s"), TimeElapsedColumn(),
                            transient=True, disable=quiet or not sys.stderr.isatty())
        with progress:
            task = progress.add_task("tag", total=None, rate=0.0)

            def advance(n: int) -> None:
                progress.advance(task, n)
                t = progress.tasks[0]
                progress.update(task, rate=(t.completed / t.elapsed) if t.elapsed else 0.0)

            summary = tag_file(input, output, text_column, id_column, model, taxonomy, chunksize,
                               jobs or None, advance, score_column, sentiment=sentiment)
        if not quiet:
            typer.echo(f"tagged {summary.rows:,} rows ({summary.tagged:,} with a theme) from column "
                       f"{summary.text_column!r} -> {summary.output}", err=True)


@app.command()
def alerts(
    input: Path = typer.Argument(..., help="Export to scan for service-recovery alerts"),
    output: Path = typer.Option(..., "-o", "--output", help="Alert records: .jsonl (or .csv, .xlsx, .parquet)"),
    webhook: Optional[str] = typer.Option(None, help="POST each alert as JSON to this URL"),
    webhook_token_env: str = typer.Option("COMMENTMINE_WEBHOOK_TOKEN",
                                          help="Environment variable holding a bearer token for the webhook"),
    retry_file: Optional[Path] = typer.Option(None, help="Where undelivered alerts go (default: OUTPUT.failed.jsonl)"),
    text_column: Optional[str] = typer.Option(None, help="Column with the comment (default: auto-detect)"),
    id_column: Optional[str] = typer.Option(None, help="Column with the response id (default: row number)"),
    score_column: Optional[str] = typer.Option(None, help="CSAT/NPS/Likert rating column (default: auto-detect)"),
    pass_column: Optional[list[str]] = typer.Option(None, help="Column to copy into each alert (repeatable; "
                                                    "default: customer/contact/agent columns)"),
    model: Optional[Path] = typer.Option(None, help="Model folder (default: the shipped model)"),
    jobs: int = typer.Option(0, help="Worker processes (0: one per core, up to 4)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary"),
):
    """Write only the comments a manager should call back, with priority, reasons and a redacted excerpt."""
    import os

    from .recovery import deliver, write_alerts

    with _errors():
        if webhook is not None and output.suffix.lower() != ".jsonl":
            raise OutputError(f"{output}: --webhook needs a .jsonl output; use -o alerts.jsonl")
        summary = write_alerts(input, output, text_column, id_column, model, None, score_column, pass_column,
                               jobs or None)
        n = sum(1 for line in open(output, encoding="utf-8") if line.strip()) if output.suffix == ".jsonl" else None
        if not quiet:
            typer.echo(f"scanned {summary.rows:,} rows -> {output}" + (f" ({n} alerts)" if n is not None else ""),
                       err=True)
        if webhook is not None:
            report = deliver(output, webhook, retry_file, token=os.environ.get(webhook_token_env))
            typer.echo(f"webhook: {report.sent} delivered, {report.failed} failed"
                       + (f"; undelivered alerts saved to {report.retry_file} ({'; '.join(report.errors)})"
                          if report.failed else ""), err=True)
            if report.failed:
                raise typer.Exit(1)


@app.command()
def evaluate(
    labeled: Path = typer.Argument(..., help="Labeled JSONL/CSV with text and themes"),
    model: Optional[Path] = typer.Option(None, help="Model folder (default: the shipped model)"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table"),
    sentiment: str = typer.Option("fast", help="fast, or accurate to also score the fine-tuned sentiment head"),
):
    """Per-theme precision, recall, F1 and support, macro and micro F1."""
    from .training import evaluate as run

    with _errors():
        result = run(model, labeled, sentiment)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(f"{'theme':<20}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}")
    for name, m in result["themes"].items():
        typer.echo(f"{name:<20}{m['precision']:>10.3f}{m['recall']:>10.3f}{m['f1']:>10.3f}{m['support']:>10}")
    typer.echo(f"\nmacro F1 {result['macro_f1']:.3f}   micro F1 {result['micro_f1']:.3f}   ({result['n']} comments)")
    if "sentiment" in result:
        s = result["sentiment"]
        typer.echo(f"sentiment: 3-class macro F1 {s['macro_f1_3class']:.3f} ({s['n_3class']}), "
                   f"4-class {s['macro_f1_4class']:.3f}, mixed F1 {s['mixed_f1']:.3f}"
                   + (f"; accurate head 3-class {s['accurate_macro_f1_3class']:.3f}"
                      if "accurate_macro_f1_3class" in s else ""))
    if "alerts" in result:
        a, h = result["alerts"], result["alerts"]["high_priority"]
        typer.echo(f"alerts: precision {a['precision']:.3f} recall {a['recall']:.3f} ({a['predicted']} flagged, "
                   f"{a['support']} true); high priority only: precision {h['precision']:.3f} recall {h['recall']:.3f}")
    if "preferences" in result:
        p = result["preferences"]
        typer.echo(f"preferences (type level): precision {p['precision']:.3f} recall {p['recall']:.3f} "
                   f"({p['support']} gold); value accuracy {p['value_accuracy']:.3f} ({p['value_n']})")


@app.command()
def train(
    labeled: Path = typer.Argument(..., help="Labeled JSONL/CSV with text and themes"),
    out: Path = typer.Option(..., "--out", help="Model folder to write"),
    taxonomy: Optional[Path] = typer.Option(None, help="Taxonomy TOML (default: the packaged one)"),
    seed: int = typer.Option(0, help="Random seed for folds"),
    eval_file: Optional[Path] = typer.Option(None, "--eval", help="Held-out labels scored into the model card"),
    sentiment_extra: Optional[Path] = typer.Option(
        None, help="CSV with text + sentiment to add to sentiment training (20% held out, scored into meta)"),
    sentiment_accurate: bool = typer.Option(False, "--sentiment-accurate",
                                            help="Also fine-tune MiniLM for `tag --sentiment accurate` (~15 min)"),
    alert_recall: float = typer.Option(0.9, min=0.05, max=1.0,
                                       help="Out-of-fold recall the alert threshold is set for (lower: fewer, surer alerts)"),
):
    """Train a theme model; thresholds by cross-validation; writes a model folder with a card."""
    from .training import train as run

    with _errors():
        model, folder = run(labeled, out, taxonomy, seed, eval_path=eval_file, sentiment_extra=sentiment_extra,
                            alert_recall=alert_recall, sentiment_accurate=sentiment_accurate)
    f1 = {k: v["f1"] for k, v in model.cv_metrics_.items()}
    typer.echo(json.dumps({"model": str(folder), "cv_f1": f1}, indent=2))


@app.command()
def report(
    input: Path = typer.Argument(..., help="Raw export (tagged on the fly) or the output of `tag`"),
    output: Path = typer.Option(..., "-o", "--output", help="report.html, report.xlsx or report.md"),
    date_column: Optional[str] = typer.Option(None, help="Date column for trends"),
    group_by: Optional[list[str]] = typer.Option(None, help="Breakdown column (repeatable): agent, team, channel..."),
    score_column: Optional[str] = typer.Option(None, help="CSAT / NPS / Likert rating column"),
    score_type: Optional[str] = typer.Option(None, help="csat | nps | likert (default: from the values)"),
    format: Optional[str] = typer.Option(None, help="html | xlsx | md (default: from the extension)"),
    text_column: Optional[str] = typer.Option(None, help="Comment column (default: auto-detect)"),
    model: Optional[Path] = typer.Option(None, help="Model folder for untagged input"),
):
    """One report a manager will read: themes, trends, drivers of CSAT/NPS, net scores, breakdowns."""
    from .report_html import write_report
    from .reporting import report_from_file

    with _errors():
        if score_type not in (None, "csat", "nps", "likert"):
            raise OutputError(f"unknown --score-type {score_type!r}; use csat, nps or likert")
        rep = report_from_file(input, text_column, date_column, tuple(group_by or ()), score_column, score_type,
                               model)
        write_report(rep, output, format)
    typer.echo(f"report on {rep.headline['comments']:,} comments -> {output}", err=True)


@app.command()
def compare(
    labeled: Path = typer.Argument(..., help="Labeled JSONL/CSV with text and themes"),
    model: list[Path] = typer.Option(..., "--model", help="Two model folders: --model A --model B"),
    n_boot: int = typer.Option(1000, help="Bootstrap resamples"),
    seed: int = typer.Option(0),
    as_json: bool = typer.Option(False, "--json"),
):
    """Side-by-side per-theme and macro F1 with bootstrap 95% CIs and a paired bootstrap test."""
    from .research import compare as run

    with _errors():
        if len(model) != 2:
            raise OutputError("give exactly two models: --model A --model B")
        r = run(labeled, model[0], model[1], n_boot, seed)
    if as_json:
        typer.echo(json.dumps(r, indent=2))
        return
    typer.echo(f"{'theme':<20}{'support':>8}  {'F1 A':>6} {'95% CI A':>15}  {'F1 B':>6} {'95% CI B':>15}")
    for name, m in r["themes"].items():
        fa, fb = (f"{m[k]:.3f}" if m[k] is not None else "  -  " for k in ("f1_a", "f1_b"))
        typer.echo(f"{name:<20}{m['support']:>8}  {fa:>6} {str(m['ci_a']):>15}  {fb:>6} {str(m['ci_b']):>15}")
    typer.echo(f"\nmacro F1  A {r['macro_f1_a']:.3f} {r['macro_ci_a']}   B {r['macro_f1_b']:.3f} {r['macro_ci_b']}")
    typer.echo(f"B - A = {r['diff_b_minus_a']:+.3f}, 95% CI {r['diff_ci']}, paired bootstrap p = {r['p_value']}")


@app.command("label-issues")
def label_issues_cmd(
    labeled: Path = typer.Argument(..., help="Labeled JSONL/CSV with text and themes"),
    top: int = typer.Option(50, help="How many to list"),
    folds: int = typer.Option(5),
    seed: int = typer.Option(0),
    model: Optional[Path] = typer.Option(None, help="Model whose encoder to reuse (default: the shipped model)"),
):
    """Rank probable label errors from out-of-fold scores, with the suggested labels (JSONL)."""
    from .model import load_model
    from .research import label_issues

    with _errors():
        encoder = load_model(model).encoder_
        rows = label_issues(labeled, folds, seed, top, encoder=encoder)
    for r in rows:
        typer.echo(json.dumps(r, ensure_ascii=False))


@app.command("suggest-labels")
def suggest_labels_cmd(
    input: Path = typer.Argument(..., help="Unlabeled export"),
    model: Optional[Path] = typer.Option(None, help="Model folder"),
    n: int = typer.Option(100, "-n", help="How many comments to pick"),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="JSONL to write (default: stdout)"),
    text_column: Optional[str] = typer.Option(None),
    seed: int = typer.Option(0),
):
    """Pick comments to label next (uncertain and diverse), as JSONL ready to label."""
    from .io import open_export
    from .model import load_model
    from .research import suggest_labels

    with _errors():
        export = open_export(input, text_column)
        texts = [str(t) for chunk in export.chunks() for t in chunk[export.text_column].fillna("")]
        rows = suggest_labels(texts, load_model(model), n, seed)
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        if output is None:
            sys.stdout.write(lines)
        else:
            tmp = output.with_name(f".{output.name}.tmp")
            tmp.write_text(lines, encoding="utf-8")
            tmp.replace(output)


@app.command()
def discover(
    input: Path = typer.Argument(..., help="Export with comments"),
    model: Optional[Path] = typer.Option(None, help="Model folder"),
    min_size: int = typer.Option(30, help="Smallest cluster to propose"),
    text_column: Optional[str] = typer.Option(None),
    seed: int = typer.Option(0),
    as_json: bool = typer.Option(False, "--json"),
):
    """Propose candidate new themes from comments the taxonomy covers weakly (TOML you can paste)."""
    from .io import open_export
    from .model import load_model
    from .research import discover as run

    with _errors():
        export = open_export(input, text_column)
        texts = [str(t) for chunk in export.chunks() for t in chunk[export.text_column].fillna("")]
        found = run(texts, load_model(model), min_size, seed=seed)
    if as_json:
        typer.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    for c in found:
        typer.echo(f"# {c['size']} comments: {', '.join(c['keywords'])}")
        for ex in c["examples"][:3]:
            typer.echo(f"#   - {ex[:120]}")
        typer.echo(c["toml"])


notes_app = typer.Typer(help="Customer preference notes: extract into a store, pull, export, forget.",
                        no_args_is_help=True)
app.add_typer(notes_app, name="notes")
NOTES_COMMANDS = ("add", "pull", "export", "forget", "conflicts")


@notes_app.command("add")
def notes_add(
    input: Path = typer.Argument(..., help="Export with comments"),
    customer_column: str = typer.Option(..., help="Column with the customer id"),
    db: str = typer.Option("sqlite:///notes.db", help="sqlite:///FILE or postgresql://user@host:port/db"),
    id_column: Optional[str] = typer.Option(None, help="Column with the response id (default: row number)"),
    date_column: Optional[str] = typer.Option(None, help="Column with the comment date"),
    text_column: Optional[str] = typer.Option(None, help="Column with the comment (default: auto-detect)"),
    source: Optional[str] = typer.Option(None, help="Source name in the note keys (default: the file name)"),
    chunksize: int = typer.Option(5000, help="Rows per transaction"),
    model: Optional[Path] = typer.Option(None, help="Model folder whose preference gate judges the candidates "
                                                     "(default: the shipped model)"),
    rules_only: bool = typer.Option(False, "--rules-only", help="Keep what the extraction rules find, no gate"),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
):
    """Extract preferences from an export and store them as notes (idempotent). Also: commentmine notes INPUT."""
    from .notes import store_notes

    with _errors():
        s = store_notes(input, db, customer_column, id_column, date_column, text_column, source, chunksize,
                        model=model, rules_only=rules_only)
    if not quiet:
        r = s.result
        typer.echo(f"{s.rows:,} rows, {s.found:,} preferences: {r.inserted} new, {r.updated} updated, "
                   f"{r.unchanged} unchanged, {r.conflicts} conflicts for review", err=True)


@notes_app.command("pull")
def notes_pull(
    db: str = typer.Option(..., help="Notes database URL"),
    after: int = typer.Option(0, help="Return changes with seq > AFTER (the last seq you saw)"),
    limit: int = typer.Option(1000, help="At most this many records"),
):
    """Changes since a cursor as JSONL on stdout; the last record's seq is the next cursor."""
    from .store import connect, pull

    with _errors():
        rows = pull(connect(db), after, limit)
    for r in rows:
        typer.echo(json.dumps(r, ensure_ascii=False))


@notes_app.command("export")
def notes_export(
    db: str = typer.Option(..., help="Notes database URL"),
    format: str = typer.Option("jsonl", help="jsonl | salesforce-csv | hubspot-json"),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="File to write (default: stdout)"),
):
    """Live notes for a CRM: Salesforce Bulk API 2.0 upsert CSV, HubSpot batch-upsert JSON, or JSONL."""
    import os
    import tempfile

    from .io import publish
    from .notes import export_notes

    with _errors():
        if format not in ("jsonl", "salesforce-csv", "hubspot-json"):
            raise OutputError(f"unknown --format {format!r}; use jsonl, salesforce-csv or hubspot-json")
        parts = export_notes(db, format)
        if output is None:
            for part in parts:
                sys.stdout.write(part)
            return
        fd, tmp = tempfile.mkstemp(dir=output.parent if str(output.parent) else ".", prefix=f".{output.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                for part in parts:
                    f.write(part)
            publish(tmp, output)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


@notes_app.command("forget")
def notes_forget(
    db: str = typer.Option(..., help="Notes database URL"),
    customer: str = typer.Option(..., help="Customer id to erase"),
):
    """Erase a customer's notes; tombstones (op=delete) let pullers propagate the erasure."""
    from .store import connect, forget

    with _errors():
        n = forget(connect(db), customer)
    typer.echo(f"forgot {n} notes of customer {customer!r}", err=True)


@notes_app.command("conflicts")
def notes_conflicts(db: str = typer.Option(..., help="Notes database URL")):
    """Preferences held back because an opt-out is active (for review), as JSONL."""
    from .store import connect, list_conflicts

    with _errors():
        rows = list_conflicts(connect(db))
    for r in rows:
        typer.echo(json.dumps(r, ensure_ascii=False))


@app.command()
def serve(
    db: str = typer.Option(..., help="Notes database URL"),
    host: str = typer.Option("127.0.0.1", help="Address to bind"),
    port: int = typer.Option(8080, help="Port"),
    token_env: str = typer.Option("COMMENTMINE_API_TOKEN", help="Environment variable with the bearer token"),
):
    """Serve GET /notes?after=SEQ&limit=N and GET /health for CRM sync jobs (bearer-token auth)."""
    import os

    from .server import make_server

    with _errors():
        server = make_server(db, os.environ.get(token_env), host, port)
    typer.echo(f"serving notes on http://{host}:{server.server_port}/notes", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.shutdown()


def main() -> None:
    argv = sys.argv[1:]
    # `commentmine notes INPUT ...` is short for `commentmine notes add INPUT ...`
    if len(argv) >= 2 and argv[0] == "notes" and argv[1] not in NOTES_COMMANDS and not argv[1].startswith("-"):
        argv = ["notes", "add", *argv[1:]]
    app(args=argv, prog_name="commentmine")
