#!/usr/bin/env python3
"""Open perfgate's HTML pages in a real headless Chromium and check them.

  check_pages.py [--crawl] [--shots DIR] [--name PREFIX] PAGE.html...

For every page (and, with --crawl, every page reachable from it through
relative links): no console error, no uncaught exception and no failed load;
every <img> and every <svg> has a non-zero rendered size (collapsed
<details> are opened first, as printing does); every relative link points
to a file that exists, and a #fragment to an element that exists there.
With --shots, full-page screenshots of the given pages at phone (390 px)
and desktop (1280 px) width are saved there as PREFIX-N-phone.png and
PREFIX-N-desktop.png, for a person to look at.

Prints TAP lines ("ok - ..." / "not ok - ..."), as tests/run.sh counts
them, and exits 0 when all passed.  Chromium is driven over the DevTools
protocol on a pipe (--remote-debugging-pipe: fd 3 in, fd 4 out), so no
port is opened and nothing but the standard library is needed.
"""
import argparse
import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--remote-debugging-pipe", "--mute-audio"]
TIMEOUT = 60.0


class Browser:
    """Chromium with the DevTools protocol on fds 3 (to it) and 4 (from it)."""

    def __init__(self, binary):
        self.profile = tempfile.mkdtemp(prefix="perfgate-chromium.")
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()

        def fds():
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)

        self.proc = subprocess.Popen([binary, *FLAGS, "--user-data-dir=" + self.profile, "about:blank"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, preexec_fn=fds,
                                     pass_fds=(to_r, from_w, 3, 4))
        os.close(to_r)
        os.close(from_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def close(self):
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_w)
        os.close(self.from_r)
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.from_r], [], [], left)[0]:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self.from_r, 1 << 20)
            if not chunk:
                raise EOFError("Chromium closed the pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method, session):
        deadline = time.monotonic() + TIMEOUT
        for i, m in enumerate(self.events):
            if m.get("method") == method and m.get("sessionId") == session:
                del self.events[i]
                return m
        while True:
            m = self._read_message(deadline)
            if m.get("method") == method and m.get("sessionId") == session:
                return m
            self.events.append(m)


class Page:
    def __init__(self, browser):
        self.b = browser
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.s = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.cmd(domain + ".enable")

    def cmd(self, method, params=None):
        return self.b.send(method, params, self.s)

    def size(self, width, height, mobile):
        self.cmd("Emulation.setDeviceMetricsOverride",
                 {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})

    def open(self, url):
        self.b.events = [e for e in self.b.events if e.get("sessionId") != self.s]
        self.cmd("Page.navigate", {"url": url})
        self.b.wait_event("Page.loadEventFired", self.s)

    def problems(self):
        """Console errors, exceptions and failed loads seen since open()."""
        out = []
        for e in self.b.events:
            if e.get("sessionId") != self.s:
                continue
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.append("exception: " + p["exceptionDetails"].get("text", "?"))
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console." + p["type"] + ": " + " ".join(str(a.get("value", a.get("description", "")))
                                                               for a in p.get("args", [])))
            elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append("log: " + p["entry"].get("text", "?") + " " + p["entry"].get("url", ""))
        return out

    def js(self, expression):
        r = self.cmd("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                          "awaitPromise": True})
        if "exceptionDetails" in r:
            raise RuntimeError("script failed: " + json.dumps(r["exceptionDetails"])[:300])
        return r["result"].get("value")

    def screenshot(self, path):
        metrics = self.cmd("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        shot = self.cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 16000), "scale": 1}})
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))


PICTURES = """(() => {
  document.querySelectorAll('details').forEach(d => d.open = true);
  const out = [];
  document.querySelectorAll('img').forEach(i => {
    const r = i.getBoundingClientRect();
    out.push({what: 'img ' + (i.alt || i.src.slice(0, 60)), w: r.width, h: r.height,
              nat: i.naturalWidth});
  });
  document.querySelectorAll('svg').forEach((s, k) => {
    if (s.parentElement && s.parentElement.closest('svg')) return;
    const r = s.getBoundingClientRect();
    const t = s.querySelector('title');
    out.push({what: 'svg ' + k + ' ' + (t ? t.textContent.slice(0, 60) : ''), w: r.width, h: r.height,
              nat: 1, paths: s.querySelectorAll('path,circle,polyline,rect').length});
  });
  return out;
})()"""

