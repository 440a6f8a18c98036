"""Checks that the jobs of E2E_JOBS_DIR ran in their dependency order.

Usage: dep_order.py MANAGER_URL MANAGER_LOG SUBMIT_JSON...

Each SUBMIT_JSON is a submitted job body as run.sh sent it (ids filled
in). With one Worker, tasks run one at a time, so the order in which the
Manager logged "task ... assigned" is the order they ran in. For every
depends_on entry: each task of the downstream job must have been assigned
after every selected upstream task (all of them without a "tasks"
selector). Upstream tasks left out by a selector are only reported: when
one ran after the downstream job started, the selector let the downstream
job overtake it. Exits 1 when an order is wrong.
"""
import fnmatch
import json
import re
import sys
import urllib.request


def get(base, path):
    with urllib.request.urlopen(base + path, timeout=10) as r:
        return json.load(r)


def main():
    base, log, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    assigned = {}
    pattern = re.compile(r"^(\S+) INFO\s+task (\S+) assigned to worker")
    with open(log, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = pattern.match(line)
            if m:
                assigned.setdefault(m.group(2), m.group(1))
    jobs = {j["name"]: j["id"] for j in get(base, "/api/v3/jobs")["jobs"]}
    tasks = {}

    def tasks_of(job_id):
        if job_id not in tasks:
            tasks[job_id] = get(base, f"/api/v3/jobs/{job_id}/tasks")["tasks"]
        return tasks[job_id]

    def when(task):
        return assigned.get(task["id"])

    bad = 0
    for path in files:
        with open(path, encoding="utf-8") as f:
            sub = json.load(f)
        down = jobs.get(sub["name"])
        if down is None or not sub.get("depends_on"):
            continue
        started = min(filter(None, map(when, tasks_of(down))), default=None)
        for dep in sub["depends_on"]:
            up = tasks_of(dep["job"])
            sel = dep.get("tasks") or {}
            chosen = [t for t in up
                      if ("name" not in sel or fnmatch.fnmatchcase(t["name"], sel["name"]))
                      and ("type" not in sel or t["task_type"] == sel["type"])]
            others = [t for t in up if t not in chosen]
            last = max(filter(None, map(when, chosen)), default=None)
            what = f"{sub['name']} after {len(chosen)} selected task(s) of job {dep['job'][:8]}"
            if started is None or last is None or started <= last:
                print(f"wrong order: {what} (started {started}, last selected {last})")
                bad += 1
            else:
                print(f"in order: {what}")
            for t in others:
                if when(t) and started and when(t) > started:
                    print(f"overtook: {sub['name']} started before unselected task "
                          f"{t['name']} of job {dep['job'][:8]}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
