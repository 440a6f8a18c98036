-- Bookkeeping the scheduler and the state machine read on every request,
-- kept by triggers so no code path can forget it:
--  * job_task_counts: tasks per job and status (the job rules need counts;
--    counting 100,000 rows per task update would not scale);
--  * tasks.pending_deps: dependencies not completed yet;
--  * jobs.steps_completed: the sum over the job's tasks.

CREATE TABLE job_task_counts (
	job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
	status TEXT NOT NULL,
	n      INTEGER NOT NULL,
	PRIMARY KEY (job_id, status)
) WITHOUT ROWID;

INSERT INTO job_task_counts (job_id, status, n)
	SELECT job_id, status, count(*) FROM tasks GROUP BY job_id, status;

-- Tasks are only created by storing a whole job (which adds its counts
-- row in one statement, not one trigger run per task) and only deleted
-- with their job (whose counts go with it), so only status changes need a
-- trigger.

CREATE TRIGGER tasks_count_status AFTER UPDATE OF status ON tasks
WHEN new.status <> old.status
BEGIN
	UPDATE job_task_counts SET n = n - 1
		WHERE job_id = old.job_id AND status = old.status;
	INSERT INTO job_task_counts (job_id, status, n)
		VALUES (new.job_id, new.status, 1)
		ON CONFLICT (job_id, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER tasks_dependency_done AFTER UPDATE OF status ON tasks
WHEN new.status = 'completed' AND old.status <> 'completed'
BEGIN
	UPDATE tasks SET pending_deps = pending_deps - 1 WHERE id IN
		(SELECT task_id FROM task_dependencies WHERE dependency_id = new.id);
END;

CREATE TRIGGER tasks_dependency_undone AFTER UPDATE OF status ON tasks
WHEN old.status = 'completed' AND new.status <> 'completed'
BEGIN
	UPDATE tasks SET pending_deps = pending_deps + 1 WHERE id IN
		(SELECT task_id FROM task_dependencies WHERE dependency_id = new.id);
END;

CREATE TRIGGER tasks_steps AFTER UPDATE OF steps_completed ON tasks
WHEN new.steps_completed <> old.steps_completed
BEGIN
	UPDATE jobs SET steps_completed =
		steps_completed + new.steps_completed - old.steps_completed
		WHERE id = new.job_id;
END;

-- Runnable jobs in scheduling order, without a sort per assignment.
CREATE INDEX idx_jobs_runnable ON jobs(priority DESC, id)
	WHERE status IN ('active', 'queued');

-- Per-job status counts now come from job_task_counts; this index only
-- slowed down storing large jobs.
DROP INDEX idx_tasks_job_status;
