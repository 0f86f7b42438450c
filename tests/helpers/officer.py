"""The officer's editing loop: a person's edits made through LibreOffice
itself (tests/helpers/lo_calc.py), interleaved with the tool's commands, and
after every command invariants checked by means independent of the tool:

(a) every cell the person typed is unchanged — value, type, formula, cached
    value — unless the Journal names it; (b) every formula cell the tool wrote
    holds, as cached value, what LibreOffice computes, to the cent; (c) a
    maquette that an independent reading finds inconsistent is never given
    « Aucune erreur », and the verdict is the same on the same data retyped as
    plain numbers; (d) a second run changes nothing; (e) no traceback, exit
    codes 0/1/2, a failure is a French message naming the file; (f) after
    « recalculer », the check receipt it wrote matches the file it wrote
    (``controler`` says « inchangé »); (g) every answer the person typed
    beside a finding (through LibreOffice) is still beside it after
    « recalculer », or, the finding gone, in the Journal's trace.

Sequences are seeded: ``run_sequence(seed)`` is reproducible.
"""
from __future__ import annotations

import contextlib
import io
import json
import random
import re
import shutil
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Optional

import openpyxl

MAQUETTE_KEYS = {  # independent header matching (not the tool's layout module): words a header contains
    "numero": ("fiche action n", "fiche\naction\nn°"), "intitule": ("intitulé",),
    "global": ("budget global",), "etat_cd": ("etat + cd", "état + cd"),
    "etat": ("participation etat", "participation état", "partipation etat"),
    "cd": ("participation cd",), "report": ("report",), "autres": ("autres financeurs", "autres \nfinanceurs"),
    "regle": ("répartition",),
}
DERIVED = {"parité": ("etat_cd", "etat", "cd"), "libre": ("etat_cd", "global")}
INPUTS = {"parité": ("global", "report", "autres"), "libre": ("etat", "cd", "report", "autres")}
FICHE_COMPUTED = {"Bloc", "Fiche action N°", "Intitulé de l'action", "Thème", "Imputation Chorus", "Part État",
                  "Part CD", "Report N-1 (État + CD)", "Autres financeurs", "Budget global", "Taux d'exécution",
                  "Indicateurs (feuille Indicateurs)", "Total de la ventilation"}
OWNED_TITLES = ("Contrôles de la maquette", "Journal du dernier recalcul", "Cellules en erreur")


class Break(AssertionError):
    """An invariant broken: the message says which, on which file, after which steps."""


# --- reading a file independently ---------------------------------------------------------

@dataclass
class Cell:
    formula: Optional[str]
    value: object  # the value, or a formula's cached value


def snapshot(path: Path) -> dict[str, dict[str, Cell]]:
    f_wb = openpyxl.load_workbook(path)
    v_wb = openpyxl.load_workbook(path, data_only=True)
    out: dict[str, dict[str, Cell]] = {}
    for ws in f_wb.worksheets:
        vs = v_wb[ws.title]
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if v is None:
                    continue
                formula = None
                if c.data_type == "f":
                    formula = v if isinstance(v, str) else getattr(v, "text", str(v))
                cells[c.coordinate] = Cell(formula, vs[c.coordinate].value)
        for anchor, ref in array_ranges(ws).items():  # every cell of an array: its formula and its range
            text = getattr(ws[anchor].value, "text", "")
            for coord in _cells_of(ref):
                if coord == anchor or ws[coord].data_type != "f":  # a formula of its own: the array is broken
                    cells[coord] = Cell(f"{{{text}}}@{ref}", vs[coord].value)
        out[ws.title] = cells
    return out


def array_ranges(ws) -> dict[str, str]:
    """The array (CSE) formulas over several cells: anchor -> range."""
    return {a: ref.replace("$", "") for a, ref in ws.array_formulae.items() if ":" in ref}


