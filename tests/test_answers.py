"""The Département's answers to findings, on the in-memory port: typed beside a
finding in the Contrôles sheet, they follow the finding by its identity
(never its row) from run to run; an answered finding that disappears leaves
its answer and the date in the Journal; the check receipt says whether the
content is still the one that was checked."""
from dataclasses import replace
from decimal import Decimal as D

from calpae_xl.app.session import CONTROLER, FICHES, RECALCULER, run
from calpae_xl.app.template import plan_new_workbook
from calpae_xl.core import load_example
from calpae_xl.core.findings import Answer, Finding, Severity, Status, Where, parse_status, with_keys
from calpae_xl.core.model import Column
from tests.helpers.calpae import SOCLE
from calpae_xl.core.receipt import MODIFIED, NO_RECEIPT, UNCHANGED, Receipt, describe
from calpae_xl.workbook import layout as L
from tests.helpers.memory import MemoryWorkbook

DAY1, DAY2, DAY3 = "2024-05-03T10:00:00+02:00", "2024-05-10T09:30:00+02:00", "2024-06-01T08:00:00+02:00"
COL = {f: L.template_col(f) for f in L.TEMPLATE_FIELDS}
KEY_42 = "IDENTITE_ETAT_CD|socle|4.2|budget_etat_cd"
KEY_ENV = "ENVELOPPE_DEPASSE|||total:part_etat"
KEY_IND = "INDICATEUR_ABSENT|socle|1.2|indicateurs"


def printed() -> MemoryWorkbook:
    """The Loiret annex as printed (its 1 € slips are erreurs)."""
    wb = MemoryWorkbook()
    wb.apply(plan_new_workbook(load_example(), empty_rows=0, typed=True))
    return wb


def rows(wb) -> dict[str, tuple]:
    """Key -> (row, gravité, code, statut, réponse) of the Contrôles sheet."""
    out = {}
    for r in range(L.CONTROLES_FIRST_ROW, L.CONTROLES_FIRST_ROW + 200):
        key = wb.value(L.CONTROLES, r, L.CONTROLES_KEY_COL)
        if key:
            out[key] = (r, wb.value(L.CONTROLES, r, 1), wb.value(L.CONTROLES, r, 2),
                        wb.value(L.CONTROLES, r, L.CONTROLES_STATUS_COL),
                        wb.value(L.CONTROLES, r, L.CONTROLES_ANSWER_COL))
    return out


def answer(wb, key: str, status=None, text=None) -> None:
    """What the officer types beside a finding."""
    r = rows(wb)[key][0]
    for col, v in ((L.CONTROLES_STATUS_COL, status), (L.CONTROLES_ANSWER_COL, text)):
        if v is None:
            wb.sheets[L.CONTROLES].pop((r, col), None)
        else:
            wb.sheets[L.CONTROLES][(r, col)] = v


def action_row(wb, label: str, bloc_word: str) -> int:
    return next(r for (r, c), v in wb.sheets[L.MAQUETTE].items() if c == COL[L.F_NUMERO]
                and wb.value(L.MAQUETTE, r, c) == label and bloc_word in str(wb.value(L.MAQUETTE, r, 1)))


def trace(wb) -> list[tuple]:
    """The Journal's trace of answered findings that disappeared."""
    out = []
    for r in range(L.JOURNAL_FIRST_ROW, L.JOURNAL_FIRST_ROW + 50):
        line = tuple(wb.value(L.JOURNAL, r, L.JOURNAL_TRACE_COL + j) for j in range(len(L.JOURNAL_TRACE_HEADERS)))
        if any(line):
            out.append(line)
    return out


def test_the_key_is_the_finding_identity_not_its_row():
    f = Finding("PARITE_ROMPUE", Severity.ERREUR, "x", Where(SOCLE, "4.2", Column.PART_ETAT.value))
    assert with_keys([f])[0].key == "PARITE_ROMPUE|socle|4.2|part_etat"
    assert with_keys([f.located("Maquette", "H11")])[0].key == with_keys([f.located("Maquette", "H40")])[0].key
    # a finding that points at no action nor field (a hidden row): its place is its identity
    hidden = Finding("LIGNE_MASQUEE", Severity.AVERTISSEMENT, "x", Where(sheet="Maquette", cell="D12"))
    assert with_keys([hidden])[0].key == "LIGNE_MASQUEE||||Maquette!D12"
    # the same key twice (two actions with one N°): numbered in order
    assert [g.key for g in with_keys([f, f])] == ["PARITE_ROMPUE|socle|4.2|part_etat",
                                                  "PARITE_ROMPUE|socle|4.2|part_etat#2"]


def test_statuses_are_read_whatever_their_typing():
    assert parse_status("Justifie") is Status.JUSTIFIE
    assert parse_status(" ACCEPTÉE PAR L'ETAT ") is Status.ACCEPTE
    assert parse_status("a corriger") is Status.A_CORRIGER
    assert parse_status("") is None and parse_status("vu") is None
    assert Answer(text="Arrondi à l'euro de l'avenant.").effective is Status.JUSTIFIE  # a text alone justifies
    assert Answer(text="on verra", typed_status="vu").effective is Status.A_CORRIGER  # an unknown status: open


