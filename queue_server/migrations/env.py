"""Alembic environment: migrations run on the connection ``Store.open`` passes in.

Developers may also run ``alembic -c /dev/null -x url=sqlite:///x.db ...`` with ``script_location`` set
to this folder; then the URL comes from ``-x url=``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

connection = context.config.attributes.get("connection")
if context.is_offline_mode():
    raise SystemExit("the store's migrations run online only (use `motcua db upgrade --db URL`)")
if connection is None:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("give the database with -x url=...")
    with sa.create_engine(url).begin() as own:
        context.configure(connection=own, render_as_batch=own.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
