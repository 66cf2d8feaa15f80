"""The consolidated bureau workbook that managers read: one module per sheet, ``book`` puts them together."""

from qos_xl.output.consolidated.book import output_path, write_consolidated

__all__ = ["output_path", "write_consolidated"]