def _in_array(cell: Cell) -> bool:
    """A cell of an array formula, as :func:`snapshot` marks it."""
    return str(cell.formula or "").startswith("{")


def _cells_of(ref: str) -> list[str]:
    c1, r1, c2, r2 = openpyxl.utils.cell.range_boundaries(ref)
    return [_ref(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]


@dataclass
class Table:
    sheet: str
    header: int
    cols: dict[str, int]
    actions: list[int] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    rules: dict[int, str] = field(default_factory=dict)


def find_table(path: Path) -> Optional[Table]:
    """The maquette table as a person reads it: the row of headers, the action rows, the total rows."""
    wb = openpyxl.load_workbook(path, data_only=True)
    for ws in wb.worksheets:
        if str(ws["A1"].value or "").startswith(OWNED_TITLES + ("Fiche action",)):
            continue
        for r in range(1, min(ws.max_row, 40) + 1):
            labels = {c: str(ws.cell(r, c).value or "").lower() for c in range(1, min(ws.max_column, 30) + 1)}
            cols = {}
            for key, words in MAQUETTE_KEYS.items():
                for c, text in labels.items():
                    if any(w in text for w in words) and key not in cols:
                        cols[key] = c
            if {"numero", "intitule", "global", "etat", "cd"} <= set(cols):
                t = Table(ws.title, r, cols)
                for rr in range(r + 1, ws.max_row + 1):
                    num = str(ws.cell(rr, cols["numero"]).value or "")
                    if "total" in num.lower():
                        t.totals.append(rr)
                        if num.strip().upper() == "TOTAL":
                            break
                        continue
                    if num.strip() or ws.cell(rr, cols["intitule"]).value:
                        t.actions.append(rr)
                        rule = str(ws.cell(rr, cols["regle"]).value or "parité") if "regle" in cols else "parité"
                        t.rules[rr] = "libre" if rule.strip().lower().startswith("libre") else "parité"
                return t
    return None


def _ref(row: int, col: int) -> str:
    return openpyxl.utils.get_column_letter(col) + str(row)


def tool_cells(before: dict, table: Optional[Table], after_path: Path) -> dict[str, set[str]]:
    """The cells the tool may write: its own sheets, the computed rows of the
    fiches, the Maquette's computed columns and total rows, its title, and
    whatever the Journal names."""
    allowed: dict[str, set[str]] = {}
    for sheet, cells in before.items():
        a1 = str(cells.get("A1").value if "A1" in cells else "")
        if a1.startswith(OWNED_TITLES):
            allowed[sheet] = {"*"}
        elif a1.startswith("Fiche action"):
            mine = {"A1"}
            for ref, cell in cells.items():
                if ref.startswith("A") and ref[1:].isdigit() and str(cell.value) in FICHE_COMPUTED:
                    mine.add("B" + ref[1:])
                    if cell.value == "Fiche action N°":
                        mine.add("C" + ref[1:])
            allowed[sheet] = mine
    if table is not None:
        mine = allowed.setdefault(table.sheet, set())
        mine.add("A1")
        amounts = [k for k in ("global", "etat_cd", "etat", "cd", "report", "autres") if k in table.cols]
        for r in table.actions:
            for k in DERIVED[table.rules[r]]:
                if k in table.cols:
                    mine.add(_ref(r, table.cols[k]))
        for r in table.totals:
            mine |= {_ref(r, table.cols[k]) for k in amounts}
        # a cell of the person's array formula is theirs, even in a computed column (the tool never writes into
        # an array: Excel refuses it), unless the Journal names it
        mine -= {ref for ref, cell in before.get(table.sheet, {}).items() if _in_array(cell)}
    wb = openpyxl.load_workbook(after_path, data_only=True)
    for ws in wb.worksheets:
        if str(ws["A1"].value or "").startswith("Journal du dernier recalcul") and table is not None:
            for r in range(5, ws.max_row + 1):
                ref = ws.cell(r, 5).value
                if ref:
                    allowed.setdefault(table.sheet, set()).add(str(ref))
    return allowed


def _same(a: Cell, b: Cell) -> bool:
    if (a.formula or None) != (b.formula or None):
        return False
    x, y = a.value, b.value
    if isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool):
        return abs(Decimal(repr(x)) - Decimal(repr(y))) < Decimal("0.000001")
    return x == y


