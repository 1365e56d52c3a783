"""A local stand-in for the Hugging Face Hub, speaking the routes and headers
that huggingface_hub (file_download.py, hf_api.py, utils/_http.py) expects:

  GET  /api/models/{repo}/revision/{rev}        commit sha and file list
  GET  /api/models/{repo}/tree/{rev}            the tree listing (snapshot_download)
  HEAD/GET /{repo}/resolve/{rev}/{path}          small files: 200 with ETag (git blob id);
                                                 LFS files: 302 to a second host name with
                                                 X-Linked-Etag (sha256) and X-Linked-Size
  every response: X-Repo-Commit; errors: X-Error-Code and X-Error-Message

The LFS bytes live on a second server reached by another host name
("localhost" instead of "127.0.0.1", another port), which records whether a
request carried an Authorization header. Repos can be gated (401 without a
token, 403 with the wrong one), serve a corrupted LFS file, cut a download
off halfway, trickle bytes slowly, answer 503 or 429 first.
"""
import hashlib
import http.client
import http.server
import json
import threading
import time
import urllib.parse

GOOD_TOKEN = "hf_mock_good_token"


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Repo:
    def __init__(self, repo_id, files, *, gated=False, lfs_suffixes=(".safetensors", ".gguf", ".model")):
        self.repo_id = repo_id
        self.files = dict(files)  # path -> bytes
        self.gated = gated
        self.lfs = {p for p in self.files if p.endswith(lfs_suffixes)}
        self.commit = hashlib.sha1(repr((repo_id, sorted((p, git_blob_id(d)) for p, d in self.files.items()))).encode()).hexdigest()
        self.corrupt = set()      # LFS paths whose served bytes differ from their sha256
        self.break_once = set()   # LFS paths whose first download stops halfway
        self.slow = {}            # LFS path -> seconds to sleep per 64 KiB chunk
        self.storage_hop = False  # the storage host redirects once more (a CDN to its bucket)
        self.announced_size = {}  # LFS path -> the X-Linked-Size the Hub claims instead of the real one
        self.fail_api_once = None  # an HTTP status (503, 429) the revision API answers first

    def sha256(self, path):
        return hashlib.sha256(self.files[path]).hexdigest()


