"""The API's default response class: JSON through orjson (FastAPI's own ``ORJSONResponse``
is deprecated in the FastAPI release we use, so this is the few lines it was)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class OrjsonResponse(JSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)
