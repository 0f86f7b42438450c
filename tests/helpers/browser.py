"""A real browser for the HTML report (test helper): Debian's chromium,
headless, no driver — ``--dump-dom`` gives the page as the browser built it
(after its script ran), ``--screenshot`` what a person sees, and
:class:`Page` drives it like a person (keys pressed in the page) through the
DevTools protocol over a pipe (``--remote-debugging-pipe``: JSON messages
on file descriptors 3 and 4, standard library only). Each call gets a fresh
profile and no network services."""
from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import tempfile
import time
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


class Page:
    """One page open in a headless chromium, driven by the DevTools protocol:
    ``evaluate`` reads the page, ``press`` types a key where the focus is."""

    def __init__(self, path: Path, fragment: str = "", timeout: float = 60):
        self.timeout = timeout
        self.profile = tempfile.TemporaryDirectory(prefix="calpae-chromium-")
        to_browser, self._w = os.pipe()
        self._r, from_browser = os.pipe()

        def fds():  # in the child: the protocol's two descriptors, 3 (commands) and 4 (answers)
            a, b = os.dup(to_browser), os.dup(from_browser)
            os.dup2(a, 3)
            os.dup2(b, 4)
        self.proc = subprocess.Popen([chromium_path(), *FLAGS, f"--user-data-dir={self.profile.name}",
                                      "--remote-debugging-pipe", "about:blank"], preexec_fn=fds, close_fds=False,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser)
        os.close(from_browser)
        self._buf, self._id = b"", 0
        target = self._send("Target.createTarget", {"url": url_of(path, fragment)})["targetId"]
        self.session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        deadline = time.monotonic() + timeout
        loaded = "location.href.startsWith('file:') && document.readyState === 'complete'"
        while not self.evaluate(loaded):  # the blank page before it is « complete » too
            assert time.monotonic() < deadline, "la page ne se charge pas"
            time.sleep(0.05)

    def _send(self, method: str, params: Optional[dict] = None, session: Optional[str] = None) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\0" not in self._buf:
                left = deadline - time.monotonic()
                assert left > 0 and select.select([self._r], [], [], left)[0], f"chromium ne répond pas ({method})"
                chunk = os.read(self._r, 1 << 20)
                assert chunk, "chromium s'est arrêté"
                self._buf += chunk
            raw, self._buf = self._buf.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._id:
                assert "error" not in reply, reply["error"]
                return reply["result"]

    def evaluate(self, expression: str):
        result = self._send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, self.session)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def press(self, key: str, code: int) -> None:
        """A key pressed and released (``code``: its Windows virtual key code, e.g. 40 for ArrowDown)."""
        for kind in ("keyDown", "keyUp"):
            self._send("Input.dispatchKeyEvent", {"type": kind, "key": key, "code": key,
                                                  "windowsVirtualKeyCode": code}, self.session)

    def close(self) -> None:
        try:
            self._send("Browser.close")
        except AssertionError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        os.close(self._w)
        os.close(self._r)
        self.profile.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


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
