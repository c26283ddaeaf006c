"""JSON out through orjson, behind the interfaces Django expects: /api/recommend encodes its ~16 kB
answer twice (for the saved row and for the response), and json.dumps took about 0.2 ms each time,
a tenth of the request once the engine and validation were trimmed (benchmarks/bench_recommend_http.py).

orjson writes NaN and infinities as null (json.dumps writes them as bare NaN, which is not JSON)
and UTF-8 rather than \\u escapes; the values read back are the same."""

import json

import orjson
from django.http import HttpResponse

OPTIONS = orjson.OPT_NON_STR_KEYS


class OrjsonEncoder(json.JSONEncoder):
    """For a JSONField's `encoder`: json.dumps(value, cls=OrjsonEncoder) goes through orjson."""

    def encode(self, o) -> str:
        return orjson.dumps(o, option=OPTIONS).decode()


def json_response(payload, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(payload, option=OPTIONS), status=status, content_type="application/json")
