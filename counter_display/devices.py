"""The counter's device kinds in the device registry: LED displays and calling keypads.

Importing this module registers ``led_display`` (displays sharing one RS-485 line run as one line
service) and ``keypad`` (a caller-bus keypad, or a 433 MHz receiver when the site lists the device
in ``display.rf433_receivers``) with ``device_service.registry``; ``motcua device`` looks them up.
"""

from __future__ import annotations

from counter_display.rf433_receiver import Rf433KeypadService
from counter_display.service import KeypadService, led_services
from device_service.base import Service
from device_service.registry import KindEntry, ServiceContext, register_kind
from siteconf.model import Device


def build_leds(context: ServiceContext, devices: list[Device]) -> list[Service]:
    """One service per display, or one per line where several displays share a URL."""
    return list(led_services(context.site.site.id, devices, context.broker))


def build_keypads(context: ServiceContext, devices: list[Device]) -> list[Service]:
    """A caller-bus keypad service per device, or a receiver service for a 433 MHz one."""
    site = context.site
    services: list[Service] = []
    for device in devices:
        if device.id in site.display.rf433_receivers:
            services.append(Rf433KeypadService(site.site.id, device, context.broker, site.display.remotes))
        else:
            polled = site.display.caller_bus == "polled"
            services.append(KeypadService(site.site.id, device, context.broker, polled=polled))
    return services


register_kind("led_display", KindEntry(build_leds, shares_line=True))
register_kind("keypad", KindEntry(build_keypads))
