"""One RS-485 master, several Modbus LED displays on one line: serialised transactions, polling,
timeouts, retries and our own echo discarded."""

from __future__ import annotations

import threading

import pytest
from support import sim_link, wait_until

from bus import models as m
from bus.client import BrokerUrl, BusClient
from counter_display.bus_master import BusMaster
from counter_display.errors import DisplayTimeoutError
from counter_display.service import LedLineService, led_services
from firmware_sim.led_display import ModbusLedDisplaySim, SharedLine
from siteconf import Site
from transport.sim import register_simulator, unregister_simulator


@pytest.fixture
def units() -> list[ModbusLedDisplaySim]:
    return [ModbusLedDisplaySim(unit=n) for n in (1, 2, 3)]


@pytest.mark.parametrize("echo", [False, True])
def test_several_displays_on_one_line_each_show_their_own_number(
    units: list[ModbusLedDisplaySim], echo: bool
) -> None:
    line = SharedLine(units, echo=echo)
    with sim_link(line, "rs485") as transport:
        master = BusMaster(transport, reply_timeout=0.3)
        displays = [master.display(sim.unit) for sim in units]
        threads = [
            threading.Thread(target=lambda d=d, n=n: [d.show_number(n * 100 + i) for i in range(20)])
            for n, d in enumerate(displays, start=1)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert [sim.shown for sim in units] == [" 119", " 219", " 319"]
    assert [sim.history for sim in units] == [[n * 100 + i for i in range(20)] for n in (1, 2, 3)]
    assert all(sim.rejected_bytes == 0 for sim in units)  # requests never collided on the line
    assert (line.echoes > 0) is echo


def test_the_poller_notices_a_silent_unit_and_its_return(units: list[ModbusLedDisplaySim]) -> None:
    changes: list[tuple[int, bool]] = []
    with sim_link(SharedLine(units, echo=True), "rs485") as transport:
        master = BusMaster(
            transport,
            retries=1,
            reply_timeout=0.1,
            poll_s=0.05,
            on_change=lambda u, o: changes.append((u, o)),
        )
        for sim in units:
            master.display(sim.unit)
        master.start()
        try:
            assert wait_until(lambda: master.online == {1: True, 2: True, 3: True})
            units[1].no_reply = True
            assert wait_until(lambda: master.online[2] is False)
            master.display(1).show_number(42)  # the others still work while unit 2 is silent
            units[1].no_reply = False
            assert wait_until(lambda: master.online[2] is True)
        finally:
            master.stop()
    assert units[0].shown == "  42"
    assert [c for c in changes if c[0] == 2] == [(2, True), (2, False), (2, True)]


def test_a_garbled_reply_is_retried_and_silence_times_out_naming_the_unit(
    units: list[ModbusLedDisplaySim],
) -> None:
    with sim_link(SharedLine(units), "rs485") as transport:
        master = BusMaster(transport, retries=2, reply_timeout=0.1)
        units[2].garble_next_reply()
        units[2].bad_crc_next_reply()
        master.display(3).show_number(7)  # two bad replies, the third attempt gets through
        assert units[2].shown == "   7"
        assert units[2].requests_served == 3
        units[0].no_reply = True
        with pytest.raises(DisplayTimeoutError, match=r"unit 1 .* after 3 attempt"):
            master.display(1).show_number(5)


def test_a_unit_outside_the_modbus_range_is_refused() -> None:
    with sim_link(SharedLine([]), "rs485") as transport, pytest.raises(ValueError, match=r"unit 1\.\.247"):
        BusMaster(transport).display(0)


@pytest.mark.integration
def test_displays_sharing_a_line_follow_their_counters_and_report_a_silent_unit(
    demo_site: Site, mosquitto: BrokerUrl
) -> None:
    sims = [ModbusLedDisplaySim(unit=1), ModbusLedDisplaySim(unit=2)]
    name = f"line-{demo_site.site.id}"
    register_simulator(name, SharedLine(sims, echo=True))
    devices = [
        demo_site.device(f"led-{n}").model_copy(update={"url": f"sim://{name}", "address": n}) for n in (1, 2)
    ]
    register_simulator("led-3", ModbusLedDisplaySim())  # a display on a line of its own
    services = led_services(demo_site.site.id, [*devices, demo_site.device("led-3")], mosquitto)
    unregister_simulator("led-3")
    assert [type(s).__name__ for s in services] == ["LedLineService", "LedDisplayService"]
    services[1].start().stop()
    line = services[0]
    assert isinstance(line, LedLineService)
    line.master.poll_s = 0.05
    health: dict[str, list[m.Health]] = {"led-1": [], "led-2": []}
    server = BusClient(mosquitto, demo_site.site.id, "queue-server")  # stands in for the server
    for device_id, seen in health.items():

        def record(_t: str, s: m.DeviceStatus, seen: list[m.Health] = seen) -> None:
            seen.append(s.health)

        server.subscribe(server.topics.device_status(device_id), record, m.DeviceStatus)
    try:
        server.start()
        line.start()
        for counter, number in ((1, "A1001"), (2, "B2001")):
            state = m.CounterState(
                counter=counter,
                name=f"Quầy {counter}",
                status=m.CounterStatus.OPEN,
                current=number,
                call_seq=1,
            )
            server.publish(server.topics.counter_state(counter), state, retain=True)
        assert wait_until(lambda: [s.shown for s in sims] == ["1001", "2001"]), [s.shown for s in sims]
        sims[1].no_reply = True
        assert wait_until(lambda: health["led-2"][-1:] == [m.Health.ERROR])
        sims[1].no_reply = False
        assert wait_until(lambda: health["led-2"][-1:] == [m.Health.OK])
        assert m.Health.ERROR not in health["led-1"]
    finally:
        for counter in (1, 2):
            server.publish(server.topics.counter_state(counter), "", retain=True)
        line.stop()
        server.stop()
        unregister_simulator(name)
