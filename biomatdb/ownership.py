"""Who may change a dataset: the one rule that the pipeline (at load, inside the load's
transaction) and the API (before it queues an upload, and on retraction) both apply.

A dataset belongs to the API key that first uploaded it. One loaded without a key (by the
CLI, or the shipped fixtures) belongs to no curator. Its owner and admins may replace or
retract it; nobody else may. A local load (the CLI, with direct access to the database)
acts with no key and is not restricted.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who asks for a change through the API: their key's id, name and whether it is an admin's."""

    key_id: int
    name: str
    admin: bool = False


def may_change(owner_key_id: int | None, actor: Actor | None) -> bool:
    """Whether ``actor`` may replace or retract a dataset owned by ``owner_key_id``."""
    if actor is None or actor.admin:
        return True
    return owner_key_id is not None and owner_key_id == actor.key_id


def refusal(dataset: str, owner_key_id: int | None) -> str:
    """Why a change was refused, for the report or the problem answer."""
    whose = "belongs to no curator (it was loaded without a key)" if owner_key_id is None else "belongs to another key"
    return f"dataset {dataset!r} {whose}: only its owner or an admin may replace or retract it"
