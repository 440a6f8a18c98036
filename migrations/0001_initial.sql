-- The whole Manager schema. Times are integers: microseconds since the Unix
-- epoch, UTC (0 or NULL = unset). JSON columns hold compact JSON text.

CREATE TABLE worker_tags (
	id          INTEGER PRIMARY KEY,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	uuid        TEXT NOT NULL UNIQUE,
	name        TEXT NOT NULL UNIQUE,
	description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE workers (
	id                   INTEGER PRIMARY KEY,
	created_at           INTEGER NOT NULL,
	updated_at           INTEGER NOT NULL,
	uuid                 TEXT NOT NULL UNIQUE,
	secret_hash          BLOB NOT NULL,   -- keyed hash of the secret
	secret_salt          BLOB NOT NULL,
	name                 TEXT NOT NULL DEFAULT '',
	address              TEXT NOT NULL DEFAULT '',
	platform             TEXT NOT NULL DEFAULT '',
	software             TEXT NOT NULL DEFAULT '',
	status               TEXT NOT NULL DEFAULT '',
	last_seen_at         INTEGER,
	status_requested     TEXT NOT NULL DEFAULT '',
	lazy_status_request  INTEGER NOT NULL DEFAULT 0,
	supported_task_types TEXT NOT NULL DEFAULT '',  -- comma-joined
	can_restart          INTEGER NOT NULL DEFAULT 0,
	deleted_at           INTEGER
);
CREATE INDEX idx_workers_seen ON workers(status, last_seen_at)
	WHERE deleted_at IS NULL;

CREATE TABLE worker_tag_membership (
	worker_tag_id INTEGER NOT NULL REFERENCES worker_tags(id) ON DELETE CASCADE,
	worker_id     INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
	PRIMARY KEY (worker_tag_id, worker_id)
) WITHOUT ROWID;
CREATE INDEX idx_worker_tag_membership_worker
	ON worker_tag_membership(worker_id, worker_tag_id);

CREATE TABLE jobs (
	id                         INTEGER PRIMARY KEY,
	created_at                 INTEGER NOT NULL,
	updated_at                 INTEGER NOT NULL,
	uuid                       TEXT NOT NULL UNIQUE,
	name                       TEXT NOT NULL,
	job_type                   TEXT NOT NULL,
	priority                   INTEGER NOT NULL,
	status                     TEXT NOT NULL,
	activity                   TEXT NOT NULL DEFAULT '',
	settings                   TEXT NOT NULL DEFAULT '{}',
	metadata                   TEXT NOT NULL DEFAULT '{}',
	delete_requested_at        INTEGER,
	storage_shaman_checkout_id TEXT NOT NULL DEFAULT '',
	worker_tag_id              INTEGER REFERENCES worker_tags(id) ON DELETE SET NULL,
	steps_completed            INTEGER NOT NULL DEFAULT 0,
	steps_total                INTEGER NOT NULL DEFAULT 0
);
-- The scheduler walks runnable jobs by priority; listings go newest first.
CREATE INDEX idx_jobs_status_priority ON jobs(status, priority DESC, id);
CREATE INDEX idx_jobs_updated ON jobs(updated_at);
CREATE INDEX idx_jobs_created ON jobs(created_at DESC, id DESC);
CREATE INDEX idx_jobs_tag ON jobs(worker_tag_id) WHERE worker_tag_id IS NOT NULL;

CREATE TABLE tasks (
	id              INTEGER PRIMARY KEY,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	uuid            TEXT NOT NULL UNIQUE,
	name            TEXT NOT NULL,
	type            TEXT NOT NULL,
	job_id          INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
	index_in_job    INTEGER NOT NULL,
	priority        INTEGER NOT NULL DEFAULT 50,
	status          TEXT NOT NULL,
	worker_id       INTEGER REFERENCES workers(id) ON DELETE SET NULL,
	last_touched_at INTEGER,
	commands        TEXT NOT NULL DEFAULT '[]',
	activity        TEXT NOT NULL DEFAULT '',
	steps_completed INTEGER NOT NULL DEFAULT 0,
	steps_total     INTEGER NOT NULL DEFAULT 0,
	-- Dependencies not yet completed; 0 = may run. Kept up to date when a
	-- task enters or leaves "completed", so the scheduler never joins.
	pending_deps    INTEGER NOT NULL DEFAULT 0,
	UNIQUE (job_id, index_in_job)
);
-- Runnable tasks per job and type in scheduling order.
CREATE INDEX idx_tasks_ready ON tasks(job_id, type, priority DESC, id)
	WHERE status IN ('queued', 'soft-failed') AND pending_deps = 0;
CREATE INDEX idx_tasks_job_status ON tasks(job_id, status);
CREATE INDEX idx_tasks_worker ON tasks(worker_id, status)
	WHERE worker_id IS NOT NULL;
CREATE INDEX idx_tasks_active_touched ON tasks(last_touched_at)
	WHERE status = 'active';

CREATE TABLE task_dependencies (
	task_id       INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
	dependency_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
	PRIMARY KEY (task_id, dependency_id)
) WITHOUT ROWID;
CREATE INDEX idx_task_dependencies_dep
	ON task_dependencies(dependency_id, task_id);

CREATE TABLE task_failures (
	created_at INTEGER NOT NULL,
	task_id    INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
	worker_id  INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
	PRIMARY KEY (task_id, worker_id)
) WITHOUT ROWID;
CREATE INDEX idx_task_failures_worker ON task_failures(worker_id);

CREATE TABLE job_blocks (
	id         INTEGER PRIMARY KEY,
	created_at INTEGER NOT NULL,
	job_id     INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
	worker_id  INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
	task_type  TEXT NOT NULL,
	UNIQUE (job_id, worker_id, task_type)
);
CREATE INDEX idx_job_blocks_worker ON job_blocks(worker_id);

CREATE TABLE sleep_schedules (
	id           INTEGER PRIMARY KEY,
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL,
	worker_id    INTEGER NOT NULL UNIQUE REFERENCES workers(id) ON DELETE CASCADE,
	is_active    INTEGER NOT NULL DEFAULT 0,
	days_of_week TEXT NOT NULL DEFAULT '',
	start_time   TEXT NOT NULL DEFAULT '',
	end_time     TEXT NOT NULL DEFAULT '',
	next_check   INTEGER
);
CREATE INDEX idx_sleep_schedules_next ON sleep_schedules(next_check)
	WHERE is_active = 1;

-- Single row (id = 1): the job whose image was rendered last.
CREATE TABLE last_rendereds (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	job_id     INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE
);
