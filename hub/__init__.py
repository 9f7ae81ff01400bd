"""The province hub: every centre of a province in one view, each centre still autonomous.

A centre ships its hash-chained event log and its retained device and queue state over a Mosquitto
bridge (``hub.shipper``, ``hub.bridge``); the hub follows each centre's chain (``hub.follow``), stores
it in PostgreSQL (``hub.store``), asks for what is missing (``hub.ingest``) and serves the province
dashboard (``hub.web``) with the centres' reports compared and ranked (``hub.reports``,
``hub.report_pages``). See ``docs/hub.md``.
"""


class HubError(Exception):
    """Root of the hub's errors; the message names what was wrong and what to do."""
