#!/usr/bin/env python3
"""The dashboard in headless Chromium with 10,000 jobs in the database:
first paint, first contentful paint and the jobs list drawn (the page's own
"fm-jobs-rendered" mark), cold (empty cache) and warm, read through the
Performance API; plus the bytes the page costs on the wire. Prints figures,
never fails on a timing. Usage: bench_dashboard.py MANAGER_BINARY [JOBS]"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "browser"))
from webdriver import Browser, Manager  # noqa: E402

RUNS = 5

# Copies of one stored job (new UUIDs, a second apart, mixed statuses and
# progress); the list only reads job rows and their task counts.
FILL_SQL = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %(copies)d)
INSERT INTO jobs (created_at, updated_at, uuid, name, job_type, priority, status,
                  activity, settings, metadata, steps_completed, steps_total)
SELECT j.created_at - i * 1000000, j.updated_at - i * 1000000,
       lower(printf('%%s-%%s-4%%s-%%s%%s-%%s', hex(randomblob(4)), hex(randomblob(2)),
             substr(hex(randomblob(2)), 2), substr('89ab', 1 + abs(random()) %% 4, 1),
             substr(hex(randomblob(2)), 2), hex(randomblob(6)))),
       printf('shot %%05d', i), j.job_type, (i * 37) %% 101,
       CASE i %% 4 WHEN 0 THEN 'queued' WHEN 1 THEN 'paused' WHEN 2 THEN 'failed' ELSE 'completed' END,
       '', j.settings, j.metadata, i %% 41, 40
FROM n, (SELECT * FROM jobs ORDER BY id LIMIT 1) j;
INSERT INTO job_task_counts (job_id, status, n)
SELECT id, CASE status WHEN 'paused' THEN 'paused' WHEN 'queued' THEN 'queued'
                       WHEN 'failed' THEN 'failed' ELSE 'completed' END, 40
FROM jobs WHERE id NOT IN (SELECT job_id FROM job_task_counts);
"""

MEASURE = """
const paint = Object.fromEntries(performance.getEntriesByType('paint').map(e => [e.name, e.startTime]));
const mark = performance.getEntriesByName('fm-jobs-rendered')[0];
const nav = performance.getEntriesByType('navigation')[0];
const res = performance.getEntriesByType('resource').filter(r => r.name.includes('/app/'));
return {
  fp: paint['first-paint'] || null,
  fcp: paint['first-contentful-paint'] || null,
  jobs: mark ? mark.startTime : null,
  rows: document.querySelectorAll('table.jobs tbody tr').length,
  wire: nav.transferSize + res.reduce((s, r) => s + r.transferSize, 0),
  body: nav.encodedBodySize + res.reduce((s, r) => s + r.encodedBodySize, 0),
  decoded: nav.decodedBodySize + res.reduce((s, r) => s + r.decodedBodySize, 0),
  response: nav.responseEnd,
};
"""


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


def main():
    if len(sys.argv) < 2:
        print("usage: bench_dashboard.py MANAGER_BINARY [JOBS]", file=sys.stderr)
        return 2
    total = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    for tool in ("chromium", "chromedriver", "sqlite3"):
        if shutil.which(tool) is None:
            print("skipped: %s is not installed (sh contrib/deps.sh bench)" % tool)
            return 0
    work = tempfile.mkdtemp(prefix="fm-bench-web-")
    m = Manager(os.path.abspath(sys.argv[1]), work)
    b = None
    try:
        m.start()
        job = {"name": "shot 00000", "type": "echo-sleep-test", "priority": 50,
               "submitter_platform": "linux",
               "settings": {"message": "m", "sleep_duration_seconds": 1, "sleep_repeats": 1}}
        status, res = m.api("POST", "/api/v3/jobs", job)
        assert status == 200, res
        m.stop()
        t0 = time.time()
        subprocess.run(["sqlite3", os.path.join(work, "db.sqlite")],
                       input=FILL_SQL % {"copies": total - 1}, text=True, check=True)
        print("filled %d jobs with sqlite3 in %.0f ms" % (total, 1000 * (time.time() - t0)))
        m.start()
        t0 = time.time()
        status, res = m.api("GET", "/api/v3/jobs?limit=51")
        api_ms = 1000 * (time.time() - t0)
        _, last = m.api("GET", "/api/v3/jobs?limit=1000&offset=%d" % (total - 500))
        print("GET /api/v3/jobs?limit=51: %.1f ms, %d jobs; offset %d: %d jobs"
              % (api_ms, len(res["jobs"]), total - 500, len(last["jobs"])))

        b = Browser(work)
        app = m.base + "/app/"
        b.get(app + "#/workers")  # start the browser and its caches up
        for mode in ("cold", "warm"):
            figures = []
            for _ in range(RUNS):
                if mode == "cold":
                    b.cmd("POST", "/goog/cdp/execute", {"cmd": "Network.clearBrowserCache", "params": {}})
                b.get("about:blank")
                b.get(app)
                b.wait("return performance.getEntriesByName('fm-jobs-rendered').length"
                       " && performance.getEntriesByType('paint').length >= 2", 10)
                figures.append(b.js(MEASURE))
            print("%s, median of %d: first paint %.0f ms, first contentful paint %.0f ms, "
                  "jobs list drawn (%d rows of %d jobs) %.0f ms (target < 300 ms)"
                  % (mode, RUNS, median([f["fp"] for f in figures]), median([f["fcp"] for f in figures]),
                     figures[-1]["rows"], total, median([f["jobs"] for f in figures])))
            print("  each run: list drawn " + ", ".join("%.0f" % f["jobs"] for f in figures if f["jobs"] is not None)
                  + " ms; HTML received " + ", ".join("%.0f" % f["response"] for f in figures) + " ms")
            if mode == "cold":
                f = figures[-1]
                print("  page on the wire (cold): %d bytes with headers, %d bytes of bodies, %d decoded"
                      % (f["wire"], f["body"], f["decoded"]))
        b.screenshot(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                  "build", "browser", "jobs-10000.png"))
    finally:
        if b is not None:
            b.close()
        m.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
