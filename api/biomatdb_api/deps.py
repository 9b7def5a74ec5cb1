"""What routes depend on, as ``Annotated`` aliases: the settings, the engines (primary, and
the read engine of searches and public reads), a session per request, the search backend, the chemistry index, the caller's key and role, the
read-only switch and the rate limit. Everything comes from ``app.state`` (built in the
lifespan by ``create_app``), nothing from module globals."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from biomatdb.apikeys import KeyHolder, authenticate
from biomatdb.display import UnitChoice, unit_choice, unit_systems
from biomatdb.ownership import Actor
from biomatdb.settings import Settings
from biomatdb_api import params
from biomatdb_api.problems import ProblemError
from biomatdb_search.chemistry import ChemistryIndex
from biomatdb_search.contract import SearchBackend


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_engine(request: Request) -> Engine:
    return request.app.state.engine


async def get_read_engine(request: Request) -> Engine:
    """The engine of searches and public reads: the replica when ``database_read_url`` is set,
    else the primary. Never for a write, nor for a read that must see a write just made."""
    return request.app.state.read_engine


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def get_read_session(engine: Annotated[Engine, Depends(get_read_engine)]) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


async def get_search(request: Request) -> SearchBackend:
    return request.app.state.search


async def get_chemistry(request: Request) -> ChemistryIndex:
    return request.app.state.chemistry


async def get_unit_choice(
    units: Annotated[
        str | None,
        Query(
            max_length=params.UNITS_MAX,
            description="Display units, property:unit pairs separated by commas, over the unit system's.",
            examples=["youngs_modulus:MPa,glass_transition_temperature:degF"],
        ),
    ] = None,
    unit_system: Annotated[
        str | None,
        Query(
            max_length=params.UNIT_SYSTEM_MAX,
            description=f"A preset of display units: {', '.join(unit_systems())}. "
            "Default: each property's display unit (MPa, GPa, °C, g/cm³, days to years by magnitude).",
        ),
    ] = None,
) -> UnitChoice:
    """The display units a request asks for (``?units=``, ``?unit_system=``); refused with 400 when
    a unit does not fit its property or the system is unknown. Checking is CPU only: no thread hop."""
    return unit_choice(units, unit_system)


SettingsDep = Annotated[Settings, Depends(get_settings)]
UnitChoiceDep = Annotated[UnitChoice, Depends(get_unit_choice)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]
ReadEngineDep = Annotated[Engine, Depends(get_read_engine)]
ReadSessionDep = Annotated[Session, Depends(get_read_session)]
SearchDep = Annotated[SearchBackend, Depends(get_search)]
ChemistryDep = Annotated[ChemistryIndex, Depends(get_chemistry)]

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key made with `biomatdb apikey create`, sent as `Authorization: Bearer <key>`.",
)


async def get_key_holder(
    engine: EngineDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> KeyHolder | None:
    """The holder of the request's key, or None when there is no valid one; the key is looked up
    in a worker thread (a database read), a request without one costs no thread hop."""
    if credentials is None or not credentials.credentials:
        return None
    return await run_in_threadpool(_authenticate, engine, credentials.credentials)


def _authenticate(engine: Engine, key: str) -> KeyHolder | None:
    with engine.connect() as connection:
        return authenticate(connection, key)


KeyHolderDep = Annotated[KeyHolder | None, Depends(get_key_holder)]

_UNAUTHORIZED = "this route needs a valid API key, sent as 'Authorization: Bearer <key>'"


def require_role(role: str, *, write: bool = False) -> Callable[..., Awaitable[KeyHolder]]:
    """A dependency admitting keys with ``role`` (or a higher one): 401 without a valid key,
    403 with a key that lacks the role. Unknown, malformed and revoked keys read alike. A
    ``write`` route is refused (403) to everyone while the service runs read-only."""

    async def dependency(settings: SettingsDep, holder: KeyHolderDep) -> KeyHolder:
        if write and settings.read_only:
            raise ProblemError(403, "this BiomatDB runs read-only; writes are turned off", code="read-only")
        if holder is None:
            raise ProblemError(401, _UNAUTHORIZED, code="unauthorized", headers={"WWW-Authenticate": "Bearer"})
        if not holder.may(role):
            raise ProblemError(403, f"this route needs the {role} role", code="forbidden")
        return holder

    dependency.__name__ = f"require_{role}" + ("_write" if write else "")
    return dependency


def actor_of(holder: KeyHolder) -> Actor:
    """The key holder as the ownership rule sees them (biomatdb.ownership)."""
    return Actor(key_id=holder.id, name=holder.name, admin=holder.may("admin"))


CuratorWriteDep = Annotated[KeyHolder, Depends(require_role("curator", write=True))]
CuratorDep = Annotated[KeyHolder, Depends(require_role("curator"))]


async def rate_limited(request: Request, holder: KeyHolderDep) -> None:
    """The public routes' rate limit, per API key when a valid one is sent, else per client address
    (counted in memory: no I/O, so on the event loop, not a worker thread)."""
    limiter = request.app.state.limiter
    if limiter is None:
        return
    identity = f"key:{holder.id}" if holder is not None else f"addr:{request.client.host if request.client else '-'}"
    for item in limiter.items:
        if not limiter.strategy.hit(item, identity):
            reset_at, _remaining = limiter.strategy.get_window_stats(item, identity)
            wait = max(1, math.ceil(reset_at - time.time()))
            raise ProblemError(
                429,
                f"more than {item} requests; try again in {wait} s",
                code="rate-limited",
                headers={"Retry-After": str(wait)},
            )
