"""Case media: short phone-style videos that re-show a series' scene, and audio clips that carry mains hum.

Both are byte-deterministic: the video is H.264 in MP4 written through PyAV (FFmpeg's muxer in bit-exact
mode, x264 single-threaded, our own RGB-to-YUV conversion so no CPU-specific scaler code touches pixels),
the audio a 16-bit mono WAV built with numpy from a seeded generator.
"""

from __future__ import annotations

import math
import random
import wave
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image

VIDEO_CODEC = "h264"
# Mean absolute grey-level change (0-255) between consecutive frames above which a frame starts a new shot:
# a pan moves a few percent of the picture per frame and stays far below it, a cut to another view does not.
CUT_THRESHOLD = 12.0
CUT_PROBE_SIZE = (64, 36)
MAINS_FREQUENCIES = (50, 60)
# Relative amplitude ranges of harmonics 2-5 of the hum: rectifiers and transformers make the odd ones stronger.
HARMONIC_LEVELS = {2: (0.08, 0.22), 3: (0.3, 0.6), 4: (0.03, 0.1), 5: (0.12, 0.3)}
# The electric network frequency wanders by a few hundredths of a hertz; the grid's control pulls it back.
DRIFT_LIMIT_HZ = (0.02, 0.05)
ENF_STEP_SECONDS = 1.0


def rgb_to_yuv420(picture: Image.Image) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A picture as Y, U, V planes (4:2:0, BT.601 video range) in integer arithmetic: the same bytes on every CPU."""
    rgb = np.asarray(picture.convert("RGB"), dtype=np.int32)
    r, g, b = np.moveaxis(rgb, 2, 0).copy()  # contiguous planes: several times faster arithmetic than strided views
    y = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16
    # Chroma of each 2x2 block from its summed colour (4x), rounded once.
    rs, gs, bs = (plane[0::2, 0::2] + plane[1::2, 0::2] + plane[0::2, 1::2] + plane[1::2, 1::2] for plane in (r, g, b))
    u = ((-38 * rs - 74 * gs + 112 * bs + 512) >> 10) + 128
    v = ((112 * rs - 94 * gs - 18 * bs + 512) >> 10) + 128
    return tuple(np.clip(plane, 0, 255).astype(np.uint8) for plane in (y, u, v))


def video_frame(picture: Image.Image, index: int) -> av.VideoFrame:
    """An encoder frame of a picture, any row padding zeroed so no leftover memory can reach the encoder."""
    frame = av.VideoFrame(picture.width, picture.height, "yuv420p")
    for plane, data in zip(frame.planes, rgb_to_yuv420(picture)):
        padded = np.zeros((data.shape[0], plane.line_size), dtype=np.uint8)
        padded[:, :data.shape[1]] = data
        plane.update(padded)
    frame.pts = index
    return frame


def scene_cuts(frames: Sequence[Image.Image]) -> list[int]:
    """Indices of the frames that start a shot: the first, and every frame that differs sharply from the one before."""
    probes = [np.asarray(frame.convert("L").resize(CUT_PROBE_SIZE, Image.Resampling.BILINEAR), dtype=np.float32)
              for frame in frames]
    return [0] + [i for i in range(1, len(probes)) if np.abs(probes[i] - probes[i - 1]).mean() > CUT_THRESHOLD]


def iso6709(latitude: float, longitude: float) -> str:
    """A location as phones write it into MP4 metadata (ISO 6709), e.g. '+13.7563+100.5018/'."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValueError(f"location ({latitude}, {longitude}) is not a latitude/longitude pair")
    return f"{latitude:+08.4f}{longitude:+09.4f}/"


def check_frames(frames: Sequence[Image.Image], fps: int) -> tuple[int, int]:
    """The common frame size, or a specific error for input x264 cannot take."""
    if not frames:
        raise ValueError("a video needs at least one frame")
    if not isinstance(fps, int) or fps < 1:
        raise ValueError(f"fps must be a positive whole number, got {fps!r}")
    width, height = frames[0].size
    if width % 2 or height % 2:
        raise ValueError(f"frame size {width}x{height} must be even in both directions for 4:2:0 video")
    for index, frame in enumerate(frames):
        if frame.size != (width, height):
            raise ValueError(f"frame {index} is {frame.size[0]}x{frame.size[1]}, frame 0 is {width}x{height}")
    return width, height


