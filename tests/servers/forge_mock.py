#!/usr/bin/env python3
"""A loopback stand-in for the parts of the GitHub and GitLab REST APIs that
perfgate uses, faithful in what perfgate depends on:

GitHub (paths as under https://api.github.com):
  GET   /repos/{owner}/{repo}/issues/{n}/comments?per_page=&page=   Link paging
  POST  /repos/{owner}/{repo}/issues/{n}/comments                   201
  PATCH /repos/{owner}/{repo}/issues/comments/{id}                  200
  Authorization: Bearer TOKEN (or "token TOKEN"); 401 Bad credentials;
  a read-only token gets 403 "Resource not accessible by integration" on writes.
GitLab (paths as under $CI_API_V4_URL, served at /api/v4):
  GET  /api/v4/projects/{id}/merge_requests/{iid}/notes?per_page=&page=  X-Next-Page + Link
  POST /api/v4/projects/{id}/merge_requests/{iid}/notes                  201
  PUT  /api/v4/projects/{id}/merge_requests/{iid}/notes/{note_id}        200
  PRIVATE-TOKEN: TOKEN; 401 {"message": "401 Unauthorized"}.

Test control (no auth):
  GET  /_state          comments/notes and a request log (method, path, status, auth_ok)
  POST /_seed           {"github": {"owner/repo#n": count}, "gitlab": {"id!iid": count}}
  POST /_faults         {"queue": [{"status": 429, "retry_after": 1}, {"status": 502}, ...]}
                        answered, one each, to the next API requests instead of serving them;
                        {"delay": S} instead sleeps S seconds before serving normally
  POST /_link           {"base": "http://other:port"}: paging links (Link rel="next") point
                        there instead of at this server, as a hostile or misconfigured API could

Usage: forge_mock.py --token T [--readonly-token R] --port-file FILE [--log FILE]
Listens on 127.0.0.1 on a free port, writes the port to FILE, exits after
--lifetime seconds (default 120) so that a test that dies cannot leave it behind.
"""
import argparse
import json
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = {"github": {}, "gitlab": {}, "log": [], "faults": [], "next_id": 1000, "link_base": None}
LOCK = threading.Lock()
ARGS = None


def new_id():
    STATE["next_id"] += 1
    return STATE["next_id"]


