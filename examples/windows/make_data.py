#!/usr/bin/env python3
"""Writes the input files of the window examples (deterministic: run it again and
nothing changes).

- readings.jsonl: temperature readings of three sensors, one every 5 s for 10 minutes,
  delivered slightly out of order, with two readings that arrive very late and one
  malformed line (line 40) for the dead-letter output;
- clicks.jsonl: page views of four users in bursts (sessions) separated by silences;
- heartbeats.jsonl: heartbeats of three devices; `pump-2` falls silent after 2 minutes.

Usage: python3 examples/windows/make_data.py
"""
import json
import random
from pathlib import Path

HERE = Path(__file__).parent
START = 1_700_000_000_000  # 2023-11-14T22:13:20Z
rng = random.Random(7)


def write(name, rows):
    with open(HERE / name, "w") as out:
        for row in rows:
            out.write(row if isinstance(row, str) else json.dumps(row, separators=(",", ":")))
            out.write("\n")


def readings():
    rows = []
    for step in range(120):
        for sensor, base in (("s1", 21.0), ("s2", 24.5), ("s3", 19.0)):
            ts = START + step * 5_000 + rng.randrange(0, 400)
            rows.append({"sensor": sensor, "ts": ts, "temp": round(base + rng.uniform(-2, 2), 2)})
    # Out of order: swap neighbours now and then (at most a few seconds of disorder).
    for i in range(0, len(rows) - 6, 7):
        rows[i], rows[i + 5] = rows[i + 5], rows[i]
    # Two readings that arrive minutes after their time: late.
    rows.insert(300, {"sensor": "s1", "ts": START + 12_000, "temp": 99.0})
    rows.insert(330, {"sensor": "s2", "ts": START + 410_000, "temp": 30.0})
    rows.insert(39, '{"sensor": "s3", "ts": ')  # line 40: malformed
    return rows


def clicks():
    rows = []
    pages = ["/home", "/search", "/product", "/cart", "/checkout"]
    for user in ("u1", "u2", "u3", "u4"):
        ts = START + rng.randrange(0, 30_000)
        for _session in range(rng.randrange(2, 5)):
            for _ in range(rng.randrange(1, 8)):
                rows.append({"user": user, "ts": ts, "page": rng.choice(pages)})
                ts += rng.randrange(1_000, 20_000)
            ts += rng.randrange(60_000, 300_000)  # a silence longer than the gap
    rows.sort(key=lambda row: row["ts"] + rng.randrange(0, 3_000))
    return rows


def heartbeats():
    rows = []
    for step in range(0, 300_000, 10_000):
        for device in ("pump-1", "pump-2", "fan-1"):
            if device == "pump-2" and step > 120_000:
                continue
            rows.append({"device": device, "ts": START + step + rng.randrange(0, 500)})
    return rows


write("readings.jsonl", readings())
write("clicks.jsonl", clicks())
write("heartbeats.jsonl", heartbeats())