LINKS = """(() => Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href')))()"""


def ids_in(page):
    return set(page.js("Array.from(document.querySelectorAll('[id]')).map(e => e.id)"))


def check_links(path, hrefs, results):
    """Every relative link resolves to a file; every fragment to an element."""
    pages = []
    for href in hrefs:
        u = urllib.parse.urlsplit(href)
        if u.scheme or u.netloc:
            continue  # absolute links (a CI job, a forge) are not the site's to check
        target = path if not u.path else os.path.normpath(
            os.path.join(os.path.dirname(path), urllib.parse.unquote(u.path)))
        if not os.path.isfile(target):
            results.append((False, f"{os.path.basename(path)}: link '{href}' resolves to a file"))
            continue
        pages.append((target, urllib.parse.unquote(u.fragment)))
    return pages


def check(browser, paths, crawl, shots, name):
    results = []
    given = [os.path.abspath(p) for p in paths]
    queue = list(given)
    seen, wanted, known = set(), {}, {}
    page = Page(browser)
    shot_no = 0
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        label = os.path.relpath(path, os.path.dirname(given[0]))
        page.size(1280, 900, False)
        page.open("file://" + urllib.parse.quote(path))
        pics = page.js(PICTURES)
        probs = page.problems()
        results.append((not probs, f"{label}: no console errors"
                        + ("" if not probs else ": " + "; ".join(probs)[:400])))
        bad = [p for p in pics if not (p["w"] > 0 and p["h"] > 0 and p["nat"] > 0)]
        results.append((not bad, f"{label}: {len(pics)} pictures render with a non-zero size"
                        + ("" if not bad else ": " + json.dumps(bad)[:300])))
        empty = [p for p in pics if p["what"].startswith("svg") and p.get("paths", 1) == 0]
        results.append((not empty, f"{label}: every picture draws something"
                        + ("" if not empty else ": " + json.dumps(empty)[:300])))
        known[path] = ids_in(page)
        if crawl:
            for target, frag in check_links(path, page.js(LINKS), results):
                if frag:
                    wanted.setdefault(target, set()).add(frag)
                queue.append(target)
        if shots and path in given:
            shot_no += 1
            for width, height, mobile, tag in ((390, 844, True, "phone"), (1280, 900, False, "desktop")):
                page.size(width, height, mobile)
                page.open("file://" + urllib.parse.quote(path))
                out = os.path.join(shots, f"{name}-{shot_no}-{tag}.png")
                page.screenshot(out)
                results.append((os.path.getsize(out) > 1000, f"{label}: screenshot at {width} px saved as {out}"))
    if crawl:
        missing = [f"{os.path.basename(p)}#{f}" for p, fs in wanted.items() for f in fs
                   if f not in known.get(p, set())]
        results.append((not missing, f"every link's #fragment names an element ({len(seen)} pages crawled)"
                        + ("" if not missing else ": " + ", ".join(missing[:10]))))
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--crawl", action="store_true")
    ap.add_argument("--shots")
    ap.add_argument("--name", default="page")
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM", "chromium"))
    ap.add_argument("pages", nargs="+")
    a = ap.parse_args()
    binary = shutil.which(a.chromium)
    if not binary:
        print(f"ok - # SKIP chromium is not installed (Debian package 'chromium')")
        return 0
    if a.shots:
        os.makedirs(a.shots, exist_ok=True)
    browser = Browser(binary)
    try:
        results = check(browser, a.pages, a.crawl, a.shots, a.name)
    finally:
        browser.close()
    failed = 0
    for passed, what in results:
        print(("ok - " if passed else "not ok - ") + what)
        failed += not passed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
