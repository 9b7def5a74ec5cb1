"""The visitor pages: search, a material, the Ashby chart, compare, about; the unit switch
(a cookie, for the session); the chart data as JSON; the UI's own static files and the
vendored plotly.js bundle. Nothing here writes to the core."""

from __future__ import annotations

import gzip
import mimetypes
import re
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from biomatdb import __version__
from biomatdb.catalog import datasets_json, find_material, material_json
from biomatdb.errors import BiomatError, NotFoundError, QueryError
from biomatdb.vocabulary import get_vocabulary
from biomatdb_api import params
from biomatdb_api.content_coding import choose_coding
from biomatdb_api.deps import ChemistryDep, ReadEngineDep, SearchDep, rate_limited
from biomatdb_api.display import distinct_documents, same_material_message
from biomatdb_api.responses import OrjsonResponse
from biomatdb_api.ui import about, ashby, pages, selection
from biomatdb_api.ui.display import (
    UNITS_COOKIE,
    View,
    display_choices,
    parse_units_cookie,
    system_choices,
    unit_label,
    units_cookie,
    view_of,
)
from biomatdb_ingest.fixtures import default_fixtures_dir, fixture_notes
from biomatdb_search.model import decode_cursor, encode_cursor
from biomatdb_search.service import build_query

router = APIRouter(include_in_schema=False)
# pages and their data count against the same per-client limit as the API (static assets do not)
_RATE_LIMITED = [Depends(rate_limited)]

_HERE = Path(__file__).parent
templates = Jinja2Templates(directory=_HERE / "templates")
templates.env.filters["unit_label"] = unit_label
templates.env.globals["class_colour"] = pages.class_colour
templates.env.globals["qs"] = lambda **params: urlencode({k: v for k, v in params.items() if v})

PAGE_SIZE = 20
SEARCH_FACETS = [
    "class",
    "application",
    "biodegradable",
    "property",
    "element",
    "medium",
    "state",
    "endpoint",
    "outcome",
]

# Only this app's own origin may be reached from a page: a browser refuses anything else.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
_STATIC_NAME = re.compile(r"^[\w-]+\.(css|js|svg|png|ico)$")


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    view = view_of_request(request)
    context = {
        "version": __version__,
        "read_only": request.app.state.settings.read_only,
        # every link and form a page makes keeps the reader's units (qs(**view_params), hidden inputs)
        "view_params": view.params,
        "view_query": ("?" + urlencode(view.params)) if view.params else "",
        "unit_system": view.choice.system or "",
        "unit_systems": system_choices(),
        "units_ignored": view.ignored,
        **context,
    }
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def view_of_request(request: Request) -> View:
    """The reader's display units: ``?units=``/``?unit_system=``, else the unit switch's cookie."""
    return view_of(request.query_params, request.cookies.get(UNITS_COOKIE))


def not_found(request: Request, message: str) -> HTMLResponse:
    return render(request, "not_found.html", {"page": "", "message": message}, status_code=404)


