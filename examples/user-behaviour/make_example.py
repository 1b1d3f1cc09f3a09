#!/usr/bin/env python3
"""Makes the user-behaviour example's click stream and the sessions the pipeline must find.

  clicks.jsonl       view / cart / buy events of 150 shoppers over two days, in time order;
                     each shopper has a few sessions (30 minutes apart at least), and a
                     session ends in a purchase more often the more it carts and views
  sessions.jsonl     every session as pipeline.toml must summarise it (session windows,
                     30-minute gap, per user): views, carts, products, minutes, mean price
                     before the first purchase, and whether it bought

Deterministic: running it again writes the same files. Needs only Python 3.

  python3 examples/user-behaviour/make_example.py
"""
import json
import math
import pathlib
import random

HERE = pathlib.Path(__file__).resolve().parent
START = 1_700_000_000_000
GAP = 30 * 60_000


def clicks():
    rng = random.Random(5)
    events = []
    products = [(f"p{i:03d}", round(rng.uniform(5, 120), 2)) for i in range(200)]
    for u in range(150):
        user = f"u{u:03d}"
        affinity = rng.gauss(0.0, 0.7)
        t = START + rng.randrange(0, 6 * 3_600_000)
        while t < START + 48 * 3_600_000:
            length = rng.randrange(2, 14)
            views = carts = 0
            prices = []
            for _ in range(length):
                product, price = rng.choice(products)
                action = "cart" if rng.random() < 0.18 else "view"
                views += action == "view"
                carts += action == "cart"
                if action == "view":
                    prices.append(price)
                events.append({"user": user, "ts": t, "action": action, "product": product, "price": price})
                t += rng.randrange(20_000, 240_000)
            mean_price = sum(prices) / len(prices) if prices else 0.0
            logit = -2.6 + 1.3 * carts + 0.12 * views - 0.015 * mean_price + affinity
            if rng.random() < 1 / (1 + math.exp(-logit)):
                product, price = rng.choice(products)
                events.append({"user": user, "ts": t, "action": "buy", "product": product, "price": price})
                t += rng.randrange(20_000, 120_000)
            t += GAP + rng.randrange(30 * 60_000, 10 * 3_600_000)
    events.sort(key=lambda e: (e["ts"], e["user"]))
    return events


def sessions(events):
    by_user = {}
    for e in events:
        by_user.setdefault(e["user"], []).append(e)
    found = []
    for user, evs in sorted(by_user.items()):
        current = []
        for e in evs + [None]:
            if current and (e is None or e["ts"] >= current[-1]["ts"] + GAP):
                found.append(summary(user, current))
                current = []
            if e is not None:
                current.append(e)
    return found


def summary(user, events):
    views = carts = 0
    price_sum = 0.0
    products = set()
    until = None
    bought = 0
    for e in events:
        if bought:
            break
        until = e["ts"]
        if e["action"] == "buy":
            bought = 1
            continue
        products.add(e["product"])
        if e["action"] == "view":
            views += 1
            price_sum += e["price"]
        else:
            carts += 1
    return {"key": user, "window_start": events[0]["ts"], "views": views, "carts": carts,
            "products": len(products), "minutes": (until - events[0]["ts"]) / 60_000,
            "mean_price": price_sum / views if views else 0.0, "bought": bought}


def main():
    events = clicks()
    with open(HERE / "clicks.jsonl", "w") as f:
        for e in events:
            f.write(json.dumps(e, separators=(",", ":")) + "\n")
    found = sessions(events)
    with open(HERE / "sessions.jsonl", "w") as f:
        for s in found:
            f.write(json.dumps(s, separators=(",", ":")) + "\n")
    bought = sum(s["bought"] for s in found)
    print(f"{len(events)} clicks, {len(found)} sessions, {bought} with a purchase")


if __name__ == "__main__":
    main()