def test_answers_survive_runs_and_follow_their_finding_not_the_row():
    wb = printed()
    out = run(wb, [CONTROLER], today=DAY1)
    assert rows(wb)[KEY_42][3:] == (None, None) and all(f.open for f in out.findings)
    answer(wb, KEY_42, "justifié", "Arrondi à l'euro de l'avenant signé ; corrigé au prochain avenant.")
    answer(wb, KEY_IND, None, "Indicateurs en cours de définition avec la DDETS.")  # no status: justifié
    # the officer sorts the sheet: the answered rows move to the bottom
    sheet = wb.sheets[L.CONTROLES]
    first = L.CONTROLES_FIRST_ROW
    body = sorted({r for (r, _c) in sheet if r >= first},
                  key=lambda r: (sheet.get((r, L.CONTROLES_ANSWER_COL)) is not None, r))
    moved = {(first + i, c): v for i, r in enumerate(body) for (rr, c), v in sheet.items() if rr == r}
    for k in [k for k in sheet if k[0] >= first]:
        del sheet[k]
    sheet.update(moved)
    assert rows(wb)[KEY_IND][0] > rows(wb)["TOTAL_FAUX|||total:part_cd"][0]
    # a row inserted above action 4.2 in the maquette: its cells move, its identity does not
    r42 = action_row(wb, "Action 4.2", "socle")
    wb.sheets[L.MAQUETTE] = {((r + 1 if r >= r42 else r), c): v for (r, c), v in wb.sheets[L.MAQUETTE].items()}
    assert next(f for f in run(wb, [CONTROLER], write=False).findings if f.key == KEY_42).status is Status.JUSTIFIE
    out = run(wb, [RECALCULER, CONTROLER], today=DAY2)  # Recalculer fixes 4.2: its finding goes
    got = rows(wb)
    assert KEY_42 not in got and KEY_ENV not in got
    # the indicator's finding remains with its answer, now marked « justifié », on its new row
    assert got[KEY_IND][3:] == ("justifié", "Indicateurs en cours de définition avec la DDETS.")
    assert next(f for f in out.findings if f.key == KEY_IND).as_dict()["statut"] == "justifié"
    # a second run writes the same cells (answers included)
    before = {s: dict(c) for s, c in wb.sheets.items()}
    run(wb, [RECALCULER, CONTROLER], today=DAY3)
    assert {s: dict(c) for s, c in wb.sheets.items()} == before


def test_an_answered_finding_fixed_leaves_its_answer_and_date_in_the_journal():
    wb = printed()
    run(wb, [CONTROLER], today=DAY1)
    message = wb.value(L.CONTROLES, rows(wb)[KEY_42][0], 5)
    answer(wb, KEY_42, "à corriger", "Erreur de saisie, à reprendre.")
    answer(wb, "IDENTITE_ETAT_CD|initiatives|4|budget_etat_cd", "justifié", "Arrondi.")
    out = run(wb, [RECALCULER, CONTROLER], today=DAY2)  # both rows are fixed by Recalculer
    lines = trace(wb)
    assert lines[0] == ("IDENTITE_ETAT_CD", "Engagements du socle", "Action 4.2", message, "à corriger",
                        "Erreur de saisie, à reprendre.", "10/05/2024", KEY_42)
    assert lines[1][4:] == ("justifié", "Arrondi.", "10/05/2024", "IDENTITE_ETAT_CD|initiatives|4|budget_etat_cd")
    assert len(out.resolved) == 2 and len(lines) == 2
    assert wb.value(L.JOURNAL, 1, L.JOURNAL_TRACE_COL) == L.JOURNAL_TRACE_TITLE
    # the next Recalculer that changes values rewrites the changes, never the trace
    r = action_row(wb, "Action 1.1", "socle")
    wb.sheets[L.MAQUETTE][(r, COL[Column.BUDGET_GLOBAL.value])] = D("80000")
    out = run(wb, [RECALCULER, CONTROLER], today=DAY3)
    assert out.changes and trace(wb) == lines and not out.resolved
    assert wb.value(L.JOURNAL, L.JOURNAL_FIRST_ROW, 1).startswith("Action 1.1")
    # a later answered finding that disappears is added below the others
    run(wb, [CONTROLER], today=DAY3)
    answer(wb, KEY_IND, "justifié", "Indicateurs à venir.")
    wb.sheets[L.INDICATEURS][(100, L.IND_COL_BLOC)] = "Engagements du socle"
    wb.sheets[L.INDICATEURS][(100, L.IND_COL_NUMERO)] = "Action 1.2"
    wb.sheets[L.INDICATEURS][(100, L.IND_COL_LIBELLE)] = "Jeunes accompagnés"
    run(wb, [CONTROLER], today=DAY3)
    assert trace(wb)[:2] == lines and trace(wb)[2][6:] == ("01/06/2024", KEY_IND)