# --- pages ---------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse, name="ui_search", dependencies=_RATE_LIMITED)
def search_page(
    request: Request,
    search: SearchDep,
    engine: ReadEngineDep,
    q: Annotated[str | None, Query(max_length=params.TEXT_MAX)] = None,
    filter: Annotated[str | None, Query(max_length=params.FILTER_MAX)] = None,
    sort: Annotated[str | None, Query(max_length=params.SORT_MAX)] = None,
    cursor: Annotated[str | None, Query(max_length=params.CURSOR_MAX)] = None,
    match: Annotated[Literal["possible", "certain"], Query()] = "possible",
    uncertainty: Annotated[Literal["point", "interval"], Query()] = "point",
) -> HTMLResponse:
    """Search: free text and the filter language; facets add to the filter; the URL holds it all.
    Without words, the materials with the most to show (a Young's modulus) come first."""
    q, filter = (q or "").strip(), (filter or "").strip()
    sorts = pages.sort_choices(bool(q))
    sort = sort if sort in dict(sorts) else sorts[0][0]  # "relevance" in older links is the default now
    sort_param = None if sort == sorts[0][0] else sort
    # what shapes the answer besides the words and the filter, as the page's links carry it (defaults left out)
    state = {
        "sort": sort_param,
        "match": match if match == "certain" else None,
        "uncertainty": uncertainty if uncertainty != "point" else None,
    }
    context: dict[str, Any] = {
        "page": "search",
        "q": q,
        "filter": filter,
        "examples": pages.FILTER_EXAMPLES,
        "error": None,
        "result": None,
        "sorts": sorts,
        "sort": sort,
        "match": match,
        "uncertainty": uncertainty,
        "uncertainties": pages.UNCERTAINTY_CHOICES,
        "search_params": {"q": q, "filter": filter, **state},
        # a download holds what the page shows, in its order: the sort is said even when it is the page's default
        "download_params": {"q": q, "filter": filter, **state, "sort": pages.effective_sort(sort, bool(q))},
    }
    try:
        query = build_query(
            text=q or None,
            filter_text=filter or None,
            facets=SEARCH_FACETS,
            limit=PAGE_SIZE,
            sort=pages.effective_sort(sort, bool(q)),
            cursor=cursor or None,
            match=match,
            uncertainty=uncertainty,
        )
        offset = decode_cursor(query)
        result = search.search(query)
    except QueryError as exc:
        context["error"] = pages.positioned_error(filter, exc)
        if context["error"]["subject"] == "cursor":  # the same search from its first page
            first = {"q": q, "filter": filter, **state}
            first |= view_of_request(request).params
            context["error"]["restart"] = "/?" + urlencode({k: v for k, v in first.items() if v})
        return render(request, "search.html", context, status_code=400)
    view = view_of_request(request)
    facets = pages.facet_links(
        result.facets,
        q,
        filter,
        state=state,
        view=view,
        condition_properties=pages.condition_properties(engine, result.facets),
    )
    context.update(
        result=result,
        offset=offset,
        previous_cursor=encode_cursor(query, max(0, offset - PAGE_SIZE)) if offset > 0 else None,
        rows=pages.result_rows(engine, result, view),
        facets=facets,
        active_facets=sum(link["active"] for group in facets for link in group["links"]),
    )
    return render(request, "search.html", context)


@router.get("/materials/{material_id}", response_class=HTMLResponse, name="ui_material", dependencies=_RATE_LIMITED)
def material_page(request: Request, material_id: str, engine: ReadEngineDep, chemistry: ChemistryDep) -> HTMLResponse:
    """One material: structure drawing, properties by category with conditions and sources, similar materials."""
    with Session(engine) as session:
        try:
            material = find_material(session, material_id)
        except NotFoundError as exc:
            return not_found(request, exc.message)
        document = material_json(material)
        own_id = material.id
    view = view_of_request(request)
    svg = pages.structure_of(document)
    context = {
        "page": "material",
        "material": document,
        "svg": svg,
        "makeup": pages.makeup_of(document, svg),
        "categories": pages.grouped_properties(document, view),
        "similar": pages.similar_materials(engine, chemistry, own_id, document),
        "evidence": pages.evidence_matrix(document),
        "evidence_kinds": pages.EVIDENCE_KINDS,
        # the chart it is linked to has values of both axes for it; none when it has no such pair
        "ashby_axes": ashby.axes_for(
            document["measurements"], {p["key"]: p["count"] for p in pages.properties_with_data(engine, view)}
        ),
        "next": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }
    return render(request, "material.html", context)


