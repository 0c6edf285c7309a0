"""Robustness of aHash, dHash, pHash and PDQ to what happens to pictures, and the thresholds the course teaches.

    .venv/bin/python benchmarks/bench_robustness.py                 # 60 originals, about a minute
    .venv/bin/python benchmarks/bench_robustness.py --write-docs    # also the figure and docs/similarity.md's table

Originals: generated rooms and streets (synthetic_data.draw.render_scene) at --size with a little sensor-like
noise, saved as camera JPEGs (q92). Each gets every edit below; each copy is hashed from its file with
vidlab.similarity.hash_table (one draft decode per file, all four hashes) and compared with its own original.
Unrelated pairs: every copy and original against every OTHER original (all different scenes). For PDQ the
distance is also taken as the minimum over its 8 dihedral variants, as find_matches does; unrelated PDQ pairs
always use that minimum (it is what a search sees). The threshold for each hash is the largest distance whose
false-match rate on the unrelated pairs stays at or below --fmr; recall of each edit is given at it.
Accuracy only: nothing here is timed.
"""

from __future__ import annotations

import argparse
import io
import random
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synthetic_data.draw import font, render_scene  # noqa: E402
from synthetic_data.provenance import PLATFORM_SPECS, encode, upright  # noqa: E402
from vidlab import similarity  # noqa: E402
from vidlab.hashindex import hex_to_words  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "docs" / "figures"
DOC = ROOT / "docs" / "similarity.md"
KINDS = similarity.HASH_KINDS
META_PDQ = 31  # the match threshold Meta's PDQ documentation suggests
#: A different photo of the same room: a different picture, so a match with it would be a false match.
OTHER_SHOT = "same room, another shot"
#: Edits a global hash is meant to survive; crops and mirrors are measured too, but thresholds do not chase them.
BENIGN = ("resize 50 %", "JPEG q60", "brightness +20 %", "text overlay", "re-share 1280 px q75",
          *(f"platform {name}" for name in PLATFORM_SPECS))


