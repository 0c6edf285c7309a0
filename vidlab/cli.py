"""The `vidlab` command: one entry point for the lab, the data, the course and a health check."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from vidlab import course


class UsageError(Exception):
    """A problem the user can fix; printed as one line, never as a traceback."""


def _root(args: argparse.Namespace) -> Path:
    root = Path(args.course).resolve() if getattr(args, "course", None) else course.project_root()
    if not (root / "solutions").is_dir() or not (root / "grading" / "nbgrader_config.py").is_file():
        raise UsageError(f"{root} is not a VID Lab course folder (no solutions/ or grading/nbgrader_config.py)")
    return root


def _generate(profile: str, force: bool = False, seed: int | None = None, root: Path | None = None,
              series: int | None = None, workers: int | None = None) -> Path:
    import synthetic_data

    try:
        return synthetic_data.generate(profile, root=root, seed=seed, force=force, series=series, workers=workers)
    except (ValueError, synthetic_data.OutputNotWritableError, synthetic_data.NotEnoughDiskError) as error:
        raise UsageError(str(error)) from None
    except KeyboardInterrupt:
        raise UsageError("generation interrupted: nothing half-written was kept; run the command again") from None


def _build(root: Path, names: list[str] | None = None) -> list[Path]:
    from vidlab import grading

    try:
        return grading.build_exercises(root, names)
    except grading.GradingError as error:
        raise UsageError(str(error)) from None


def cmd_data_generate(args: argparse.Namespace) -> int:
    folder = _generate(args.profile, force=args.force, seed=args.seed, root=args.out, series=args.series,
                       workers=args.workers)
    print(f"data for profile {args.profile!r} is in {folder}")
    return 0


def cmd_data_describe(args: argparse.Namespace) -> int:
    import pandas as pd
    import synthetic_data

    folder = args.out / args.profile if args.out else course.data_dir(args.profile)
    if not (folder / "generation.json").is_file():
        raise UsageError(f"no generated data for profile {args.profile!r} in {folder}")
    with pd.option_context("display.max_rows", None, "display.width", 120):
        print(synthetic_data.describe(folder).to_string(index=False))
    if args.sheet:
        print(f"contact sheet written to {synthetic_data.contact_sheet(folder, args.sheet)}")
    return 0


def cmd_lab(args: argparse.Namespace) -> int:
    from vidlab import lab

    root = _root(args)
    lab.prepare(root)
    if not args.no_data:
        _generate(args.profile)
    _build(root)
    return lab.start(root, args.port)


def cmd_course_build(args: argparse.Namespace) -> int:
    root = _root(args)
    for folder in _build(root, args.assignment or None):
        print(f"built {folder.relative_to(root)}")
    return 0


def cmd_course_check(args: argparse.Namespace) -> int:
    from vidlab import grading

    root = _root(args)
    os.environ["VIDLAB_PROFILE"] = args.profile
    course.data_dir(args.profile)  # fail early, with the clear message, if the data is missing
    try:
        report = grading.round_trip(root, args.assignment or None)
    except grading.GradingError as error:
        raise UsageError(str(error)) from None
    for s in report.scores:
        print(f"{s.assignment:45} {s.student:20} {s.score:g}/{s.max_score:g}")
    for problem in report.problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    print("round trip OK" if report.ok else f"round trip FAILED ({len(report.problems)} problems)")
    return 0 if report.ok else 1


def cmd_doctor(args: argparse.Namespace) -> int:
    from vidlab import lab

    root = _root(args)
    problems = []
    print(f"python       {sys.version.split()[0]} ({sys.executable})")
    if sys.version_info < (3, 11):
        problems.append("Python 3.11 or newer is needed")
    for name, version in lab.versions().items():
        print(f"{name:12} {version}")
        if version == "missing":
            problems.append(f"package {name} is not installed: run `make lab` (or pip install -e .)")
    kernel = lab.kernel_problem(root)
    print(f"kernel       {kernel or lab.KERNEL_NAME + ' OK'}")
    if kernel:
        problems.append(kernel)
    enabled = lab.enabled_server_extensions(root)
    for extension in lab.NBGRADER_SERVER_EXTENSIONS:
        if not enabled.get(extension):
            problems.append(f"Jupyter server extension {extension} is not enabled (reinstall nbgrader)")
    print(f"nbgrader     {'server extensions enabled' if all(enabled.get(e) for e in lab.NBGRADER_SERVER_EXTENSIONS) else 'server extensions NOT enabled'}")
    for profile in course.PROFILES:
        try:
            print(f"data {profile:8}{course.data_dir(profile)}")
        except course.DataMissingError:
            print(f"data {profile:8}not generated")
    try:
        course.data_dir(args.profile)
    except course.DataMissingError as error:
        problems.append(str(error))
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


def cmd_scan(args: argparse.Namespace) -> int:
    from vidlab.scan import scan

    folder = Path(args.folder)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder: scan takes the folder of evidence to inventory")
    try:
        out = scan(folder, Path(args.out), workers=args.workers, resume=not args.no_resume, progress=True,
                   perceptual=args.perceptual, dask=args.dask)
    except (ValueError, IsADirectoryError) as error:
        raise UsageError(str(error)) from None
    except KeyboardInterrupt:
        raise UsageError("scan interrupted: run the same command again to resume where it stopped") from None
    print(f"inventory written to {out}")
    if args.known_files:
        from vidlab import bulk

        aside = bulk.mark_known(out, args.known_files, out, drop=args.drop_known)
        print(aside.to_string(index=False) if len(aside) else "no known operating-system or application files found")
    return 0


def _one_line(step):
    """Run one step; a ValueError (bad file, record or option: the toolkit's way to say so) becomes one clear line."""
    try:
        return step()
    except ValueError as error:
        raise UsageError(str(error)) from None


def cmd_carve(args: argparse.Namespace) -> int:
    from vidlab import carve

    image = Path(args.image)
    if not image.is_file():
        raise UsageError(f"{image} is not a file: carve takes a raw disk image")
    try:
        table = _one_line(lambda: carve.carve(image, out=args.out, max_gap=args.max_gap,
                                              keep_rejected=args.keep_rejected, progress=True))
    except KeyboardInterrupt:
        raise UsageError("carving interrupted: the pictures carved so far are in the output folder") from None
    table.to_csv(args.out / "carved.csv", index=False)
    states = ", ".join(f"{n} {state}" for state, n in carve.carve_states(table).items())
    print(f"{len(table)} JPEGs carved ({states or 'none found'}); table in {args.out / 'carved.csv'}")
    return 0


def cmd_media(args: argparse.Namespace) -> int:
    import pandas as pd

    from vidlab import evidence, media

    folder = Path(args.folder)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder")
    _one_line(lambda: evidence.outside_evidence(folder, args.out))
    args.out.mkdir(parents=True, exist_ok=True)
    videos, recordings = media.media_files(folder)
    hum = media.hum_table(recordings, progress=True)
    hum.to_csv(args.out / "audio.csv", index=False)
    if args.series_photos:
        photos = pd.read_csv(args.series_photos)
        if not {"path", "series"} <= set(photos.columns):
            raise UsageError(f"{args.series_photos} needs the columns path and series")
        reference = media.series_reference(list(photos["path"]), list(photos["series"]))
        media.match_videos(videos, reference).to_csv(args.out / "videos.csv", index=False)
    else:
        frames = [media.frame_table(video) for video in videos]
        (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()).to_csv(args.out / "videos.csv", index=False)
    print(f"{len(recordings)} recordings ({int(hum['mains_hz'].notna().sum())} with mains hum), "
          f"{len(videos)} videos; tables in {args.out}")
    return 0




def cmd_match(args: argparse.Namespace) -> int:
    from vidlab import casedb

    report = _one_line(lambda: casedb.match_inventory(args.inventory, args.db, args.hashes, args.country,
                                                         args.max_distance))
    print(report.summary())
    if args.out:
        print(f"tables written to {report.save(args.out)}")
    return 0


def cmd_casedb_import(args: argparse.Namespace) -> int:
    from vidlab import casedb

    counts = _one_line(lambda: casedb.import_vics(args.vics, args.db, args.country))
    print("imported " + ", ".join(f"{n} {what}" for what, n in counts.items())
          + f" into {args.db or casedb.default_db_path()}")
    return 0


def cmd_casedb_export(args: argparse.Namespace) -> int:
    from vidlab import casedb

    print(f"exported to {_one_line(lambda: casedb.export_vics(args.db, args.out))}")
    return 0


def cmd_casedb_list(args: argparse.Namespace) -> int:
    from vidlab import casedb

    table = _one_line(lambda: casedb.series_table(args.db))
    print(table.to_string(index=False) if not table.empty else "the database holds no series")
    return 0


def cmd_packages_validate(args: argparse.Namespace) -> int:
    from vidlab import packages

    bad = 0
    for folder in args.folder:
        for record in _one_line(lambda: packages.read_packages(folder)):
            problems = packages.validate(record)
            name = record.get("series_id", "?") if isinstance(record, dict) else "?"
            print(f"{folder}/{name}: " + ("valid" if not problems else "; ".join(problems)))
            bad += bool(problems)
    return 1 if bad else 0


def cmd_packages_merge(args: argparse.Namespace) -> int:
    from vidlab import packages

    print(_one_line(lambda: packages.merge_packages(args.source, args.out)))
    return 0


def cmd_packages_score(args: argparse.Namespace) -> int:
    from vidlab import packages

    key = course.answer_key_dir(args.profile)
    scores = {Path(folder).name: _one_line(lambda f=folder: packages.score_packages(f, key)) for folder in args.team}
    board = packages.leaderboard(scores)
    print(board.to_string())
    if args.csv:
        board.to_csv(args.csv)
    if args.png:
        packages.leaderboard_figure(board).savefig(args.png, dpi=110, bbox_inches="tight")
    return 0


def _grading_step(step):
    """Run one nbgrader-backed step, turning nbgrader's own failure into one clear line."""
    from vidlab import grading

    try:
        return _one_line(step)
    except grading.GradingError as error:
        raise UsageError(str(error).splitlines()[0]) from None


def cmd_course_release(args: argparse.Namespace) -> int:
    from vidlab import classroom

    root = _root(args)
    trainees = [t.strip() for t in args.trainees.read_text().split() if t.strip()] if args.trainees else None
    out = _grading_step(lambda: classroom.release(root, args.assignment, trainees, args.out))
    for place in out:
        print(f"released {args.assignment} to {place}")
    return 0


def cmd_course_collect(args: argparse.Namespace) -> int:
    from vidlab import classroom

    root = _root(args)
    if args.zips:
        report = _grading_step(lambda: classroom.zip_collect(root, args.assignment, args.zips))
        collected, problems = report.collected, report.problems
    else:
        collected, problems = _grading_step(lambda: classroom.collect(root, args.assignment)), []
    for problem in problems:
        print(f"skipped {problem}", file=sys.stderr)
    print(f"{len(collected)} submissions of {args.assignment}: {', '.join(collected) or 'none'}")
    return 0


def cmd_course_autograde(args: argparse.Namespace) -> int:
    from vidlab import classroom

    table = _grading_step(lambda: classroom.autograde(_root(args), args.assignment, args.trainee, args.timeout))
    for row in table.itertuples():
        print(f"{row.trainee:24} {'graded' if row.graded else 'FAILED: ' + str(row.error).splitlines()[-1]}"
              + (f"  FLAGGED: {row.flags}" if row.flags else ""))
    return 0 if table["graded"].all() else 1


def cmd_course_feedback(args: argparse.Namespace) -> int:
    from vidlab import classroom

    pages = _grading_step(lambda: classroom.feedback(_root(args), args.assignment, args.trainee, args.out))
    print(f"{len(pages)} feedback pages" + (f" in {args.out}" if args.out else ""))
    return 0


def cmd_course_report(args: argparse.Namespace) -> int:
    from vidlab import classroom

    for kind, path in _grading_step(lambda: classroom.report(_root(args), args.out)).items():
        print(f"{kind:10} {path}")
    return 0


def cmd_course_reset(args: argparse.Namespace) -> int:
    from vidlab import classroom

    archive = classroom.reset(_root(args))
    print(f"previous cohort archived in {archive}" if archive else "nothing to archive: no submissions or grades yet")
    return 0


def cmd_course_pack(args: argparse.Namespace) -> int:
    from vidlab import classroom

    print(f"trainee pack written: {classroom.trainee_pack(_root(args), args.out)}")
    return 0


def cmd_course_schedule(args: argparse.Namespace) -> int:
    from vidlab import classroom

    root = _root(args)
    text = classroom.schedule_markdown(root)
    if args.write:
        guide = root / "docs" / "instructor" / "README.md"
        guide.write_text(classroom.guide_with_schedule(guide.read_text(encoding="utf-8"), text), encoding="utf-8")
        print(f"schedule written into {guide.relative_to(root)}")
    else:
        print(text)
    return 0


def cmd_course_handouts(args: argparse.Namespace) -> int:
    from vidlab import classroom

    root = _root(args)
    course.data_dir(args.profile)  # the clear "generate it first" message, before any notebook runs
    table = classroom.handouts(root, args.out, args.profile, args.notebook or None)
    for row in table.itertuples():
        print(f"{row.notebook:50} {'FAILED: ' + row.error if row.error else row.html}")
    return 0 if table["error"].isna().all() else 1


def cmd_progress(args: argparse.Namespace) -> int:
    from vidlab import classroom

    root = _root(args)
    work = args.work or root / "exercises"
    table = classroom.progress(root, work, args.released)
    if table.empty:
        raise UsageError(f"no exercise notebooks under {work}")
    print(table.drop(columns="error").to_string(index=False))
    print(f"\n{(table['status'] == 'passing').sum()} of {len(table)} passing")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="vidlab", description="VID Lab: course, data and toolkit for image-based victim identification.")
    top.add_argument("--course", help="course folder (default: the one this toolkit was installed from)")
    verbs = top.add_subparsers(dest="verb", required=True, metavar="VERB")

    lab_p = verbs.add_parser("lab", help="set up the kernel, data and exercises, then start JupyterLab")
    lab_p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8888")), help="port to serve on (default: $PORT or 8888)")
    lab_p.add_argument("--profile", choices=course.PROFILES, default=course.default_profile(), help="data profile to generate if absent")
    lab_p.add_argument("--no-data", action="store_true", help="do not generate data")
    lab_p.set_defaults(run=cmd_lab)

    data = verbs.add_parser("data", help="generated case data").add_subparsers(dest="data_verb", required=True, metavar="VERB")
    gen = data.add_parser("generate", help="generate a data profile (deterministic from the seed)")
    # No `choices=` here: the generator owns the profile list and words the error itself.
    gen.add_argument("--profile", required=True, help=f"one of {', '.join(course.PROFILES)}")
    gen.add_argument("--seed", type=int, default=None, help="seed (default: the profile's own)")
    gen.add_argument("--force", action="store_true", help="regenerate even if the data exists")
    gen.add_argument("--out", type=Path, default=None, help="folder to hold the profile folder (default: $VIDLAB_DATA or synthetic_data/output)")
    gen.add_argument("--series", type=int, default=None, help="number of series (default: the profile's own)")
    gen.add_argument("--workers", type=int, default=None, help="processes to use (default: one per CPU)")
    gen.set_defaults(run=cmd_data_generate)
    desc = data.add_parser("describe", help="summary table of generated data, and optionally a contact sheet PNG")
    desc.add_argument("--profile", choices=course.PROFILES, default=course.default_profile(), help="which profile")
    desc.add_argument("--out", type=Path, default=None, help="folder holding the profile folder, if not the default")
    desc.add_argument("--sheet", type=Path, default=None, help="write a contact sheet of sample scenes to this PNG")
    desc.set_defaults(run=cmd_data_describe)

    course_p = verbs.add_parser("course", help="instructor commands").add_subparsers(dest="course_verb", required=True, metavar="VERB")
    build = course_p.add_parser("build", help="generate exercises/ from solutions/ with nbgrader")
    build.add_argument("assignment", nargs="*", help="assignment names (default: all)")
    build.set_defaults(run=cmd_course_build)
    check = course_p.add_parser("check", help="grading round trip: solutions full marks, blanks zero, nothing hidden leaks")
    check.add_argument("assignment", nargs="*", help="assignment names (default: all)")
    check.add_argument("--profile", choices=course.PROFILES, default="tiny", help="data profile the notebooks run on (default: tiny)")
    check.set_defaults(run=cmd_course_check)
    release = course_p.add_parser("release", help="release an exercise to the exchange, or as one zip per trainee")
    release.add_argument("assignment", help="assignment name (a folder under exercises/)")
    release.add_argument("--out", type=Path, default=None, help="write <assignment>__<trainee>.zip files here instead of the exchange")
    release.add_argument("--trainees", type=Path, default=None, help="text file of trainee ids, one per line (with --out)")
    release.set_defaults(run=cmd_course_release)
    collect = course_p.add_parser("collect", help="collect submissions from the exchange, or from returned zips")
    collect.add_argument("assignment", help="assignment name")
    collect.add_argument("--zips", type=Path, default=None, help="folder of returned <assignment>__<trainee>.zip files")
    collect.set_defaults(run=cmd_course_collect)
    autograde = course_p.add_parser("autograde", help="autograde every collected submission (or one trainee's)")
    autograde.add_argument("assignment", help="assignment name")
    autograde.add_argument("--trainee", default=None, help="only this trainee")
    autograde.add_argument("--timeout", type=int, default=None, help="seconds a cell may run (default: the course config, 300)")
    autograde.set_defaults(run=cmd_course_autograde)
    feedback = course_p.add_parser("feedback", help="HTML feedback for trainees, hidden tests removed")
    feedback.add_argument("assignment", help="assignment name")
    feedback.add_argument("--trainee", default=None, help="only this trainee")
    feedback.add_argument("--out", type=Path, default=None, help="also copy the pages here as <assignment>__<trainee>.html")
    feedback.set_defaults(run=cmd_course_feedback)
    report = course_p.add_parser("report", help="grades CSV and a class report with plots")
    report.add_argument("--out", type=Path, required=True, help="folder for grades.csv, questions.csv and report.html")
    report.set_defaults(run=cmd_course_report)
    reset = course_p.add_parser("reset", help="start a new cohort: archive submissions, grades and feedback")
    reset.set_defaults(run=cmd_course_reset)
    pack = course_p.add_parser("pack", help="zip for trainees: exercises, curriculum, toolkit; no solutions or answer keys")
    pack.add_argument("--trainee", action="store_true", required=True, help="build the trainee pack (the only kind)")
    pack.add_argument("--out", type=Path, default=Path("vidlab-trainee-pack.zip"), help="zip to write")
    pack.set_defaults(run=cmd_course_pack)

    sched = course_p.add_parser("schedule", help="the week's timetable from the notebooks' front matter")
    sched.add_argument("--write", action="store_true", help="write it into docs/instructor/README.md")
    sched.set_defaults(run=cmd_course_schedule)
    hand = course_p.add_parser("handouts", help="run curriculum notebooks and save them as self-contained HTML")
    hand.add_argument("--out", type=Path, required=True, help="folder for the HTML pages")
    hand.add_argument("--profile", choices=course.PROFILES, default="classroom", help="data to run on (default: classroom)")
    hand.add_argument("notebook", nargs="*", help="notebook names without .ipynb (default: all)")
    hand.set_defaults(run=cmd_course_handouts)

    progress = verbs.add_parser("progress", help="self-study: which of your exercises are to do, done or passing")
    progress.add_argument("--work", type=Path, default=None, help="folder holding your exercise folders (default: exercises/)")
    progress.add_argument("--released", type=Path, default=None, help="untouched copy of the exercises, to tell 'to do' apart")
    progress.set_defaults(run=cmd_progress)

    scan_p = verbs.add_parser("scan", help="inventory a folder of evidence (type, hashes, metadata) into Parquet, read-only")
    scan_p.add_argument("folder", help="the evidence folder (opened read-only, never altered)")
    scan_p.add_argument("--out", required=True, help="Parquet file to write (outside the evidence folder)")
    scan_p.add_argument("--workers", type=int, default=None, help="processes (default 1; with --dask, local workers, default 2)")
    scan_p.add_argument("--no-resume", action="store_true", help="start again instead of resuming an interrupted scan")
    scan_p.add_argument("--perceptual", action="store_true", help="also pHash and PDQ of every picture (for near-duplicate search)")
    scan_p.add_argument("--dask", nargs="?", const=True, default=None, metavar="ADDRESS",
                        help="run on Dask: a local cluster, or the scheduler at ADDRESS (tcp://host:8786)")
    scan_p.add_argument("--known-files", type=Path, default=None, help="NSRL-style CSV of known OS/application files to mark")
    scan_p.add_argument("--drop-known", action="store_true", help="with --known-files: leave the known files out of the inventory")
    scan_p.set_defaults(run=cmd_scan)

    carve_p = verbs.add_parser("carve", help="carve JPEGs from a raw disk image, each checked by decoding")
    carve_p.add_argument("image", help="the raw disk image (read-only)")
    carve_p.add_argument("--out", type=Path, required=True, help="folder for the carved pictures and carved.csv (not beside the image)")
    carve_p.add_argument("--max-gap", type=int, default=256 * 1024, help="bytes of damage to step over inside one picture (default 256 KiB)")
    carve_p.add_argument("--keep-rejected", action="store_true", help="also keep candidates that do not decode at all")
    carve_p.set_defaults(run=cmd_carve)

    media_p = verbs.add_parser("media", help="videos (keyframes, cuts, series matches) and recordings (mains hum) in a folder")
    media_p.add_argument("folder", help="folder to search, by real file kind")
    media_p.add_argument("--out", type=Path, required=True, help="folder for audio.csv and videos.csv")
    media_p.add_argument("--series-photos", type=Path, default=None, help="CSV of path,series: match each video to these series")
    media_p.set_defaults(run=cmd_media)

    match = verbs.add_parser("match", help="check a case inventory against the known-series database (exact and near copies)")
    match.add_argument("inventory", type=Path, help="Parquet inventory from `vidlab scan`")
    match.add_argument("--db", type=Path, default=None, help="case database (default: $VIDLAB_CASEDB or <data root>/casedb.sqlite)")
    match.add_argument("--hashes", type=Path, default=None, help="Parquet of perceptual hashes of the same files (PDQ), for near copies")
    match.add_argument("--country", default=None, help="country submitting this inventory (default: from submissions/<CC>/ folders)")
    match.add_argument("--max-distance", type=int, default=None, help="PDQ bits still counted a near copy (default: the toolkit's threshold)")
    match.add_argument("--out", type=Path, default=None, help="folder for exact.csv, near.csv and deconfliction.csv")
    match.set_defaults(run=cmd_match)

    casedb_p = verbs.add_parser("casedb", help="the known-series database").add_subparsers(dest="casedb_verb", required=True, metavar="VERB")
    imp = casedb_p.add_parser("import", help="import a VICS-style JSON hash set (all or nothing)")
    imp.add_argument("vics", type=Path, help="the JSON file")
    imp.add_argument("--db", type=Path, default=None, help="case database (default: $VIDLAB_CASEDB or <data root>/casedb.sqlite)")
    imp.add_argument("--country", default=None, help="submitting country, for hash sets that do not name one")
    imp.set_defaults(run=cmd_casedb_import)
    exp = casedb_p.add_parser("export", help="export the database as VICS-style JSON")
    exp.add_argument("out", type=Path, help="JSON file to write")
    exp.add_argument("--db", type=Path, default=None, help="case database (default: $VIDLAB_CASEDB or <data root>/casedb.sqlite)")
    exp.set_defaults(run=cmd_casedb_export)
    lst = casedb_p.add_parser("list", help="the series the database holds, with status and submitters")
    lst.add_argument("--db", type=Path, default=None, help="case database (default: $VIDLAB_CASEDB or <data root>/casedb.sqlite)")
    lst.set_defaults(run=cmd_casedb_list)

    pkg = verbs.add_parser("packages", help="intelligence packages: validate, merge a team's work, score (instructor)"
                           ).add_subparsers(dest="packages_verb", required=True, metavar="VERB")
    pv = pkg.add_parser("validate", help="check every package in the folders against the schema")
    pv.add_argument("folder", nargs="+", type=Path, help="package folders")
    pv.set_defaults(run=cmd_packages_validate)
    pm = pkg.add_parser("merge", help="merge trainees' package folders; conflicts kept side by side and listed")
    pm.add_argument("source", nargs="+", type=Path, help="package folders to merge")
    pm.add_argument("--out", type=Path, required=True, help="new folder for the merged packages")
    pm.set_defaults(run=cmd_packages_merge)
    ps = pkg.add_parser("score", help="instructor: score teams' packages against the answer key; leaderboard")
    ps.add_argument("team", nargs="+", type=Path, help="one package folder per team (named after the team)")
    ps.add_argument("--profile", choices=course.PROFILES, default=course.default_profile(), help="data profile of the answer key")
    ps.add_argument("--csv", type=Path, default=None, help="write the leaderboard as CSV")
    ps.add_argument("--png", type=Path, default=None, help="write the leaderboard figure as PNG")
    ps.set_defaults(run=cmd_packages_score)

    doctor = verbs.add_parser("doctor", help="check the installation; exits non-zero naming each problem")
    doctor.add_argument("--profile", choices=course.PROFILES, default=course.default_profile(), help="data profile that must be present")
    doctor.set_defaults(run=cmd_doctor)
    return top


def main(argv: list[str] | None = None) -> int:
    from vidlab import lab

    args = parser().parse_args(argv)
    # Jupyter, IPython and matplotlib then write inside the project, never to $HOME.
    lab.use_project_dirs(course.project_root())
    try:
        return args.run(args)
    except (UsageError, course.DataMissingError, FileNotFoundError, PermissionError) as error:
        print(f"vidlab: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vidlab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the reader left: not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