@router.get("/ashby", response_class=HTMLResponse, name="ui_ashby", dependencies=_RATE_LIMITED)
def ashby_page(
    request: Request,
    engine: ReadEngineDep,
    x: Annotated[str, Query(max_length=params.PROPERTY_KEY_MAX)] = "density",
    y: Annotated[str, Query(max_length=params.PROPERTY_KEY_MAX)] = "youngs_modulus",
    filter: Annotated[str | None, Query(max_length=params.FILTER_MAX)] = None,
    highlight: Annotated[str | None, Query(max_length=params.MATERIAL_ID_MAX)] = None,
) -> HTMLResponse:
    """An Ashby chart of any two properties, filtered with the filter language; ``highlight``
    marks one material on it."""
    filter = (filter or "").strip()
    choices = pages.properties_with_data(engine, view_of_request(request))
    error = None
    for axis, key in (("x", x), ("y", y)):
        message = ashby.unknown_axis(key)
        if message is not None and error is None:
            title = f"The {ashby.AXIS_NAMES[axis]} has a problem"
            error = {"subject": axis, "title": title, "message": message, "position": None}
    if filter and error is None:
        try:
            build_query(filter_text=filter)
        except QueryError as exc:
            error = pages.positioned_error(filter, exc)
    context = {
        "page": "ashby",
        "x": x,
        "y": y,
        "filter": filter,
        "highlight": highlight or "",
        "x_choices": ashby.axis_choices(choices, x),
        "y_choices": ashby.axis_choices(choices, y),
        "error": error,
        "examples": pages.ASHBY_EXAMPLES,
    }
    return render(request, "ashby.html", context, status_code=400 if error else 200)


@router.get("/ui/ashby.json", name="ui_ashby_data", dependencies=_RATE_LIMITED)
def ashby_data(
    request: Request,
    engine: ReadEngineDep,
    chemistry: ChemistryDep,
    x: Annotated[str, Query(max_length=params.PROPERTY_KEY_MAX)] = "density",
    y: Annotated[str, Query(max_length=params.PROPERTY_KEY_MAX)] = "youngs_modulus",
    filter: Annotated[str | None, Query(max_length=params.FILTER_MAX)] = None,
    highlight: Annotated[str | None, Query(max_length=params.MATERIAL_ID_MAX)] = None,
) -> Response:
    """Every material with both properties as spans in the reader's units, per class with its
    envelope; each axis's scale and range; the index lines; the caption (``biomatdb_api.ui.ashby``)."""
    view = view_of_request(request)
    for key in (x, y):
        message = ashby.unknown_axis(key)
        if message is not None:
            return OrjsonResponse({"error": {"message": message, "position": None}}, status_code=400)
    parsed = None
    if filter and filter.strip():
        try:
            parsed = build_query(filter_text=filter).filter
        except QueryError as exc:
            return OrjsonResponse({"error": pages.positioned_error(filter.strip(), exc)}, status_code=400)
    marked = None
    if highlight:
        with Session(engine) as session:
            try:
                material = find_material(session, highlight)
            except NotFoundError as exc:
                return OrjsonResponse({"error": {"message": exc.message, "position": None}}, status_code=404)
            marked = (material.public_id, material.name)
    return OrjsonResponse(ashby.chart(engine, chemistry, x=x, y=y, parsed=parsed, view=view, highlight=marked))


