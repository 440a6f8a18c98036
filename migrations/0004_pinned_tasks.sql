-- Tasks made for one worker (OpenJD steps driven by the workers
-- resource, see src/openjd_expand.c): pinned_worker_id names the only
-- worker that may run the task. The general ready-task index leaves
-- pinned tasks out, so other workers never probe past them; a second
-- partial index finds a worker's own pinned tasks per job and type, so
-- the scheduler's cost stays flat (src/scheduler.c).
ALTER TABLE tasks ADD COLUMN pinned_worker_id INTEGER;

DROP INDEX idx_tasks_ready;
CREATE INDEX idx_tasks_ready ON tasks(job_id, type, priority DESC, id)
	WHERE status IN ('queued', 'soft-failed') AND pending_deps = 0
	AND pinned_worker_id IS NULL;
CREATE INDEX idx_tasks_pinned_ready
	ON tasks(pinned_worker_id, job_id, type, priority DESC, id)
	WHERE status IN ('queued', 'soft-failed') AND pending_deps = 0
	AND pinned_worker_id IS NOT NULL;