def typed_unchanged(before: dict, after: dict, allowed: dict[str, set[str]]) -> list[str]:
    """(a) Every cell outside what the tool may write is as it was."""
    broken = []
    for sheet, cells in before.items():
        mine = allowed.get(sheet, set())
        if "*" in mine:
            continue
        if sheet not in after:
            broken.append(f"la feuille « {sheet} » a disparu")
            continue
        for ref, cell in cells.items():
            new = after[sheet].get(ref)
            if ref in mine:
                # a cell of an array, even named by the Journal (its value made stale), keeps the array
                if _in_array(cell) and (new is None or new.formula != cell.formula):
                    broken.append(f"{sheet}!{ref} : formule matricielle {cell.formula} devenue {new}")
                continue
            if new is None or not _same(cell, new):
                broken.append(f"{sheet}!{ref} : {cell} devenu {new}")
    return broken


# --- the LibreOffice oracle ------------------------------------------------------------------

ERRORS = ("#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#N/A", "#NUM!", "#NULL!", "Err:")


def cached_equal_libreoffice(calc, path: Path, after: dict, written: dict[str, set[str]]) -> list[str]:
    """(b) The formula cells the tool may write: cached value == LibreOffice's own result."""
    sheets = [s for s in written if s in after]
    lo = calc.recalc_and_read(str(path), sheets)
    broken = []
    for sheet in sheets:
        for ref, cell in after[sheet].items():
            if cell.formula is None or ("*" not in written[sheet] and ref not in written[sheet]):
                continue
            if cell.value is None:
                continue  # no cached value: no figure claimed
            theirs = lo.get(sheet, {}).get(ref)
            value = theirs.value if theirs is not None else None
            if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                if not isinstance(value, (int, float)) or abs(Decimal(repr(float(value))) -
                                                              Decimal(repr(float(cell.value)))) >= Decimal("0.005"):
                    broken.append(f"{sheet}!{ref} {cell.formula} : valeur enregistrée {cell.value}, LibreOffice "
                                  f"{value!r}")
            elif isinstance(cell.value, str) and cell.value != (value if value is not None else ""):
                if not (cell.value == "" and value in (None, "")):
                    broken.append(f"{sheet}!{ref} {cell.formula} : valeur enregistrée {cell.value!r}, LibreOffice "
                                  f"{value!r}")
    return broken


def inconsistent(path: Path, table: Table) -> list[str]:
    """(c) What an independent reading of the figures finds wrong (values as
    cached by the file): an amount that is no number, a row whose budget
    global is not its parts plus report and autres, a parity broken, a total
    that is not the sum of its rows. Empty list: nothing found."""
    ws = openpyxl.load_workbook(path, data_only=True)[table.sheet]
    out = []
    amounts = [k for k in ("global", "etat_cd", "etat", "cd", "report", "autres") if k in table.cols]

    def val(r, k):
        return ws.cell(r, table.cols[k]).value if k in table.cols else None
    sums = {k: Decimal(0) for k in amounts}
    for r in table.actions:
        row = {}
        for k in amounts:
            v = val(r, k)
            if v is None:
                row[k] = None
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                row[k] = Decimal(repr(v))
                sums[k] += row[k]
            else:
                out.append(f"ligne {r}, {k} : {v!r} n'est pas un nombre")
                row[k] = "x"
        if "x" in row.values():
            continue
        z = {k: (row.get(k) or Decimal(0)) for k in amounts}
        if row.get("global") is None:
            out.append(f"ligne {r} : budget global vide")
            continue
        if abs(z["global"] - (z.get("etat", 0) + z.get("cd", 0) + z.get("report", 0) + z.get("autres", 0))) \
                >= Decimal("0.005"):
            out.append(f"ligne {r} : budget global ≠ parts + report + autres")
        if table.rules[r] == "parité" and not Decimal(0) <= z.get("cd", 0) - z.get("etat", 0) <= Decimal("0.01"):
            out.append(f"ligne {r} : parité rompue")
    for r in table.totals[-1:]:  # the grand total
        for k in amounts:
            v = val(r, k)
            if isinstance(v, (int, float)) and abs(Decimal(repr(v)) - sums[k]) >= Decimal("0.005"):
                out.append(f"total {k} ≠ somme des lignes")
    return out