@router.get("/select", response_class=HTMLResponse, name="ui_select", dependencies=_RATE_LIMITED)
def select_page(request: Request, search: SearchDep, engine: ReadEngineDep) -> HTMLResponse:
    """Find a material for…: a requirement (a preset to start from, a constraint, weighted
    objectives) ranked as ``POST /api/v1/select`` ranks it, the ranked list with each criterion's
    score and source, and an Ashby chart of the candidates. The address holds the requirement."""
    view = view_of_request(request)
    state = selection.stated(request.query_params)
    context: dict[str, Any] = {
        "page": "select",
        "state": state,
        "presets": selection.preset_choices(),
        "policies": selection.POLICIES,
        "missing_choices": selection.MISSING,
        "kinds": [(kind, selection.KIND_LABELS[kind]) for kind in ("max", "min", "match")],
        "property_keys": selection.property_keys(),
        "tissues": selection.tissue_names(engine),
        "error": None,
        "answer": None,
        "rows": selection.with_blank_row(state.rows),
        "constraint": state.constraint,
    }
    context.update(axis_choices=selection.axis_choices(None), x=state.x or "density", y=state.y or "youngs_modulus")
    if not state.preset and not state.rows:
        return render(request, "select.html", context)
    context["error"] = selection.constraint_error(state)
    if context["error"] is not None:
        return render(request, "select.html", context, status_code=400)
    try:
        answer = selection.run(search, engine, state, view)
        x, y = selection.axes_of(state, answer)
        chart = selection.chart_data(search, engine, answer, x, y, view)
    except BiomatError as exc:
        context["error"] = selection.error_of(exc)
        return render(request, "select.html", context, status_code=400)
    context.update(
        answer=answer,
        constraint=answer.constraint or "",
        rows=selection.with_blank_row(selection.rows_of(answer)),
        headings=selection.headings(answer),
        ranked=selection.ranked_rows(answer),
        listed=min(len(answer.results), selection.LISTED),
        chart=chart,
        x=x,
        y=y,
        axis_choices=selection.axis_choices(answer),
        share=selection.share_query(state, answer, view),
    )
    return render(request, "select.html", context)


@router.get("/compare", response_class=HTMLResponse, name="ui_compare", dependencies=_RATE_LIMITED)
def compare_page(
    request: Request,
    engine: ReadEngineDep,
    ids: Annotated[list[str], Query(max_length=params.IDS_MAX)] = [],  # noqa: B006
) -> HTMLResponse:
    """Two to six materials side by side, and a chart of their properties normalised to the highest."""
    names = list(dict.fromkeys(part.strip() for item in ids for part in item.split(",") if part.strip()))
    context: dict[str, Any] = {"page": "compare", "ids": names, "error": None, "table": None}
    if not 2 <= len(names) <= 6:
        context["error"] = (
            f"Pick 2 to 6 materials to compare (you picked {len(names)}): tick them in the search "
            "results, or put their ids in the address, e.g. /compare?ids=PLLA,PCL."
        )
        return render(request, "compare.html", context, status_code=400 if names else 200)
    with Session(engine) as session:
        try:
            documents, same = distinct_documents(
                [(name, material_json(find_material(session, name))) for name in names]
            )
        except NotFoundError as exc:
            return not_found(request, exc.message)
    if len(documents) < 2:
        assert same is not None, "fewer distinct materials than names: two names were one material"
        context["error"] = same_material_message(same)
        return render(request, "compare.html", context, status_code=400)
    context.update(pages.comparison(documents, view_of_request(request)))
    return render(request, "compare.html", context)


@router.get("/about", response_class=HTMLResponse, name="ui_about", dependencies=_RATE_LIMITED)
def about_page(request: Request, engine: ReadEngineDep) -> HTMLResponse:
    """What the data is: a card per dataset with its counts, source, license and how to cite it."""
    with engine.connect() as connection:
        cards = about.dataset_cards(connection, datasets_json(connection), fixture_notes(default_fixtures_dir()))
    return render(request, "about.html", {"page": "about", "datasets": cards})


@router.get("/about/datasets/{name}", response_class=HTMLResponse, name="ui_dataset_notes", dependencies=_RATE_LIMITED)
def dataset_notes_page(request: Request, name: str) -> HTMLResponse:
    """The notes that came with a fixture dataset: where it comes from, its license, how it was made."""
    notes = fixture_notes(default_fixtures_dir())
    if name not in notes:
        return not_found(request, f"no notes for a dataset {name!r}")
    shared = sorted(other for other, path in notes.items() if path == notes[name] and other != name)
    context = {
        "page": "about",
        "name": name,
        "shared": shared,
        "blocks": about.notes_blocks(notes[name].read_text(encoding="utf-8")),
    }
    return render(request, "dataset_notes.html", context)


# --- the unit switch -----------------------------------------------------------------