def write_video(
    path: Path,
    frames: list[Image.Image],
    fps: int,
    rng: random.Random,
    *,
    cuts: Sequence[int] | None = None,
    created: datetime | None = None,
    location: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """Write frames as an H.264 MP4 whose keyframes fall exactly on the scene cuts; return what was written.

    cuts: indices of shot starts (default: detected from the frames). created: the recording time phones store
    in the container (naive times are taken as UTC). location: (lat, lon) stored as ISO 6709, as phones do.
    """
    width, height = check_frames(frames, fps)
    keyframes = sorted({0, *(scene_cuts(frames) if cuts is None else cuts)})
    if keyframes[-1] >= len(frames) or keyframes[0] < 0:
        raise ValueError(f"cuts {list(cuts or [])} fall outside the {len(frames)} frames")
    crf = rng.randint(20, 26)  # phones differ in how hard they compress
    path = Path(path)
    # bitexact keeps FFmpeg's version strings and wall-clock times out of the file.
    with av.open(str(path), "w", format="mp4", options={"fflags": "+bitexact"}) as container:
        if created is not None:
            stamp = created if created.tzinfo else created.replace(tzinfo=timezone.utc)
            container.metadata["creation_time"] = stamp.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        if location is not None:
            container.metadata["location"] = iso6709(*location)
        stream = container.add_stream("libx264", rate=fps, options={
            "preset": "veryfast", "crf": str(crf), "threads": "1", "flags": "+bitexact",
            # Keyframes only where forced below: at the cuts, as an encoder's own scene-cut detection would put them.
            # No macroblock-tree rate control: with it, x264's output depended on leftover memory from earlier
            # encodes in the same process (first video of a process differed from later identical ones).
            "x264-params": f"keyint={len(frames) + 1}:min-keyint=1:scenecut=0:mbtree=0",
        })
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        key_set = set(keyframes)
        for index, picture in enumerate(frames):
            frame = video_frame(picture, index)
            if index in key_set:
                frame.pict_type = av.video.frame.PictureType.I
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return {
        "frames": len(frames),
        "fps": fps,
        "seconds": round(len(frames) / fps, 3),
        "width": width,
        "height": height,
        "codec": VIDEO_CODEC,
        "keyframe_indices": keyframes,
    }


def enf_deviation(rng: random.Random, samples: int, sample_rate: int, limit: float) -> np.ndarray:
    """The grid frequency's offset from nominal per sample: a bounded, mean-reverting random walk, one step a second."""
    steps = math.ceil(samples / sample_rate / ENF_STEP_SECONDS) + 1
    points = [rng.uniform(-limit / 2, limit / 2)]
    for _ in range(steps - 1):
        points.append(min(limit, max(-limit, 0.9 * points[-1] + rng.gauss(0.0, limit / 6))))
    times = np.arange(samples) / sample_rate
    return np.interp(times, np.arange(steps) * ENF_STEP_SECONDS, points)


def room_tone(noise: np.random.Generator, samples: int, sample_rate: int, rms: float) -> np.ndarray:
    """Pink-ish noise (power falling as 1/f) with the microphone's roll-off below 20 Hz, at a given RMS level."""
    spectrum = np.fft.rfft(noise.standard_normal(samples))
    freqs = np.fft.rfftfreq(samples, 1 / sample_rate)
    shape = np.zeros_like(freqs)
    audible = freqs >= 20
    shape[audible] = 1 / np.sqrt(freqs[audible])
    tone = np.fft.irfft(spectrum * shape, samples)
    return tone * (rms / max(float(np.sqrt(np.mean(tone**2))), 1e-12))


def soft_events(rng: random.Random, noise: np.random.Generator, samples: int, sample_rate: int) -> np.ndarray:
    """A few quiet broadband knocks and rustles (a door, a step, a cup put down) at random moments."""
    track = np.zeros(samples)
    seconds = samples / sample_rate
    for _ in range(int(seconds / rng.uniform(3.0, 8.0))):
        length = min(samples, int(rng.uniform(0.02, 0.25) * sample_rate))
        start = rng.randrange(samples - length + 1)
        decay = np.exp(-np.arange(length) / (length / rng.uniform(3.0, 6.0)))
        hiss = noise.standard_normal(length)
        burst = np.cumsum(hiss) * 0.05 + hiss  # mostly hiss, with a little low-frequency body
        track[start:start + length] += rng.uniform(0.01, 0.05) * decay * burst / max(float(np.abs(burst).max()), 1e-12)
    return track


def write_hum_audio(
    path: Path, mains_hz: int, seconds: float, rng: random.Random, sample_rate: int = 8000
) -> dict[str, Any]:
    """Write a 16-bit mono WAV of room tone with mains hum (fundamental plus harmonics, drifting like a real grid)."""
    if mains_hz not in MAINS_FREQUENCIES:
        raise ValueError(f"mains frequency must be 50 or 60 Hz, got {mains_hz!r}")
    if not seconds > 0:
        raise ValueError(f"seconds must be positive, got {seconds!r}")
    if sample_rate < 2 * mains_hz * max(HARMONIC_LEVELS) + 100:
        raise ValueError(f"sample rate {sample_rate} Hz is too low to carry the hum's harmonics")
    samples = round(seconds * sample_rate)
    noise = np.random.Generator(np.random.PCG64(rng.getrandbits(64)))
    deviation = enf_deviation(rng, samples, sample_rate, rng.uniform(*DRIFT_LIMIT_HZ))
    phase = 2 * np.pi * np.cumsum(mains_hz + deviation) / sample_rate
    levels = {1: 1.0} | {k: rng.uniform(*span) for k, span in HARMONIC_LEVELS.items()}
    hum = sum(level * np.sin(k * phase + rng.uniform(0, 2 * np.pi)) for k, level in levels.items())
    # Loads switching on and off make the hum swell and fade a little over seconds.
    swell = 1 + 0.1 * np.sin(2 * np.pi * np.arange(samples) / sample_rate / rng.uniform(4, 12) + rng.uniform(0, 6.3))
    signal = rng.uniform(0.008, 0.03) * swell * hum
    signal += room_tone(noise, samples, sample_rate, rms=rng.uniform(0.006, 0.015))
    signal += soft_events(rng, noise, samples, sample_rate)
    pcm = np.clip(np.rint(signal * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.tobytes())
    return {
        "mains_hz": mains_hz,
        "harmonics": [k * mains_hz for k in sorted(HARMONIC_LEVELS)],
        "drift_hz_max": math.ceil(float(np.abs(deviation).max()) * 1e4) / 1e4,
        "seconds": round(samples / sample_rate, 6),
        "sample_rate": sample_rate,
    }
