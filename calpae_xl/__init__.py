"""calpae_xl: the maquette financière of a CALPAE avenant, recalculated, checked
and turned into fiches, in Excel (xlwings) or in batch (openpyxl)."""
__version__ = "0.1.0"