@router.get("/ui/units", name="ui_units", dependencies=_RATE_LIMITED)
def set_unit(
    request: Request,
    property: Annotated[str, Query(max_length=params.PROPERTY_KEY_MAX)],
    unit: Annotated[str, Query(max_length=params.PROPERTY_KEY_MAX)],
    next: Annotated[str, Query(max_length=params.NEXT_URL_MAX)] = "/",
) -> Response:
    """Show ``property`` in ``unit``, then go back to ``next`` with the choice in its ``?units=`` (and
    from now on, in a session cookie, on pages whose address names no units). Only the reader's own
    cookie changes; the core is not touched."""
    prop = get_vocabulary().properties.get(property)
    units = parse_units_cookie(request.cookies.get(UNITS_COOKIE))
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    if prop is not None and unit in display_choices(prop):
        units[prop.key] = unit
        target = _with_unit(target, request.cookies.get(UNITS_COOKIE), prop.key, unit)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(UNITS_COOKIE, units_cookie(units), httponly=True, samesite="lax")
    return response


def _with_unit(target: str, cookie: str | None, key: str, unit: str) -> str:
    """``target`` (a path of this site, with its query and fragment) whose ``?units=`` also shows
    ``key`` in ``unit``."""
    parts = urlsplit(target)
    query = dict(parse_qsl(parts.query, keep_blank_values=False))
    view = view_of(query, None if "units" in query else cookie).with_unit(key, unit)
    query.update(view.params)
    return urlunsplit(("", "", parts.path, urlencode(query), parts.fragment))


# --- assets --------------------------------------------------------------------------


#: plotly.js's basic bundle, vendored (``static/vendor/SOURCE.md``); its version is in its name
#: and so in its address, which may be cached for good
PLOTLY_BUNDLE = "plotly-basic-4.1.1.min.js"
PLOTLY_URL = f"/ui/vendor/{PLOTLY_BUNDLE}"
templates.env.globals["plotly_url"] = PLOTLY_URL
_IMMUTABLE = "public, max-age=31536000, immutable"


@cache
def _plotly_bundle() -> tuple[bytes, bytes]:
    """The bundle, and the same gzip-compressed (once, when first asked for)."""
    raw = (_HERE / "static" / "vendor" / PLOTLY_BUNDLE).read_bytes()
    return raw, gzip.compress(raw, compresslevel=9, mtime=0)


@router.get(PLOTLY_URL, name="ui_plotly")
def plotly_bundle(request: Request) -> Response:
    """plotly.js, served by the app itself (charts need no CDN): gzip-compressed when the client's
    Accept-Encoding prefers it (q-values honoured, ``biomatdb_api.content_coding``), and immutable at this
    versioned address; 406 when the header refuses gzip and identity both."""
    raw, compressed = _plotly_bundle()
    headers = {"Cache-Control": _IMMUTABLE, "X-Content-Type-Options": "nosniff", "Vary": "Accept-Encoding"}
    coding = choose_coding(request.headers.get("accept-encoding"), ("gzip",))
    if coding == "gzip":
        return Response(compressed, media_type="text/javascript", headers={**headers, "Content-Encoding": "gzip"})
    if coding is None:
        return Response(
            "The bundle is sent as gzip or uncompressed (identity); Accept-Encoding refuses both.\n",
            status_code=406,
            media_type="text/plain",
            headers={"Vary": "Accept-Encoding"},
        )
    return Response(raw, media_type="text/javascript", headers=headers)


@router.get("/ui/static/{name}", name="ui_static")
def static_file(request: Request, name: str) -> Response:
    path = _HERE / "static" / name
    if not _STATIC_NAME.match(name) or not path.is_file():
        return not_found(request, f"no file {name!r}")
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if name.endswith(".js"):
        media_type = "text/javascript"
    return Response(
        path.read_bytes(),
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    return RedirectResponse("/ui/static/favicon.svg", status_code=308)
