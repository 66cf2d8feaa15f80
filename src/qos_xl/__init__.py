"""qos-xl: service-quality plan workbooks for the Kaohsiung Public Works Bureau."""

__version__ = "0.1.0"
TEMPLATE_VERSION = "2026.1"
