"""{{name}}: a Weir window aggregate in Python (world `window-aggregate`).

Count and sum of a numeric field (setting `field`, default `amount`) per key and
window; each firing emits `{"key", "start", "end", "count", "sum"}`. The accumulator
is `[count, sum]`, stored by the host as JSON. Build: `weir build`; test: `weir test`.
"""

import json

import weir


class Operator(weir.Aggregate):
    name = "{{name}}"
    version = "0.1.0"

    def init(self, settings):
        self.field = settings.get("field", "amount")

    def create(self):
        return [0, 0]

    def add(self, acc, event):
        record = event.json()
        value = record.get(self.field) if isinstance(record, dict) else None
        if type(value) not in (int, float):
            raise weir.InvalidInput(f"expected a JSON object with a number `{self.field}`")
        return [acc[0] + 1, acc[1] + value]

    def merge(self, accs):
        return [sum(acc[0] for acc in accs), sum(acc[1] for acc in accs)]

    def finish(self, acc, firing):
        key = (firing.key or b"").decode("utf-8", "replace")
        result = {"key": key, "start": firing.start, "end": firing.end, "count": acc[0], "sum": acc[1]}
        return json.dumps(result, separators=(",", ":"))


# componentize-py looks for the world's export here.
Aggregator = weir.export_aggregate(Operator)