# --- the tool, as a user runs it ---------------------------------------------------------------

@dataclass
class Run:
    status: int
    out: str
    err: str


def tool(*args: str) -> Run:
    from calpae_xl.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(list(args))
        except SystemExit as e:  # argparse
            status = e.code if isinstance(e.code, int) else 2
        except BaseException as e:  # noqa: BLE001 - a traceback is itself a break
            return Run(99, out.getvalue(), f"Traceback : {type(e).__name__} : {e}")
    return Run(status, out.getvalue(), err.getvalue())


def package_content(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


# --- a person's edits ----------------------------------------------------------------------------

def person_edits(rng: random.Random, table: Table, sheets: list[str]) -> list[tuple]:
    """One or two edits a finance officer makes in LibreOffice."""
    s = table.sheet
    r = rng.choice(table.actions) if table.actions else table.header + 1
    rule = table.rules.get(r, "parité")
    col = lambda k: openpyxl.utils.get_column_letter(table.cols[k]) + str(r)  # noqa: E731
    inputs = [k for k in INPUTS[rule] if k in table.cols]
    k = rng.choice(inputs)
    other = rng.choice(table.actions) if table.actions else r
    choices = [
        lambda: [("set_number", s, col(k), rng.choice([0, 1000, 72000, 100000.5, 35812.5, 999999.99]))],
        lambda: [("set_text", s, col(k), rng.choice(["35 813 €", "n.c.", "1.234", "12 345,67"]))],
        lambda: [("set_date", s, col(k), "2020-03-15")],
        lambda: [("set_formula", s, col(k), rng.choice(["=40000*2", "=1/0", "=ROUND(1234.567,2)"]))],
        lambda: [("set_formula", s, col(k), f"={openpyxl.utils.get_column_letter(table.cols[k])}{other}+1000")]
        if other != r else [("clear", s, col(k))],
        lambda: [("clear", s, col(k))],
        lambda: [("set_number", s, col(rng.choice(DERIVED[rule])), 40000)]
        if all(x in table.cols for x in DERIVED[rule]) else [("clear", s, col(k))],
        lambda: [("set_text", s, openpyxl.utils.get_column_letter(table.cols["regle"]) + str(r),
                  "libre" if rule == "parité" else "parité")] if "regle" in table.cols else [("clear", s, col(k))],
        lambda: [("insert_rows", s, r)],
        lambda: [("delete_rows", s, r)],
        lambda: [("merge", s, f"{col(k)}:{openpyxl.utils.get_column_letter(table.cols[k])}{r + 1}")]
        if r + 1 in table.actions else [("clear", s, col(k))],
        lambda: [("add_sheet", rng.choice(["journal", "CONTRÔLES", "Notes du service", "Journal"]))],
    ]
    fiches = [x for x in sheets if x.startswith("Fiche")]
    if fiches:
        choices.append(lambda: [("rename_sheet", rng.choice(fiches), f"Ma fiche {rng.randint(1, 99)}")])
        choices.append(lambda: [("set_text", rng.choice(fiches), "B7", "Texte saisi par l'agent.")])
    edits = rng.choice(choices)()
    return [e for e in edits if not (e[0] == "add_sheet" and e[1] in sheets)]


def array_edit(rng: random.Random, table: Table) -> Optional[list[tuple]]:
    """An array (Ctrl+Maj+Entrée) formula over one column of two neighbouring
    actions: an input, or a column the tool computes (which it must then
    keep, never write into), reading another input (never itself)."""
    pairs = [r for r in table.actions if r + 1 in table.actions and table.rules[r] == table.rules[r + 1]]
    if not pairs:
        return None
    r = rng.choice(pairs)
    rule = table.rules[r]
    target = rng.choice([k for k in INPUTS[rule] + DERIVED[rule] if k in table.cols])
    sources = [k for k in INPUTS[rule] if k in table.cols and k != target]  # inputs depend on no cell
    if not sources:
        return None
    col = lambda k: openpyxl.utils.get_column_letter(table.cols[k])  # noqa: E731
    src = rng.choice(sources)
    formula = rng.choice([f"={col(src)}{r}:{col(src)}{r + 1}/2", f"={col(src)}{r}:{col(src)}{r + 1}+1000",
                          "={1000;2000}*3"])
    return [("set_array_formula", table.sheet, f"{col(target)}{r}:{col(target)}{r + 1}", formula)]


def own_sheet_over_tools(name: str) -> list[tuple]:
    """The person deletes a sheet of the tool and makes their own under its
    name: theirs must never be emptied (the tool knows its sheets by a mark)."""
    return [("delete_sheet", name), ("add_sheet", name), ("set_text", name, "A1", "Mes notes de suivi"),
            ("set_number", name, "B2", 42)]


COMMANDS = (("recalculer",), ("fiches",), ("controler",), ("recalculer", "--credits-etat", "1201409"))


@dataclass
class Sequence:
    seed: int
    steps: list[str] = field(default_factory=list)
    breaks: list[str] = field(default_factory=list)
    #: the answers the person typed in Contrôles: finding key -> (statut, réponse) as the tool must keep them
    answers: dict = field(default_factory=dict)
    typed: dict = field(default_factory=dict)  # the answer of the edit under way


def _owned(path: Path, title: str):
    wb = openpyxl.load_workbook(path, data_only=True)
    return next((ws for ws in wb.worksheets if str(ws["A1"].value or "").startswith(title)), None)


def answer_edits(rng: random.Random, path: Path, seq: Sequence) -> list[tuple]:
    """The person answers a finding of the Contrôles sheet (a status from the list, or none, and a text)."""
    ws = _owned(path, OWNED_TITLES[0])
    if ws is None:
        return []
    rows = [r for r in range(5, ws.max_row + 1) if ws.cell(r, 9).value]
    if not rows:
        return []
    r = rng.choice(rows)
    status = rng.choice(["justifié", "", "accepté par l'État", "à corriger"])
    text = f"Réponse {seq.seed}-{len(seq.steps)} : vu avec la DDETS ; ≠ « 35 813 € »."
    seq.typed = {str(ws.cell(r, 9).value): (status or "justifié", text)}  # kept once LibreOffice saved it
    first = ("set_text", ws.title, f"G{r}", status) if status else ("clear", ws.title, f"G{r}")
    return [first, ("set_text", ws.title, f"H{r}", text)]


def answers_kept(path: Path, seq: Sequence) -> list[str]:
    """(g) Every answer typed is still beside its finding, or, the finding gone, in the Journal's trace."""
    ws = _owned(path, OWNED_TITLES[0])
    rows = {str(ws.cell(r, 9).value): (ws.cell(r, 7).value or "", ws.cell(r, 8).value or "")
            for r in range(5, ws.max_row + 1) if ws.cell(r, 9).value} if ws is not None else {}
    journal = _owned(path, OWNED_TITLES[1])
    traced = {str(journal.cell(r, 14).value): (journal.cell(r, 11).value, journal.cell(r, 12).value)
              for r in range(5, journal.max_row + 1) if journal.cell(r, 14).value} if journal is not None else {}
    broken = []
    for key, want in list(seq.answers.items()):
        if key in rows:
            if rows[key] != want:
                broken.append(f"(g) la réponse au constat {key} est devenue {rows[key]} (attendu {want})")
        elif key in traced:
            if traced[key] != want:
                broken.append(f"(g) la trace du constat {key} dit {traced[key]} (attendu {want})")
            del seq.answers[key]
        else:
            broken.append(f"(g) la réponse au constat {key} a disparu sans trace au Journal")
    return broken


def check_command(calc, path: Path, command: tuple, seq: Sequence) -> None:
    """One command of the tool and the five invariants."""
    before = snapshot(path)
    table = find_table(path)
    run = tool(command[0], str(path), *command[1:])
    seq.steps.append(f"calpae-xl {' '.join(command)} -> {run.status}")
    if run.status not in (0, 1, 2) or "Traceback" in run.err + run.out:
        seq.breaks.append(f"(e) sortie {run.status} : {run.err[-300:]}")
        return
    if run.status == 2:
        if path.name not in run.err + run.out:
            seq.breaks.append(f"(e) échec sans le nom du fichier : {run.err[-300:]}")
        return
    after = snapshot(path)
    allowed = tool_cells(before, table, path)
    seq.breaks += [f"(a) {b}" for b in typed_unchanged(before, after, allowed)]
    table_after = find_table(path)
    written = dict(allowed)
    seq.breaks += [f"(b) {b}" for b in cached_equal_libreoffice(calc, path, after, written)]
    if table_after is not None and command[0] != "fiches":
        wrong = inconsistent(path, table_after)
        verdict = tool("controler", str(path), *command[1:])
        # exit 0 with errors said and answered by the person (« justifié », « accepté par l'État ») is
        # « Toutes les erreurs sont justifiées », not « Aucune erreur »: the wrong figure was reported
        said = re.search(r"\b[1-9][0-9]* erreur\(s\)", verdict.out)
        if wrong and verdict.status == 0 and not said:
            seq.breaks.append(f"(c) « Aucune erreur » alors que : {'; '.join(wrong[:3])}")
    if command[0] == "recalculer":  # (f) the receipt it wrote describes the file it wrote
        doc = json.loads(tool("controler", str(path), "--format", "json", *command[1:]).out or "{}")
        state = ((doc.get("fichiers") or [{}])[0].get("provenance") or {}).get("etat")
        if state != "inchangé":
            seq.breaks.append(f"(f) après « recalculer », controler dit le fichier « {state} » depuis son contrôle")
    if command[0] in ("recalculer", "fiches"):
        first = package_content(path)
        again = tool(command[0], str(path), *command[1:])
        if again.status != run.status or any(w in again.out for w in ("recalculée", "fiche(s) créée")):
            seq.breaks.append(f"(d) une seconde exécution a encore changé quelque chose : {again.out[-300:]}")
        elif _meaning(package_content(path)) != _meaning(first):
            seq.breaks.append("(d) une seconde exécution a réécrit le fichier autrement")
    if command[0] == "recalculer" and seq.answers:
        seq.breaks += answers_kept(path, seq)


def _meaning(parts: dict[str, bytes]) -> dict[str, bytes]:
    """A package's parts, without what a save may legitimately vary (core properties' dates)."""
    return {n: re.sub(rb"<dcterms:modified[^<]*</dcterms:modified>", b"", d) for n, d in parts.items()}


def retyped_verdict_same(calc, path: Path, table: Table, work: Path) -> list[str]:
    """(c) The same figures retyped as plain numbers (each formula of a typed
    cell replaced by its value, through LibreOffice) give the same verdict."""
    ws = openpyxl.load_workbook(path)[table.sheet]
    values = openpyxl.load_workbook(path, data_only=True)[table.sheet]
    edits = []
    arrays = array_ranges(ws)
    members = {coord for ref in arrays.values() for coord in _cells_of(ref)}
    for ref in arrays.values():  # LibreOffice refuses a change to part of an array: the whole one goes first
        numbers = {coord: values[coord].value for coord in _cells_of(ref)}
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers.values()):
            continue  # an error or a text among its values: kept as a formula, as any formula that gives no number
        edits.append(("clear", table.sheet, ref))
        edits += [("set_number", table.sheet, coord, v) for coord, v in numbers.items()]
    for r in table.actions:
        for k in INPUTS[table.rules[r]]:
            if k not in table.cols:
                continue
            c = ws.cell(r, table.cols[k])
            v = values.cell(r, table.cols[k]).value
            if c.data_type == "f" and c.coordinate not in members and isinstance(v, (int, float)) \
                    and not isinstance(v, bool):
                edits.append(("set_number", table.sheet, c.coordinate, v))
    if not edits:
        return []
    copy = work / ("retape_" + path.name)
    shutil.copy(path, copy)
    calc.edit(str(copy), edits)
    a, b = tool("controler", str(path), "--format", "json"), tool("controler", str(copy), "--format", "json")
    errors = lambda run: sorted(re.findall(r'"code": "([A-Z_]+)",\s*"gravite": "erreur"', run.out))  # noqa: E731
    if a.status != b.status or errors(a) != errors(b):
        # a formula whose saved value Recalculer removed (it reads a cell Recalculer changed) has no value
        # until the spreadsheet saves the file again: the tool says so (FORMULE_SANS_VALEUR, an error) and does
        # not judge what depends on it; LibreOffice, retyping, computed it. Then the tool's verdict is an error
        # verdict too, and it finds nothing the retyped figures do not show (seed 31855)
        # — and only on the cells a formula journaled « à recalculer » explains
        unexplained = _unexplained_no_value(path, table, a.out) if "FORMULE_SANS_VALEUR" in errors(a) else []
        unsure = "FORMULE_SANS_VALEUR" in errors(a) and not unexplained
        extra = set(errors(a)) - set(errors(b)) - {"FORMULE_SANS_VALEUR", "CONTROLE_INCOMPLET"}
        if _only_stale_totals(calc, path, table, a.out, b.out):
            return []
        if not (unsure and a.status == b.status != 0 and not extra):
            return [f"(c) verdict différent une fois les formules retapées en nombres : {errors(a)} / {errors(b)}"
                    + (f" (sans valeur, sans formule « à recalculer » qui l'explique : {unexplained})"
                       if unexplained else "")]
    return []


