"""The `stance` command: argument parsing and output only; the work is done by the modules it calls.

This is the composition root: the only module of the package that imports `training`. Every user
mistake ends as one line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stance.errors import StanceError

EXIT_USAGE = 2  # argparse's own code for a bad command line
EXIT_ERROR = 1  # a user mistake the program found (bad file, bad model, bad data)
EXIT_INTERNAL = 70  # a bug: reported in one line, the traceback behind STANCE_DEBUG=1
EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = _show_warning
        try:
            return int(args.handler(args) or 0)
        except StanceError as err:
            return _fail(str(err))
        except KeyboardInterrupt:
            print("stance: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            # `stance extract ... | head` closed our stdout: not an error of ours to report.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        except OSError as err:
            where = f"{err.filename}: " if getattr(err, "filename", None) else ""
            return _fail(f"{where}{err.strerror or err}")
        except Exception as err:
            if os.environ.get("STANCE_DEBUG"):
                raise
            return _fail(
                f"internal error ({type(err).__name__}: {err}); rerun with STANCE_DEBUG=1 for the "
                "traceback and report it",
                code=EXIT_INTERNAL,
            )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stance",
        description="Where does a speaker stand on negotiating? Train, evaluate, predict, extract "
        "quotes from articles, batch-score archives, report, and serve over HTTP.",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_train(sub)
    _add_evaluate(sub)
    _add_predict(sub)
    _add_extract(sub)
    _add_score(sub)
    _add_report(sub)
    _add_serve(sub)
    return parser


def _fail(message: str, *, code: int = EXIT_ERROR) -> int:
    # One line: newlines inside a message (a CSV cell, an exception text) would split it.
    print(f"stance: error: {' '.join(message.split())}", file=sys.stderr)
    return code


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"stance: warning: {message}", file=sys.stderr)


def _model_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        metavar="PATH",
        help="model artifact (default: $STANCE_MODEL_PATH, else the shipped models/stance.joblib)",
    )


def _model_path(args: argparse.Namespace) -> str | None:
    """--model, else $STANCE_MODEL_PATH, else None (the shipped model)."""
    return args.model or os.environ.get("STANCE_MODEL_PATH") or None


def _load(args: argparse.Namespace):  # -> StanceModel
    from stance.model import load_model

    return load_model(_model_path(args))


def _csv_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--text-column", default="text", metavar="NAME", help="default: text")
    parser.add_argument("--label-column", default="label", metavar="NAME", help="default: label")
    parser.add_argument(
        "--encoding", metavar="NAME", help="the CSV's encoding when it is not UTF-8 (e.g. cp1252)"
    )
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="leave out invalid rows (reported with their line numbers) instead of stopping",
    )


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False))


# -- train -----------------------------------------------------------------------------------
def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train the model on labelled CSVs",
        description="Train the TF-IDF + logistic-regression model on labelled CSVs (default: the "
        "embedded training/data/*.csv) and write the artifact and its card.",
    )
    p.add_argument(
        "csv", nargs="*", metavar="CSV", help="labelled CSVs (default: training/data/*.csv)"
    )
    p.add_argument("--out", metavar="PATH", help="artifact path (default: models/stance.joblib)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument(
        "--no-search",
        action="store_true",
        help="skip the hyperparameter search and use the defaults (much faster)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=-1,
        metavar="N",
        help="parallel jobs for the search (default: all cores)",
    )
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    _csv_args(p)
    p.set_defaults(handler=_run_train)


def _run_train(args: argparse.Namespace) -> int:
    from stance.model import DEFAULT_MODEL_PATH
    from training.train import train

    log = (
        (lambda message: None) if args.quiet else (lambda message: print(message, file=sys.stderr))
    )
    card = train(
        args.csv or None,
        out=args.out or DEFAULT_MODEL_PATH,
        seed=args.seed,
        search=not args.no_search,
        n_jobs=args.jobs,
        text_column=args.text_column,
        label_column=args.label_column,
        encoding=args.encoding,
        skip_invalid=args.skip_invalid,
        log=log,
    )
    if not args.quiet:
        cv = card.get("cross_validation") or {}
        print(
            f"{card['model_version']}: {card['training_data']['rows']} rows, labels "
            f"{', '.join(card['labels'])}, CV macro-F1 {cv.get('macro_f1', 'n/a')}"
        )
    return 0


# -- evaluate --------------------------------------------------------------------------------
def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="score the model on a labelled CSV",
        description="Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix.",
    )
    p.add_argument("csv", nargs="+", metavar="CSV", help="labelled CSVs")
    _model_arg(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _csv_args(p)
    p.set_defaults(handler=_run_evaluate)


def _run_evaluate(args: argparse.Namespace) -> int:
    from stance.data import describe_skipped, read_labelled_csv
    from stance.metrics import classification_metrics, format_metrics

    data = read_labelled_csv(
        args.csv,
        text_column=args.text_column,
        label_column=args.label_column,
        encoding=args.encoding,
        skip_invalid=args.skip_invalid,
    )
    model = _load(args)
    predicted = [p.label for p in model.predict(data.texts)]
    metrics = classification_metrics(data.labels, predicted, model.labels)
    metrics["model_version"] = model.version
    metrics["skipped"] = len(data.skipped)
    metrics["skipped_rows"] = [str(row) for row in data.skipped]
    if args.json:
        _print_json(metrics)
    else:
        print(format_metrics(metrics))
    if data.skipped:
        print("stance: " + "\n".join(describe_skipped(data.skipped)), file=sys.stderr)
    return 0


# -- predict ---------------------------------------------------------------------------------
def _add_predict(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="the stance of one quote",
        description="The stance of one quote. Without --speaker, a speaker named in the text "
        "('..., Peskov said') is attached.",
    )
    p.add_argument("text", metavar="TEXT", help="the quote ('-' reads it from stdin)")
    p.add_argument("--speaker", metavar="NAME", help="who said it")
    p.add_argument("--explain", action="store_true", help="show the n-grams that drove the label")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _model_arg(p)
    p.set_defaults(handler=_run_predict)


def _run_predict(args: argparse.Namespace) -> int:
    from stance.score import prediction_record

    text = sys.stdin.read() if args.text == "-" else args.text
    if not text.strip():
        raise StanceError("the text to classify is empty")
    record = prediction_record(_load(args), text, speaker=args.speaker, explain=args.explain)
    if args.json:
        _print_json(record)
        return 0
    probabilities = "  ".join(f"{k} {v:.2f}" for k, v in record["probabilities"].items())
    who = f"{record['speaker']}: " if record["speaker"] else ""
    print(f"{who}{record['label']} ({record['confidence']:.2f})   [{probabilities}]")
    for item in record.get("explanation", []):
        print(f"  {item['weight']:+.3f}  {item['feature']}")
    return 0


# -- extract ---------------------------------------------------------------------------------
def _add_extract(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "extract",
        help="the direct quotes of articles, with speakers and stances",
        description="Find the direct quotes of each article (.txt, .md, .html), attribute them to "
        "speakers and classify them; one JSON object a line with --json.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="article files")
    p.add_argument("--json", action="store_true", help="one JSON object per quote, a line each")
    p.add_argument("--explain", action="store_true", help="add the n-grams that drove each label")
    p.add_argument(
        "--aliases",
        metavar="FILE",
        help="extra speaker aliases (JSON or CSV: alias -> canonical name)",
    )
    _model_arg(p)
    p.set_defaults(handler=_run_extract)


def _run_extract(args: argparse.Namespace) -> int:
    from stance.quotes import SpeakerAliases, read_article
    from stance.score import score_article

    aliases = SpeakerAliases.from_file(args.aliases) if args.aliases else SpeakerAliases.default()
    model = _load(args)
    for path in args.files:
        article = read_article(path)
        records = score_article(model, article, aliases=aliases, explain=args.explain)
        if args.json:
            for record in records:
                _print_json(record)
            continue
        print(f"== {path}: {article.title or '(untitled)'} ({len(records)} quotes)")
        for record in records:
            speaker = record["speaker"] or "(unknown speaker)"
            role = f", {record['speaker_role']}" if record["speaker_role"] else ""
            label = f"[{record['label']} {record['confidence']:.2f}]"
            print(f"  {label} {speaker}{role}: “{record['quote']}”")
    return 0


# -- score -----------------------------------------------------------------------------------
def _add_score(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score",
        help="batch-score tables of quotes or articles, or archives of article files",
        description="Score tables (.csv, .jsonl/.ndjson, .parquet) whose rows are quotes or, with "
        "--articles, articles; or article files (a folder, .zip, .tar.gz, .txt/.md/.html). The "
        "output's extension picks its format (.parquet, .csv, .jsonl): the input's columns plus "
        "the speaker, label, confidence, p_<label> and model_version (and the quote columns for "
        "articles). Rows that cannot be scored go to OUTPUT.errors.jsonl. Quote globs so that "
        "the command expands them.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="tables, folders, archives or globs")
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="the file to write")
    p.add_argument(
        "--articles", action="store_true", help="the tables' rows are articles, not quotes"
    )
    p.add_argument("--engine", choices=["local", "dask"], default="local", help="default: local")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="dask scheduler (tcp://host:port); default: a local cluster",
    )
    p.add_argument("--workers", type=int, metavar="N", help="worker processes (default: all cores)")
    p.add_argument(
        "--chunk-size",
        type=int,
        metavar="N",
        help="rows a chunk (default: 10,000 quotes or 100 articles)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run from its last finished chunk (either engine)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary line")
    p.add_argument(
        "--text-column", metavar="NAME", help="the column of quote or article text (default: text)"
    )
    p.add_argument(
        "--html-column", metavar="NAME", help="with --articles: the column of article HTML"
    )
    p.add_argument(
        "--speaker-column",
        metavar="NAME",
        help="the quotes' speaker column (default: speaker, if present)",
    )
    p.add_argument(
        "--aliases",
        metavar="FILE",
        help="extra speaker aliases (JSON or CSV: alias -> canonical name)",
    )
    _model_arg(p)
    p.set_defaults(handler=_run_score)


def _run_score(args: argparse.Namespace) -> int:
    from stance.batch import partial_path, score_inputs

    try:
        summary = score_inputs(
            args.inputs,
            args.output,
            articles=args.articles,
            engine=args.engine,
            scheduler=args.scheduler,
            workers=args.workers,
            chunk_size=args.chunk_size,
            resume=args.resume,
            progress=not args.quiet and sys.stderr.isatty(),
            text_column=args.text_column,
            html_column=args.html_column,
            speaker_column=args.speaker_column,
            model_path=_model_path(args),
            aliases_path=args.aliases,
        )
    except KeyboardInterrupt:
        partial = partial_path(Path(args.output))
        if partial.is_dir():
            print(
                f"stance: finished chunks are kept in {partial}; rerun with --resume",
                file=sys.stderr,
            )
        raise
    if not args.quiet:
        print(summary.line())
    return 0


# -- report ----------------------------------------------------------------------------------
def _add_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="per-speaker stance tables and charts from scored output",
        description="A self-contained HTML report (tables, inline SVG charts, no outside requests) "
        "of the output of `stance score`: each speaker's quotes and share of pro / anti / neutral, "
        "whose stance changed most, monthly timelines, the most confident quotes each way. "
        "--format csv writes the per-speaker table instead.",
    )
    p.add_argument(
        "scored", metavar="SCORED", help="scored output: .parquet file or folder, .csv, .jsonl"
    )
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="an .html or .csv file")
    p.add_argument("--format", choices=["html", "csv"], help="default: from OUTPUT's extension")
    p.add_argument(
        "--top",
        type=int,
        default=10,
        metavar="N",
        help="speakers in the charts and timelines, changes and quotes shown (default: 10)",
    )
    p.add_argument("--title", metavar="TEXT", help="the report's title (default: SCORED's name)")
    p.set_defaults(handler=_run_report)


def _run_report(args: argparse.Namespace) -> int:
    from stance.report import load_scored, output_format, write_speaker_csv
    from stance.report_html import write_report

    fmt = output_format(args.output, args.format)  # a bad OUTPUT fails before the reading
    scored = load_scored(args.scored)
    if fmt == "csv":
        out = write_speaker_csv(scored, args.output)
    else:
        out = write_report(scored, args.output, title=args.title, top=args.top)
    print(f"wrote {out} ({len(scored):,} rows read)")
    return 0


# -- serve -----------------------------------------------------------------------------------
def _add_serve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the HTTP API and the web page",
        description="Serve the HTTP API (docs at /docs) and the web page at / with uvicorn. "
        "Set STANCE_API_KEY to require an X-API-Key header.",
    )
    p.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    p.add_argument("--port", type=int, default=8000, help="default: 8000")
    p.add_argument(
        "--workers", type=int, default=1, metavar="N", help="worker processes (default: 1)"
    )
    p.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    p.add_argument("--no-access-log", action="store_true", help="do not log each request")
    p.add_argument(
        "--http",
        default="h11",
        choices=["h11", "httptools"],
        help="HTTP parser (default: h11, which refuses a request head over 16 KB; httptools is "
        "faster but has no such cap, and must be installed: pip install httptools)",
    )
    p.add_argument(
        "--loop",
        default="auto",
        choices=["auto", "asyncio", "uvloop"],
        help="event loop (default: uvloop where it is installed, as stance does on Linux and "
        "macOS; else asyncio)",
    )
    _model_arg(p)
    p.set_defaults(handler=_run_serve)


def _run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    model = _load(args)  # fail here, in one line, rather than inside a worker
    if args.model:
        # The workers build their app from the factory, which reads the path from here.
        os.environ["STANCE_MODEL_PATH"] = str(Path(args.model).resolve())
    if args.workers < 1:
        raise StanceError("--workers must be at least 1")
    for option, module in (("--http", args.http), ("--loop", args.loop)):
        if module in ("httptools", "uvloop") and importlib.util.find_spec(module) is None:
            raise StanceError(f"{option} {module} needs the {module} package: pip install {module}")
    print(
        f"stance: serving {model.version} on http://{args.host}:{args.port}/ (docs at /docs)",
        file=sys.stderr,
    )
    uvicorn.run(
        "stance.api:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        access_log=not args.no_access_log,
        http=args.http,
        loop=args.loop,
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