def shot(scene: Image.Image, size: tuple[int, int], view: tuple[float, float, float], seed: int) -> bytes:
    """One camera shot of a drawn scene: a view (centre x, centre y, width as shares of the scene) at `size`,
    with a little sensor-like noise, as a camera JPEG (q92)."""
    cx, cy, share = view
    w, h = scene.width * share, scene.width * share * size[1] / size[0]
    box = (cx * scene.width - w / 2, cy * scene.height - h / 2, cx * scene.width + w / 2, cy * scene.height + h / 2)
    pixels = np.asarray(scene.resize(size, Image.Resampling.BILINEAR, box=box), dtype=np.int16)
    noise = np.random.default_rng(seed).normal(0, 3, pixels.shape).astype(np.int16)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def camera_pair(size: tuple[int, int], seed: int) -> tuple[bytes, bytes]:
    """Two shots of one generated room or street, as a series has them: the original, and another shot from a
    step aside (the view moved by 5–10 % and zoomed by up to 15 %)."""
    rng = random.Random(seed)
    scene = render_scene((size[0] * 5 // 4, size[1] * 5 // 4), rng)  # drawn larger, as the generator does
    first = (0.5, 0.5, 0.8)
    step = rng.uniform(0.05, 0.10) * rng.choice((-1, 1))
    second = (0.5 + step, 0.5 + rng.uniform(-0.04, 0.04), 0.8 * rng.uniform(0.85, 1.0))
    return shot(scene, size, first, seed), shot(scene, size, second, seed + 1)


def jpeg(picture: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    picture.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def crop(picture: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    """Cut the given shares off each edge."""
    w, h = picture.size
    return picture.crop((round(left * w), round(top * h), round(w - right * w), round(h - bottom * h)))


def caption(picture: Image.Image) -> Image.Image:
    """A meme-style caption across the lower third: white letters with a dark outline."""
    out = picture.convert("RGB")
    draw = ImageDraw.Draw(out)
    size = out.height // 12
    draw.text((out.width // 2, out.height * 3 // 4), "SEEN THIS PLACE? SHARE IT", font=font(size), anchor="mm",
              fill=(255, 255, 255), stroke_width=max(2, size // 12), stroke_fill=(0, 0, 0))
    return out


def reshare(data: bytes, long_side: int, quality: int, progressive: bool = False) -> bytes:
    """The generator's re-share: upright, shrunk to the platform's limit, its IJG tables, EXIF stripped."""
    return encode(upright(data, long_side), quality, progressive)


def platform(name: str) -> Callable[[Image.Image, bytes], bytes]:
    spec = PLATFORM_SPECS[name]
    return lambda _picture, data: reshare(data, spec.long_side, spec.quality, spec.progressive)


#: Each edit makes a copy's bytes from the decoded original and its original bytes.
EDITS: dict[str, Callable[[Image.Image, bytes], bytes]] = {
    "resize 50 %": lambda p, _: jpeg(p.resize((p.width // 2, p.height // 2), Image.Resampling.LANCZOS)),
    "JPEG q60": lambda p, _: jpeg(p, 60),
    "brightness +20 %": lambda p, _: jpeg(ImageEnhance.Brightness(p).enhance(1.2)),
    "text overlay": lambda p, _: jpeg(caption(p)),
    "re-share 1280 px q75": lambda _, data: reshare(data, 1280, 75),
    **{f"platform {name}": platform(name) for name in PLATFORM_SPECS},
    "crop 5 % (centred)": lambda p, _: jpeg(crop(p, 0.025, 0.025, 0.025, 0.025)),
    "crop 5 % (one corner)": lambda p, _: jpeg(crop(p, 0.05, 0.05, 0, 0)),
    "mirror": lambda p, _: jpeg(ImageOps.mirror(p)),
}


def make_corpus(folder: Path, originals: int, size: tuple[int, int], seed: int,
                edits: dict[str, Callable[[Image.Image, bytes], bytes]] = EDITS) -> pd.DataFrame:
    """Write the originals and their edited copies; one row per file: path, original (number), edit."""
    rows = []
    for n in range(originals):
        data, other = camera_pair(size, seed + 2 * n)
        path = folder / f"original_{n:03d}.jpg"
        path.write_bytes(data)
        rows.append({"path": path, "original": n, "edit": "original"})
        (folder / f"other_{n:03d}.jpg").write_bytes(other)
        rows.append({"path": folder / f"other_{n:03d}.jpg", "original": n, "edit": OTHER_SHOT})
        picture = Image.open(io.BytesIO(data))
        picture.load()
        for i, (edit, make) in enumerate(edits.items()):
            copy = folder / f"copy_{n:03d}_{i:02d}.jpg"
            copy.write_bytes(make(picture, data))
            rows.append({"path": copy, "original": n, "edit": edit})
    return pd.DataFrame(rows)


def distances(a: list[str], b: list[str]) -> np.ndarray:
    """len(a)×len(b) Hamming distances between two lists of hex hashes."""
    wa, wb = hex_to_words(a), hex_to_words(b)
    return np.bitwise_count(wa[:, None, :] ^ wb[None, :, :]).sum(axis=2)


def turned_distances(variants: list[list[str]], b: list[str]) -> np.ndarray:
    """The smallest distance over each row's 8 PDQ variants, as find_matches searches."""
    flat = distances([v for row in variants for v in row], b)
    return flat.reshape(len(variants), len(similarity.DIHEDRAL), len(b)).min(axis=1)


def measure(files: pd.DataFrame, table: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Per copy and hash kind, the distance to its own original; and every unrelated distance per kind."""
    table = table.assign(original=files["original"].to_numpy(), edit=files["edit"].to_numpy())
    assert table["error"].isna().all(), table.loc[table["error"].notna(), ["path", "error"]]
    originals = table[table["edit"] == "original"].sort_values("original")
    is_copy = (table["edit"] != "original").to_numpy()
    copies = table[is_copy]
    own_original = (np.arange(len(copies)), copies["original"].to_numpy())
    rows = {"edit": copies["edit"].to_numpy(), "original": copies["original"].to_numpy()}
    unrelated = {}
    other = table["original"].to_numpy()[:, None] != originals["original"].to_numpy()[None, :]
    for kind in KINDS:
        every = distances(list(table[kind]), list(originals[kind]))
        rows[kind] = every[is_copy][own_original]
        if kind == "pdq":
            every = turned_distances(list(table["pdq_dihedral"]), list(originals["pdq"]))
            rows["pdq turned"] = every[is_copy][own_original]
        unrelated[kind] = every[other]
    return pd.DataFrame(rows), unrelated


def choose_thresholds(own: pd.DataFrame, unrelated: dict[str, np.ndarray], fmr: float, recall: float
                      ) -> dict[str, int]:
    """Per hash, the smallest distance that matches `recall` of the copies under every benign edit (those a global
    hash is meant to survive), unless the false-match rate on unrelated pairs would pass `fmr` first: then the
    largest distance that keeps it. The lowest threshold that does the job leaves the most room against
    look-alikes that this corpus does not hold."""
    benign = own[own["edit"].isin(BENIGN)].groupby("edit")
    chosen = {}
    for kind, dist in unrelated.items():
        rates = np.array([np.mean(dist <= t) for t in range(similarity.HASH_BITS[kind] + 1)])
        cap = int(np.flatnonzero(rates <= fmr).max()) if rates[0] <= fmr else -1
        need = max(int(np.quantile(group, recall, method="inverted_cdf")) for _, group in benign[kind])
        chosen[kind] = min(cap, need)
    return chosen


def summary(own: pd.DataFrame, unrelated: dict[str, np.ndarray], thresholds: dict[str, int]) -> pd.DataFrame:
    """Median / p95 distance and recall at the threshold, per edit and hash; unrelated pairs last."""
    columns = [*KINDS[:3], "pdq", "pdq turned"]
    limit = {**thresholds, "pdq turned": thresholds["pdq"]}
    table = {}
    for edit, group in own.groupby("edit", sort=False):
        table[edit] = {c: (np.median(group[c]), np.percentile(group[c], 95), np.mean(group[c] <= limit[c]))
                       for c in columns}
    table["unrelated pairs"] = {c: (np.median(unrelated[c.split()[0]]), np.percentile(unrelated[c.split()[0]], 5),
                                    np.mean(unrelated[c.split()[0]] <= limit[c])) for c in columns}
    return pd.DataFrame(table).T[columns]


def markdown(table: pd.DataFrame, thresholds: dict[str, int], args: argparse.Namespace, pairs: int) -> str:
    """The table as Markdown: 'median / p95 · matched' per cell (unrelated pairs: median / p5 · matched)."""
    head = ["edit", *(f"{c} (≤ {thresholds[c.split()[0]]})" for c in table.columns)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for edit, row in table.iterrows():
        share = "{:.0%}" if edit in table.index[table.index != "unrelated pairs"] else "{:.3%}"
        cells = [f"{m:.0f} / {p:.0f} · {share.format(r)}" for m, p, r in row]
        lines.append("| " + " | ".join([f"**{edit}**" if edit in BENIGN else str(edit), *cells]) + " |")
    lines.append(f"\n{args.originals} originals of {args.size} px, {pairs:,} unrelated pairs. Cells: median / 95th "
                 "percentile of the distance in bits · share matched at the threshold (unrelated pairs: median / "
                 "5th percentile · false-match rate). 'pdq turned': the nearest of PDQ's 8 dihedral variants, as "
                 f"find_matches searches. '{OTHER_SHOT}' is a different picture: a match there would be false. "
                 "Thresholds: the smallest distance matching "
                 f"{args.recall:.0%} of the copies under each **bold** edit, capped where the false-match rate on "
                 f"unrelated pairs would pass {args.fmr:g}.")
    return "\n".join(lines)


def figure(own: pd.DataFrame, unrelated: dict[str, np.ndarray], thresholds: dict[str, int], path: Path) -> None:
    """One panel per hash: the distance of each edit's copies (boxes), unrelated pairs, and the threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    edits = list(dict.fromkeys(own["edit"]))
    fig, axes = plt.subplots(1, 4, figsize=(17, 6), sharey=True)
    for ax, kind in zip(axes, [*KINDS[:3], "pdq turned"]):
        base = kind.split()[0]
        bits = similarity.HASH_BITS[base]
        data = [own.loc[own["edit"] == e, kind] / bits for e in edits] + [unrelated[base] / bits]
        ax.boxplot(data, orientation="horizontal", whis=(5, 95), showfliers=False)
        ax.axvline(thresholds[base] / bits, color="crimson", linestyle="--", label=f"threshold {thresholds[base]} bits")
        ax.set_title(f"{base} ({bits} bits){' — best of 8 turns' if base == 'pdq' else ''}")
        ax.set_xlabel("distance to the original, share of bits")
        ax.set_xlim(0, 0.6)
        ax.legend(loc="center right")
    axes[0].set_yticks(range(1, len(edits) + 2), [*edits, "unrelated pairs"])
    axes[0].invert_yaxis()  # read top down, in the table's order
    fig.suptitle("Perceptual hashes under common edits (boxes: 5–95 %, median line)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_table(text: str, doc: Path = DOC) -> None:
    """Replace the table between the robustness markers in docs/similarity.md."""
    start, end = "<!-- robustness-table:start -->", "<!-- robustness-table:end -->"
    body = doc.read_text(encoding="utf-8")
    if start not in body:
        raise SystemExit(f"{doc} has no {start} marker")
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    doc.write_text(pattern.sub(lambda _: f"{start}\n{text}\n{end}", body), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--originals", type=int, default=60)
    parser.add_argument("--size", default="2400x1800", help="originals' size, WxH (default 2400x1800)")
    parser.add_argument("--seed", type=int, default=7000)
    parser.add_argument("--fmr", type=float, default=1e-4, help="false-match rate the thresholds may not pass")
    parser.add_argument("--recall", type=float, default=0.95, help="share of each benign edit's copies to match")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--write-docs", action="store_true", help="write docs/figures/robustness.png and the table")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        files = make_corpus(Path(tmp), args.originals, size, args.seed)
        table = similarity.hash_table(files["path"], workers=args.workers, progress=True)
    own, unrelated = measure(files, table)
    thresholds = choose_thresholds(own, unrelated, args.fmr, args.recall)
    benign = own[own["edit"].isin(BENIGN)]
    text = "\n".join([
        markdown(summary(own, unrelated, thresholds), thresholds, args, len(unrelated["pdq"])),
        "\nClosest unrelated pair (bits): " + ", ".join(f"{k} {int(d.min())}" for k, d in unrelated.items()) + ".",
        f"PDQ at Meta's suggested {META_PDQ} bits would match: " + ", ".join(
            f"{edit} {np.mean(group['pdq'] <= META_PDQ):.0%}" for edit, group in benign.groupby("edit", sort=False))
        + ".",
    ])
    print(text)
    print(f"\nthresholds chosen: {thresholds}; vidlab.similarity.THRESHOLDS: {similarity.THRESHOLDS}")
    if args.write_docs:
        FIGURES.mkdir(parents=True, exist_ok=True)
        figure(own, unrelated, thresholds, FIGURES / "robustness.png")
        write_table(text)
        print(f"wrote {FIGURES / 'robustness.png'} and the table in {DOC}")


if __name__ == "__main__":
    main()