def _error_cells(out: str) -> list[tuple[str, str]]:
    return sorted((f["code"], f["cellule"] or "") for x in json.loads(out)["fichiers"] for f in x["constats"]
                  if f["gravite"] == "erreur")


def _only_stale_totals(calc, path: Path, table: Table, out: str, retyped: str) -> bool:
    """The tool's verdict differs only by totals the file holds stale: the
    saved value of a sub-total or total row's SUM is not what LibreOffice's
    own full recalculation gives. LibreOffice, after an edit, leaves the SUM
    over a cell of an array formula at its old value (seed 70028); the tool
    says that saved figure wrong (it is, as saved), while retyping the
    figures makes LibreOffice recompute it. The tool is then right to be
    stricter, never more lenient: every error of the retyped copy is there."""
    mine, theirs = Counter(_error_cells(out)), Counter(_error_cells(retyped))
    extra = mine - theirs
    if theirs - mine or not extra or any(code not in ("SOUS_TOTAL_FAUX", "TOTAL_FAUX") for code, _ in extra):
        return False
    saved = openpyxl.load_workbook(path, data_only=True)[table.sheet]
    engine = calc.recalc_and_read(str(path), [table.sheet])[table.sheet]
    for _, ref in extra:
        v, w = saved[ref].value, getattr(engine.get(ref), "value", None)
        if not (isinstance(v, (int, float)) and isinstance(w, (int, float)) and abs(v - w) >= 0.005):
            return False
    return True


