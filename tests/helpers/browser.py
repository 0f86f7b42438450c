"""A real browser for the HTML report (test helper): Debian's chromium,
headless, no driver — ``--dump-dom`` gives the page as the browser built it
(after its script ran), ``--screenshot`` what a person sees. Each call gets a
fresh profile and no network services."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Optional

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-extensions", "--disable-sync",
         "--hide-scrollbars", "--mute-audio")


def chromium_path() -> Optional[str]:
    return os.environ.get("CALPAE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def _run(url: str, extra: list[str], timeout: int = 90) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="calpae-chromium-") as profile:
        return subprocess.run([chromium_path(), *FLAGS, f"--user-data-dir={profile}", *extra, url],
                              capture_output=True, text=True, timeout=timeout)


def url_of(path: Path, fragment: str = "") -> str:
    return Path(path).resolve().as_uri() + (f"#{fragment}" if fragment else "")


def dump_dom(path: Path, fragment: str = "") -> str:
    """The DOM after the page's script ran (``fragment``: the part after « # »)."""
    done = _run(url_of(path, fragment), ["--virtual-time-budget=3000", "--dump-dom"])
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def screenshot(path: Path, target: Path, width: int = 1400, height: int = 2600, fragment: str = "") -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    done = _run(url_of(path, fragment), [f"--window-size={width},{height}", f"--screenshot={target}",
                                         "--virtual-time-budget=3000"])
    assert done.returncode == 0 and target.exists() and target.stat().st_size > 10_000, done.stderr[-2000:]
    return target


class Node:
    def __init__(self, tag: str, attrs: dict, parent: Optional["Node"]):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list = []

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    def find_all(self, tag: Optional[str] = None, **attrs) -> list["Node"]:
        out = []
        for c in self.children:
            if isinstance(c, Node):
                if (tag is None or c.tag == tag) and all(c.attrs.get(k.replace("_", "-")) == v
                                                         for k, v in attrs.items()):
                    out.append(c)
                out += c.find_all(tag, **attrs)
        return out

    def by_id(self, ident: str) -> "Node":
        found = [n for n in self.find_all() if n.attrs.get("id") == ident]
        assert len(found) == 1, ident
        return found[0]


VOID = {"meta", "br", "input", "img", "link", "hr", "source", "col"}


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v if v is not None else "") for k, v in attrs}, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, {k: (v if v is not None else "") for k, v in attrs}, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse(html: str) -> Node:
    b = _Builder()
    b.feed(html)
    return b.root


def rows(table: Node) -> list[Node]:
    body = table.find_all("tbody")
    return body[0].find_all("tr") if body else []
