"""Ingest throughput of the plain engine and of the Dask engine with 1 and 2 local workers.

    python bench/engine.py [--shared ../shared] [--limit 5000] [--analysis full] [--postgres URL]
                           [--corpus saudinewsnet|synthetic] [--source /tmp/tabayyun-bench/snn31k.db]
                           [--engines plain,dask] [--embed]

On the first --limit SaudiNewsNet articles (one JSONL file, built by bench/search.py's reader), or on
--limit synthetic articles recombined from them (`--corpus synthetic`: bench/scale_corpus.py, the
issue's 100k slice with --limit 100000; it needs the workspace bench/serve_search.py builds), each
run into a fresh SQLite workspace (the Dask engine through Parquet shards), with lead embeddings off
unless --embed (the whole per-document pipeline of `tabayyun ingest`, about four times the CPU):
prints engine, workers, documents stored, seconds, documents per second and the ratio to the same
engine with 1 worker. The Dask local cluster is started before the clock starts (its start-up, a few
seconds, is printed apart). With --postgres, the Dask runs also go straight into fresh schemas of
that database. The goal on 2 cores: 2 Dask workers >= 1.6x 1 worker.

On a shared machine the wall-clock ratio says more about the neighbours than about the engine, so the
CPU seconds of the driver (this process) and of the workers are measured too, and the last columns
give the throughput they imply on 2 idle cores (see `Run.idle_estimate`): an estimate, not a timing.
`ms/doc` is the driver's CPU per stored document (storing, duplicates, stories, and the Dask
scheduler): the serial part, which no number of workers makes cheaper. When the workers take every
core, they run at idle priority, one per core (`engine.driver.settle_local_workers`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from scale import schema_address  # noqa: E402
from scale_corpus import Source, write_jsonl  # noqa: E402
from search import saudinewsnet_sample  # noqa: E402 - bench/search.py's reader of the corpus
from serve_search import DEFAULT_DB, workspace_size  # noqa: E402

from tabayyun.engine.driver import dask_client, dask_ingest  # noqa: E402
from tabayyun.ingest import ingest  # noqa: E402
from tabayyun.pipeline import ANALYSIS_LEVELS  # noqa: E402
from tabayyun.store import open_storage  # noqa: E402


@dataclass
class Run:
    engine: str
    workers: int
    docs: int
    seconds: float
    driver_cpu: float       # CPU seconds of this process (the Dask scheduler runs in it too)
    worker_cpu: float | None  # CPU seconds of the worker processes (None: not measurable)
    bytes_per_doc: float | None = None  # the SQLite workspace's size per stored document

    def idle_estimate(self, cores: int = 2) -> float | None:
        """Documents per second on `cores` idle cores, from the CPU seconds measured: the work of the
        workers spread over them, the driver's alongside, the whole no faster than the cores allow."""
        if self.worker_cpu is None:
            return None
        wall = max(self.worker_cpu / self.workers, self.driver_cpu, (self.worker_cpu + self.driver_cpu) / cores)
        return self.docs / wall


def _process_cpu() -> float:
    import psutil

    times = psutil.Process().cpu_times()
    return times.user + times.system


def timed(engine: str, workers: int, target: str, run, client=None) -> Run:
    """Run `run(storage)` into `target`; the workers' CPU time comes from the Dask workers (`client`).
    The plain engine's pool processes are killed at the end, which loses their CPU accounting: with
    1 worker it analyses in this process (all its CPU is the driver's), with 2 it is not measured."""
    storage = open_storage(target)
    driver = time.process_time()
    worker_cpu = sum(client.run(_process_cpu).values()) if client else 0.0
    started = time.perf_counter()
    report = run(storage)
    seconds = time.perf_counter() - started
    driver = time.process_time() - driver
    if client:
        worker_cpu = sum(client.run(_process_cpu).values()) - worker_cpu
    else:
        worker_cpu = 0.0 if workers == 1 else None
    storage.close()
    if report.exit_code:
        print(f"note: {report.failed} items and {len(report.failed_partitions)} partitions failed", file=sys.stderr)
    size = None if "://" in target else workspace_size(Path(target)) / max(1, report.stored)
    return Run(engine, workers, report.stored, seconds, driver, worker_cpu, size)


def postgres_schema(url: str) -> str:
    import psycopg

    name = f"tabayyun_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    return schema_address(url, name)


