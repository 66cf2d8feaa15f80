"""qos-xl: service-quality plan workbooks for the Kaohsiung Public Works Bureau."""

__version__ = "0.1.0"
TEMPLATE_VERSION = "2026.2"  # 2026.2: text date cells, rows that grow, a five-row frozen block
