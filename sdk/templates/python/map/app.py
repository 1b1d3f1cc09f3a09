"""{{name}}: a Weir map operator in Python (world `stateless-processor`).

Adds `"tag": <settings.tag>` to each JSON object; anything else goes to the
dead-letter output with the reason. Build: `weir build` (or `sh build.sh`);
test: `weir test`.
"""

import json

import weir


class Operator(weir.Map):
    name = "{{name}}"
    version = "0.1.0"

    def init(self, settings):
        self.tag = settings.get("tag", "seen")
        if not isinstance(self.tag, str):
            raise weir.ConfigError("`tag` must be a string")

    def map(self, event):
        record = event.json()  # a ValueError dead-letters the event with its message
        if not isinstance(record, dict):
            raise weir.InvalidInput("expected a JSON object")
        record["tag"] = self.tag
        return weir.output.to_json_bytes(record)


# componentize-py looks for the world's export here.
Processor = weir.export_map(Operator)
