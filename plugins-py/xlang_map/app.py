"""`xlang-map` in Python: the same operator as `plugins/xlang-map` (Rust; its docs
are the specification): `{"user","amount"}` becomes `{"user","amount","fee","total"}`
with `fee = amount * fee_percent // 100`; anything else is dead-lettered.

Build: `scripts/build-lang-plugins` (componentize-py, world `stateless-processor`).
"""

import json

import weir

REASON = "expected a JSON object with a string `user` and an integer `amount` from 0 to 2^53-1"
MAX_AMOUNT = 2**53 - 1


class Fee(weir.Map):
    name = "xlang-map"
    version = "0.1.0"

    def init(self, settings):
        unknown = set(settings) - {"fee_percent"}
        if unknown:
            raise weir.ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
        percent = settings.get("fee_percent", 3)
        if type(percent) is not int or not 0 <= percent <= 100:
            raise weir.ConfigError("`fee_percent` must be from 0 to 100")
        self.fee_percent = percent

    def map(self, event):
        try:
            record = json.loads(event.value)
        except ValueError:
            raise weir.InvalidInput(REASON) from None
        user = record.get("user") if type(record) is dict else None
        amount = record.get("amount") if type(record) is dict else None
        if type(user) is not str or type(amount) is not int or not 0 <= amount <= MAX_AMOUNT:
            raise weir.InvalidInput(REASON)
        fee = amount * self.fee_percent // 100
        return weir.output.to_json_bytes(
            {"user": user, "amount": amount, "fee": fee, "total": amount + fee}
        )


Processor = weir.export_map(Fee)
