"""A broker for the demo and the tests: Mosquitto when installed, otherwise amqtt in-process.

Mosquitto runs as a child process with a generated configuration (loopback listener,
``max_queued_messages 0`` so a burst to a slow subscriber is never silently dropped). amqtt, the
pure-Python fallback, speaks MQTT 3.1.1 only; it is configured to refuse anonymous clients because
with anonymous access it silently drops messages queued for offline sessions, so every motcua client
sends a user name.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bus.client import MAX_PAYLOAD_BYTES, BrokerUrl, BusError

log = logging.getLogger(__name__)

DEFAULT_PORT = 1883
DEMO_USER = "motcua"


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as brokers do: TIME_WAIT is free
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def mosquitto_config(
    port: int,
    host: str = "127.0.0.1",
    extra: str = "",
    auth: tuple[Path, Path] | None = None,
    tls: tuple[Path, Path, Path] | None = None,
) -> str:
    """The broker's configuration; with ``auth`` = (password file, ACL file) anonymous access is off;
    with ``tls`` = (CA, certificate, key) the listener speaks TLS only."""
    access = (
        "allow_anonymous true\n"
        if auth is None
        # Run as root, Mosquitto drops to the user "mosquitto" before reading the files: stay who we
        # are, so the 0600 files made by `motcua site credentials` for this user stay readable.
        else f"allow_anonymous false\npassword_file {auth[0]}\nacl_file {auth[1]}\nuser {_user()}\n"
    )
    secure = "" if tls is None else f"cafile {tls[0]}\ncertfile {tls[1]}\nkeyfile {tls[2]}\n"
    return (
        f"listener {port} {host}\n"
        f"{secure}"
        f"{access}"
        "max_queued_messages 0\n"
        "set_tcp_nodelay true\n"
        "persistence false\n"
        f"message_size_limit {MAX_PAYLOAD_BYTES}\n"
        "log_dest stderr\n"
        "log_type error\nlog_type warning\nlog_type notice\n"
        f"{extra}"
    )


def _user() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


class EmbeddedBroker:
    """Start with ``start()``; ``url`` is then the broker's address for every client."""

    def __init__(
        self,
        port: int | None = None,
        *,
        engine: str = "auto",
        host: str = "127.0.0.1",
        auth: tuple[Path, Path] | None = None,
        tls: tuple[Path, Path, Path] | None = None,
    ) -> None:
        if engine not in {"auto", "mosquitto", "amqtt"}:
            raise ValueError(f"broker engine {engine!r}: use auto, mosquitto or amqtt")
        if engine == "auto":
            engine = "mosquitto" if shutil.which("mosquitto") else "amqtt"
        if engine == "amqtt":
            log.warning("amqtt fallback broker: no per-client users, ACL or TLS; for a demo only")
        self.engine = engine
        self.host = host
        self.auth = auth  # (password file, ACL file): Mosquitto only
        self.tls = tls  # (CA, certificate, key): Mosquitto only
        if (auth is not None or tls is not None) and engine != "mosquitto":
            raise BusError("users and ACL need Mosquitto; the amqtt fallback is for the demo only")
        if port is None:  # the default port if free, else any free port
            self.port = DEFAULT_PORT if port_is_free(DEFAULT_PORT, host) else free_port(host)
        elif port == 0:
            self.port = free_port(host)
        elif port_is_free(port, host):
            self.port = port
        else:
            raise BusError(f"cannot start a broker on {host}:{port}: the port is in use")
        self._proc: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._amqtt: _AmqttThread | None = None

    @property
    def url(self) -> BrokerUrl:
        protocol = 5 if self.engine == "mosquitto" else 311
        ca = str(self.tls[0]) if self.tls is not None else None
        return BrokerUrl(
            self.host, self.port, username=DEMO_USER, protocol=protocol, tls=ca is not None, ca_file=ca
        )

    def start(self, timeout: float = 10.0) -> BrokerUrl:
        if self.engine == "mosquitto":
            self._start_mosquitto()
            ready = wait_for_port(self.host, self.port, timeout)
        else:
            self._amqtt = _AmqttThread(self.host, self.port)
            self._amqtt.start()
            ready = self._amqtt.started.wait(timeout)  # a bare TCP probe upsets amqtt
        if not ready:
            self.stop()
            raise BusError(f"{self.engine} did not listen on {self.host}:{self.port} within {timeout} s")
        log.info("%s broker listening on %s:%d", self.engine, self.host, self.port)
        return self.url

    def _start_mosquitto(self) -> None:
        self._workdir = tempfile.TemporaryDirectory(prefix="motcua-broker-")
        conf = Path(self._workdir.name) / "mosquitto.conf"
        conf.write_text(mosquitto_config(self.port, self.host, auth=self.auth, tls=self.tls))
        logfile = (Path(self._workdir.name) / "mosquitto.log").open("wb")
        # Its own session: a Ctrl-C at the terminal reaches only us, and we stop the broker last,
        # after every client has said goodbye.
        self._proc = subprocess.Popen(
            ["mosquitto", "-c", str(conf)],
            stdout=logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        logfile.close()

    def reload(self) -> None:
        """Make Mosquitto reread its password and ACL files (``SIGHUP``, as ``systemctl reload``).

        It returns at once; the broker applies the files a moment later."""
        if self._proc is None:
            raise BusError("only a running Mosquitto rereads its users and ACL")
        self._proc.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        if self._amqtt is not None:
            self._amqtt.stop()
            self._amqtt = None
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class _AmqttThread(threading.Thread):
    """amqtt's asyncio broker on a loop of its own, so the rest of the process stays synchronous."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(name="amqtt-broker", daemon=True)
        self.config: dict[str, Any] = {
            "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": False}},
        }
        self.loop = asyncio.new_event_loop()
        self._broker: Any = None
        self.started = threading.Event()

    def run(self) -> None:
        from amqtt.broker import Broker

        asyncio.set_event_loop(self.loop)

        async def start() -> None:
            self._broker = Broker(self.config)
            await self._broker.start()

        self.loop.run_until_complete(start())
        self.started.set()
        try:
            self.loop.run_forever()
        finally:
            # Close the loop (and its self-pipe sockets) once stopped, so nothing leaks at exit.
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.close()

    def stop(self) -> None:
        if self._broker is not None and self.started.is_set():
            future = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self.loop)
            try:
                future.result(timeout=5)
            except Exception:
                log.warning("amqtt did not shut down cleanly", exc_info=True)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.join(timeout=5)