class MockHub:
    """Two HTTP servers on loopback: the Hub, and the storage host for LFS bytes."""

    def __init__(self):
        self.repos = {}
        self.renamed = {}  # old repo id -> new: every route answers 307 to the new name, as the Hub does
        self.log = []  # (server, method, path, headers)
        self.lock = threading.Lock()
        self.blob_gets = {}  # sha256 -> number of GETs on the storage host
        self.hub = self._serve(self._hub_handler())
        self.storage = self._serve(self._storage_handler())
        self.proxy = self._serve(self._proxy_handler())
        self.proxy_url = "http://127.0.0.1:%d" % self.proxy.server_address[1]
        self.endpoint = "http://127.0.0.1:%d" % self.hub.server_address[1]
        self.storage_url = "http://localhost:%d" % self.storage.server_address[1]

    def add(self, repo):
        self.repos[repo.repo_id] = repo
        return repo

    def close(self):
        for s in (self.hub, self.storage, self.proxy):
            s.shutdown()
            s.server_close()

    def requests(self, server=None):
        with self.lock:
            return [r for r in self.log if server is None or r[0] == server]

    def _serve(self, handler):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def _record(self, server, handler):
        with self.lock:
            self.log.append((server, handler.command, handler.path, {k.lower(): v for k, v in handler.headers.items()}))

    def _hub_handler(self):
        mock = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, headers=(), body=b""):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def error(self, status, code, message, extra=()):
                self.reply(status, [("X-Error-Code", code), ("X-Error-Message", message), *extra],
                           json.dumps({"error": message}).encode())

            def find_repo(self, org, name):
                repo = mock.repos.get(org + "/" + name)
                if repo is None:  # as the Hub: 401 to an anonymous caller, which must not learn of private repos
                    self.error(404 if self.headers.get("Authorization") else 401, "RepoNotFound",
                               "Repository Not Found for url: " + self.path + ".")
                    return None
                if repo.gated:
                    auth = self.headers.get("Authorization")
                    if auth is None:
                        self.error(401, "GatedRepo", "Access to model %s is restricted. You must have access to it "
                                   "and be authenticated to access it. Please log in." % repo.repo_id)
                        return None
                    if auth != "Bearer " + GOOD_TOKEN:
                        self.error(403, "GatedRepo", "Access to model %s is restricted and you are not in the "
                                   "authorized list. Visit %s/%s to ask for access." % (repo.repo_id, mock.endpoint, repo.repo_id))
                        return None
                return repo

            def check_revision(self, repo, rev):
                if rev in ("main", repo.commit):
                    return True
                self.error(404, "RevisionNotFound", "Invalid rev id: " + rev)
                return False

            def do_HEAD(self):
                self.do_GET()

            def do_GET(self):
                mock._record("hub", self)
                url = urllib.parse.urlsplit(self.path)
                for old, new in mock.renamed.items():
                    for prefix in ("/api/models/", "/"):
                        if url.path.startswith(prefix + old + "/"):
                            location = prefix + new + url.path[len(prefix + old):]
                            return self.reply(307, [("Location", location)])
                parts = [urllib.parse.unquote(p) for p in url.path.split("/")[1:]]
                if len(parts) >= 6 and parts[:2] == ["api", "models"] and parts[4] in ("revision", "tree"):
                    repo = self.find_repo(parts[2], parts[3])
                    if repo is None or not self.check_revision(repo, parts[5]):
                        return
                    if parts[4] == "revision" and repo.fail_api_once:
                        status, repo.fail_api_once = repo.fail_api_once, None
                        return self.error(status, "", "try again", [("Retry-After", "1")] if status == 429 else [])
                    if parts[4] == "revision":
                        info = {"id": repo.repo_id, "modelId": repo.repo_id, "sha": repo.commit, "private": False,
                                "gated": "manual" if repo.gated else False,
                                "siblings": [{"rfilename": p} for p in sorted(repo.files)]}
                        return self.reply(200, [("Content-Type", "application/json"), ("X-Repo-Commit", repo.commit)],
                                          json.dumps(info).encode())
                    tree = []
                    for p in sorted(repo.files):
                        entry = {"type": "file", "path": p, "size": len(repo.files[p]), "oid": git_blob_id(repo.files[p])}
                        if p in repo.lfs:
                            entry["lfs"] = {"oid": repo.sha256(p), "size": len(repo.files[p]), "pointerSize": 134}
                        tree.append(entry)
                    return self.reply(200, [("Content-Type", "application/json")], json.dumps(tree).encode())
                if len(parts) >= 5 and parts[2] == "resolve":
                    repo = self.find_repo(parts[0], parts[1])
                    if repo is None or not self.check_revision(repo, parts[3]):
                        return
                    path = "/".join(parts[4:])
                    commit = [("X-Repo-Commit", repo.commit)]
                    if path not in repo.files:
                        return self.error(404, "EntryNotFound", "Entry not found", commit)
                    data = repo.files[path]
                    if path in repo.lfs:
                        sha = repo.sha256(path)
                        location = "%s/blobs/%s?repo=%s&path=%s" % (mock.storage_url, sha, urllib.parse.quote(repo.repo_id, safe=""),
                                                                   urllib.parse.quote(path, safe=""))
                        return self.reply(302, commit + [("Location", location), ("X-Linked-Etag", '"%s"' % sha),
                                                        ("X-Linked-Size", str(repo.announced_size.get(path, len(data)))), ("ETag", '"%s"' % git_blob_id(data)),
                                                        ("Content-Type", "text/plain")])
                    headers = commit + [("ETag", '"%s"' % git_blob_id(data))]
                    if self.command == "HEAD":
                        self.send_response(200)
                        for k, v in headers:
                            self.send_header(k, v)
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        return
                    return self.reply(200, headers, data)
                self.error(404, "", "no such route: " + self.path)

        return Handler

    def _proxy_handler(self):
        """A forward proxy: requests arrive with absolute URLs, are logged, and relayed."""
        mock = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self.do_GET()

            def do_GET(self):
                mock._record("proxy", self)
                target = urllib.parse.urlsplit(self.path)
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection")}
                conn.request(self.command, target.path + ("?" + target.query if target.query else ""), headers=headers)
                r = conn.getresponse()
                body = r.read()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(k, v)
                self.send_header("Content-Length", r.getheader("Content-Length", str(len(body))))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
                conn.close()

        return Handler

    def _storage_handler(self):
        mock = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                mock._record("storage", self)
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query)
                repo = mock.repos[query["repo"][0]]
                path = query["path"][0]
                if repo.storage_hop and "hop" not in query:
                    self.send_response(302)
                    self.send_header("Location", self.path + "&hop=1")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = repo.files[path]
                with mock.lock:
                    first = path in repo.break_once
                    repo.break_once.discard(path)
                    sha = repo.sha256(path)
                    mock.blob_gets[sha] = mock.blob_gets.get(sha, 0) + 1
                if path in repo.corrupt:
                    data = bytes([data[0] ^ 0xFF]) + data[1:]
                start = 0
                rng = self.headers.get("Range")
                if rng:
                    start = int(rng.split("=")[1].split("-")[0])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", "bytes */%d" % len(data))
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(data) - start))
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                body = data[start:]
                if first:  # the connection breaks off halfway
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                delay = repo.slow.get(path, 0)
                chunk = 64 * 1024
                try:
                    for i in range(0, len(body), chunk):
                        self.wfile.write(body[i:i + chunk])
                        if delay:
                            self.wfile.flush()
                            time.sleep(delay)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        return Handler
