"""Command line: ``hcc-study`` (or ``python -m hcc_utils``).

Exit status: 0 success; 1 a notebook or the book build failed; 2 invalid input (data file, configuration, or an
output folder another build is writing into); 130 interrupted (Ctrl-C). Output cut short by the reader
(``hcc-study validate file | head``) ends quietly.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from hcc_utils.config import REPO_ROOT, ConfigError, load_config

DEFAULT_OUT = REPO_ROOT / "_build"


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", help="cohort file (.csv, .xlsx or .parquet); default: the config's 'data'")
    parser.add_argument("--config", help="study configuration (YAML); default: study.yml")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="output folder (default: %(default)s)")
    parser.add_argument("--jobs", default="auto", help="notebooks executed at once: a number, or 'auto' for one per "
                                                      "core, at most the notebooks ready to run (default: %(default)s)")
    parser.add_argument("--scheduler", help="run the bootstrap's replicates on this Dask scheduler (tcp://host:8786) "
                                            "instead of local cores; sets bootstrap.scheduler")
    parser.add_argument("--force", action="store_true", help="re-execute every notebook even if its inputs are unchanged")
    parser.add_argument("--project", default=str(REPO_ROOT), help=argparse.SUPPRESS)  # another notebook set (tests)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hcc-study", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="validate the data, then execute every notebook with papermill")
    _add_run_options(run)
    build = commands.add_parser("build", help="run, then build the Jupyter Book HTML from the executed notebooks")
    _add_run_options(build)
    validate = commands.add_parser("validate", help="check a cohort file with the run's configuration; report every "
                                                    "violation, including the analysis checks the build depends on")
    validate.add_argument("path", nargs="?", help="cohort file; default: the configuration's 'data'")
    validate.add_argument("--config", help="study configuration (groups, matching, extract: column names, sheet, "
                                           "date formats); default: study.yml")
    validate.add_argument("--format", choices=("text", "csv"), default="text",
                          help="text (summary, then every violation) or csv (severity, row, patient, column, value, "
                               "rule, message) on standard output")
    synth = commands.add_parser("synth", help="write the synthetic cohort (calibrated: minutes; its SHA-256 is recorded "
                                              "beside it), or --check that regenerating it gives the recorded bytes")
    synth.add_argument("--seed", type=int, default=None, help="random seed (default: the config's seed)")
    synth.add_argument("--scale", type=float, default=1.0, help="cohort size relative to the article's 194 screened patients")
    synth.add_argument("--no-calibrate", action="store_true", help="skip the calibration search (other seeds/sizes)")
    synth.add_argument("--out", default=str(REPO_ROOT / "data" / "synthetic_cohort.csv"), help="file to write (default: %(default)s)")
    synth.add_argument("--check", action="store_true",
                       help="regenerate into a temporary folder and compare with the checksum recorded beside --out "
                            "(exit status 1 when the bytes differ); --out is left as it is")
    score = commands.add_parser("scorecard", help="compare a run's results.csv with the article's published numbers")
    score.add_argument("--out", default=str(DEFAULT_OUT), help="output folder of a run (default: %(default)s)")
    export = commands.add_parser("export", help="write the published run's tables (DOCX, XLSX, CSV), figures (PDF, "
                                                "SVG, PNG) and tables.docx (the article's tables in order) into a folder")
    export.add_argument("--out", default=str(DEFAULT_OUT), help="output folder of a run (default: %(default)s)")
    export.add_argument("--to", help="folder to write (default: OUT/submission); an earlier export there is replaced")
    export.add_argument("--manuscript", action="store_true", help="also write the study's manuscript draft "
                        "(manuscript.docx, and manuscript.pdf printed by the computer's Chromium)")
    verify = commands.add_parser("verify", help="recompute the published run's numbers with the R programs of verify/R "
                                                "(Rscript, survival, MatchIt), compare them by id and show the "
                                                "agreement on the book's Validation page; exit 1 on a disagreement")
    verify.add_argument("--out", default=str(DEFAULT_OUT), help="output folder of a run (default: %(default)s)")
    verify.add_argument("--no-book", action="store_true", help="write verify.csv only; leave the book as it is")
    from hcc_utils.pipeline.bench import add_bench_parser  # light: its work imports when it runs

    add_bench_parser(commands)
    return parser


# Each command imports what it needs when it runs, so `hcc-study validate` or `--help` start without loading
# papermill, the notebooks' runner or the synthetic generator.
def _cmd_validate(args) -> int:
    from hcc_utils.data.readers import CohortFileError, read_cohort
    from hcc_utils.data.validate import validate_cohort

    # The run's configuration: its groups, matching and extract settings are those the build will use.
    config = load_config(args.config, data=args.path)
    path = Path(config.data)
    try:
        frame = read_cohort(path, config=config)
    except CohortFileError as exc:
        print(exc, file=sys.stderr)
        return 2
    report = validate_cohort(frame, source=path.name, config=config)
    if args.format == "csv":
        table = report.to_frame().rename(columns={"row_number": "row", "patient_id": "patient"})
        table["row"] = table["row"].astype("Int64")
        table.to_csv(sys.stdout, index=False)
    else:
        print(report.format())
    return 0 if report.ok else 2


def _cmd_run(args, build_book: bool) -> int:
    from hcc_utils.pipeline.publish import PublishError, published_path
    from hcc_utils.pipeline.runner import StudyRunError, run_study

    config = load_config(args.config, data=args.data)
    if args.scheduler:
        config = config.replace(**{"bootstrap.scheduler": args.scheduler})
    start = time.perf_counter()
    try:
        summary = run_study(config, args.out, jobs=args.jobs, reuse=not args.force, build_book=build_book,
                            root=Path(args.project), config_path=args.config)
    except (StudyRunError, PublishError) as exc:
        print(f"hcc-study: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"hcc-study: interrupted; the previous run in {args.out} is unchanged", file=sys.stderr)
        return 130
    took = time.perf_counter() - start
    if summary.up_to_date:
        print(f"nothing changed: {len(summary.reused)} notebooks and the published run in {summary.out_dir} are up to "
              f"date ({took:.1f} s)")
        return 0
    print(f"{len(summary.executed)} notebooks executed, {len(summary.reused)} reused, in {took:.1f} s; outputs in {summary.out_dir}")
    if build_book:
        print(f"open {published_path(summary.out_dir, 'html') / 'index.html'}")
    return 0


def _cmd_synth(args) -> int:
    import tempfile

    from hcc_utils.synthetic.generator import checksum_path, checksum_problem, recorded_checksum, write_synthetic_cohort

    config = load_config()
    seed = config.seed if args.seed is None else args.seed
    if not args.check:
        path = write_synthetic_cohort(args.out, seed=seed, scale=args.scale, calibrate=not args.no_calibrate)
        print(f"wrote {path}" + (f" and {checksum_path(path)}" if checksum_path(path).is_file() else ""))
        return 0
    expected = recorded_checksum(args.out)
    if expected is None:
        print(f"hcc-study: {checksum_path(args.out)} does not exist: nothing to check against", file=sys.stderr)
        return 2
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        path = write_synthetic_cohort(Path(folder) / Path(args.out).name, seed=seed, scale=args.scale,
                                      calibrate=not args.no_calibrate)
        problem = checksum_problem(path, expected)
    took = time.perf_counter() - start
    if problem:
        print(f"hcc-study: the regenerated cohort differs from {args.out}'s record ({took:.0f} s): {problem}",
              file=sys.stderr)
        return 1
    print(f"regenerated in {took:.0f} s: the same bytes as {args.out} (SHA-256 {expected})")
    return 0


def _cmd_scorecard(args) -> int:
    from hcc_utils.pipeline.publish import published_run
    from hcc_utils.reproduction.summary import scorecard_report

    run = published_run(Path(args.out))
    results = (run if run is not None else Path(args.out)) / "results.csv"  # a folder of an older layout: its own
    if not results.is_file():
        print(f"hcc-study: no results.csv in {args.out}; run `hcc-study run` first", file=sys.stderr)
        return 2
    print(scorecard_report(results, REPO_ROOT / "data" / "targets.csv", groups=_run_groups(results.parent)))
    return 0


def _run_groups(run_dir: Path) -> dict | None:
    """The regimens a run compared, from its manifest's configuration (None, the article's, when it has none)."""
    manifest = run_dir / "manifest.json"
    if not manifest.is_file():
        return None
    return json.loads(manifest.read_text(encoding="utf-8")).get("config", {}).get("groups")


def _cmd_export(args) -> int:
    from hcc_utils.pipeline.export import ExportError, export_submission

    try:
        export_submission(args.out, args.to, manuscript=args.manuscript)
    except ExportError as exc:
        print(f"hcc-study: {exc}", file=sys.stderr)
        return 2
    return 0


def _cmd_verify(args) -> int:
    """R recomputes the published run (``reproduction.verify``); then the book is built again from the same
    configuration so that its Validation page shows the agreement (only that page is executed again)."""
    from hcc_utils.config import as_config
    from hcc_utils.pipeline.publish import PublishError, published_path, published_run
    from hcc_utils.pipeline.runner import StudyRunError, run_study
    from hcc_utils.reproduction.verify import VERIFY_DIR, RNotFound, report_text, verify_run

    out = Path(args.out)
    run = published_run(out)
    if run is None or not (run / "results.csv").is_file():
        print(f"hcc-study: no published run in {out}; run `hcc-study build --out {out}` first", file=sys.stderr)
        return 2
    start = time.perf_counter()
    try:
        summary = verify_run(run, out / VERIFY_DIR)
    except RNotFound as exc:
        print(f"hcc-study: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, RuntimeError) as exc:
        print(f"hcc-study: {exc}", file=sys.stderr)
        return 2
    print(report_text(summary))
    print(f"wrote {out / VERIFY_DIR / 'verify.csv'} in {time.perf_counter() - start:.1f} s")
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    if not args.no_book and manifest.get("files", {}).get("_html"):
        try:
            run_study(as_config(manifest["config"]), out, build_book=True, root=REPO_ROOT)
        except (StudyRunError, PublishError) as exc:
            print(f"hcc-study: the book was not rebuilt: {exc}", file=sys.stderr)
            return 1
        print(f"the Validation page shows the agreement: {published_path(out, 'html') / 'book' / 'validation.html'}")
    return 1 if summary["disagree"] else 0


def _dispatch(args) -> int:
    if args.command == "validate":
        return _cmd_validate(args)
    if args.command in {"run", "build"}:
        return _cmd_run(args, build_book=args.command == "build")
    if args.command == "synth":
        return _cmd_synth(args)
    if args.command == "scorecard":
        return _cmd_scorecard(args)
    if args.command == "export":
        return _cmd_export(args)
    if args.command == "verify":
        return _cmd_verify(args)
    if args.command == "bench":
        from hcc_utils.pipeline.bench import bench_command

        return bench_command(args)
    return 1


def main(argv: list[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    try:
        status = _dispatch(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at interpreter exit
        return status
    except BrokenPipeError:
        # the reader stopped reading (`| head`): end quietly, as Unix tools do, and keep Python's final flush
        # from raising again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except ConfigError as exc:
        print(f"hcc-study: {exc}", file=sys.stderr)
        return 2
    except (IsADirectoryError, PermissionError) as exc:  # a folder or an unreadable file given as data
        print(f"hcc-study: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    except Exception as exc:  # data errors raised before any notebook runs
        from hcc_utils.data.readers import CohortFileError
        from hcc_utils.pipeline.publish import OutputLockedError
        from hcc_utils.pipeline.runner import UserInputError

        if isinstance(exc, (UserInputError, CohortFileError, OutputLockedError)):
            print(f"hcc-study: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
