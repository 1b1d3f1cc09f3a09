#!/usr/bin/env python3
"""Makes the IoT example's data and the results the pipeline must give.

  readings.jsonl       12 devices, one temperature reading every 30 s for 3 hours, in time
                       order; dev-04 starts to overheat after 100 minutes (+0.06 °C a
                       minute) and dev-09 falls silent after 70 minutes
  expected.json        what pipeline.toml must output: the windows of dev-04 that are
                       warnings, and when dev-09's silence alert is due

The expected warnings follow the pipeline's semantics, written out here independently:
sliding windows of 10 minutes every minute per device (mean of `temp`), then per device
a baseline of the window means it judged normal (Welford: running mean and population
variance); after 20 windows, a window whose |z| >= 5 is a warning and is not learnt.
Deterministic: running it again writes the same files. Needs only Python 3.

  python3 examples/iot/make_example.py
"""
import json
import math
import pathlib
import random

HERE = pathlib.Path(__file__).resolve().parent
START = 1_700_000_000_000
STEP = 30_000
END = START + 3 * 3_600_000
SIZE, SLIDE = 600_000, 60_000
WARMUP, Z = 20, 5.0
TIMEOUT = 300_000


def readings():
    rng = random.Random(42)
    rows = []
    devices = [f"dev-{i:02d}" for i in range(12)]
    base = {d: rng.uniform(19.0, 24.0) for d in devices}
    for t in range(START, END, STEP):
        for d in devices:
            if d == "dev-09" and t >= START + 70 * 60_000:
                continue
            temp = base[d] + rng.gauss(0.0, 0.3)
            if d == "dev-04" and t >= START + 100 * 60_000:
                temp += 0.06 * (t - START - 100 * 60_000) / 60_000
            rows.append({"device": d, "ts": t + rng.randrange(0, 1000), "temp": round(temp, 3)})
    rows.sort(key=lambda r: (r["ts"], r["device"]))
    return rows


def window_means(rows):
    windows = {}
    for r in rows:
        start = r["ts"] - r["ts"] % SLIDE
        while start > r["ts"] - SIZE:
            windows.setdefault((r["device"], start), []).append(r["temp"])
            start -= SLIDE
    by_device = {}
    for (device, start), temps in sorted(windows.items()):
        by_device.setdefault(device, []).append((start, sum(temps) / len(temps)))
    return by_device


def warnings(by_device):
    found = []
    for device, windows in sorted(by_device.items()):
        n, mean, var = 0, 0.0, 0.0
        for start, value in windows:
            std = math.sqrt(var)
            z = 0.0 if std == 0.0 else (value - mean) / std
            if n >= WARMUP and abs(z) >= Z:
                assert abs(abs(z) - Z) > 1e-3, f"{device} {start}: z {z} too close to the threshold"
                found.append({"device": device, "window_start": start, "z": z})
                continue
            if n >= WARMUP:
                assert abs(abs(z) - Z) > 1e-3, f"{device} {start}: z {z} too close to the threshold"
            n += 1
            old = mean
            mean += (value - old) / n
            var += ((value - old) * (value - mean) - var) / n
    return found


def main():
    rows = readings()
    with open(HERE / "readings.jsonl", "w") as f:
        for r in rows:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")
    by_device = window_means(rows)
    found = warnings(by_device)
    last_seen = max(r["ts"] for r in rows if r["device"] == "dev-09")
    expected = {
        "windows": sum(len(w) for w in by_device.values()),
        "warnings": found,
        "silent": {"device": "dev-09", "last_seen": last_seen, "silent_since": last_seen + TIMEOUT},
        "end_of_data": max(r["ts"] for r in rows),
    }
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    devices = sorted({w["device"] for w in found})
    print(f"{len(rows)} readings, {expected['windows']} windows, {len(found)} warnings on {devices}")


if __name__ == "__main__":
    main()
