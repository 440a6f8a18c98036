#!/usr/bin/env python3
"""Job dependencies in the dashboard, in headless Chromium: the job list
says what a queued job waits for, the job page lists the jobs it waits for
and answers "Why not running?" with the Manager's reasons; no console
errors. Usage: test_jobdeps.py MANAGER_BINARY"""

import os
import secrets
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webdriver import Browser, Manager  # noqa: E402

fails = 0


def check(cond, what):
    global fails
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        fails += 1


def main():
    work = tempfile.mkdtemp(prefix="fm-deps-browser-")
    m = Manager(os.path.abspath(sys.argv[1]), work)
    b = None
    try:
        m.start()

        def job(name, deps=None):
            body = {"name": name, "type": "echo-sleep-test", "priority": 50, "submitter_platform": "linux",
                    "settings": {"message": name, "sleep_duration_seconds": 1, "sleep_repeats": 2}}
            if deps:
                body["depends_on"] = deps
            status, j = m.api("POST", "/api/v3/jobs", body)
            check(status == 200, "job %s submitted" % name)
            return j["id"]

        bake = job("bake")
        render = job("render", [{"job": bake, "tasks": {"name": "sleep"}}])
        b = Browser(work)
        b.get(m.base + "/app/#/jobs")
        b.wait("return [...document.querySelectorAll('.waits-note')].some(e => e.textContent)")
        notes = b.js("return [...document.querySelectorAll('.waits-note')].map(e => e.textContent.trim())")
        check(sorted(notes) == ["", "waiting for bake"], "the job list says what render waits for: %r" % notes)
        b.get(m.base + "/app/#/jobs/" + render)
        b.wait("return document.querySelector('ul.waits li a') !== null")
        waits = b.js("return document.querySelector('ul.waits').innerText")
        check("bake" in waits and "2 task(s) left" in waits, "the job page lists the upstream job: %r" % waits)
        b.click("button[data-action=why]")
        b.wait("return document.querySelectorAll('ul.why li').length > 0")
        why = b.js("return document.querySelector('ul.why').innerText")
        check('waits for job "bake"' in why and "no worker is registered" in why,
              "Why not running? shows the reasons: %r" % why[:200])
        b.wait("return document.querySelector('.job-graph svg') !== null")
        nodes = b.js("return [...document.querySelectorAll('.job-graph svg .node title')].map(e => e.textContent)")
        check(sorted(nodes) == ["bake (queued)", "render (queued)"], "the job graph draws both jobs: %r" % nodes)
        b.get(m.base + "/app/#/jobs/" + bake)
        b.wait("return document.querySelector('.job-graph svg') !== null")
        edges = b.js("return document.querySelectorAll('.job-graph svg .edges path').length")
        check(edges == 1, "the upstream job's page draws the job waiting for it (%d edge)" % edges)
        os.makedirs("build/browser", exist_ok=True)
        b.screenshot("build/browser/job-dependencies.png")
        # Live: a worker runs bake; render's note on the job list clears
        # from the /jobs event about render, with no reload of the list.
        b.get(m.base + "/app/#/jobs")
        b.wait("return [...document.querySelectorAll('.waits-note')].some(e => e.textContent)")
        b.js("window.fmSamePage = true")
        secret = secrets.token_hex(32)
        status, w = m.api("POST", "/api/v3/worker/register-worker", {
            "name": "w1", "secret": secret, "platform": "linux", "supported_task_types": ["misc"]})
        check(status == 200, "worker registered")
        auth = (w["uuid"], secret)
        m.api("POST", "/api/v3/worker/sign-on", {"name": "w1", "supported_task_types": ["misc"],
                                                 "software_version": "3.9"}, auth)
        m.api("POST", "/api/v3/worker/state-changed", {"status": "awake"}, auth)
        for _ in range(3):  # bake's echo and two sleeps
            status, task = m.api("POST", "/api/v3/worker/task", None, auth)
            check(status == 200 and task["job"] == bake, "the worker runs bake's tasks")
            m.api("POST", "/api/v3/worker/task/" + task["uuid"], {"taskStatus": "completed"}, auth)
        cleared = b.wait("return window.fmSamePage && [...document.querySelectorAll('.waits-note')]"
                         ".every(e => !e.textContent)", 10)
        check(bool(cleared), "render's waiting note clears live once bake is done")
        check(not b.console(), "no errors on the browser console")
    except Exception as e:  # noqa: BLE001 - any failure is a test failure
        check(False, "unexpected: %s" % e)
    finally:
        if b:
            b.close()
        m.stop()
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
