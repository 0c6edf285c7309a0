"""Intelligence packages on the tiny profile: schema checks, written sheets, team merges, scoring.

The scorer is proved against package sets built from the answer key itself: the perfect set must
score 1.0 / 1.0 and 0 km, and each kind of mistake must move its own metric.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from vidlab import packages as P
from vidlab.geo import haversine_km


@pytest.fixture(scope="module")
def key(tiny_data: Path) -> Path:
    return tiny_data / "answer_key"


@pytest.fixture(scope="module")
def case(tiny_data: Path) -> Path:
    return tiny_data / "case"


@pytest.fixture(scope="module")
def truth(key: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(key / f"{name}.csv", dtype=str, keep_default_na=False)
            for name in ("series", "files", "clues")}


def _record(truth: dict[str, pd.DataFrame], series_id: str, label: str | None = None, **change) -> dict:
    """A package for one true series, every field taken from the answer key (what a perfect team finds)."""
    s = truth["series"].set_index("series_id").loc[series_id]
    files = truth["files"].loc[truth["files"]["series_id"] == series_id, "path"].tolist()
    clues = truth["clues"]
    serials = sorted(set(clues.loc[(clues["series_id"] == series_id)
                                   & clues["kind"].isin(["device_serial", "registered_serial"]), "value"]))
    fields = dict(
        confidence="high", lat=float(s["site_lat"]), lon=float(s["site_lon"]), city=s["city"], country=s["country"],
        evidence=[{"clue": "GPS fix", "source_file": files[0], "technique": "EXIF GPS to decimal", "supports": "city"}],
        devices=serials, start_utc=s["first_taken_utc"], end_utc=s["last_taken_utc"],
        next_steps=["Request subscriber records for the business phone"], team="Team A", analyst="ana",
        created="2025-01-01T00:00:00Z",
    )
    return P.new_package(label or series_id.lower(), files, **(fields | change))


def _targets(truth: dict[str, pd.DataFrame]) -> list[str]:
    s = truth["series"]
    return sorted(s.loc[(s["actionable"] == "true") & (s["known"] == "false"), "series_id"])


@pytest.fixture(scope="module")
def perfect(truth) -> list[dict]:
    return [_record(truth, s) for s in _targets(truth)]


def _other(truth, wanted: str) -> str:
    """A series of a kind: 'plain' (neither actionable nor known) or 'known_actionable'."""
    s = truth["series"]
    if wanted == "plain":
        return s.loc[(s["actionable"] == "false") & (s["known"] == "false"), "series_id"].iloc[0]
    return s.loc[(s["actionable"] == "true") & (s["known"] == "true"), "series_id"].iloc[0]


# --------------------------------------------------------------------------- scoring


def test_perfect_set_scores_one_and_zero_km(perfect, key):
    score = P.score_packages(perfect, key)
    assert len(perfect) >= 2
    assert (score.precision, score.recall, score.found) == (1.0, 1.0, len(perfect))
    assert score.median_location_km == pytest.approx(0.0, abs=1e-6)
    assert (score.located, score.device_precision, score.device_recall) == (1.0, 1.0, 1.0)
    assert (score.duplicate_packages, score.known_as_new, score.duplicates_avoided) == (0, 0, 1.0)
    assert score.total == pytest.approx(1.0)
    assert score.missed == ()
    assert set(score.details["status"]) == {"found"}


def test_blank_submission_scores_zero(key, tmp_path):
    for packages in ([], tmp_path):  # no records, and an empty package folder
        score = P.score_packages(packages, key)
        assert (score.precision, score.recall, score.total, score.packages) == (0.0, 0.0, 0.0, 0)
        assert math.isnan(score.median_location_km)
        assert len(score.missed) == score.actionable > 0


def test_dropping_a_series_lowers_recall_only(perfect, key):
    score = P.score_packages(perfect[1:], key)
    n = len(perfect)
    assert score.recall == pytest.approx((n - 1) / n)
    assert score.precision == 1.0
    assert score.missed == (perfect[0]["series"]["id"].upper(),)
    assert score.total < 1.0


def test_false_package_lowers_precision_only(perfect, truth, key):
    wrong = _record(truth, _other(truth, "plain"), label="not-actionable")
    score = P.score_packages([*perfect, wrong], key)
    n = len(perfect)
    assert score.precision == pytest.approx(n / (n + 1))
    assert score.recall == 1.0
    assert score.details.set_index("package").loc["not-actionable", "status"] == "not_actionable"


def test_all_wrong_scores_zero(truth, key):
    s = truth["series"]
    wrong = [_record(truth, x) for x in s.loc[(s["actionable"] == "false") & (s["known"] == "false"), "series_id"]]
    score = P.score_packages(wrong, key)
    assert (score.precision, score.recall, score.total, score.found) == (0.0, 0.0, 0.0, 0)
    assert score.packages == len(wrong) > 0


def test_moving_a_location_100_km_shows_as_100_km(perfect, key):
    moved = [dict(r) for r in perfect]
    where = dict(moved[0]["location"])
    where["lat"] += 100 / 111.195  # one degree of latitude is 111.195 km on the mean sphere
    moved[0] = moved[0] | {"location": where}
    score = P.score_packages(moved, key)
    km = score.details.set_index("package")["location_km"]
    assert km[moved[0]["series"]["id"]] == pytest.approx(100.0, abs=0.5)
    assert km.drop(moved[0]["series"]["id"]).max() == pytest.approx(0.0, abs=1e-6)
    assert score.located == pytest.approx((len(perfect) - 1) / len(perfect))
    assert (score.precision, score.recall) == (1.0, 1.0)
    assert score.total < 1.0


def test_duplicate_package_is_counted_and_costs_precision(perfect, key):
    copy = dict(perfect[0]) | {"series": {"id": "same-series-again", "files": perfect[0]["series"]["files"][:2]}}
    score = P.score_packages([*perfect, copy], key)
    n = len(perfect)
    assert score.duplicate_packages == 1
    assert score.duplicates_avoided == pytest.approx(1 - 1 / (n + 1))
    assert score.precision == pytest.approx(n / (n + 1))
    assert score.recall == 1.0
    # the package holding all the series' files stands for it, wherever it is in the list
    status = P.score_packages([copy, *perfect], key).details.set_index("package")["status"]
    assert status["same-series-again"] == "duplicate"


def test_known_series_must_be_linked_not_packaged_as_new(perfect, truth, key):
    known = _other(truth, "known_actionable")
    known_db_id = truth["series"].set_index("series_id").loc[known, "known_db_id"]
    as_new = P.score_packages([*perfect, _record(truth, known)], key)
    assert as_new.known_as_new == 1 and as_new.precision < 1.0
    linked = P.score_packages([*perfect, _record(truth, known, linked_series=[known_db_id])], key)
    assert (linked.known_as_new, linked.precision, linked.recall) == (0, 1.0, 1.0)
    assert "known_linked" in set(linked.details["status"])


def test_package_belongs_to_the_series_holding_most_of_its_files(perfect, truth, key, case):
    files = perfect[0]["series"]["files"]
    plain = truth["files"].loc[truth["files"]["series_id"] == _other(truth, "plain"), "path"].tolist()
    mixed_half = dict(perfect[0]) | {"series": {"id": "half", "files": files[:2] + plain[:2]}}
    assert P.score_packages([mixed_half], key).details.loc[0, "status"] == "no_majority"
    mostly = dict(perfect[0]) | {"series": {"id": "mostly", "files": files[:3] + plain[:1]}}
    assert P.score_packages([mostly], key).details.loc[0, "status"] == "found"
    absolute = dict(perfect[0]) | {"series": {"id": "abs", "files": [str(case / f) for f in files]}}
    assert P.score_packages([absolute], key).details.loc[0, "file_share"] == 1.0


def test_city_name_alone_is_geocoded_offline(perfect, truth, key):
    s = truth["series"].set_index("series_id").loc[perfect[0]["series"]["id"].upper()]
    by_city = dict(perfect[0]) | {"location": dict(perfect[0]["location"]) | {"lat": None, "lon": None}}
    km = P.score_packages([by_city], key).details.loc[0, "location_km"]
    assert km < P.LOCATED_KM
    assert km == pytest.approx(haversine_km(P._city_point(s["city"], s["country"]),
                                            (float(s["site_lat"]), float(s["site_lon"]))), abs=0.01)


@pytest.mark.parametrize("spellings", [
    [("Vientiane", "Laos"), ("Vientiane", "LA"), ("vientiane", "Lao People's Democratic Republic"), ("Vientiane", None)],
    [("Ulaanbaatar", "Mongolia"), ("Ulan Bator", "MN"), ("Улаанбаатар", None)],
])
def test_a_city_is_found_however_the_team_spells_it(spellings):
    points = [P._city_point(city, country) for city, country in spellings]
    assert None not in points
    assert max(haversine_km(points[0], p) for p in points) < 5


def test_wrong_or_missing_serials_lower_device_linkage(perfect, key):
    wrong = [dict(perfect[0]) | {"devices": [{"serial": "NOT-A-SERIAL"}]}, *perfect[1:]]
    score = P.score_packages(wrong, key)
    assert score.device_precision < 1.0 and score.device_recall < 1.0
    none = [dict(perfect[0]) | {"devices": []}, *perfect[1:]]
    score = P.score_packages(none, key)
    assert score.device_precision == 1.0 and score.device_recall < 1.0


def test_leaderboard_ranks_teams_and_plots(perfect, key):
    scores = {"blank": P.score_packages([], key), "perfect": P.score_packages(perfect, key),
              "half": P.score_packages(perfect[:1], key)}
    board = P.leaderboard(scores)
    assert list(board["team"]) == ["perfect", "half", "blank"]
    assert list(board["rank"]) == [1, 2, 3]
    assert board.loc[0, "total"] == pytest.approx(1.0) and board.loc[2, "total"] == 0.0
    figure = P.leaderboard_figure(board)
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == ["blank", "half", "perfect"]


def test_malformed_records_are_scored_not_crashed_on(perfect, key):
    broken = [dict(perfect[0]) | {"location": "Bangkok", "devices": "many"}, {"series": "x"}, ["not", "a", "dict"]]
    score = P.score_packages([*broken, *perfect[1:]], key)
    rows = score.details
    assert list(rows["valid"]) == [False, False, False] + [True] * (len(perfect) - 1)
    assert list(rows["status"][:3]) == ["found", "no_majority", "no_majority"]
    assert math.isnan(rows.loc[0, "location_km"]) and score.located < 1.0


def test_scoring_a_folder_with_a_broken_file_names_it(key, tmp_path):
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(P.PackageError, match="bad.json"):
        P.score_packages(tmp_path, key)


# --------------------------------------------------------------------------- the record and its checks


def test_perfect_records_are_valid(perfect):
    assert all(P.validate(r) == [] for r in perfect)


@pytest.mark.parametrize("change, field", [
    (lambda r: r.pop("devices"), "(the record)"),
    (lambda r: r["location"].update(confidence=1.5), "location.confidence"),
    (lambda r: r["location"].update(confidence="certain"), "location.confidence"),
    (lambda r: r["location"].update(lat=None, lon=None, city=None), "location"),
    (lambda r: r["location"].update(lon=None), "location"),
    (lambda r: r["location"]["evidence"][0].pop("technique"), "location.evidence[0]"),
    (lambda r: r["series"].update(files=[]), "series.files"),
    (lambda r: r["series"].update(files=["/abs/path.jpg"]), "series.files[0]"),
    (lambda r: r["time_frame_utc"].update(start="2024-06-04 09:45"), "time_frame_utc.start"),
    (lambda r: r["time_frame_utc"].update(start="2030-01-01T00:00:00Z"), "time_frame_utc"),
    (lambda r: r.update(safe_thumbnails=["IMG_0001.JPG"]), "safe_thumbnails[0]"),
    (lambda r: r.update(next_steps=[]), "next_steps"),
    (lambda r: r.update(extra=1), "(the record)"),
])
def test_validate_names_the_field(perfect, change, field):
    record = json.loads(json.dumps(perfect[0]))
    change(record)
    problems = P.validate(record)
    assert problems, "the change should make the record invalid"
    assert any(p.startswith(field + ":") for p in problems), problems


def test_validate_explains_thumbnails_and_non_records(perfect):
    bad = json.loads(json.dumps(perfect[0])) | {"safe_thumbnails": ["DSC_0001.JPG"]}
    assert "safe_thumbnails" in P.validate(bad)[0] and "vidlab.packages.safe_thumbnails" in P.validate(bad)[0]
    assert P.validate([1, 2]) == ["(the record): a package is a JSON object (dict), not list"]


def test_new_package_needs_utc_and_makes_paths_case_relative(truth, case):
    files = truth["files"]["path"].iloc[:2].tolist()
    record = _record(truth, _targets(truth)[0], start_utc="2024-06-04T17:45:00+08:00")
    assert record["time_frame_utc"]["start"] == "2024-06-04T09:45:00Z"
    with pytest.raises(ValueError, match="no time zone"):
        _record(truth, _targets(truth)[0], start_utc="2024-06-04T17:45:00")
    absolute = P.new_package("x", [case / f for f in files], case_root=case, confidence=0.5, evidence=[],
                             next_steps=["a"], team="t", analyst="a", city="Dhaka", country="Bangladesh")
    assert absolute["series"]["files"] == files


# --------------------------------------------------------------------------- files on disk


def test_write_and_read_back_with_a_printable_sheet(perfect, case, tmp_path):
    record = dict(perfect[0])
    thumbs = P.safe_thumbnails(record["series"]["files"][:2], tmp_path / "work", case_root=case)
    record["safe_thumbnails"] = thumbs
    path = P.write_package(record, tmp_path / "out")
    back = P.read_packages(tmp_path / "out")
    assert back == [record | {"safe_thumbnails": [f"thumbnails/{Path(t).name}" for t in thumbs]}]
    sheet = path.with_suffix(".html").read_text(encoding="utf-8")
    assert sheet.count('src="data:image/png;base64,') == 2 and "src=\"submissions" not in sheet
    assert record["location"]["evidence"][0]["clue"] in sheet and "@page" in sheet
    with Image.open(tmp_path / "out" / back[0]["safe_thumbnails"][0]) as im:
        rgb = np.asarray(im.convert("RGB"))
    assert (rgb == rgb[..., :1]).all()  # greyscale, as the safe viewer makes it
    # rewriting the same series replaces it; a second series gets its own file
    P.write_package(record, tmp_path / "out")
    P.write_package(perfect[1], tmp_path / "out")
    assert len(P.read_packages(tmp_path / "out")) == 2


def test_write_refuses_unsafe_thumbnails_and_invalid_records(perfect, tmp_path):
    plain = tmp_path / "plain.png"
    Image.new("RGB", (8, 8)).save(plain)  # a PNG, but not one the safe viewer made
    with pytest.raises(P.PackageError, match="safe_thumbnails"):
        P.write_package(dict(perfect[0]) | {"safe_thumbnails": [str(plain)]}, tmp_path / "out")
    with pytest.raises(P.PackageError, match="location.confidence"):
        P.write_package(dict(perfect[0]) | {"location": perfect[0]["location"] | {"confidence": 7}}, tmp_path / "out")
    assert not list(tmp_path.glob("out/*.json"))


# --------------------------------------------------------------------------- team mode


def test_merge_keeps_every_version_and_reports_conflicts(perfect, truth, case, key, tmp_path):
    ana, ben = tmp_path / "ana", tmp_path / "ben"
    thumbs = P.safe_thumbnails(perfect[0]["series"]["files"][:1], tmp_path / "t", case_root=case)
    P.write_package(dict(perfect[0]) | {"safe_thumbnails": thumbs}, ana)  # both found series 0 identically
    P.write_package(dict(perfect[0]) | {"analyst": "ben", "created": "2025-01-02T00:00:00Z"}, ben)
    P.write_package(perfect[1], ana)  # series 1: ben placed it elsewhere → a conflict
    P.write_package(dict(perfect[1]) | {"analyst": "ben", "location": perfect[1]["location"] | {"lat": 0.5}}, ben)
    overlap = dict(perfect[1]) | {"series": {"id": "ben-own-label", "files": perfect[1]["series"]["files"][:1]}}
    invalid = dict(perfect[0]) | {"series": {"id": "broken", "files": []}}
    report = P.merge_packages([ana, ben, [overlap, invalid]], tmp_path / "team")

    assert report.merged == [perfect[0]["series"]["id"]]
    (conflict,) = report.conflicts
    assert conflict.series_id == perfect[1]["series"]["id"] and conflict.differences == ("location",)
    assert [a for _, a, _ in conflict.versions] == ["ana", "ben"]
    assert report.overlaps == [(perfect[1]["series"]["id"], "ben-own-label", 1)]
    assert [(s, i) for s, i, _ in report.rejected] == [("source 3", "broken")]
    merged = P.read_packages(tmp_path / "team")
    assert len(merged) == 4  # one merged + two conflicting versions + the overlapping label
    first = next(r for r in merged if r["series"]["id"] == perfect[0]["series"]["id"])
    assert first["analyst"] == "ana; ben" and len(first["safe_thumbnails"]) == 1
    assert (tmp_path / "team" / first["safe_thumbnails"][0]).is_file()
    assert set(report.table()["kind"]) == {"merged", "conflict", "overlap", "rejected"}
    assert json.loads((tmp_path / "team" / P.REPORT_NAME).read_text())["conflicts"][0]["differences"] == ["location"]
    # an unresolved conflict is still two packages for one series when scored
    assert P.score_packages(tmp_path / "team", key).duplicate_packages == 2
    with pytest.raises(FileExistsError):
        P.merge_packages([ana], tmp_path / "team")


def test_merge_of_disjoint_trainees_keeps_all(perfect, key, tmp_path):
    report = P.merge_packages([[perfect[0]], [perfect[1]]], tmp_path / "team")
    assert (len(report.written), report.conflicts, report.overlaps, report.rejected) == (2, [], [], [])
    assert P.score_packages(tmp_path / "team", key).found == 2


def test_merge_rejects_an_unsafe_thumbnail_and_writes_the_rest(perfect, tmp_path):
    plain = tmp_path / "photo.png"
    Image.new("RGB", (8, 8)).save(plain)
    unsafe = dict(perfect[0]) | {"safe_thumbnails": [str(plain)]}
    report = P.merge_packages([[unsafe], [perfect[1]]], tmp_path / "team")
    assert [(s, i) for s, i, _ in report.rejected] == [("source 1", perfect[0]["series"]["id"])]
    assert "safe_thumbnails" in report.rejected[0][2]
    assert [r["series"]["id"] for r in P.read_packages(tmp_path / "team")] == [perfect[1]["series"]["id"]]
