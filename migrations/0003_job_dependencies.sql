-- Jobs that wait for other jobs. One row per dependency, not per task
-- pair: a downstream job of 10,000 tasks waiting for 1,000 upstream tasks
-- is one row with a counter, not 10,000,000 task_dependencies rows.
--
--  * upstream_kind/upstream_match select the upstream tasks waited for:
--    'job' (every task: a fence), 'name' (task name GLOB match) or
--    'type' (exact task type);
--  * waiting_kind/waiting_match select the downstream tasks held back
--    ('job' = all of them; the others only in "overlap" mode);
--  * remaining counts the selected upstream tasks not completed. While it
--    is above 0 a whole-job wait ('job') adds 1 to jobs.deps_unmet, and a
--    selective one adds 1 to each held-back task's pending_deps, so the
--    scheduler keeps probing the ready-task index only. A whole-job wait
--    never touches tasks: the scheduler does not walk a job whose
--    deps_unmet is above 0, so releasing it is one row update however
--    many tasks the job has (readers of "ready" check both counters).

CREATE TABLE job_dependencies (
	id              INTEGER PRIMARY KEY,
	created_at      INTEGER NOT NULL,
	job_id          INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
	upstream_job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
	upstream_kind   TEXT NOT NULL
		CHECK (upstream_kind IN ('job', 'name', 'type')),
	upstream_match  TEXT NOT NULL DEFAULT '',
	waiting_kind    TEXT NOT NULL DEFAULT 'job'
		CHECK (waiting_kind IN ('job', 'name', 'type')),
	waiting_match   TEXT NOT NULL DEFAULT '',
	remaining       INTEGER NOT NULL,
	UNIQUE (job_id, upstream_job_id, upstream_kind, upstream_match,
		waiting_kind, waiting_match)
);
CREATE INDEX idx_job_dependencies_upstream
	ON job_dependencies(upstream_job_id);

-- 'strict': every dependency holds back every task of the job;
-- 'overlap': a dependency may hold back only some of them.
ALTER TABLE jobs ADD COLUMN dependency_mode TEXT NOT NULL DEFAULT 'strict';

-- Unmet dependencies that hold back every task of the job. Such a job has
-- no ready task, so the scheduler's walk over runnable jobs leaves it out
-- altogether: a farm with many fenced jobs waiting costs it nothing.
ALTER TABLE jobs ADD COLUMN deps_unmet INTEGER NOT NULL DEFAULT 0;
DROP INDEX idx_jobs_runnable;
CREATE INDEX idx_jobs_runnable ON jobs(priority DESC, id)
	WHERE status IN ('active', 'queued') AND deps_unmet = 0;

-- A selected upstream task completed, or went back from completed.
CREATE TRIGGER tasks_upstream_done AFTER UPDATE OF status ON tasks
WHEN new.status = 'completed' AND old.status <> 'completed'
BEGIN
	UPDATE job_dependencies SET remaining = remaining - 1
		WHERE upstream_job_id = new.job_id AND (upstream_kind = 'job'
		OR (upstream_kind = 'type' AND upstream_match = new.type)
		OR (upstream_kind = 'name' AND new.name GLOB upstream_match));
END;

CREATE TRIGGER tasks_upstream_undone AFTER UPDATE OF status ON tasks
WHEN old.status = 'completed' AND new.status <> 'completed'
BEGIN
	UPDATE job_dependencies SET remaining = remaining + 1
		WHERE upstream_job_id = new.job_id AND (upstream_kind = 'job'
		OR (upstream_kind = 'type' AND upstream_match = new.type)
		OR (upstream_kind = 'name' AND new.name GLOB upstream_match));
END;

-- A dependency stored unmet holds its tasks back; met, released or
-- removed lets them go; met then unmet again (upstream requeued) holds
-- them back again, whatever their own status.
CREATE TRIGGER job_dependency_added AFTER INSERT ON job_dependencies
WHEN new.remaining > 0
BEGIN
	UPDATE jobs SET deps_unmet = deps_unmet + 1
		WHERE id = new.job_id AND new.waiting_kind = 'job';
	UPDATE tasks SET pending_deps = pending_deps + 1
		WHERE new.waiting_kind <> 'job' AND job_id = new.job_id
		AND ((new.waiting_kind = 'type' AND type = new.waiting_match)
		OR (new.waiting_kind = 'name' AND name GLOB new.waiting_match));
END;

CREATE TRIGGER job_dependency_met AFTER UPDATE OF remaining
ON job_dependencies
WHEN new.remaining = 0 AND old.remaining > 0
BEGIN
	UPDATE jobs SET deps_unmet = deps_unmet - 1
		WHERE id = new.job_id AND new.waiting_kind = 'job';
	UPDATE tasks SET pending_deps = pending_deps - 1
		WHERE new.waiting_kind <> 'job' AND job_id = new.job_id
		AND ((new.waiting_kind = 'type' AND type = new.waiting_match)
		OR (new.waiting_kind = 'name' AND name GLOB new.waiting_match));
END;

CREATE TRIGGER job_dependency_unmet AFTER UPDATE OF remaining
ON job_dependencies
WHEN old.remaining = 0 AND new.remaining > 0
BEGIN
	UPDATE jobs SET deps_unmet = deps_unmet + 1
		WHERE id = new.job_id AND new.waiting_kind = 'job';
	UPDATE tasks SET pending_deps = pending_deps + 1
		WHERE new.waiting_kind <> 'job' AND job_id = new.job_id
		AND ((new.waiting_kind = 'type' AND type = new.waiting_match)
		OR (new.waiting_kind = 'name' AND name GLOB new.waiting_match));
END;

CREATE TRIGGER job_dependency_removed AFTER DELETE ON job_dependencies
WHEN old.remaining > 0
BEGIN
	UPDATE jobs SET deps_unmet = deps_unmet - 1
		WHERE id = old.job_id AND old.waiting_kind = 'job';
	UPDATE tasks SET pending_deps = pending_deps - 1
		WHERE old.waiting_kind <> 'job' AND job_id = old.job_id
		AND ((old.waiting_kind = 'type' AND type = old.waiting_match)
		OR (old.waiting_kind = 'name' AND name GLOB old.waiting_match));
END;
