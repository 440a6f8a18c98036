#!/usr/bin/env python3
"""The web dashboard in a real browser: the Manager binary on a free
loopback port, chromedriver driving headless Chromium, and the checks

  (a) a job submitted over the API appears in the jobs list without reload,
  (b) a log line a (simulated) worker sends appears on its task's page,
  (c) pressing Pause on a job's page changes the job's status in the API,

plus the redirect from /, and no errors on the browser's console.
Screenshots go to build/browser/. Usage: test_dashboard.py MANAGER_BINARY
"""

import os
import secrets
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webdriver import Browser, Manager  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHOTS = os.path.join(ROOT, "build", "browser")
TIME_LIMIT = 150  # seconds for everything, browser start included

failures = 0


def ok(what):
    print("ok: " + what, flush=True)


def fail(what):
    global failures
    failures += 1
    print("FAIL: " + what, flush=True)


def check(cond, what, detail=""):
    if cond:
        ok(what)
    else:
        fail(what + (": " + detail if detail else ""))
    return cond


def echo_job(name, repeats=2, priority=50):
    return {"name": name, "type": "echo-sleep-test", "priority": priority,
            "submitter_platform": "linux",
            "settings": {"message": "hello from " + name, "sleep_duration_seconds": 1,
                         "sleep_repeats": repeats}}


def render_job(name):
    return {"name": name, "type": "simple-blender-render", "priority": 60,
            "submitter_platform": "linux",
            "settings": {"frames": "1-40", "chunk_size": 5, "render_output_root": "/r",
                         "add_path_components": 0, "render_output_path": "/r/" + name + "/######",
                         "blendfile": "/b/" + name + ".blend", "fps": 24, "format": "PNG",
                         "image_file_extension": ".png", "has_previews": False, "scene": "Scene"}}


def loaded(b, timeout=10):
    """The current view has drawn (main is no longer busy)."""
    return b.wait("return !document.querySelector('main').hasAttribute('aria-busy')", timeout)


