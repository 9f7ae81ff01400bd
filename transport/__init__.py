"""Byte links opened by URL: serial://, tcp://, usb://, sim://, loop:// (see ``transport.url``)."""
