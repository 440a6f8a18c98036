"""A small W3C WebDriver client over urllib, and helpers that start the
Manager and a headless Chromium for the dashboard's tests and benchmark.
Python 3 standard library only."""

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, auth=None, headers=None, timeout=30):
    """One request; returns (status, parsed JSON or text or None)."""
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    if auth is not None:
        token = base64.b64encode(("%s:%s" % auth).encode()).decode()
        hdrs["Authorization"] = "Basic " + token
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            status, raw, ctype = res.status, res.read(), res.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        status, raw, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
    if not raw:
        return status, None
    if "json" in ctype:
        return status, json.loads(raw)
    return status, raw.decode("utf-8", "replace")


class Manager:
    """The real binary on a free loopback port, with a temporary config,
    database and storage."""

    def __init__(self, binary, workdir, extra_conf=""):
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.dir = workdir
        self.log = os.path.join(workdir, "manager.log")
        with open(os.path.join(workdir, "fm.conf"), "w") as f:
            f.write("listen = 127.0.0.1:%d\ndatabase = db.sqlite\n"
                    "local_manager_storage_path = storage\n"
                    "shared_storage_path = %s/shared\nlog_level = warn\n%s"
                    % (self.port, workdir, extra_conf))
        self.binary = binary
        self.proc = None

    def start(self):
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
        self.proc = subprocess.Popen(
            [self.binary, "-c", os.path.join(self.dir, "fm.conf")],
            stdout=subprocess.DEVNULL, stderr=open(self.log, "ab"), env=env)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if http("GET", self.base + "/api/v3/version", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("the Manager did not start; log: " + self.tail())

    def stop(self):
        """SIGTERM, then SIGKILL; returns the exit code."""
        if self.proc is None:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        return rc

    def tail(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def api(self, method, path, body=None, auth=None):
        return http(method, self.base + path, body, auth)


class Browser:
    """chromedriver on a free port driving a headless Chromium with a
    temporary profile. close() ends both, whatever state they are in."""

    def __init__(self, workdir, width=1280, height=860):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.profile = tempfile.mkdtemp(prefix="chromium-", dir=workdir)
        self.driver = subprocess.Popen(
            [shutil.which("chromedriver") or "chromedriver", "--port=%d" % self.port],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.session = None
        deadline = time.time() + 20
        while True:
            try:
                if http("GET", self.url + "/status", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline or self.driver.poll() is not None:
                raise RuntimeError("chromedriver did not start")
            time.sleep(0.05)
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": shutil.which("chromium") or "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--no-first-run",
                         "--user-data-dir=" + self.profile,
                         "--window-size=%d,%d" % (width, height)],
            }}}}
        status, res = http("POST", self.url + "/session", caps, timeout=60)
        if status != 200:
            raise RuntimeError("no browser session: %s" % res)
        self.session = res["value"]["sessionId"]

    def cmd(self, method, path, body=None):
        status, res = http(method, "%s/session/%s%s" % (self.url, self.session, path), body, timeout=60)
        if status != 200:
            raise RuntimeError("webdriver %s %s: %s" % (method, path, res))
        return res["value"] if isinstance(res, dict) else res

    def get(self, url):
        self.cmd("POST", "/url", {"url": url})

    def js(self, script, *args):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def wait(self, script, timeout=10, *args):
        """Poll a script until it returns something truthy; return it or None."""
        deadline = time.time() + timeout
        while True:
            value = self.js(script, *args)
            if value:
                return value
            if time.time() > deadline:
                return None
            time.sleep(0.05)

    def find(self, css):
        return self.cmd("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def click(self, css):
        self.cmd("POST", "/element/%s/click" % self.find(css), {})

    def screenshot(self, path):
        png = base64.b64decode(self.cmd("GET", "/screenshot"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(png)

    def console(self):
        """The browser's console entries since the last call."""
        try:
            return self.cmd("POST", "/se/log", {"type": "browser"})
        except RuntimeError:
            return []

    def close(self):
        try:
            if self.session:
                http("DELETE", "%s/session/%s" % (self.url, self.session), timeout=10)
        except OSError:
            pass
        self.session = None
        # chromedriver and every Chromium process it started.
        try:
            os.killpg(self.driver.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.driver.wait()
        # A Chromium process that left the group still names our profile.
        for pid in profile_pids(self.profile):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        shutil.rmtree(self.profile, ignore_errors=True)


def profile_pids(profile):
    """Processes whose command line names this (unique) profile directory."""
    pids = []
    needle = ("--user-data-dir=" + profile).encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                if needle in f.read():
                    pids.append(int(entry))
        except OSError:
            pass
    return pids
