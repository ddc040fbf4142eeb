"""The ``posenb`` console script: every step of the workflow, in the order of the public API.

    posenb create-project NAME EXPERIMENTER VIDEO...   posenb add-videos CONFIG VIDEO...
    posenb extract CONFIG        posenb label CONFIG           posenb check-labels CONFIG
    posenb create-training-dataset CONFIG   posenb train CONFIG   posenb evaluate CONFIG
    posenb analyze CONFIG VIDEO...   posenb filter / plot / labeled-video / skeleton / outliers CONFIG VIDEO...
    posenb merge CONFIG          posenb import CONFIG FILE     posenb export CONFIG [DEST] [--videos VIDEO...]
    posenb demo [--workdir DIR] [--animals 2]  posenb dashboard [CONFIG]

``posenb COMMAND --help`` lists each option with its default. Heavy modules (torch, the widgets) are imported only
by the subcommand that needs them, so ``posenb --help`` is instant. A :class:`posenb.errors.PosenbError` prints its
message (no traceback) and exits with status 1; Ctrl-C during ``train`` saves a snapshot first. Several GPUs:
``torchrun --nproc_per_node=4 -m posenb.cli train CONFIG`` (DistributedDataParallel; see ``posenb.train.distributed``).
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["main", "build_parser"]

FORMATTER = argparse.ArgumentDefaultsHelpFormatter
FORMAT_CHOICES = ["slp", "nwb", "coco", "lightning_pose", "dlc"]


def _cmd(sub, name: str, help_text: str) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=help_text, description=help_text, formatter_class=FORMATTER)


def _config(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="the project's config.yaml")


def _videos(p: argparse.ArgumentParser, what: str = "analysed videos") -> None:
    _config(p)
    p.add_argument("videos", nargs="+", help=f"{what}: files and/or folders")
    p.add_argument("--videotype", default="", help="video extension to look for in folders ('' = any known)")
    p.add_argument("--shuffle", type=int, default=1, help="shuffle of the model whose results to use")
    p.add_argument("--trainingsetindex", type=int, default=0, help="index into config.yaml's TrainingFraction")
    p.add_argument("--destfolder", default=None, help="folder of the results (None: next to each video)")


def _filtered(p: argparse.ArgumentParser) -> None:
    p.add_argument("--filtered", action="store_true", help="use the _filtered results of 'posenb filter'")


def _project_commands(sub) -> None:
    c = _cmd(sub, "create-project", "create a DeepLabCut-compatible project (prints its config.yaml)")
    c.add_argument("project", help="project name (Task): letters, digits, _ or -")
    c.add_argument("experimenter", help="labeller name (scorer): letters, digits, _ or -")
    c.add_argument("videos", nargs="+", help="video files and/or folders")
    c.add_argument("--working-directory", default=None, help="where the project folder is made (None: here)")
    c.add_argument("--copy-videos", action="store_true", help="copy the videos instead of linking them")
    c.add_argument("--videotype", default="", help="video extension to look for in folders ('' = any known)")
    c.add_argument("--bodyparts", nargs="+", default=None, help="body part names (None: DeepLabCut's placeholders)")
    c.add_argument("--multianimal", action="store_true", help="a multi-animal project (several animals per frame)")
    c.add_argument("--individuals", nargs="+", default=None, help="animal names (None: individual1..3)")
    c.add_argument("--uniquebodyparts", nargs="+", default=None, help="multi-animal: scene points, once per frame")

    a = _cmd(sub, "add-videos", "add videos to a project (links or copies, video_sets, label folders)")
    _config(a)
    a.add_argument("videos", nargs="+", help="video files and/or folders")
    a.add_argument("--copy-videos", action="store_true", help="copy the videos instead of linking them")
    a.add_argument("--videotype", default="", help="video extension to look for in folders ('' = any known)")
    a.add_argument("--extract-frames", action="store_true", help="also extract frames of the added videos")

    e = _cmd(sub, "extract", "extract frames to label (numframes2pick per video, labeled-data/<video>/img*.png)")
    _config(e)
    e.add_argument("--algo", choices=["kmeans", "uniform"], default="kmeans", help="how frames are chosen")
    e.add_argument("--crop", action="store_true", help="save only each video's video_sets crop box")
    e.add_argument("--videos", nargs="+", default=None, help="only these videos of video_sets (None: all)")
    e.add_argument("--cluster-step", type=int, default=1, help="k-means: use every n-th frame")
    e.add_argument("--seed", type=int, default=None, help="random seed (None: a fresh one)")

    lab = _cmd(sub, "label", "how to open the labeler (it runs in Jupyter or the dashboard)")
    _config(lab)
    k = _cmd(sub, "check-labels", "draw the labels on each frame (labeled-data/<video>_labeled/)")
    _config(k)
    k.add_argument("--no-skeleton", action="store_true", help="do not draw the skeleton")
    m = _cmd(sub, "merge", "after refining outlier frames: next iteration (config.yaml 'iteration' + 1)")
    _config(m)
    m.add_argument("--forceiterate", type=int, default=None, help="set this iteration instead of + 1")


def _training_commands(sub) -> None:
    c = _cmd(sub, "create-training-dataset", "merge labels, split, write training set and model folders")
    _config(c)
    c.add_argument("--num-shuffles", type=int, default=1, help="number of shuffles (random splits) to make")
    c.add_argument("--net-type", default=None, help="network (None: the project's default, see posenb.yaml)")

    t = _cmd(sub, "train", "train (or resume) a shuffle; Ctrl-C saves a snapshot and stops")
    _config(t)
    t.add_argument("--shuffle", type=int, default=1, help="shuffle to train")
    t.add_argument("--trainingsetindex", type=int, default=0, help="index into config.yaml's TrainingFraction")
    t.add_argument("--maxiters", type=int, default=None, help="iterations to train (None: the recipe's)")
    t.add_argument("--displayiters", type=int, default=None, help="print the loss every n iterations")
    t.add_argument("--saveiters", type=int, default=None, help="save a snapshot every n iterations")
    t.add_argument("--max-snapshots-to-keep", type=int, default=5, help="older snapshots are deleted")

    e = _cmd(sub, "evaluate", "pixel errors on train/test images (evaluation-results/)")
    _config(e)
    e.add_argument("--shuffle", type=int, nargs="+", default=[1], help="shuffles to evaluate")
    e.add_argument("--trainingsetindex", type=int, default=0, help="index into config.yaml's TrainingFraction")
    e.add_argument("--plotting", action="store_true", help="also draw labeled images")
    _test_scales(e)

    a = _cmd(sub, "analyze", "predict key points in videos (<stem><DLCscorer>.h5 next to each video)")
    _videos(a, "videos to analyse")
    a.add_argument("--save-as-csv", action="store_true", help="also write the results as .csv")
    a.add_argument("--batchsize", type=int, default=None, help="frames per batch (None: config.yaml's batch_size)")
    a.add_argument(
        "--precision",
        choices=["float32", "bfloat16"],
        default="float32",
        help="bfloat16: about 2x faster on CPUs with AMX / AVX512-BF16, key points ~0.15 px from float32's "
        "(float32 with a warning where it would not pay); recorded in _meta.pickle",
    )
    a.add_argument(
        "--whole-frames",
        action="store_true",
        help="analyse every frame whole (default: a single small animal is followed in a window, the same key "
        "points to ~0.05 px median at a fraction of the cost; DeepLabCut's dynamic=(False, 0.5, 10))",
    )
    _test_scales(a)


def _test_scales(parser) -> None:
    parser.add_argument(
        "--test-scales",
        type=float,
        nargs="+",
        default=None,
        metavar="SCALE",
        help="input scales relative to global_scale whose key points are averaged, e.g. 1.1 1.25 (more accurate, "
        "one pass per scale); 1: one pass; default: train/pose_cfg.yaml's test_scales (null: one pass)",
    )


def _post_commands(sub) -> None:
    f = _cmd(sub, "filter", "filter predictions (<stem><scorer>_filtered.h5)")
    _videos(f)
    f.add_argument("--filtertype", choices=["median", "arima", "spline"], default="median", help="filter")
    f.add_argument("--windowlength", type=int, default=5, help="median/spline window, frames")
    f.add_argument("--p-bound", type=float, default=0.001, help="points below this likelihood are gaps")
    f.add_argument("--no-csv", action="store_true", help="do not also write a .csv")

    p = _cmd(sub, "plot", "trajectory plots (plot-poses/<video>/)")
    _videos(p)
    _filtered(p)
    p.add_argument("--bodyparts", nargs="+", default=["all"], help="body parts to show")

    v = _cmd(sub, "labeled-video", "videos with the predicted points drawn (<stem><scorer>_labeled.mp4)")
    _videos(v)
    _filtered(v)
    v.add_argument("--draw-skeleton", action="store_true", help="draw config.yaml's skeleton")
    v.add_argument("--trailpoints", type=int, default=0, help="draw each point's last n positions")
    v.add_argument("--pcutoff", type=float, default=None, help="hide points below this likelihood (None: config)")
    v.add_argument("--overwrite", action="store_true", help="replace an existing labeled video")

    s = _cmd(sub, "skeleton", "bone lengths and orientations per frame (<stem><scorer>_skeleton.h5)")
    _videos(s)
    _filtered(s)
    s.add_argument("--save-as-csv", action="store_true", help="also write the results as .csv")

    o = _cmd(sub, "outliers", "extract outlier frames to refine (labeled-data/<video>/, machine labels)")
    _videos(o)
    o.add_argument("--outlieralgorithm", choices=["jump", "uncertain", "fitting"], default="jump",
                   help="how outliers are found (the manual way is the dashboard's trajectory viewer)")
    o.add_argument("--epsilon", type=float, default=20, help="jump: pixel distance that counts as a jump")
    o.add_argument("--p-bound", type=float, default=0.01, help="uncertain: likelihood below which a point is unsure")
    o.add_argument("--extractionalgorithm", choices=["kmeans", "uniform"], default="kmeans",
                   help="how frames are chosen among the outliers")


def _formats_commands(sub) -> None:
    i = _cmd(sub, "import", "import labels of SLEAP, NWB, COCO, Lightning Pose or another DeepLabCut project")
    _config(i)
    i.add_argument("path", help=".slp, .nwb, COCO .json, Lightning Pose .csv, or CollectedData_*.h5 / config.yaml")
    i.add_argument("--format", choices=FORMAT_CHOICES, default=None, help="file format (None: from the name)")
    i.add_argument("--predictions", action="store_true", help="SLEAP: also take predicted instances")
    i.add_argument("--stem", default=None, help="labeled-data folder name (None: the video's or images' folder)")
    i.add_argument("--overwrite", action="store_true", help="replace labels of frames labeled differently")

    x = _cmd(sub, "export", "export the labels, or with --videos the predictions, for SLEAP, NWB, COCO or Lightning Pose")
    _config(x)
    x.add_argument("dest", nargs="?", default=None, help="file or folder to write (labels; predictions: a folder)")
    x.add_argument("--format", choices=FORMAT_CHOICES, default=None, help="file format (None: from DEST's name)")
    x.add_argument("--videos", nargs="+", default=None, help="export the predictions of these videos instead")
    x.add_argument("--videotype", default="", help="video extension to look for in folders ('' = any known)")
    x.add_argument("--embed", action="store_true", help=".slp: store the frames inside the file")
    _filtered(x)


def _app_commands(sub) -> None:
    d = _cmd(sub, "demo", "run every stage on a synthetic demo project, then serve the dashboard")
    d.add_argument("--workdir", default="posenb-demo", help="folder for the demo project")
    d.add_argument("--no-serve", action="store_true", help="do not start the Voila dashboard at the end")
    d.add_argument("--maxiters", type=int, default=None, help="training iterations of the demo (None: the demo's)")
    d.add_argument("--port", type=int, default=8866, help="port of the dashboard")
    d.add_argument("--animals", type=int, default=1, help="animals per frame (2+: make the multi-animal demo project)")
    d.add_argument("--unique", action="store_true", help="multi-animal demo: add a unique body part (a food pellet)")
    d.add_argument("--no-train", action="store_true", help="multi-animal demo: only make the project (no workflow run)")

    s = _cmd(sub, "dashboard", "serve the posenb dashboard with Voila on 127.0.0.1")
    s.add_argument("config", nargs="?", default=None, help="project config.yaml to open")
    s.add_argument("--port", type=int, default=8866, help="port to serve on")
    s.add_argument("--ip", default="127.0.0.1", help="address to serve on")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="posenb", description="Jupyter-native, DeepLabCut-compatible pose estimation.", formatter_class=FORMATTER
    )
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    _project_commands(sub)
    _training_commands(sub)
    _post_commands(sub)
    _formats_commands(sub)
    _app_commands(sub)
    return p


def _common(args) -> dict:
    return {"videotype": args.videotype, "shuffle": args.shuffle, "trainingsetindex": args.trainingsetindex,
            "destfolder": args.destfolder}


def _run_project(args) -> None:
    import posenb

    if args.command == "create-project":
        config = posenb.create_new_project(
            args.project, args.experimenter, args.videos, working_directory=args.working_directory,
            copy_videos=args.copy_videos, videotype=args.videotype, bodyparts=args.bodyparts,
            multianimal=args.multianimal, individuals=args.individuals, uniquebodyparts=args.uniquebodyparts,
        )
        print(config)
    elif args.command == "add-videos":
        added = posenb.add_new_videos(args.config, args.videos, copy_videos=args.copy_videos,
                                      extract_frames=args.extract_frames, videotype=args.videotype)
        print(f"{len(added)} video(s) added")
    elif args.command == "extract":
        posenb.extract_frames(args.config, algo=args.algo, crop=args.crop, userfeedback=False,
                              cluster_step=args.cluster_step, videos_list=args.videos, seed=args.seed)
    elif args.command == "label":
        print(
            "Labeling is interactive. In Jupyter:\n"
            f"    import posenb; posenb.label_frames({args.config!r})\n"
            f"or in the dashboard (Label tab):\n    posenb dashboard {args.config}"
        )
    elif args.command == "check-labels":
        posenb.check_labels(args.config, draw_skeleton=not args.no_skeleton)
    elif args.command == "merge":
        print(f"iteration {posenb.merge_datasets(args.config, forceiterate=args.forceiterate)}")


def _run_training(args) -> None:
    if args.command == "create-training-dataset":
        from posenb.data.trainingset import create_training_dataset

        for fraction, shuffle, train, test in create_training_dataset(
            args.config, num_shuffles=args.num_shuffles, net_type=args.net_type
        ):
            print(f"TrainingFraction {fraction} shuffle {shuffle}: {len(train)} train / {len(test)} test images")
    elif args.command == "train":
        from posenb.train.api import train_network

        train_dir = train_network(
            args.config, shuffle=args.shuffle, trainingsetindex=args.trainingsetindex, maxiters=args.maxiters,
            displayiters=args.displayiters, saveiters=args.saveiters, max_snapshots_to_keep=args.max_snapshots_to_keep,
        )
        if os.environ.get("RANK", "0") in ("0", ""):  # under torchrun, rank 0 speaks
            print(f"snapshots in {train_dir}")
    elif args.command == "evaluate":
        from posenb.infer.evaluate import evaluate_network

        results = evaluate_network(
            args.config, Shuffles=args.shuffle, trainingsetindex=args.trainingsetindex, plotting=args.plotting,
            test_scales=args.test_scales,
        )  # fmt: skip
        print(results.to_string())
    elif args.command == "analyze":
        from posenb.infer.analyze import analyze_videos

        scorer = analyze_videos(
            args.config,
            args.videos,
            save_as_csv=args.save_as_csv,
            batchsize=args.batchsize,
            precision=args.precision,
            test_scales=args.test_scales,
            dynamic=(False, 0.5, 10) if args.whole_frames else "auto",
            **_common(args),
        )
        print(f"scorer: {scorer}")


def _run_post(args) -> None:
    import posenb

    kw = _common(args)
    if args.command == "filter":
        posenb.filterpredictions(args.config, args.videos, filtertype=args.filtertype, windowlength=args.windowlength,
                                 p_bound=args.p_bound, save_as_csv=not args.no_csv, **kw)
    elif args.command == "plot":
        posenb.plot_trajectories(args.config, args.videos, filtered=args.filtered,
                                 displayedbodyparts=args.bodyparts[0] if args.bodyparts == ["all"] else args.bodyparts,
                                 **kw)
    elif args.command == "labeled-video":
        posenb.create_labeled_video(args.config, args.videos, filtered=args.filtered, draw_skeleton=args.draw_skeleton,
                                    trailpoints=args.trailpoints, pcutoff=args.pcutoff, overwrite=args.overwrite, **kw)
    elif args.command == "skeleton":
        posenb.analyzeskeleton(args.config, args.videos, filtered=args.filtered, save_as_csv=args.save_as_csv, **kw)
    elif args.command == "outliers":
        posenb.extract_outlier_frames(args.config, args.videos, outlieralgorithm=args.outlieralgorithm,
                                      epsilon=args.epsilon, p_bound=args.p_bound,
                                      extractionalgorithm=args.extractionalgorithm, automatic=True, **kw)


def _run_formats(args) -> None:
    from posenb.errors import ConfigError
    from posenb.formats import api

    if args.command == "import":
        report = api.import_labels(args.config, args.path, format=args.format, predictions=args.predictions,
                                   stem=args.stem, overwrite=args.overwrite)
        print(report)
    elif args.videos:
        files = api.export_predictions(args.config, args.videos, format=args.format or "nwb", outfolder=args.dest,
                                       videotype=args.videotype, filtered=args.filtered)
        print("\n".join(map(str, files)))
    else:
        if not args.dest:
            raise ConfigError("posenb export: give DEST (a file or folder) for the labels, or --videos for predictions.")
        options = {"embed": True} if args.embed else {}
        print("\n".join(map(str, api.export_labels(args.config, args.dest, format=args.format, **options))))


def _run_app(args) -> None:
    if args.command == "demo" and (args.animals != 1 or args.unique):
        from posenb.demo.project import make_demo_project
        from posenb.demo.project_ma import describe_ma_demo

        if args.no_train:
            config = make_demo_project(args.workdir, animals=args.animals, unique=args.unique)
            print(describe_ma_demo(config))
        else:
            import torch  # noqa: F401  (before decord; see the single-animal branch)

            from posenb.demo.run_ma import run_ma_demo

            kwargs = {"maxiters": args.maxiters} if args.maxiters is not None else {}
            results = run_ma_demo(args.workdir, animals=args.animals, unique=args.unique, **kwargs)
            config = results["project"]
        if not args.no_serve:
            from posenb.widgets.serve import serve_dashboard

            serve_dashboard(config, port=args.port)
    elif args.command == "demo":
        # load torch before the demo opens videos with decord (decord2 preloads CUDA's libnvblas globally,
        # which would then shadow torch's CPU BLAS)
        import torch  # noqa: F401

        from posenb.demo.run import run_demo

        kwargs = {"workdir": args.workdir}
        if args.maxiters is not None:
            kwargs["maxiters"] = args.maxiters
        results = run_demo(**kwargs)
        if not args.no_serve:
            from posenb.widgets.serve import serve_dashboard

            serve_dashboard(results["project"], port=args.port)
    elif args.command == "dashboard":
        from posenb.widgets.serve import serve_dashboard

        serve_dashboard(args.config, port=args.port, ip=args.ip)


_GROUPS = {
    _run_project: ("create-project", "add-videos", "extract", "label", "check-labels", "merge"),
    _run_training: ("create-training-dataset", "train", "evaluate", "analyze"),
    _run_post: ("filter", "plot", "labeled-video", "skeleton", "outliers"),
    _run_formats: ("import", "export"),
    _run_app: ("demo", "dashboard"),
}


def _run(args: argparse.Namespace) -> int:
    for runner, commands in _GROUPS.items():
        if args.command in commands:
            runner(args)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``posenb`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from posenb import __version__

        print(__version__)
        return 0
    if not args.command:
        parser.print_help()
        return 2
    from posenb.errors import PosenbError

    try:
        return _run(args)
    except PosenbError as exc:
        print(f"posenb {args.command}: {exc}", file=sys.stderr)
        return 1
    except ImportError as exc:
        if "pip install" not in str(exc):
            raise
        print(f"posenb {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"posenb {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
