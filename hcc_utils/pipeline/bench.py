"""``hcc-study bench``: time and peak memory of every step of a run, at registry sizes, beside the peers.

For each size a synthetic cohort is generated once (uncalibrated, as ``hcc-study synth --no-calibrate``, written as
Parquet into ``OUT/cohorts/``; reruns reuse it), then each step runs in a fresh process
(:mod:`hcc_utils.pipeline.bench_steps`): read, validate, derive, match, each section of
:data:`hcc_utils.study.SECTIONS` (from the pickled study), the whole analysis from the file, and the kernels
Kaplan-Meier + log-rank and Cox. Seconds are those of the step alone, measured inside the process; peak MB is the
process's peak resident set (``getrusage(RUSAGE_CHILDREN).ru_maxrss`` read by a bare launcher process that
started it), so it includes the step's preparation (for example the cohort read before
validating it). No step uses tracemalloc. The book (``hcc-study build``: cold, warm with nothing changed, after
editing one notebook's markdown) is timed as a whole command; its peak is that of the largest single process of
the build (a kernel or Jupyter Book), not their sum.

Peers, when installed, run right after ours on the same data (interleaved, so the machine's load hits both):
lifelines and R (``survival``, ``MatchIt``; data exchanged as CSV) for the kernels and the matching, and Jupyter
Book's own execution of the same notebooks (a copy of the book's sources with ``execute_notebooks: force``) for
the cold book. ``ratio`` is peer seconds / our seconds: above 1, ours is faster.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from hcc_utils.config import REPO_ROOT, platforms

DEFAULT_SIZES = (10**4, 10**5, 10**6)
DEFAULT_OUT = REPO_ROOT / "_bench"
COLUMNS = ("step", "size", "rows", "seconds", "peak_mb", "peer", "peer_seconds", "peer_peak_mb", "ratio", "note")
#: The book is timed on the bundled cohort and on sizes up to this one (all sizes with ``--book-all-sizes``).
BOOK_MAX_SIZE = 10**4
MIN_SIZE, MAX_SIZE = 1_000, 10**8
#: The notebook whose markdown the "after editing one notebook" rebuild changes.
EDITED_NOTEBOOK = "notebooks/05_survival.ipynb"


class BenchError(ValueError):
    """A user error of ``hcc-study bench`` (bad sizes, unusable output folder): one line, exit status 2."""


def parse_sizes(text: str) -> list[int]:
    """``"1e4,1e5,1e6"`` -> ``[10000, 100000, 1000000]``; whole numbers between 1,000 and 10^8."""
    sizes = []
    for part in text.split(","):
        part = part.strip().replace("_", "")
        try:
            value = float(part)
        except ValueError:
            raise BenchError(f"--sizes: {part!r} is not a number (expected e.g. --sizes 1e4,1e5,1e6)") from None
        if not math.isfinite(value) or value != int(value):
            raise BenchError(f"--sizes: {part!r} is not a whole number of patients")
        if not MIN_SIZE <= value <= MAX_SIZE:
            raise BenchError(f"--sizes: {part} is outside {MIN_SIZE:,}..{MAX_SIZE:.0e} patients")
        sizes.append(int(value))
    return sorted(dict.fromkeys(sizes))


# ------------------------------------------------------------------------------------------ measuring
@dataclass
class Measurement:
    """One process: the step's seconds (its own timing, or the command's wall time), its peak RSS in MB."""

    seconds: float
    peak_mb: float
    error: str = ""


#: Runs the measured command as its own child and writes that child's peak RSS (RUSAGE_CHILDREN) to a file.
#: Linux keeps a process's peak RSS across exec, and a child of this (large) process starts as its copy: measured
#: directly, every step would show at least this process's size. The launcher is a bare interpreter (-I -S).
LAUNCHER = ("import subprocess, sys\n"
            "status = subprocess.call(sys.argv[2:])\n"
            "try:\n"
            "    import resource\n"
            "except ImportError:  # Windows: no getrusage, the peak is not measured (NaN)\n"
            "    sys.exit(status)\n"
            "with open(sys.argv[1], 'w') as f: f.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
            "sys.exit(status)\n")


def measure(command: list[str], cwd: Path | None = None, env: dict | None = None,
            timeout: float | None = None) -> Measurement:
    """Run ``command`` in a fresh process; seconds from its last JSON line ``{"seconds": ...}`` when it prints
    one, else its wall time; peak RSS from ``getrusage(RUSAGE_CHILDREN)`` in a small launcher (that process and
    the descendants it waited for, each alone: not their sum). After ``timeout`` seconds the command and its
    children are stopped and the measurement says so."""
    with tempfile.TemporaryDirectory(prefix="hcc-bench-") as scratch:
        peak_file, out_file, err_file = (Path(scratch) / name for name in ("peak", "out", "err"))
        with out_file.open("wb") as out, err_file.open("wb") as err:
            began = time.perf_counter()
            # its own process group, so that a timeout or Ctrl-C stops the launcher's children too
            process = subprocess.Popen([sys.executable, "-I", "-S", "-c", LAUNCHER, str(peak_file), *command],
                                       stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd,
                                       env={**os.environ, **(env or {})}, **platforms.new_process_group())
            try:
                status = process.wait(timeout)
            except subprocess.TimeoutExpired:
                platforms.kill_process_group(process)
                process.wait()
                return Measurement(math.nan, math.nan, f"stopped after {timeout:.0f} s (--peer-timeout)")
            except BaseException:
                platforms.kill_process_group(process)
                process.wait()
                raise
            wall = time.perf_counter() - began
        stdout, stderr = (path.read_text(encoding="utf-8", errors="replace") for path in (out_file, err_file))
        peak = platforms.peak_memory_megabytes(int(peak_file.read_text(encoding="ascii"))) if peak_file.is_file() \
            else math.nan
    if status != 0:
        last = [line for line in stderr.strip().splitlines() if line.strip()]
        return Measurement(math.nan, peak, f"exit {status}: {last[-1][:200] if last else 'no message'}")
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith('{"seconds"'):
            return Measurement(json.loads(line)["seconds"], peak)
    return Measurement(wall, peak)


def step_command(step: str, request: dict) -> list[str]:
    return [sys.executable, "-m", "hcc_utils.pipeline.bench_steps", step, json.dumps(request)]


# ------------------------------------------------------------------------------------------ peers
def lifelines_present() -> bool:
    import importlib.util

    return importlib.util.find_spec("lifelines") is not None


def r_packages() -> set[str]:
    """Which of survival and MatchIt an ``Rscript`` on the PATH can load (empty without R)."""
    if shutil.which("Rscript") is None:
        return set()
    probe = subprocess.run(["Rscript", "-e", 'for (p in c("survival", "MatchIt")) '
                                             'if (requireNamespace(p, quietly = TRUE)) cat(p, "\\n")'],
                           capture_output=True, text=True, encoding="utf-8", errors="replace")
    return set(probe.stdout.split()) if probe.returncode == 0 else set()


# ------------------------------------------------------------------------------------------ the run
class Bench:
    """Collects rows, prints a progress line per measurement on stderr and keeps the CSV up to date."""

    def __init__(self, out: Path, csv_path: Path, peers: bool, quick: bool, seed: int,
                 peer_timeout: float | None = None):
        self.out, self.csv_path, self.seed, self.peer_timeout = out, csv_path, seed, peer_timeout
        self.rows: list[dict] = []
        self.failed: list[str] = []  # our steps that failed (a failed peer is only noted)
        self.lifelines = peers and lifelines_present()
        self.r = set() if (quick or not peers) else r_packages()
        self.jupyter_book = peers and not quick

    def progress(self, text: str) -> None:
        print(f"bench: {text}", file=sys.stderr, flush=True)

    def add(self, step: str, size: int, rows: int | str, ours: Measurement, peer: str = "",
            theirs: Measurement | None = None, note: str = "") -> None:
        notes = [n for n in (note, ours.error, f"{peer}: {theirs.error}" if theirs and theirs.error else "") if n]
        if ours.error and step not in self.failed:
            self.failed.append(step)
        ratio = theirs.seconds / ours.seconds if theirs and ours.seconds > 0 else math.nan
        row = {"step": step, "size": size, "rows": rows, "seconds": ours.seconds, "peak_mb": ours.peak_mb,
               "peer": peer, "peer_seconds": theirs.seconds if theirs else math.nan,
               "peer_peak_mb": theirs.peak_mb if theirs else math.nan, "ratio": ratio, "note": "; ".join(notes)}
        self.rows.append(row)
        peer_text = f"  {peer} {row['peer_seconds']:.3f} s (ratio {ratio:.2f})" if peer else ""
        self.progress(f"{step} n={size:,}: {ours.seconds:.3f} s, {ours.peak_mb:.0f} MB{peer_text}"
                      + (f"  [{row['note']}]" if row["note"] else ""))
        self.write_csv()

    def write_csv(self) -> None:
        self.csv_path.parent.mkdir(parents=True, exist_ok=True)
        with self.csv_path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            for row in self.rows:
                writer.writerow({k: (_fmt(v) if isinstance(v, float) else v) for k, v in row.items()})

    # -------------------------------------------------------------------------------------- per size
    def cohort(self, size: int) -> Path:
        """The cached cohort of ``size`` screened patients (generated the first time)."""
        path = self.out / "cohorts" / f"cohort_{size}_seed{self.seed}.parquet"
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            self.progress(f"generating a cohort of {size:,} patients into {path} (once; reruns reuse it)")
            made = measure(step_command("generate", {"rows": size, "seed": self.seed, "cohort": str(path)}))
            if made.error:
                raise RuntimeError(f"generating the cohort of {size:,} patients failed ({made.error})")
        return path

    def run_size(self, size: int) -> Path:
        cohort = self.cohort(size)
        work = self.out / "work" / str(size)
        work.mkdir(parents=True, exist_ok=True)
        request = {"cohort": str(cohort), "work": str(work)}
        self.progress(f"n={size:,}: preparing the study (read, validate, derive, match; pickled for the sections)")
        prepared = measure(step_command("prepare", request))
        if prepared.error:
            raise RuntimeError(f"the study of {size:,} patients could not be built ({prepared.error})")
        info = json.loads((work / "kernel.json").read_text(encoding="utf-8"))
        enrolled = info["enrolled"]
        for step in ("read", "validate", "derive"):
            self.add(step, size, size, measure(step_command(step, request)))
        ours = measure(step_command("match", request))
        self.add("match", size, enrolled, ours, *self._r_peer("match", work, info, "MatchIt"))
        from hcc_utils.study import SECTIONS

        for module in SECTIONS:
            name = module.__name__.rsplit(".", 1)[-1]
            self.add(f"section:{name}", size, enrolled, measure(step_command(f"section:{name}", request)))
        self.add("analysis", size, size, measure(step_command("analysis", request)),
                 note="read + compute_results(validate=True)")
        for kernel in ("km_logrank", "cox"):
            ours = measure(step_command(kernel, request))
            peers = []
            if self.lifelines:
                peers.append(("lifelines", measure(step_command(f"lifelines:{kernel}", request),
                                                   timeout=self.peer_timeout)))
            r_peer = self._r_peer(kernel, work, info, "survival")
            if r_peer:
                peers.append(r_peer)
            for peer, theirs in peers or [("", None)]:
                self.add(kernel, size, info["rows"], ours, peer, theirs)
        return cohort

    def _r_peer(self, step: str, work: Path, info: dict, package: str) -> tuple[str, Measurement] | tuple:
        if package not in self.r:
            return ()
        from hcc_utils.pipeline.bench_steps import COX_COVARIATES, R_SCRIPT

        script = work / "bench.R"
        script.write_text(R_SCRIPT, encoding="utf-8")
        covariates = info["matching_covariates"] if step == "match" else COX_COVARIATES
        return (f"R {package}", measure(["Rscript", str(script), str(work / "kernel.csv"), step,
                                         ",".join(covariates)], timeout=self.peer_timeout))

    # -------------------------------------------------------------------------------------- the book
    def run_book(self, label: str, size: int, cohort: Path) -> None:
        """Cold, warm and markdown-edited rebuilds of ``hcc-study build``; Jupyter Book's own execution beside
        the cold one."""
        from hcc_utils.pipeline.bench_book import copy_project, edit_markdown, jupyter_book_project
        from hcc_utils.pipeline.publish import published_run

        base = self.out / "work" / f"book-{label}"
        project, out = base / "project", base / "out"
        for folder in (project, out):
            shutil.rmtree(folder, ignore_errors=True)
        copy_project(REPO_ROOT, project)
        build = [sys.executable, "-m", "hcc_utils", "build", "--out", str(out), "--data", str(cohort),
                 "--project", str(project)]
        self.progress(f"book on {label}: cold build ...")
        cold = measure(build)
        if self.jupyter_book:
            self.progress(f"book on {label}: Jupyter Book's own execution (execute_notebooks: force) ...")
            peer_source, peer_out = base / "jb_project", base / "jb_out"
            for folder in (peer_source, peer_out):
                shutil.rmtree(folder, ignore_errors=True)
            jupyter_book_project(REPO_ROOT, peer_source, cohort, published_run(out))
            theirs = measure([sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build",
                              str(peer_source), "--path-output", str(peer_out), "--builder", "html", "--quiet"],
                             timeout=self.peer_timeout)
            failed = sorted(p.name.removesuffix(".err.log") for p in peer_out.rglob("reports/**/*.err.log"))
            self.add("book_cold", size, label, cold, "jupyter-book", theirs,
                     note=f"{len(failed)} notebooks failed in Jupyter Book's execution ({', '.join(failed)})"
                     if failed else "")
        else:
            self.add("book_cold", size, label, cold)
        self.add("book_warm", size, label, measure(build), note="nothing changed")
        edit_markdown(project / EDITED_NOTEBOOK)
        self.add("book_md_edit", size, label, measure(build), note=f"markdown of {EDITED_NOTEBOOK} edited")


def _fmt(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.4g}" if abs(value) < 1000 else f"{value:.0f}"


def _fixed(value: float, decimals: int, missing: str = "") -> str:
    return missing if math.isnan(value) else f"{value:,.{decimals}f}"


def format_table(rows: list[dict]) -> str:
    """The rows as a fixed-width table: step, size, seconds, peak MB, peer, peer seconds, ratio."""
    header = f"{'step':<24} {'size':>9} {'seconds':>9} {'peak MB':>8}  {'peer':<14} {'peer s':>9} {'ratio':>7}"
    lines = [header, "-" * len(header)]
    for r in rows:
        size = "bundled" if r["rows"] == "bundled" else f"{r['size']:.0e}".replace("e+0", "e")
        lines.append(f"{r['step']:<24} {size:>9} {_fixed(r['seconds'], 3, 'failed'):>9} {_fixed(r['peak_mb'], 0):>8}  "
                     f"{r['peer']:<14} {_fixed(r['peer_seconds'], 3, '-' if r['peer'] else ''):>9} "
                     f"{_fixed(r['ratio'], 2):>7}")
    return "\n".join(lines)


def run_bench(sizes: list[int], out: Path, csv_path: Path, book: bool = True, peers: bool = True,
              quick: bool = False, book_all_sizes: bool = False, seed: int = 1,
              peer_timeout: float | None = None) -> Bench:
    """Measure every step at every size (see the module's docstring); the rows are ``.rows`` (also in
    ``csv_path``)."""
    bench = Bench(out, csv_path, peers, quick, seed, peer_timeout)
    cohorts = {size: bench.run_size(size) for size in sizes}
    if book:  # last: the longest part, and the steps' rows are already in the CSV if it is interrupted
        from hcc_utils.config import load_config

        bench.run_book("bundled", 194, Path(load_config().data))
        for size, cohort in cohorts.items():
            if book_all_sizes or size <= BOOK_MAX_SIZE:
                bench.run_book(str(size), size, cohort)
    return bench


# ------------------------------------------------------------------------------------------ command line
def add_bench_parser(commands) -> None:
    """The ``bench`` subcommand of ``hcc-study`` (its options only; the work is :func:`bench_command`)."""
    bench = commands.add_parser("bench", help="time and peak memory of every step (read ... sections, the whole "
                                              "analysis, the book) at 10^4-10^6 patients, beside lifelines, R "
                                              "and Jupyter Book when installed")
    bench.add_argument("--sizes", default="1e4,1e5,1e6", help="cohort sizes, comma-separated (default: %(default)s)")
    bench.add_argument("--out", default=str(DEFAULT_OUT), help="work folder; generated cohorts are cached in "
                                                               "OUT/cohorts (default: %(default)s)")
    bench.add_argument("--csv", help="CSV of the rows (default: OUT/bench.csv)")
    bench.add_argument("--no-book", action="store_true", help="skip the book builds")
    bench.add_argument("--no-peers", action="store_true", help="skip lifelines, R and Jupyter Book")
    bench.add_argument("--quick", action="store_true", help="10^4 only, no book, no R (a minute or two: what the tests run)")
    bench.add_argument("--book-all-sizes", action="store_true",
                       help=f"build the book at every size, not only the bundled cohort and sizes up to "
                            f"{BOOK_MAX_SIZE:.0e} (10^6 takes long)")
    bench.add_argument("--peer-timeout", type=float, metavar="SECONDS",
                       help="stop a peer after this long and note it (R's MatchIt takes minutes at 10^6)")
    bench.add_argument("--seed", type=int, default=1, help="seed of the generated cohorts (default: %(default)s)")


def bench_command(args) -> int:
    """Run ``hcc-study bench``: the table on stdout, progress on stderr; user errors as one line, exit 2."""
    try:
        sizes = [10**4] if args.quick else parse_sizes(args.sizes)
        out = Path(args.out).resolve()
        if out.exists() and not out.is_dir():
            raise BenchError(f"--out: {out} exists and is not a folder")
        csv_path = Path(args.csv).resolve() if args.csv else out / "bench.csv"
        if csv_path.is_dir():
            raise BenchError(f"--csv: {csv_path} is a folder")
    except BenchError as exc:
        print(f"hcc-study bench: {exc}", file=sys.stderr)
        return 2
    bench = run_bench(sizes, out, csv_path, book=not (args.no_book or args.quick), peers=not args.no_peers,
                      quick=args.quick, book_all_sizes=args.book_all_sizes, seed=args.seed,
                      peer_timeout=args.peer_timeout)
    print(format_table(bench.rows))
    print(f"\n{len(bench.rows)} rows in {csv_path}; ratio = peer seconds / ours (above 1: ours faster); load "
          "average " + ", ".join(f"{v:.1f}" for v in os.getloadavg()) + f" on {os.cpu_count()} cores")
    if bench.failed:
        print(f"hcc-study bench: failed: {', '.join(bench.failed)} (see the notes in {csv_path})", file=sys.stderr)
    return 1 if bench.failed else 0
