"""The floor of measure 1: a Python process that only loads and saves a workbook with openpyxl."""
import sys

import openpyxl

if __name__ == "__main__":
    wb = openpyxl.load_workbook(sys.argv[1])
    wb.save(sys.argv[1])
