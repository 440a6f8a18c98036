#!/usr/bin/env python3
"""Makes the README's dashboard picture: a small farm (jobs in several
states, three simulated workers, a last-rendered image) and a screenshot of
each page into OUTDIR (job.png is the README's).
Usage: readme_screenshot.py MANAGER_BINARY OUTDIR"""

import base64
import os
import secrets
import shutil
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webdriver import Browser, Manager  # noqa: E402

# A picture to stand in for a rendered frame, drawn by the browser itself.
FRAME_JS = """
const c = document.createElement('canvas'); c.width = 640; c.height = 360;
const g = c.getContext('2d');
const bands = ['#22304f', '#3b3f66', '#6a4a6e', '#a65d5f', '#d9804f', '#f0a95a'];
bands.forEach((col, i) => { g.fillStyle = col; g.fillRect(0, i * 45, 640, 45); });
g.fillStyle = '#f9e3a3'; g.beginPath(); g.arc(430, 230, 46, 0, 2 * Math.PI); g.fill();
g.fillStyle = '#2b2233';
g.beginPath(); g.moveTo(0, 300); g.lineTo(120, 200); g.lineTo(230, 280); g.lineTo(360, 170);
g.lineTo(520, 290); g.lineTo(640, 220); g.lineTo(640, 360); g.lineTo(0, 360); g.fill();
g.fillStyle = '#17121d'; g.fillRect(0, 320, 640, 40);
return c.toDataURL('image/jpeg', 0.92).split(',')[1];
"""


def render_job(name, frames, chunk, priority):
    return {"name": name, "type": "simple-blender-render", "priority": priority,
            "submitter_platform": "linux",
            "settings": {"frames": frames, "chunk_size": chunk, "render_output_root": "/render",
                         "add_path_components": 0, "render_output_path": "/render/%s/######" % name,
                         "blendfile": "/projects/%s.blend" % name, "fps": 24, "format": "PNG",
                         "image_file_extension": ".png", "has_previews": False, "scene": "Scene"}}


def echo_job(name, priority):
    return {"name": name, "type": "echo-sleep-test", "priority": priority, "submitter_platform": "linux",
            "settings": {"message": name, "sleep_duration_seconds": 2, "sleep_repeats": 2}}


def main():
    binary, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="fm-shot-")
    m = Manager(os.path.abspath(binary), work)
    b = None
    try:
        m.start()
        ids = {}
        for body in (echo_job("asset bake", 95), render_job("shot-005 comp", "1-48", 12, 40),
                     echo_job("turntable", 45), render_job("shot-020 layout", "1-120", 20, 50),
                     render_job("shot-010 lighting", "1-60", 10, 70)):
            ids[body["name"]] = m.api("POST", "/api/v3/jobs", body)[1]["id"]
        workers = []
        for name in ("render-01", "render-02", "render-03"):
            secret = secrets.token_hex(32)
            w = m.api("POST", "/api/v3/worker/register-worker", {
                "name": name, "secret": secret, "platform": "linux",
                "supported_task_types": ["misc", "blender", "ffmpeg"]})[1]
            auth = (w["uuid"], secret)
            m.api("POST", "/api/v3/worker/sign-on", {"name": name, "supported_task_types": ["misc", "blender", "ffmpeg"],
                                                     "software_version": "3.9"}, auth)
            m.api("POST", "/api/v3/worker/state-changed", {"status": "awake"}, auth)
            workers.append((w["uuid"], auth))

        def take(auth):
            return m.api("POST", "/api/v3/worker/task", None, auth)[1]

        def update(auth, task, **fields):
            m.api("POST", "/api/v3/worker/task/" + task["uuid"], fields, auth)

        # render-01 finishes "asset bake", then two frames chunks.
        w1 = workers[0][1]
        for _ in range(5):
            t = take(w1)
            update(w1, t, activity="Running " + t["name"], log="%s started\n" % t["name"])
            update(w1, t, taskStatus="completed", activity="Completed", steps_completed=t["steps_total"])
        # render-01 and render-02 are mid-render; render-03 goes to sleep.
        for auth, done in ((w1, 6), (workers[1][1], 3)):
            t = take(auth)
            update(auth, t, activity="Rendering frame %d of the chunk" % done,
                   log="Fra:%d Mem:812M | Rendering 48/64 tiles\n" % done, steps_completed=done)
        m.api("POST", "/api/v3/jobs/%s/setstatus" % ids["shot-005 comp"], {"status": "cancel-requested", "reason": "replaced by v2"})
        m.api("POST", "/api/v3/jobs/%s/setstatus" % ids["turntable"], {"status": "pause-requested", "reason": "waiting for notes"})
        tag = m.api("POST", "/api/v3/worker-mgt/tags", {"name": "gpu", "description": "RTX machines"})[1]
        m.api("POST", "/api/v3/worker-mgt/workers/%s/settags" % workers[0][0], {"tag_ids": [tag["id"]]})
        m.api("POST", "/api/v3/worker-mgt/workers/%s/settags" % workers[1][0], {"tag_ids": [tag["id"]]})
        m.api("POST", "/api/v3/worker-mgt/workers/%s/sleep-schedule" % workers[2][0],
              {"is_active": True, "days_of_week": "mo tu we th fr", "start_time": "09:00", "end_time": "18:00"})
        m.api("POST", "/api/v3/worker/state-changed", {"status": "asleep"}, workers[2][1])

        b = Browser(work, 1200, 1200)
        b.get(m.base + "/app/")
        jpeg = base64.b64decode(b.js(FRAME_JS))
        t = m.api("GET", "/api/v3/jobs/%s/tasks" % ids["shot-010 lighting"])[1]["tasks"][0]
        req = urllib.request.Request("%s/api/v3/worker/task/%s/output-produced" % (m.base, t["id"]), data=jpeg,
                                     method="POST", headers={"Content-Type": "image/jpeg", "Authorization": "Basic "
                                     + base64.b64encode(("%s:%s" % w1).encode()).decode()})
        urllib.request.urlopen(req).read()
        time.sleep(1)
        for name, hash_ in (("jobs", "#/jobs"), ("workers", "#/workers"), ("tags", "#/tags")):
            b.get(m.base + "/app/" + hash_)
            b.wait("return !document.querySelector('main').hasAttribute('aria-busy')")
            time.sleep(2.5)
            b.screenshot(os.path.join(outdir, name + ".png"))
        b.get("%s/app/#/jobs/%s" % (m.base, ids["shot-010 lighting"]))
        b.wait("return document.querySelector('svg.graph') && document.querySelector('figure img')"
               " && document.querySelector('figure img').complete", 15)
        time.sleep(0.5)
        out = os.path.join(outdir, "job.png")
        b.screenshot(out)
        print("wrote " + out)
    finally:
        if b is not None:
            b.close()
        m.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