def _unexplained_no_value(path: Path, table: Table, out: str) -> list[str]:
    """The cells said FORMULE_SANS_VALEUR that no formula journaled « à recalculer » explains: the formula
    itself, a formula the tool wrote in its row (it reads it), a sub-total or total, a fiche linked to the
    maquette. Only those are the doubt the tool states on purpose (seed 31855); any other is a break."""
    wb = openpyxl.load_workbook(path)
    stale: set[tuple[int, int]] = set()
    for ws in wb.worksheets:
        if str(ws["A1"].value or "").startswith("Journal du dernier recalcul"):
            for row in ws.iter_rows(max_col=5, values_only=True):
                if len(row) == 5 and row[3] and "à recalculer" in str(row[3]) and row[4]:
                    ref = str(row[4])
                    letters = ref.rstrip("0123456789")
                    if not letters or letters == ref or not letters.isalpha():
                        continue
                    stale.add((int(ref[len(letters):]), openpyxl.utils.column_index_from_string(letters)))
    rows = {r for r, _c in stale}
    doc = json.loads(out or "{}")
    unexplained = []
    for f in (doc.get("fichiers") or [{}])[0].get("constats", []):
        if f.get("code") != "FORMULE_SANS_VALEUR":
            continue
        sheet, ref = f.get("feuille"), str(f.get("cellule") or "")
        letters = ref.rstrip("0123456789")
        if sheet != table.sheet or not letters or letters == ref:
            continue  # a fiche, or a place not said: the fiches link to the maquette
        r = int(ref[len(letters):])
        if r in rows or r in table.totals or r not in table.actions:
            continue
        unexplained.append(f"{sheet}!{ref}")
    return unexplained


