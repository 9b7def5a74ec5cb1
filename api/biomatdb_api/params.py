"""How long each free-text request parameter may be, in characters: one table that the
routes declare (so that the OpenAPI document states every limit) and the UI shares.

A parameter past its limit is refused with 414 problem+json naming the parameter and the
limit (``biomatdb_api.problems``); a query string past ``QUERY_STRING_MAX_BYTES`` is refused whole
before any route runs (``biomatdb_api.limits.QueryStringLimit``). The HTTP server is configured to
read request heads of ``REQUEST_HEAD_MAX_BYTES`` (``biomatdb_api.server``), more than the longest
query string the limits allow even when every character is four UTF-8 bytes written as
percent escapes, so a long request gets its answer instead of a dropped connection.
"""

from __future__ import annotations

FILTER_MAX = 4096  # a filter in the filter language
TEXT_MAX = 1000  # free text (q)
SORT_MAX = 100
CURSOR_MAX = 1000
UNITS_MAX = 2000  # property:unit pairs
UNIT_SYSTEM_MAX = 16  # a unit system's key (SI, US)
IDS_MAX = 3000  # material ids or names, comma-separated
NAME_MAX = 255  # a dataset's id or name
MATERIAL_ID_MAX = 500  # a material's public id, name or synonym
PROPERTY_KEY_MAX = 64  # a property key or a unit
JOB_ID_MAX = 64
NEXT_URL_MAX = 2000  # where a UI form returns to

# The longest query string any route accepts: every text parameter of /materials at its
# limit, each character four UTF-8 bytes percent-encoded (12 ASCII bytes), with room over.
QUERY_STRING_MAX_BYTES = 128 * 1024
# What the server reads of a request line and its headers before it gives up on a request:
# past the query-string limit, so that a query string well beyond it still gets its 414.
REQUEST_HEAD_MAX_BYTES = 1024 * 1024
