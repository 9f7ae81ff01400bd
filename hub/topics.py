"""The hub's topics, all under a centre's own prefix ``motcua/v1/{site}/hub/``.

Grammar::

    hub/events      centre -> hub   QoS 1   {"events": [{seq, at, type, data, request_id, prev_hash, hash}]}
                                            ``data`` is the JSON text exactly as the centre stored it
    hub/head        centre -> hub   retained {"seq", "hash", "at", "ts"}: the centre's newest event, and
                                            when the shipper last said so (a heartbeat)
    hub/link        bridge -> hub   retained "1" / "0": Mosquitto's bridge notification (its Last Will)
    hub/backfill    hub -> centre   QoS 1   {"from_seq", "to_seq"}: resend these from the database

Only ``hub/backfill`` travels towards the centre; everything else a centre bridges is published under
its own prefix, which the hub broker's ACL enforces.
"""

from __future__ import annotations

from bus.topics import ROOT, check_level

EVENTS = "hub/events"
HEAD = "hub/head"
LINK = "hub/link"
BACKFILL = "hub/backfill"

# The retained state a centre bridges as is (relative to its prefix), for the province dashboard.
STATE_TOPICS = (
    "server/availability",
    "device/+/availability",
    "device/+/info",
    "device/+/status",
    "queue/+/state",
    "counter/+/state",
)


def prefix(site: str) -> str:
    return f"{ROOT}/{check_level(site, 'site id')}/"


def topic(site: str, leaf: str) -> str:
    return prefix(site) + leaf


def split(topic_name: str) -> tuple[str, str] | None:
    """``(site, leaf)`` of a topic under ``motcua/v1/``, or ``None`` for anything else."""
    head = ROOT + "/"
    if not topic_name.startswith(head):
        return None
    site, _, leaf = topic_name[len(head) :].partition("/")
    if not site or not leaf:
        return None
    try:
        check_level(site, "site id")
    except ValueError:
        return None
    return site, leaf