def run_sequence(calc, seed: int, work: Path, base: Path, steps: int = 6) -> Sequence:
    """A seeded sequence of a person's edits (through LibreOffice) and the tool's commands."""
    rng = random.Random(seed)
    answering = random.Random(seed * 7919 + 1)  # its own stream: the sequences of earlier seeds stay the same
    replacing = random.Random(seed * 104729 + 3)  # idem: the person replaces a sheet of the tool by their own
    arraying = random.Random(seed * 15485863 + 5)  # idem: the person types an array formula over two actions
    seq = Sequence(seed)
    path = work / f"sequence_{seed}.xlsx"
    shutil.copy(base, path)
    for _ in range(steps):
        table = find_table(path)
        if table is None or rng.random() < 0.45:
            command = rng.choice(COMMANDS)
            check_command(calc, path, command, seq)
        else:
            names = openpyxl.load_workbook(path, read_only=True).sheetnames
            edits = person_edits(rng, table, names)
            theirs = [n for n in names if n in ("Journal", "Contrôles")]
            array = array_edit(arraying, table) if arraying.random() < 0.08 else None
            if array:
                edits = array
            elif theirs and replacing.random() < 0.08:
                edits = own_sheet_over_tools(replacing.choice(theirs))
                if edits[0][1] == "Contrôles":
                    seq.answers.clear()  # the person deleted the sheet their answers were in
            elif answering.random() < 0.5:
                edits += answer_edits(answering, path, seq)
            seq.steps.append(f"LibreOffice : {edits}")
            try:
                calc.edit(str(path), edits)
                seq.answers.update(seq.typed)
            except Exception as e:  # noqa: BLE001 - LibreOffice refused the edit: the person moves on
                seq.steps.append(f"  (refusé par LibreOffice : {type(e).__name__})")
            seq.typed = {}
        if seq.breaks:
            break
    if not seq.breaks:
        table = find_table(path)
        if table is not None:
            seq.breaks += retyped_verdict_same(calc, path, table, work)
    return seq
