"""{{name}}: a pure Nebula handler in Python. `GET /hello/{name}` answers with a greeting.

Build and serve: `nebula-host up nebula.toml --build` (needs componentize-py 0.25.1).
"""

import wit_world
from wit_world.imports import types as t


class WitWorld(wit_world.WitWorld):
    def handle(self, input: t.Input) -> t.Outcome:
        name = dict(input.request.params).get("name", "world")
        headers = [t.Header("content-type", "text/plain; charset=utf-8")]
        response = t.Response(200, headers, f"Hello, {name}!\n".encode())
        return t.Outcome_Respond((response, []))  # the response, and no writes
