"""Packaged yearly tables of non-working days (``vn.toml``); read by ``queue_server.holiday_table``."""
