"""What every device service shares, below the apps and above the drivers.

``device_service.base`` owns a service's life (its worker threads started and stopped, its bus link
connected and closed), reconnecting a failed line with backoff, and publishing availability and
status; ``device_service.registry`` maps a device kind to the factory of its service, so the
``motcua device`` command only looks kinds up. Imports point down only: bus, siteconf, transport.
"""
