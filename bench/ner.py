"""NER on development folds of ANERcorp's training part, with and without the word clusters.

    python bench/ner.py [--shared ../shared] [--folds A B] [--iterations 300] [--vectors FILE]

The held-out last 10% of train.txt is kept for the model card's one score; feature choices are made
here, on two folds of the other 90%: A trains on sentences 0-79% and tests on 79-90%, B trains on
11-90% and tests on 0-11%. Each fold is trained twice in the same run, with the shipped word clusters
and without any (the reference), in separate processes (two at a time), and the table gives
exact-span precision, recall and F1 and the difference. About 3 minutes on 2 cores.

With --vectors (`tabayyun train clusters --vectors FILE`; torch needed), each fold is also trained
with the network layer over the tagger (`network`), about 15 minutes more per fold.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

FOLDS = {"A": ((0.0, 0.79), (0.79, 0.90)), "B": ((0.11, 0.90), (0.0, 0.11))}


def run_fold(data: Path, fold: str, setting: str, iterations: int, vectors: Path | None = None) -> dict:
    """Train on the fold's training part and score its test part (in this process). `setting`: off
    (no clusters), on (clusters), network (clusters and the network layer)."""
    import tempfile

    from tabayyun.train import ner as training
    from tabayyun.understand import ner_features
    from tabayyun.understand.ner import load_model, save_model
    from tabayyun.understand.wordclusters import EMPTY

    if setting == "off":
        ner_features.shipped_clusters = lambda: EMPTY
    sentences = training.read_conll(data)
    n = len(sentences)
    (a, b), (c, d) = FOLDS[fold]
    train = sentences[int(n * a):int(n * b)]
    test = sentences[int(n * c):int(n * d)]

    def fit(part):
        return training.fit_model(part, iterations)

    if setting == "network":
        from tabayyun.train.ner_network import train_network

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.json.gz"
            save_model(training.fit_weights(train, iterations), path, {"o_penalty": training.O_PENALTY})
            train_network(train, path, vectors, training.DOC_WINDOW, fit)
            model = load_model.__wrapped__(path)
    else:
        model = fit(train)
    predicted = model.tag_document([[t for t, _ in s] for s in test], window=training.DOC_WINDOW)
    return training.span_scores(test, predicted)["overall"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    parser.add_argument("--folds", nargs="+", choices=sorted(FOLDS), default=sorted(FOLDS))
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--vectors", type=Path, help="word vectors: also train the network layer (torch)")
    parser.add_argument("--one", nargs=2, metavar=("FOLD", "SETTING"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    data = args.shared / "data" / "anercorp" / "train.txt"
    if not data.exists():
        print(f"ANERcorp not found at {data}", file=sys.stderr)
        return 1
    if args.one:
        print(json.dumps(run_fold(data, args.one[0], args.one[1], args.iterations, args.vectors)))
        return 0

    def child(job: tuple[str, str]) -> dict:
        command = [sys.executable, __file__, "--shared", str(args.shared), "--iterations", str(args.iterations),
                   *(["--vectors", str(args.vectors)] if args.vectors else []), "--one", *job]
        return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)

    settings = ("off", "on", "network") if args.vectors else ("off", "on")
    jobs = [(fold, setting) for fold in args.folds for setting in settings]
    with ThreadPoolExecutor(2) as pool:
        results = dict(zip(jobs, pool.map(child, jobs)))
    print(f"{'fold':<5} {'setting':<9} {'P':>6} {'R':>6} {'F1':>6} {'vs off':>7}")
    for fold, setting in jobs:
        r, ref = results[(fold, setting)], results[(fold, "off")]
        print(f"{fold:<5} {setting:<9} {r['precision']:>6.3f} {r['recall']:>6.3f} {r['f1']:>6.3f} "
              f"{r['f1'] - ref['f1']:>+7.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
