"""The consolidation as one self-contained HTML page, for the State's reviewers.

Built from the consolidation's JSON document (:func:`calpae_xl.reports.
consolidate.document`), so that the page and the JSON say the same figures.
One file, nothing fetched: the styles, the filter script and the chart (SVG)
are inline, and a Content-Security-Policy forbids any load, so the page opens
the same from an e-mail attachment, offline. Every text comes from users
(file names, intitulés, answers): each one is escaped; the script reads no
user text, only the codes of the catalogue, from attributes.

The filter by code is also a link: ``rapport.html#code=ENVELOPPE_DEPASSE``
opens the page filtered.
"""
from __future__ import annotations

import datetime as dt
import html
import os
from decimal import Decimal
from pathlib import Path
from typing import Optional
from urllib.parse import quote

from ..core.catalogue import CATALOGUE
from ..core.money import format_eur
from ..core.texts import shown

PAGE_TITLE = "Consolidation des maquettes financières"
AMOUNTS = (("budget_global", "Budget global"), ("part_etat", "Participation État"),
           ("part_cd", "Participation CD"), ("report", "Report N-1"), ("autres_financeurs", "Autres financeurs"))
SEVERITY_LABEL = {"erreur": "Erreur", "avertissement": "Avertissement", "info": "Info"}
STATE_LABEL = {"inchangé": "inchangé", "modifié": "modifié depuis le contrôle", "sans reçu": "jamais contrôlé"}

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;color:#1b1b1b;background:#fff}
header{background:#1F4E78;color:#fff;padding:16px 24px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:2px 0;font-size:14px}main{padding:8px 24px 32px}
h2{color:#1F4E78;border-bottom:2px solid #1F4E78;padding-bottom:4px;margin-top:28px;font-size:18px}
nav{margin:10px 0;font-size:14px}nav a{margin-right:14px;color:#1F4E78}
table{border-collapse:collapse;font-size:13px;margin:8px 0;width:100%}
th,td{border:1px solid #c9c9c9;padding:4px 6px;vertical-align:top;text-align:left}
th{background:#1F4E78;color:#fff;position:sticky;top:0}
td.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
tr.total td{font-weight:bold;background:#D9E1F2}
.sev-erreur{background:#FFC7CE;color:#9C0006;font-weight:bold}
.sev-avertissement{background:#FFEB9C;color:#9C5700;font-weight:bold}.sev-info{background:#DDEBF7;color:#1F4E78}
.st-ok{color:#375623;font-weight:bold}.st-justifie{color:#9C5700;font-weight:bold}
.st-erreurs{color:#9C0006;font-weight:bold}.st-illisible{color:#fff;background:#9C0006;font-weight:bold}
.justifie{background:#E2EFDA;color:#375623;font-weight:bold;white-space:nowrap}
.modifie{color:#9C0006;font-weight:bold}td.incomplet{color:#9C0006;font-weight:bold}.double{color:#9C0006;font-weight:bold}
.reponse{display:block;margin-top:3px;color:#375623;font-style:italic}
.cell{font-family:ui-monospace,Consolas,monospace;white-space:nowrap}
.filtre{background:#F2F2F2;padding:8px 10px;border:1px solid #c9c9c9;font-size:14px}
.filtre select{font-size:14px;margin:0 14px 0 6px}
.note{font-size:13px;color:#595959}
svg text{font-family:system-ui,Arial,sans-serif;font-size:12px}
"""

SCRIPT = """
(function(){
  var selects = {code: document.getElementById('filtre-code'), gravite: document.getElementById('filtre-gravite'),
                 statut: document.getElementById('filtre-statut')};
  var defaults = {code: '', gravite: 'ea', statut: 'tout'};
  var count = document.getElementById('filtre-compte');
  function known(name, value) {
    var options = selects[name].options;
    for (var i = 0; i < options.length; i++) { if (options[i].value === value) { return true; } }
    return false;
  }
  function wanted(name, value, row) {
    if (name === 'code') { return !value || row.getAttribute('data-code') === value; }
    if (name === 'gravite') {
      var g = row.getAttribute('data-gravite');
      return value === 'tout' || (value === 'ea' ? g !== 'info' : g === value);
    }
    var open = row.getAttribute('data-ouvert') === 'oui';
    return value === 'tout' || (value === 'ouverts' ? open : !open);
  }
  function apply(state) {
    var rows = document.querySelectorAll('#table-constats tbody tr');
    var shown = 0;
    for (var j = 0; j < rows.length; j++) {
      var keep = wanted('code', state.code, rows[j]) && wanted('gravite', state.gravite, rows[j]) &&
                 wanted('statut', state.statut, rows[j]);
      rows[j].hidden = !keep;
      if (keep) { shown++; }
    }
    for (var name in selects) { selects[name].value = state[name]; }
    document.body.setAttribute('data-filtre', state.code);
    count.textContent = shown + ' constat(s) affiché(s) sur ' + rows.length;
  }
  function fromHash() {
    var state = {code: defaults.code, gravite: defaults.gravite, statut: defaults.statut};
    var parts = window.location.hash.slice(1).split('&');
    for (var i = 0; i < parts.length; i++) {
      var kv = parts[i].split('=');
      var name = kv[0], value = kv.length > 1 ? decodeURIComponent(kv[1]) : '';
      if (selects.hasOwnProperty(name) && known(name, value)) { state[name] = value; }
    }
    return state;
  }
  function toHash() {
    var parts = [];
    for (var name in selects) {
      if (selects[name].value !== defaults[name]) { parts.push(name + '=' + encodeURIComponent(selects[name].value)); }
    }
    return parts.join('&');
  }
  for (var name in selects) {
    selects[name].addEventListener('change', function() {
      var hash = toHash();
      if (window.location.hash.slice(1) !== hash) { window.location.hash = hash; }
      apply(fromHash());
    });
  }
  window.addEventListener('hashchange', function() { apply(fromHash()); });
  apply(fromHash());
  if (/(^|&)(code|gravite|statut)=/.test(window.location.hash.slice(1))) {
    document.getElementById('constats').scrollIntoView();  // a link to a filter opens on the findings
  }
})();
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


def e(value: object) -> str:
    """Escaped text (quotes too: the same function serves attributes); a file
    name's bytes that are not UTF-8 shown as U+FFFD."""
    return html.escape(shown("" if value is None else str(value)), quote=True)


def euros(text: Optional[str]) -> str:
    """'1201409.00' -> '1 201 409,00 €' (— when there is no amount)."""
    return format_eur(Decimal(text)) if text is not None else "—"


def rate(text: Optional[str]) -> str:
    if text is None:
        return "—"
    pct = (Decimal(text) * 100).quantize(Decimal("0.1"))
    return f"{pct}".replace(".", ",") + "\u00a0%"


def href(chemin: str, base: Optional[str], page: Optional[str]) -> str:
    """A link from the page to a file of the folder, relative when possible
    (the page and the folder travel together), each segment URL-encoded."""
    if base is None:
        return quote(os.fsencode(chemin))
    target = Path(base, chemin).resolve()
    try:
        rel = os.path.relpath(target, Path(page).resolve().parent if page else Path.cwd())
    except ValueError:  # another drive (Windows): an absolute link
        return target.as_uri()
    # each segment as the bytes of its name (a name that is not UTF-8 keeps its own bytes)
    return "/".join(quote(os.fsencode(part)) for part in Path(rel).as_posix().split("/"))


def _amount_cell(text: Optional[str]) -> str:
    return f'<td class="n" data-montant="{e(text or "")}">{e(euros(text))}</td>'


def _files_table(doc: dict, base: Optional[str], page: Optional[str]) -> str:
    head = ("Département", "Année", "Avenant", "Statut", "Enveloppe utilisée", "Erreurs", "Avertissements",
            "Justifiés", "Depuis le dernier contrôle", "Fichier", "Remarque")
    out = ['<table id="table-fichiers"><thead><tr>' + "".join(f"<th>{e(h)}</th>" for h in head) +
           "</tr></thead><tbody>"]
    files = sorted(doc["fichiers"], key=lambda f: ((f["departement"] or "~").lower(), f["annee"] or 0,
                                                    f["fichier"]))
    for f in files:
        counts = f["comptes"]
        st = f["statut"]
        st_class = {"sans erreur": "st-ok", "erreurs justifiées": "st-justifie", "erreurs à corriger": "st-erreurs",
                    "illisible": "st-illisible"}.get(st, "")
        prov = f["provenance"] or {}
        state = prov.get("etat")
        receipt = prov.get("recu") or {}
        since = STATE_LABEL.get(state or "", "")
        if receipt.get("date") and state:
            since += f" (contrôle du {_date(receipt['date'])})"
        remark = []
        if f["en_double"]:
            remark.append('<span class="double">en double</span>' + (
                "" if f.get("compte_dans_totaux", True) else " : non compté dans les totaux"))
        if f["erreur"]:
            remark.append(e(f["erreur"]))
        if f["montants_non_comptes"]:
            remark.append(e(f"{f['montants_non_comptes']} montant(s) non compté(s)"))
        readable = f["lisible"] and not f["ignore"]
        out.append(
            f'<tr data-fichier="{e(f["fichier"])}" data-statut="{e(st)}">'
            f"<td>{e(f['departement'] or '—')}</td><td class=\"n\">{e(f['annee'] or '—')}</td>"
            f"<td>{e(f['avenant'] or '')}</td><td class=\"{st_class}\">{e(st)}</td>"
            f'<td class="n" data-taux="{e(f["enveloppe_utilisee"] or "")}">{e(rate(f["enveloppe_utilisee"]))}</td>'
            + "".join(f'<td class="n" data-compte="{k}">{counts[k] if readable else "—"}</td>'
                      for k in ("erreur", "avertissement", "justifies"))
            + f'<td class="{"modifie" if state == "modifié" else ""}" data-etat="{e(state or "")}">{e(since)}</td>'
            f'<td><a href="{e(href(f["fichier"], base, page))}">{e(f["fichier"])}</a></td>'
            f"<td>{'<br>'.join(remark)}</td></tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _date(iso: str) -> str:
    try:
        return dt.datetime.fromisoformat(iso).strftime("%d/%m/%Y")
    except ValueError:
        return iso


def _findings(doc: dict, base: Optional[str], page: Optional[str]) -> str:
    rows = []
    codes: dict[str, int] = {}
    files = sorted((f for f in doc["fichiers"] if f["constats"]),
                   key=lambda f: ((f["departement"] or "").lower(), f["annee"] or 0, f["fichier"]))
    for f in files:
        link = e(href(f["fichier"], base, page))
        for c in f["constats"]:
            codes[c["code"]] = codes.get(c["code"], 0) + 1
            where = f"{c['feuille']}!{c['cellule']}" if c["feuille"] and c["cellule"] else (c["feuille"] or "")
            status = (f'<span class="justifie">{e(c["statut"])}</span>' if not c["ouvert"] else
                      e(c["statut"] or "ouvert"))
            answer = f'<span class="reponse">Réponse : {e(c["reponse"])}</span>' if c["reponse"] else ""
            rows.append(
                f'<tr data-code="{e(c["code"])}" data-gravite="{e(c["gravite"])}" '
                f'data-ouvert="{"oui" if c["ouvert"] else "non"}">'
                f"<td>{e(f['departement'] or '—')}</td><td class=\"n\">{e(f['annee'] or '—')}</td>"
                f'<td class="sev-{e(c["gravite"])}">{e(SEVERITY_LABEL.get(c["gravite"], c["gravite"]))}</td>'
                f"<td>{e(c['code'])}</td><td>{status}</td><td>{e(c['message'])}{answer}</td>"
                f'<td><a href="{link}">{e(f["fichier"])}</a><br><span class="cell">{e(where)}</span></td></tr>')
    options = [f'<option value="">tous les codes ({sum(codes.values())})</option>']
    for code in sorted(codes):
        title = CATALOGUE[code].titre if code in CATALOGUE else ""
        options.append(f'<option value="{e(code)}">{e(code)} — {e(title)} ({codes[code]})</option>')
    head = ("Département", "Année", "Gravité", "Code", "Statut", "Constat", "Fichier et cellule")
    gravite = "".join(f'<option value="{v}"{" selected" if v == "ea" else ""}>{e(label)}</option>' for v, label in (
        ("ea", "erreurs et avertissements"), ("erreur", "erreurs"), ("avertissement", "avertissements"),
        ("info", "informations"), ("tout", "toutes")))
    statut = "".join(f'<option value="{v}">{e(label)}</option>' for v, label in (
        ("tout", "tous"), ("ouverts", "ouverts"), ("justifies", "justifiés ou acceptés")))
    return (f'<div class="filtre"><label for="filtre-code">Code :</label>'
            f'<select id="filtre-code">{"".join(options)}</select>'
            f'<label for="filtre-gravite">Gravité :</label><select id="filtre-gravite">{gravite}</select>'
            f'<label for="filtre-statut">Statut :</label><select id="filtre-statut">{statut}</select>'
            f'<span id="filtre-compte">{len(rows)} constat(s)</span></div>'
            '<p class="note">Sans script, tous les constats sont affichés. Un lien vers un filtre : '
            "<code>rapport.html#code=ENVELOPPE_DEPASSE&amp;gravite=tout</code>.</p>"
            '<table id="table-constats"><thead><tr>' + "".join(f"<th>{e(h)}</th>" for h in head) +
            "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _totals_table(table_id: str, lines: list[dict], keys: list[tuple[str, str]], total: dict) -> str:
    """A table of totals. A line whose sums miss amounts says how many, beside them, on that line: the
    figures of a département whose formulas were not counted are not left to read as its own."""
    uncounted = any(x.get("montants_non_comptes") for x in [*lines, total])
    if any("profil" in x for x in lines):  # conventions of several profiles: a line per profile
        keys = [("profil", "Profil"), *keys]
    head = [label for _k, label in keys] + [label for _k, label in AMOUNTS] + (
        ["Montants non comptés"] if uncounted else [])

    def missing(x: dict) -> str:
        n = x.get("montants_non_comptes") or 0
        return (f'<td class="n incomplet" data-non-comptes="{n}">{n} non compté(s)</td>' if n else
                '<td class="n" data-non-comptes="0"></td>') if uncounted else ""

    out = [f'<table id="{table_id}"><thead><tr>' + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr></thead><tbody>"]
    for line in lines:
        out.append("<tr>" + "".join(f"<td>{e(line.get(k) if line.get(k) is not None else '')}</td>" for k, _ in keys)
                   + "".join(_amount_cell(line.get(k)) for k, _ in AMOUNTS) + missing(line) + "</tr>")
    label = "TOTAL" if total.get("complet", True) else "TOTAL (incomplet)"
    out.append(f'<tr class="total"><td colspan="{len(keys)}">{label}</td>' +
               "".join(_amount_cell(total.get(k)) for k, _ in AMOUNTS) + missing(total) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def chart(lines: list[dict], key: str, title: str) -> str:
    """Horizontal bars of the parts État and CD of each line, as inline SVG."""
    series = (("part_etat", "Participation État", "#1F4E78"), ("part_cd", "Participation CD", "#9DC3E6"))
    values = [[Decimal(line.get(s) or 0) for s, _l, _c in series] for line in lines]
    top = max([v for pair in values for v in pair] + [Decimal(1)])
    label_w, bar_w, row_h, bar_h = 330, 470, 38, 14
    height = 40 + row_h * len(lines) + 10
    width = label_w + bar_w + 150
    parts = [f'<svg id="graphique-themes" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{e(title)}"><title>{e(title)}</title>']
    for i, (_s, label, color) in enumerate(series):
        x = label_w + i * 190
        parts.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{color}"/>'
                     f'<text x="{x + 18}" y="17">{e(label)}</text>')
    for i, (line, pair) in enumerate(zip(lines, values, strict=True)):
        y = 32 + i * row_h
        name = str(line.get(key) or "(sans thème)") + (f" ({line['profil']})" if line.get("profil") else "")
        shown = name if len(name) <= 48 else name[:47] + "…"
        parts.append(f'<text x="{label_w - 8}" y="{y + bar_h + 3}" text-anchor="end"><title>{e(name)}</title>'
                     f"{e(shown)}</text>")
        for j, ((_s, _label, color), v) in enumerate(zip(series, pair, strict=True)):
            w = int(bar_w * v / top) if top else 0
            yy = y + j * (bar_h + 2)
            parts.append(f'<rect x="{label_w}" y="{yy}" width="{max(w, 1)}" height="{bar_h}" fill="{color}" '
                         f'data-montant="{v:.2f}"><title>{e(name)} — {e(format_eur(v))}</title></rect>'
                         f'<text x="{label_w + max(w, 1) + 4}" y="{yy + bar_h - 3}">'
                         f"{e(format_eur(v, cents=False))}</text>")
    parts.append("</svg>")
    return "".join(parts)


def render(doc: dict, base: Optional[str] = None, page: Optional[str] = None) -> str:
    """The page. ``base``: the consolidated folder (links to the files are
    made from ``page``, the path the page is written to)."""
    files = doc["fichiers"]
    readable = [f for f in files if f["lisible"] and not f["ignore"]]
    unreadable = [f for f in files if not f["lisible"]]
    n_findings = sum(len(f["constats"]) for f in files)
    totals = doc["totaux"]
    paths = {f["provenance"].get("chemin") or f["fichier"] for f in files}  # a contract: one line per year
    lines = f" ({len(files)} ligne(s) département × année)" if len(paths) != len(files) else ""
    profiles = sorted({(f["provenance"] or {}).get("profil") for f in readable} - {None})
    conventions = f" ; profil(s) : {', '.join(profiles)}" if profiles else ""
    summary = (f"{len(paths)} fichier(s){lines}, {len({f['fichier'] for f in readable})} lu(s), "
               f"{len(unreadable)} illisible(s), "
               f"{sum(1 for f in files if f['en_double'])} en double, "
               f"{sum(1 for f in readable if (f['provenance'] or {}).get('etat') == 'modifié')} modifié(s) depuis "
               f"leur dernier contrôle ; {n_findings} constat(s), dont "
               f"{sum(f['comptes']['justifies'] for f in readable)} justifié(s){conventions}.")
    body = [
        f"<header><h1>{e(PAGE_TITLE)}</h1>",
        f"<p>Dossier : {e(doc['dossier'])} — produit par {e(doc['outil']['nom'])} {e(doc['outil']['version'])}"
        f"</p><p id=\"resume\">{e(summary)}</p></header><main>",
        '<nav><a href="#fichiers">Fichiers</a><a href="#par-theme">Par thème</a>'
        '<a href="#par-bloc">Par bloc, axe ou volet</a>'
        '<a href="#par-departement">Par département</a><a href="#constats">Constats</a></nav>',
        '<section id="fichiers"><h2>Fichiers : une ligne par département et année</h2>',
        '<p class="note">Statut : « erreurs à corriger » tant qu\'une erreur n\'est ni corrigée ni justifiée. '
        "Depuis le dernier contrôle : « inchangé » si le contenu (montants, fiches, paramètres, indicateurs) est "
        "celui que calpae-xl a contrôlé et enregistré dans le fichier.</p>",
        _files_table(doc, base, page), "</section>",
        '<section id="par-theme"><h2>Totaux par thème</h2>',
        chart(totals["par_theme"], "theme", "Parts État et CD par thème"),
        _totals_table("table-par-theme", totals["par_theme"], [("theme", "Thème")], totals["total"]),
        "</section>",
        '<section id="par-bloc"><h2>Totaux par bloc, axe ou volet</h2>',
        _totals_table("table-par-bloc", totals["par_bloc"], [("bloc", "Bloc")], totals["total"]), "</section>",
        '<section id="par-departement"><h2>Totaux par département et année</h2>',
        _totals_table("table-par-departement", totals["par_departement"],
                      [("departement", "Département"), ("annee", "Année")], totals["total"]), "</section>",
        '<section id="constats"><h2>Constats</h2>', _findings(doc, base, page), "</section>",
        "</main>",
    ]
    return ("<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{e(PAGE_TITLE)} — {e(doc['dossier'])}</title><style>{CSS}</style></head>"
            f"<body>{''.join(body)}<script>{SCRIPT}</script></body></html>\n")