def page_params(query):
    q = urllib.parse.parse_qs(query)
    per_page = min(int(q.get("per_page", ["30"])[0]), 100)
    page = max(int(q.get("page", ["1"])[0]), 1)
    return per_page, page


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep test output clean
        pass

    def send_json(self, status, obj, headers=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def read_json(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return None

    def link_origin(self):
        return STATE["link_base"] or "http://%s" % self.headers.get("Host")

    def record(self, status, auth_ok):
        STATE["log"].append({"method": self.command, "path": self.path,
                             "status": status, "auth_ok": auth_ok,
                             "user_agent": self.headers.get("User-Agent", "")})

    def auth(self, kind):
        if kind == "github":
            h = self.headers.get("Authorization", "")
            m = re.match(r"^(?:Bearer|token) (.+)$", h)
            tok = m.group(1) if m else None
        else:
            tok = self.headers.get("PRIVATE-TOKEN")
        if tok == ARGS.token:
            return "rw"
        if ARGS.readonly_token and tok == ARGS.readonly_token:
            return "ro"
        return None

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path, url.query
        fault = None
        with LOCK:
            if STATE["faults"] and not path.startswith("/_"):
                fault = STATE["faults"].pop(0)
        if fault and "delay" in fault:
            time.sleep(fault["delay"])  # outlast the client's timeout
            fault = None
        with LOCK:
            if path == "/_state":
                return self.send_json(200, {k: STATE[k] for k in ("github", "gitlab", "log")})
            if path == "/_seed" and self.command == "POST":
                return self.seed(self.read_json() or {})
            if path == "/_link" and self.command == "POST":
                STATE["link_base"] = (self.read_json() or {}).get("base")
                return self.send_json(200, {"link_base": STATE["link_base"]})
            if path == "/_faults" and self.command == "POST":
                STATE["faults"].extend((self.read_json() or {}).get("queue", []))
                return self.send_json(200, {"queued": len(STATE["faults"])})
            if fault:
                headers = {}
                if "retry_after" in fault:
                    headers["Retry-After"] = str(fault["retry_after"])
                if fault.get("ratelimit"):
                    headers["X-RateLimit-Remaining"] = "0"
                self.record(fault["status"], None)
                return self.send_json(fault["status"], {"message": "injected fault"}, headers)
            m = re.match(r"^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$", path)
            if m:
                return self.github_list_or_create(m.group(1), int(m.group(2)), query)
            m = re.match(r"^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$", path)
            if m:
                return self.github_update(m.group(1), int(m.group(2)))
            m = re.match(r"^/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes$", path)
            if m:
                return self.gitlab_list_or_create(urllib.parse.unquote(m.group(1)), int(m.group(2)), query)
            m = re.match(r"^/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes/(\d+)$", path)
            if m:
                return self.gitlab_update(urllib.parse.unquote(m.group(1)), int(m.group(2)), int(m.group(3)))
            self.record(404, None)
            return self.send_json(404, {"message": "Not Found"})

    def seed(self, spec):
        for key, count in spec.get("github", {}).items():
            lst = STATE["github"].setdefault(key, [])
            for i in range(count):
                lst.append({"id": new_id(), "body": "unrelated comment %d" % i, "user": {"login": "someone"}})
        for key, count in spec.get("gitlab", {}).items():
            lst = STATE["gitlab"].setdefault(key, [])
            for i in range(count):
                lst.append({"id": new_id(), "body": "unrelated note %d" % i, "system": False})
        return self.send_json(200, {"ok": True})

    # -- GitHub --
    def github_list_or_create(self, repo, number, query):
        perm = self.auth("github")
        if perm is None:
            self.record(401, False)
            return self.send_json(401, {"message": "Bad credentials",
                                        "documentation_url": "https://docs.github.com/rest"})
        key = "%s#%d" % (repo, number)
        comments = STATE["github"].setdefault(key, [])
        if self.command == "GET":
            per_page, page = page_params(query)
            last = max(1, (len(comments) + per_page - 1) // per_page)
            chunk = comments[(page - 1) * per_page: page * per_page]
            base = "%s%s" % (self.link_origin(), urllib.parse.urlsplit(self.path).path)
            links = []
            if page < last:
                links.append('<%s?per_page=%d&page=%d>; rel="next"' % (base, per_page, page + 1))
                links.append('<%s?per_page=%d&page=%d>; rel="last"' % (base, per_page, last))
            if page > 1:
                links.append('<%s?per_page=%d&page=%d>; rel="prev"' % (base, per_page, page - 1))
                links.append('<%s?per_page=%d&page=1>; rel="first"' % (base, per_page))
            self.record(200, True)
            return self.send_json(200, chunk, {"Link": ", ".join(links)} if links else None)
        if self.command == "POST":
            if perm == "ro":
                self.record(403, True)
                return self.send_json(403, {"message": "Resource not accessible by integration"})
            data = self.read_json()
            if not data or not isinstance(data.get("body"), str):
                self.record(422, True)
                return self.send_json(422, {"message": "Validation Failed"})
            c = {"id": new_id(), "body": data["body"], "user": {"login": "github-actions[bot]"}}
            comments.append(c)
            self.record(201, True)
            return self.send_json(201, c)
        self.record(405, True)
        return self.send_json(405, {"message": "Method Not Allowed"})

    def github_update(self, repo, cid):
        perm = self.auth("github")
        if perm is None:
            self.record(401, False)
            return self.send_json(401, {"message": "Bad credentials"})
        if self.command != "PATCH":
            self.record(405, True)
            return self.send_json(405, {"message": "Method Not Allowed"})
        for key, comments in STATE["github"].items():
            if not key.startswith(repo + "#"):
                continue
            for c in comments:
                if c["id"] == cid:
                    if perm == "ro":
                        self.record(403, True)
                        return self.send_json(403, {"message": "Resource not accessible by integration"})
                    data = self.read_json()
                    if not data or not isinstance(data.get("body"), str):
                        self.record(422, True)
                        return self.send_json(422, {"message": "Validation Failed"})
                    c["body"] = data["body"]
                    self.record(200, True)
                    return self.send_json(200, c)
        self.record(404, True)
        return self.send_json(404, {"message": "Not Found"})

    # -- GitLab --
    def gitlab_list_or_create(self, project, iid, query):
        perm = self.auth("gitlab")
        if perm is None:
            self.record(401, False)
            return self.send_json(401, {"message": "401 Unauthorized"})
        key = "%s!%d" % (project, iid)
        notes = STATE["gitlab"].setdefault(key, [])
        if self.command == "GET":
            per_page, page = page_params(query)
            last = max(1, (len(notes) + per_page - 1) // per_page)
            chunk = notes[(page - 1) * per_page: page * per_page]
            headers = {"X-Page": str(page), "X-Per-Page": str(per_page),
                       "X-Total": str(len(notes)), "X-Total-Pages": str(last),
                       "X-Next-Page": str(page + 1) if page < last else ""}
            if page < last:
                base = "%s%s" % (self.link_origin(), urllib.parse.urlsplit(self.path).path)
                headers["Link"] = '<%s?page=%d&per_page=%d>; rel="next"' % (base, page + 1, per_page)
            self.record(200, True)
            return self.send_json(200, chunk, headers)
        if self.command == "POST":
            if perm == "ro":
                self.record(403, True)
                return self.send_json(403, {"message": "403 Forbidden"})
            data = self.read_json()
            if not data or not isinstance(data.get("body"), str):
                self.record(400, True)
                return self.send_json(400, {"message": "400 Bad request - body is missing"})
            n = {"id": new_id(), "body": data["body"], "system": False}
            notes.append(n)
            self.record(201, True)
            return self.send_json(201, n)
        self.record(405, True)
        return self.send_json(405, {"message": "405 Method Not Allowed"})

    def gitlab_update(self, project, iid, nid):
        perm = self.auth("gitlab")
        if perm is None:
            self.record(401, False)
            return self.send_json(401, {"message": "401 Unauthorized"})
        if self.command != "PUT":
            self.record(405, True)
            return self.send_json(405, {"message": "405 Method Not Allowed"})
        for n in STATE["gitlab"].get("%s!%d" % (project, iid), []):
            if n["id"] == nid:
                if perm == "ro":
                    self.record(403, True)
                    return self.send_json(403, {"message": "403 Forbidden"})
                data = self.read_json()
                if not data or not isinstance(data.get("body"), str):
                    self.record(400, True)
                    return self.send_json(400, {"message": "400 Bad request - body is missing"})
                n["body"] = data["body"]
                self.record(200, True)
                return self.send_json(200, n)
        self.record(404, True)
        return self.send_json(404, {"message": "404 Not found"})

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = handle_any


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--token", required=True)
    p.add_argument("--readonly-token")
    p.add_argument("--port-file", required=True)
    p.add_argument("--lifetime", type=float, default=120)
    ARGS = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(ARGS.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(ARGS.port_file + ".tmp", ARGS.port_file)
    threading.Timer(ARGS.lifetime, srv.shutdown).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
