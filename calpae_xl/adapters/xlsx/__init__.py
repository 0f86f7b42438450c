"""The package adapter: a workbook read and written as its OOXML package,
one module per part (xml plumbing, styles, sheets, features, the plan's
writer, the book)."""
from .book import PackageWorkbook

__all__ = ["PackageWorkbook"]