def drop_schema(url: str, address: str) -> None:
    import psycopg

    name = address.rsplit("search_path%3D", 1)[1]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def bench(corpus: Path, folder: Path, args) -> list[Run]:
    stages = ANALYSIS_LEVELS[args.analysis]
    runs = []
    for workers in (1, 2) if "plain" in args.engines else ():
        # workers=1 analyses in this process: its CPU is the driver's, none is the workers'.
        runs.append(timed("plain", workers, str(folder / f"plain{workers}.db"), lambda s: ingest(
            s, [str(corpus)], workers=workers, stages=stages, embed=args.embed)))
    if "dask" not in args.engines:
        return runs
    targets = [("dask (shards -> SQLite)", lambda n: str(folder / f"dask{n}.db"))]
    if args.postgres:
        targets.append(("dask (-> PostgreSQL)", lambda n: postgres_schema(args.postgres)))
    for workers in (1, 2):
        started = time.perf_counter()
        with dask_client(workers=workers) as client:
            print(f"local cluster of {workers} workers started in {time.perf_counter() - started:.1f} s",
                  file=sys.stderr)
            for name, target in targets:
                address = target(workers)
                runs.append(timed(name, workers, address, lambda s: dask_ingest(
                    s, [str(corpus)], client=client, stages=stages, embed=args.embed), client))
                if "://" in address:
                    drop_schema(args.postgres, address)
    return runs


def print_table(runs: list[Run]) -> None:
    single = {run.engine: run for run in runs if run.workers == 1}
    print(f"{'engine':<25}{'workers':>8}{'docs':>6}{'seconds':>9}{'docs/s':>8}{'ratio':>7}"
          f"{'cpu driver':>12}{'ms/doc':>8}{'cpu workers':>13}{'idle 2-core docs/s':>20}{'ratio':>7}{'KiB/doc':>9}")
    for run in runs:
        rate, base = run.docs / run.seconds, single[run.engine]
        estimate = run.idle_estimate()
        # The driver's CPU per document is the serial part: it caps the throughput of any number of workers.
        cpu = (f"{run.driver_cpu:>12.1f}{1000 * run.driver_cpu / max(1, run.docs):>8.1f}{run.worker_cpu:>13.1f}"
               f"{estimate:>20.1f}{estimate / base.idle_estimate():>7.2f}"
               if estimate is not None else f"{'-':>12}{'-':>8}{'-':>13}{'-':>20}{'-':>7}")
        size = f"{run.bytes_per_doc / 1024:>9.1f}" if run.bytes_per_doc else f"{'-':>9}"
        print(f"{run.engine:<25}{run.workers:>8}{run.docs:>6}{run.seconds:>9.1f}{rate:>8.1f}"
              f"{rate / (base.docs / base.seconds):>7.2f}{cpu}{size}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    parser.add_argument("--limit", type=int, default=5000)
    parser.add_argument("--analysis", choices=sorted(ANALYSIS_LEVELS), default="full")
    parser.add_argument("--postgres", help="a postgresql:// database to also run the Dask engine into")
    parser.add_argument("--corpus", choices=("saudinewsnet", "synthetic"), default="saudinewsnet")
    parser.add_argument("--source", type=Path, default=DEFAULT_DB, help="real articles recombined (--corpus synthetic)")
    parser.add_argument("--engines", type=lambda text: set(text.split(",")), default={"plain", "dask"},
                        help="the engines to run, comma-separated (plain,dask)")
    parser.add_argument("--embed", action="store_true", help="embed each new document's lead, as ingest does")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.corpus == "synthetic":
            if not args.source.exists():
                print(f"{args.source} not found: build it with `python bench/serve_search.py`", file=sys.stderr)
                return 1
            corpus = write_jsonl(Source.read(args.source), folder / "synthetic", args.limit)
        else:
            corpus = saudinewsnet_sample(args.shared, args.limit, folder)
        if corpus is None:
            print(f"no SaudiNewsNet corpus under {args.shared}/data/saudinewsnet", file=sys.stderr)
            return 1
        print(f"{args.limit} {args.corpus} articles, analysis {args.analysis}, embeddings {'on' if args.embed else 'off'}",
              file=sys.stderr)
        print_table(bench(corpus, folder, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