def test_justified_errors_change_the_verdict_not_the_counts():
    wb = printed()
    out = run(wb, [CONTROLER], today=DAY1)
    errors = [f.key for f in out.findings if f.severity is Severity.ERREUR]
    for k in errors[:-1]:
        answer(wb, k, "justifié", "Vu avec la DDETS.")
    out = run(wb, [CONTROLER], today=DAY1)
    assert wb.value(L.CONTROLES, L.CONTROLES_VERDICT_ROW, 1) == L.VERDICT_ERRORS  # one is still open
    answer(wb, errors[-1], "accepté par l'État", "Accepté par la DDETS le 2 mai.")
    out = run(wb, [CONTROLER], today=DAY1)
    assert wb.value(L.CONTROLES, L.CONTROLES_VERDICT_ROW, 1) == L.VERDICT_JUSTIFIED
    assert "5 erreurs" in wb.value(L.CONTROLES, L.CONTROLES_SUMMARY_ROW, 1)
    assert "5 constats justifiés" in wb.value(L.CONTROLES, L.CONTROLES_SUMMARY_ROW, 1)
    assert [f.as_dict()["statut"] for f in out.findings if f.severity is Severity.ERREUR] == \
        ["justifié"] * 4 + ["accepté par l'État"]
    assert not any(f.open for f in out.findings if f.severity is Severity.ERREUR)
    # an unknown status is kept as typed, and the finding stays open
    answer(wb, errors[0], "vu", None)
    out = run(wb, [CONTROLER], today=DAY1)
    assert rows(wb)[errors[0]][3] == "vu" and next(f for f in out.findings if f.key == errors[0]).open


def test_the_receipt_says_whether_the_content_is_the_one_checked():
    wb = printed()
    first = run(wb, [CONTROLER], today=DAY1)
    assert first.receipt_state == NO_RECEIPT and first.receipt.date == DAY1
    assert first.receipt.erreurs == 5 and first.receipt.profil == "calpae"
    again = run(wb, [CONTROLER], write=False)
    assert again.receipt_state == UNCHANGED and again.receipt_before == first.receipt
    assert describe(again.receipt_before, again.fingerprint_before).startswith(
        "Inchangé depuis le contrôle du 03/05/2024 à 10:00")
    # an answer typed in Contrôles is not what the checks read: the content is unchanged
    answer(wb, KEY_42, "justifié", "Arrondi.")
    assert run(wb, [CONTROLER], write=False).receipt_state == UNCHANGED
    # the same check of the same content keeps its date (a second run changes nothing)...
    kept = run(wb, [CONTROLER], today=DAY2)
    assert kept.receipt.date == DAY2  # ...but here one finding is now justified: a new check
    assert run(wb, [CONTROLER], today=DAY3).receipt.date == DAY2
    # a figure typed after the check
    r = action_row(wb, "Action 1.1", "socle")
    wb.sheets[L.MAQUETTE][(r, COL[Column.BUDGET_GLOBAL.value])] = D("80000")
    changed = run(wb, [CONTROLER], write=False)
    assert changed.receipt_state == MODIFIED
    assert describe(changed.receipt_before, changed.fingerprint_before).startswith(
        "Modifié depuis le contrôle du 10/05/2024")
    # Recalculer checks the new content: unchanged once more, under a new date
    out = run(wb, [RECALCULER, CONTROLER], today=DAY3)
    assert out.receipt.date == DAY3 and run(wb, [CONTROLER], write=False).receipt_state == UNCHANGED


def test_the_fingerprint_ignores_how_an_amount_is_typed_and_the_tools_own_sheets():
    wb = printed()
    run(wb, [RECALCULER, CONTROLER, FICHES], today=DAY1)
    r = action_row(wb, "Action 1.1", "socle")
    cell = (r, COL[Column.BUDGET_GLOBAL.value])
    value = wb.value(L.MAQUETTE, *cell)
    wb.sheets[L.MAQUETTE][cell] = f"{value:,.2f} €".replace(",", " ").replace(".", ",")  # « 72 000,00 € », text
    wb.sheets[L.CONTROLES][(200, 1)] = "une note de l'agent"
    wb.sheets[L.JOURNAL][(200, 1)] = "une autre"
    assert run(wb, [CONTROLER], write=False).receipt_state == UNCHANGED
    wb.sheets[L.MAQUETTE][cell] = "n.c."
    assert run(wb, [CONTROLER], write=False).receipt_state == MODIFIED


def test_a_receipt_of_a_later_version_is_read_and_kept():
    fp = "sha256:" + "ab" * 32
    lines = Receipt("9.0", "calpae", DAY1, fp, 1, 2, 3, 0).lines() + ["signature=xyz", "sans egal"]
    r = Receipt.from_lines(lines)
    assert r.version == "9.0" and r.extra == {"signature": "xyz"} and r.infos == 3
    assert Receipt.from_lines(["outil=calpae-xl"]) is None
    # a receipt typed over (not a fingerprint, counts that are no numbers) is no receipt to rely on
    assert Receipt.from_lines([f"date={DAY1}", "empreinte=sha256:123"]) is None
    assert Receipt.from_lines([f"date={DAY1}", f"empreinte={fp}", "erreurs=beaucoup"]).erreurs == 0
    assert replace(r, date=DAY2).same_check(r)