def run(m, b):
    app = m.base + "/app/"

    # The root leads to the dashboard.
    b.get(m.base + "/")
    check(b.wait("return location.pathname === '/app/' && document.querySelector('table.jobs')", 15),
          "GET / leads to /app/ and the jobs list")
    loaded(b)
    check(b.wait("return document.querySelector('#live.live.live')", 10), "event stream connected")

    # (a) A job submitted over the API appears without a reload.
    b.js("window.__noReload = 42")
    status, job = m.api("POST", "/api/v3/jobs", echo_job("browser check a"))
    if not check(status == 200, "job submitted over the API", str(job)):
        return
    job_id = job["id"]
    row = b.wait("return [...document.querySelectorAll('table.jobs a')]"
                 ".some(a => a.getAttribute('href') === '#/jobs/' + arguments[0])", 10, job_id)
    same_page = b.js("return window.__noReload === 42")
    check(row and same_page, "(a) submitted job appears in the jobs list without reload",
          "row=%s same page=%s" % (row, same_page))
    m.api("POST", "/api/v3/jobs", render_job("shot-010"))
    m.api("POST", "/api/v3/jobs", echo_job("lighting pass", 3, 40))
    b.wait("return document.querySelectorAll('table.jobs tbody tr').length >= 3", 5)
    time.sleep(0.5)
    b.screenshot(os.path.join(SHOTS, "jobs.png"))

    # (b) A simulated worker: register, sign on, wake, take a task, log.
    secret = secrets.token_hex(32)
    status, w = m.api("POST", "/api/v3/worker/register-worker", {
        "name": "render-07", "secret": secret, "platform": "linux",
        "supported_task_types": ["misc", "blender", "ffmpeg"]})
    check(status == 200, "worker registered", str(w))
    auth = (w["uuid"], secret)
    m.api("POST", "/api/v3/worker/sign-on", {"name": "render-07", "supported_task_types": ["misc"],
                                             "software_version": "3.9"}, auth)
    m.api("POST", "/api/v3/worker/state-changed", {"status": "awake"}, auth)
    status, task = m.api("POST", "/api/v3/worker/task", None, auth)
    if not check(status == 200 and task, "worker got a task", "status %s" % status):
        return
    task_id, task_job = task["uuid"], task["job"]
    b.get("%s#/jobs/%s/tasks/%s" % (app, task_job, task_id))
    check(loaded(b) and b.wait("return document.querySelector('h1').textContent === arguments[0]", 10, task["name"]),
          "task page shows the task")
    b.wait("return document.querySelector('#live.live.live')", 10)
    line = "frame 0001 rendered by the browser check %s\n" % secrets.token_hex(4)
    status, _ = m.api("POST", "/api/v3/worker/task/" + task_id,
                      {"activity": "Rendering frame 1", "log": line, "steps_completed": 1}, auth)
    check(status == 204, "worker sent a log line", "status %s" % status)
    shown = b.wait("return document.querySelector('pre.log').textContent.includes(arguments[0])", 10, line.strip())
    check(shown, "(b) the worker's log line appears on the task page",
          repr(b.js("return document.querySelector('pre.log').textContent.slice(-300)")))
    activity = b.wait("return document.querySelector('dl.meta').textContent.includes('Rendering frame 1')", 5)
    check(activity, "task page follows the task's activity")
    time.sleep(0.3)
    b.screenshot(os.path.join(SHOTS, "task.png"))

    # (c) Pause a job from its page.
    b.get("%s#/jobs/%s" % (app, task_job))
    loaded(b)
    enabled = b.wait("const x = document.querySelector('button[data-action=pause]');"
                     "return x && !x.disabled", 10)
    check(enabled, "job page offers Pause")
    b.wait("return document.querySelector('svg.graph')", 10)
    time.sleep(0.3)
    b.screenshot(os.path.join(SHOTS, "job.png"))
    b.click("button[data-action=pause]")
    deadline = time.time() + 10
    job_status = None
    while time.time() < deadline:
        _, j = m.api("GET", "/api/v3/jobs/" + task_job)
        job_status = j.get("status")
        if job_status in ("pause-requested", "paused"):
            break
        time.sleep(0.1)
    check(job_status in ("pause-requested", "paused"),
          "(c) Pause on the job page makes the job %s in the API" % job_status)
    badge = b.wait("const s = document.querySelector('.toolbar .badge').textContent;"
                   "return (s === 'pause-requested' || s === 'paused') && s", 10)
    check(badge, "job page shows the new status live (%s)" % badge)

    # An API error reaches the user with the server's message.
    b.js("const i = document.getElementById('job-priority'); i.removeAttribute('max'); i.value = '150'")
    b.click("form.inline button[type=submit]")
    shown = b.wait("const t = document.querySelector('.toast.error');"
                   "return t && t.textContent", 10)
    check(shown and "HTTP 400" in shown, "an API error shows the server's message: %s" % (shown or "").strip("×"))

    # The other pages draw.
    b.get(app + "#/workers")
    check(loaded(b) and b.wait("return document.querySelector('table.workers tbody th')", 10),
          "workers page lists the worker")
    b.wait("return !document.querySelector('table.workers td').textContent.includes('…')", 5)
    time.sleep(0.3)
    b.screenshot(os.path.join(SHOTS, "workers.png"))
    m.api("POST", "/api/v3/worker-mgt/tags", {"name": "gpu", "description": "machines with a GPU"})
    b.get(app + "#/tags")
    check(loaded(b) and b.wait("return document.querySelector('table.tags tbody th')", 10),
          "tags page lists the tag")

    # A restarted Manager: the page reconnects by itself, reloads and
    # follows again.
    b.get(app)
    loaded(b)
    b.js("window.__noReload = 43")
    rc = m.stop()
    check(rc == 0, "the Manager stopped for a restart", "exit %s" % rc)
    m.start()
    status, job = m.api("POST", "/api/v3/jobs", echo_job("after the restart"))
    row = b.wait("return [...document.querySelectorAll('table.jobs a')]"
                 ".some(a => a.getAttribute('href') === '#/jobs/' + arguments[0])", 20, job["id"])
    check(row and b.js("return window.__noReload === 43"),
          "after a Manager restart the page reconnects and shows new jobs without reload")

    # The refused priority above is logged by the browser itself.
    errors = [e for e in b.console() if e.get("level") == "SEVERE"
              and "setpriority - Failed to load resource" not in e.get("message", "")
              and "/api/v3/events" not in e.get("message", "")]
    check(not errors, "no errors on the browser console", "; ".join(e.get("message", "") for e in errors[:5]))


def main():
    if len(sys.argv) != 2:
        print("usage: test_dashboard.py MANAGER_BINARY", file=sys.stderr)
        return 2
    for tool in ("chromium", "chromedriver"):
        if shutil.which(tool) is None:
            print("FAIL: %s is not installed (sh contrib/deps.sh browser)" % tool)
            return 1

    def too_long(signum, frame):
        raise TimeoutError("the browser test ran past %d s" % TIME_LIMIT)

    signal.signal(signal.SIGALRM, too_long)
    # Stopped from outside (timeout, ^C): still end the browser and Manager.
    signal.signal(signal.SIGTERM, too_long)
    signal.alarm(TIME_LIMIT)
    work = tempfile.mkdtemp(prefix="fm-browser-")
    m = Manager(os.path.abspath(sys.argv[1]), work)
    b = None
    try:
        m.start()
        b = Browser(work)
        run(m, b)
    except Exception as e:  # noqa: BLE001 - any failure is reported as one
        fail("browser test stopped: %s: %s" % (type(e).__name__, e))
    finally:
        signal.alarm(0)
        if b is not None:
            b.close()
        rc = m.stop()
        check(rc == 0, "the Manager stopped cleanly", "exit %s; %s" % (rc, m.tail()[-600:]))
        shutil.rmtree(work, ignore_errors=True)
    print("screenshots: " + SHOTS)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
