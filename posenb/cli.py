"""The ``posenb`` console script.

    posenb demo [--workdir DIR] [--no-serve] [--maxiters N] [--port P]   whole workflow on synthetic data
    posenb dashboard [CONFIG] [--port P] [--ip IP]                      serve the Voila dashboard
    posenb create-training-dataset CONFIG [--num-shuffles N] [--net-type NET]
    posenb train CONFIG [--shuffle K] [--trainingsetindex I] [--maxiters N] [--displayiters N] [--saveiters N]
    posenb evaluate CONFIG [--shuffle K ...] [--plotting]
    posenb analyze CONFIG VIDEO... [--videotype EXT] [--shuffle K] [--save-as-csv] [--destfolder DIR] [--batchsize B]

Heavy modules (torch, the widgets) are imported only by the subcommand that needs them, so ``posenb --help``
is instant. A :class:`posenb.errors.PosenbError` prints its message (no traceback) and exits with status 1;
Ctrl-C during ``train`` saves a snapshot first. Several GPUs: ``torchrun --nproc_per_node=4 -m posenb.cli train
CONFIG`` (DistributedDataParallel; see ``posenb.train.distributed``).
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="posenb", description="Jupyter-native, DeepLabCut-compatible pose estimation.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    d = sub.add_parser("demo", help="run every stage on a synthetic demo project, then serve the dashboard")
    d.add_argument("--workdir", default="posenb-demo", help="folder for the demo project (default: ./posenb-demo)")
    d.add_argument("--no-serve", action="store_true", help="do not start the Voila dashboard at the end")
    d.add_argument("--maxiters", type=int, default=None, help="training iterations of the demo")
    d.add_argument("--port", type=int, default=8866)

    s = sub.add_parser("dashboard", help="serve the posenb dashboard with Voila on 127.0.0.1")
    s.add_argument("config", nargs="?", default=None, help="project config.yaml to open")
    s.add_argument("--port", type=int, default=8866)
    s.add_argument("--ip", default="127.0.0.1")

    c = sub.add_parser("create-training-dataset", help="merge labels, split, write training set and model folders")
    c.add_argument("config")
    c.add_argument("--num-shuffles", type=int, default=1)
    c.add_argument("--net-type", default=None)

    t = sub.add_parser("train", help="train (or resume) a shuffle; Ctrl-C saves a snapshot and stops")
    t.add_argument("config")
    t.add_argument("--shuffle", type=int, default=1)
    t.add_argument("--trainingsetindex", type=int, default=0)
    t.add_argument("--maxiters", type=int, default=None)
    t.add_argument("--displayiters", type=int, default=None)
    t.add_argument("--saveiters", type=int, default=None)
    t.add_argument("--max-snapshots-to-keep", type=int, default=5)

    e = sub.add_parser("evaluate", help="pixel errors on train/test images (evaluation-results/)")
    e.add_argument("config")
    e.add_argument("--shuffle", type=int, nargs="+", default=[1])
    e.add_argument("--trainingsetindex", type=int, default=0)
    e.add_argument("--plotting", action="store_true", help="also draw labeled images")

    a = sub.add_parser("analyze", help="predict key points in videos (<stem><DLCscorer>.h5 next to each video)")
    a.add_argument("config")
    a.add_argument("videos", nargs="+", help="video files and/or folders")
    a.add_argument("--videotype", default="")
    a.add_argument("--shuffle", type=int, default=1)
    a.add_argument("--trainingsetindex", type=int, default=0)
    a.add_argument("--save-as-csv", action="store_true")
    a.add_argument("--destfolder", default=None)
    a.add_argument("--batchsize", type=int, default=None)
    return p


def _run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        # load torch before the demo opens videos with decord (decord2 preloads CUDA's libnvblas globally,
        # which would then shadow torch's CPU BLAS)
        import torch  # noqa: F401, PLC0415

        from posenb.demo.run import run_demo  # noqa: PLC0415

        kwargs = {"workdir": args.workdir}
        if args.maxiters is not None:
            kwargs["maxiters"] = args.maxiters
        results = run_demo(**kwargs)
        if not args.no_serve:
            from posenb.widgets.serve import serve_dashboard  # noqa: PLC0415

            serve_dashboard(results["project"], port=args.port)
    elif args.command == "dashboard":
        from posenb.widgets.serve import serve_dashboard  # noqa: PLC0415

        serve_dashboard(args.config, port=args.port, ip=args.ip)
    elif args.command == "create-training-dataset":
        from posenb.data.trainingset import create_training_dataset  # noqa: PLC0415

        for fraction, shuffle, train, test in create_training_dataset(
            args.config, num_shuffles=args.num_shuffles, net_type=args.net_type
        ):
            print(f"TrainingFraction {fraction} shuffle {shuffle}: {len(train)} train / {len(test)} test images")
    elif args.command == "train":
        from posenb.train.api import train_network  # noqa: PLC0415

        train_dir = train_network(
            args.config,
            shuffle=args.shuffle,
            trainingsetindex=args.trainingsetindex,
            maxiters=args.maxiters,
            displayiters=args.displayiters,
            saveiters=args.saveiters,
            max_snapshots_to_keep=args.max_snapshots_to_keep,
        )
        if os.environ.get("RANK", "0") in ("0", ""):  # under torchrun, rank 0 speaks
            print(f"snapshots in {train_dir}")
    elif args.command == "evaluate":
        from posenb.infer.evaluate import evaluate_network  # noqa: PLC0415

        results = evaluate_network(
            args.config, Shuffles=args.shuffle, trainingsetindex=args.trainingsetindex, plotting=args.plotting
        )
        print(results.to_string())
    elif args.command == "analyze":
        from posenb.infer.analyze import analyze_videos  # noqa: PLC0415

        scorer = analyze_videos(
            args.config,
            args.videos,
            videotype=args.videotype,
            shuffle=args.shuffle,
            trainingsetindex=args.trainingsetindex,
            save_as_csv=args.save_as_csv,
            destfolder=args.destfolder,
            batchsize=args.batchsize,
        )
        print(f"scorer: {scorer}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``posenb`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from posenb import __version__  # noqa: PLC0415

        print(__version__)
        return 0
    if not args.command:
        parser.print_help()
        return 2
    from posenb.errors import PosenbError  # noqa: PLC0415

    try:
        return _run(args)
    except PosenbError as exc:
        print(f"posenb {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"posenb {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
