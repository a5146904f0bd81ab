"""`fleetrl reward ...`: train and evaluate success classifiers for learned rewards.

    fleetrl reward train runs/x/buffer demos/cube.npz --camera scene --out success.pt [--epochs 10]
    fleetrl reward eval success.pt runs/y/buffer

DATA are buffer folders or .npz demonstration files; each step's resulting frame is labelled by
its "success" field (or, with --label-from-reward, by reward > 0 where there is none). train
holds out a share of whole episodes (--held-out), prints the held-out accuracy, precision and
recall, and writes the model and a PNG of held-out frames with their p(success) next to it
(success.png). A run config uses the model as `rewards: [{type: classifier, path: success.pt}]`.
A missing path, missing labels or camera, or a file that is not a model exit 2; with --json,
stdout holds one JSON object and nothing else (progress goes to stderr).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path

from fleetrl.core.arguments import positive_int
from fleetrl.core.errors import ConfigError, FleetrlError


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {value}")
    return value


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "reward", help="train or evaluate a success classifier (a learned reward)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    train = actions.add_parser("train", help="train a success classifier on labelled frames",
                               description="Train a success classifier on labelled frames of buffers or demo files.")
    train.add_argument("data", type=Path, nargs="+", metavar="DATA", help="buffer folders or .npz demonstration files")
    train.add_argument("--camera", action="append", required=True,
                       help="camera to read (repeat for several: --camera scene --camera wrist)")
    train.add_argument("--out", type=Path, required=True, help="model file to write (.pt); the PNG goes beside it")
    train.add_argument("--epochs", type=positive_int, default=10, help="passes over the training frames (default 10)")
    train.add_argument("--held-out", type=_fraction, default=0.2, help="share of episodes held out (default 0.2)")
    train.add_argument("--seed", type=int, default=0, help="seed of the split, the weights and the batches")
    train.add_argument("--batch-size", type=positive_int, default=64, help="frames per gradient step (default 64)")
    train.add_argument("--label-from-reward", action="store_true",
                       help="label frames by reward > 0 where the data has no 'success' field")
    train.add_argument("--threads", type=positive_int, default=1,
                       help="torch threads (default 1, like the learner: this small CNN gains little from more, "
                            "and threads that wait on each other on a busy machine cost many times that)")
    train.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    train.set_defaults(func=_user_errors(run_train))

    evaluate = actions.add_parser("eval", help="accuracy of a success classifier on other data",
                                  description="Accuracy, precision and recall of a success classifier on labelled frames.")
    evaluate.add_argument("model", type=Path, metavar="MODEL", help="model file written by `fleetrl reward train`")
    evaluate.add_argument("data", type=Path, nargs="+", metavar="DATA", help="buffer folders or .npz demonstration files")
    evaluate.add_argument("--label-from-reward", action="store_true",
                          help="label frames by reward > 0 where the data has no 'success' field")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    evaluate.set_defaults(func=_user_errors(run_eval))


def _user_errors(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Bad inputs (missing paths, unlabelled data, a file that is not a model) are usage errors."""

    @functools.wraps(func)
    def run(args: argparse.Namespace) -> int:
        from fleetrl.rewards.classifier import ClassifierFileError
        from fleetrl.rewards.train_classifier import LabelError

        try:
            return func(args)
        except (FileNotFoundError, LabelError, ClassifierFileError) as err:
            raise ConfigError(str(err)) from None
        except FleetrlError:
            raise
        except (ValueError, OSError) as err:
            raise FleetrlError(str(err)) from None

    return run


def _print(result: dict, title: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(title), show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in result.items():
        if isinstance(value, float):
            shown = f"{value:.4f}"
        else:
            shown = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
        table.add_row(escape(key), escape(shown))
    Console(width=None if sys.stdout.isatty() else 160).print(table)


def run_train(args: argparse.Namespace) -> int:
    import torch
    from rich.console import Console

    from fleetrl.rewards.train_classifier import load_labelled_frames, train_classifier

    torch.set_num_threads(args.threads)
    console = Console(stderr=True)
    with console.status(f"reading frames of {', '.join(map(str, args.data))}"):
        data = load_labelled_frames(args.data, args.camera, label_from_reward=args.label_from_reward)
    result = train_classifier(data, args.out, epochs=args.epochs, held_out=args.held_out, seed=args.seed,
                              batch_size=args.batch_size, sheet=args.out.with_suffix(".png"), console=console)
    _print(result, f"success classifier {args.out} (held-out episodes)", args.json)
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from fleetrl.rewards.classifier import SuccessClassifier
    from fleetrl.rewards.train_classifier import evaluate, load_labelled_frames

    model = SuccessClassifier.load(args.model)
    data = load_labelled_frames(args.data, list(model.config.cameras), label_from_reward=args.label_from_reward)
    try:
        model.check_frames(data.frames, batched=True)
    except ValueError as err:
        raise ConfigError(f"{args.model}: {err}") from None
    scores = evaluate(model, data)
    result = {"model": str(args.model), "data": [str(p) for p in args.data], "cameras": list(model.config.cameras),
              **scores, "episodes": int(len(set(data.episodes.tolist())))}
    _print(result, f"success classifier {args.model} on {len(data)} frames", args.json)
    return 0
