"""The site file: one TOML file describing a centre, validated at start-up."""

from siteconf.model import Counter, Device, Service, Site, SiteFileError, load_site

__all__ = ["Counter", "Device", "Service", "Site", "SiteFileError", "load_site"]
