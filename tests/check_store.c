/*
 * Tests for store.c and migrate.c: opening fresh, existing, too-new and
 * corrupt databases, the per-connection pragmas, the pool under threads,
 * transactions, the statement cache, the error mapping and the schema's
 * foreign keys and cascades (migrations/).
 */
#include "store_internal.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "migrate.h"
#include "testutil.h"
#include "xmalloc.h"

#define POOL 4

static char *dir;
static char *db_path;
static struct store *store;

static void
setup(void)
{
	char *err = NULL;

	dir = test_tmpdir();
	db_path = xasprintf("%s/fm.sqlite", dir);
	if (store_open(db_path, POOL, &store, &err) != FM_OK)
		ck_abort_msg("store_open: %s", err);
	ck_assert_ptr_null(err);
}

static void
teardown(void)
{
	store_close(store);
	store = NULL;
	test_rmtree(dir);
	free(dir);
	free(db_path);
}

/* Files only, no store open. */
static void
setup_dir(void)
{
	dir = test_tmpdir();
	db_path = xasprintf("%s/fm.sqlite", dir);
	store = NULL;
}

/* One integer from a query on a raw connection; fails the test on error. */
static long long
query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long v;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		ck_abort_msg("%s: %s", sql, sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static char *
query_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	char *v;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		ck_abort_msg("%s: %s", sql, sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

static void
exec_ok(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		ck_abort_msg("%s: %s", sql, msg);
}

/* Run sql on a raw handle and return its primary result code. */
static int
exec_rc(sqlite3 *db, const char *sql)
{
	/* Connections have extended result codes on. */
	return sqlite3_exec(db, sql, NULL, NULL, NULL) & 0xff;
}

static long long
count_on(struct store_conn *conn, const char *table)
{
	char *sql = xasprintf("SELECT count(*) FROM %s", table);
	long long n = query_int(store_db(conn), sql);

	free(sql);
	return n;
}

/* A user_version set on a database file, bypassing the store. */
static void
raw_set_version(const char *path, int version)
{
	sqlite3 *db = NULL;
	char *sql = xasprintf("PRAGMA user_version = %d", version);

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	exec_ok(db, sql);
	sqlite3_close(db);
	free(sql);
}

static int
raw_get_version(const char *path)
{
	sqlite3 *db = NULL;
	int v;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	v = (int)query_int(db, "PRAGMA user_version");
	sqlite3_close(db);
	return v;
}

/* ---- opening ---- */

START_TEST(test_fresh_database)
{
	static const char *const tables[] = { "jobs", "tasks",
		"task_dependencies", "task_failures", "job_blocks", "workers",
		"worker_tags", "worker_tag_membership", "sleep_schedules",
		"last_rendereds" };
	struct store_conn *conn;
	char *text;

	ck_assert_int_ge(migrate_latest(), 1);
	ck_assert_int_eq(store_schema_version(store), migrate_latest());
	ck_assert_int_eq(raw_get_version(db_path), migrate_latest());

	conn = store_acquire(store);
	for (size_t i = 0; i < nitems(tables); i++) {
		char *sql =
		    xasprintf("SELECT count(*) FROM sqlite_master WHERE "
		              "type = 'table' AND name = '%s'",
		        tables[i]);

		ck_assert_msg(query_int(store_db(conn), sql) == 1,
		    "no table %s", tables[i]);
		ck_assert_int_eq(count_on(conn, tables[i]), 0);
		free(sql);
	}
	text = query_text(store_db(conn), "PRAGMA integrity_check");
	ck_assert_str_eq(text, "ok");
	free(text);
	store_release(store, conn);
}
END_TEST

/* Facts 5.2: WAL and foreign keys on every connection of the pool. */
START_TEST(test_pragmas_every_connection)
{
	struct store_conn *conns[POOL];

	for (int i = 0; i < POOL; i++) {
		sqlite3 *db;
		char *mode;

		conns[i] = store_acquire(store);
		for (int j = 0; j < i; j++)
			ck_assert_ptr_ne(conns[i], conns[j]);
		db = store_db(conns[i]);
		ck_assert_ptr_nonnull(db);
		for (int j = 0; j < i; j++)
			ck_assert_ptr_ne(db, store_db(conns[j]));
		mode = query_text(db, "PRAGMA journal_mode");
		ck_assert_str_eq(mode, "wal");
		free(mode);
		ck_assert_int_eq(query_int(db, "PRAGMA foreign_keys"), 1);
		ck_assert_int_ge(query_int(db, "PRAGMA busy_timeout"), 1000);
		ck_assert_int_eq(query_int(db, "PRAGMA synchronous"), 1);
		ck_assert_int_eq(
		    query_int(db, "PRAGMA user_version"), migrate_latest());
	}
	for (int i = 0; i < POOL; i++)
		store_release(store, conns[i]);
}
END_TEST

START_TEST(test_reopen_idempotent)
{
	struct store_conn *conn = store_acquire(store);
	char *err = NULL;

	exec_ok(store_db(conn),
	    "INSERT INTO worker_tags (created_at, updated_at, uuid, name) "
	    "VALUES (1, 1, 'u-1', 'kept')");
	store_release(store, conn);
	store_close(store);
	store = NULL;

	for (int round = 0; round < 3; round++) {
		ck_assert_int_eq(
		    store_open(db_path, round == 0 ? 0 : 2, &store, &err),
		    FM_OK);
		ck_assert_ptr_null(err);
		ck_assert_int_eq(store_schema_version(store), migrate_latest());
		conn = store_acquire(store);
		ck_assert_int_eq(count_on(conn, "worker_tags"), 1);
		store_release(store, conn);
		store_close(store);
		store = NULL;
	}
}
END_TEST

START_TEST(test_newer_refused)
{
	struct store *s = (struct store *)(void *)&s;
	char *err = NULL;

	/* A database written by a newer Manager. */
	raw_set_version(db_path, migrate_latest() + 1);
	ck_assert_int_ne(store_open(db_path, 2, &s, &err), FM_OK);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, "newer") != NULL, "%s", err);
	ck_assert_msg(strstr(err, db_path) != NULL, "%s", err);
	free(err);
	/* And left alone. */
	ck_assert_int_eq(raw_get_version(db_path), migrate_latest() + 1);
}
END_TEST

START_TEST(test_corrupt_refused)
{
	struct store *s = (struct store *)(void *)&s;
	char garbage[8192];
	char *err = NULL, *path;
	FILE *f;

	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (char)('A' + i % 26);
	f = fopen(db_path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(
	    fwrite(garbage, 1, sizeof(garbage), f), sizeof(garbage));
	fclose(f);
	ck_assert_int_eq(store_open(db_path, 2, &s, &err), FM_ERR_DB);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, db_path) != NULL, "%s", err);
	free(err);

	/* A directory that does not exist. */
	path = xasprintf("%s/no/such/dir/fm.sqlite", dir);
	err = NULL;
	ck_assert_int_eq(store_open(path, 2, &s, &err), FM_ERR_DB);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err, path) != NULL, "%s", err);
	free(err);
	free(path);
}
END_TEST

/* A database with damaged pages fails the integrity check at open. */
START_TEST(test_damaged_pages_refused)
{
	struct store *s = (struct store *)(void *)&s;
	struct store_conn *conn;
	char *err = NULL, page[4096];
	long page_size;
	FILE *f;

	ck_assert_int_eq(store_open(db_path, 1, &s, &err), FM_OK);
	conn = store_acquire(s);
	exec_ok(store_db(conn),
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
	    "WHERE i < 2000) INSERT INTO worker_tags (created_at, updated_at, "
	    "uuid, name) SELECT i, i, 'uuid-' || i, 'tag-' || i FROM n");
	page_size = (long)query_int(store_db(conn), "PRAGMA page_size");
	ck_assert_int_le(page_size, (long)sizeof(page));
	store_release(s, conn);
	store_close(s);

	/* Scribble over every page after the first two. */
	memset(page, 0x5a, sizeof(page));
	f = fopen(db_path, "r+b");
	ck_assert_ptr_nonnull(f);
	for (long off = 2 * page_size; off < 12 * page_size; off += page_size) {
		fseek(f, off, SEEK_SET);
		fwrite(page, 1, (size_t)page_size, f);
	}
	fclose(f);
	s = (struct store *)(void *)&s;
	ck_assert_int_eq(store_open(db_path, 1, &s, &err), FM_ERR_DB);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(err);
	free(err);
}
END_TEST

START_TEST(test_close_null)
{
	store_close(NULL);
	store_release(store, NULL);
}
END_TEST

/* ---- migrations on a raw connection ---- */

START_TEST(test_migrate_apply)
{
	sqlite3 *db = NULL;
	char *err = NULL;

	ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
	ck_assert_int_eq(migrate_apply(db, &err), FM_OK);
	ck_assert_ptr_null(err);
	ck_assert_int_eq(
	    query_int(db, "PRAGMA user_version"), migrate_latest());
	/* Foreign keys are back on afterwards. */
	ck_assert_int_eq(query_int(db, "PRAGMA foreign_keys"), 1);
	/* Again: nothing to do. */
	ck_assert_int_eq(migrate_apply(db, &err), FM_OK);
	ck_assert_int_eq(
	    query_int(db, "PRAGMA user_version"), migrate_latest());

	exec_ok(db, "PRAGMA user_version = 9999");
	ck_assert_int_eq(migrate_apply(db, &err), FM_ERR_INVALID);
	ck_assert_msg(strstr(err, "newer") != NULL, "%s", err);
	free(err);
	sqlite3_close(db);
}
END_TEST

/* A failing migration leaves nothing behind. */
START_TEST(test_migrate_failure_atomic)
{
	sqlite3 *db = NULL;
	char *err = NULL;

	ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
	exec_ok(db, "CREATE TABLE workers (x INTEGER)");
	ck_assert_int_eq(migrate_apply(db, &err), FM_ERR_DB);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, "0001") != NULL, "%s", err);
	free(err);
	ck_assert_int_eq(query_int(db, "PRAGMA user_version"), 0);
	ck_assert_int_eq(query_int(db,
	                     "SELECT count(*) FROM sqlite_master "
	                     "WHERE name = 'jobs'"),
	    0);
	ck_assert_int_eq(sqlite3_get_autocommit(db), 1);
	sqlite3_close(db);
}
END_TEST

/* ---- transactions ---- */

static const char sql_tag_insert[] =
    "INSERT INTO worker_tags (created_at, updated_at, uuid, name) "
    "VALUES (?1, ?1, ?2, ?2)";

static enum fm_err
insert_tag(struct store_conn *conn, const char *name)
{
	sqlite3_stmt *st = store_stmt(conn, sql_tag_insert);

	ck_assert_ptr_nonnull(st);
	sqlite3_bind_int64(st, 1, 1);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	return store_error(conn, sqlite3_step(st), "insert tag");
}

START_TEST(test_commit_and_rollback)
{
	struct store_conn *a = store_acquire(store), *b;

	ck_assert_int_eq(store_begin(a, true), FM_OK);
	ck_assert_int_eq(insert_tag(a, "one"), FM_OK);
	ck_assert_int_eq(store_commit(a), FM_OK);
	ck_assert_int_eq(sqlite3_get_autocommit(store_db(a)), 1);

	ck_assert_int_eq(store_begin(a, true), FM_OK);
	ck_assert_int_eq(insert_tag(a, "two"), FM_OK);
	/* Not visible to another connection before the commit. */
	b = store_acquire(store);
	ck_assert_int_eq(count_on(b, "worker_tags"), 1);
	store_rollback(a);
	ck_assert_int_eq(sqlite3_get_autocommit(store_db(a)), 1);
	ck_assert_int_eq(count_on(a, "worker_tags"), 1);
	/* Rolling back twice, or with nothing open, is harmless. */
	store_rollback(a);
	/* Read transactions work as well. */
	ck_assert_int_eq(store_begin(b, false), FM_OK);
	ck_assert_int_eq(count_on(b, "worker_tags"), 1);
	ck_assert_int_eq(store_commit(b), FM_OK);
	store_release(store, b);
	store_release(store, a);
}
END_TEST

/* ---- the change journal ---- */

struct heard {
	json_t *notes; /* [["what", "uuid", "job", "prev", "detail"]] */
	bool wants;
	int commits;
};

static void
observe(void *arg, struct store_conn *conn, const struct store_note *notes,
    size_t n)
{
	struct heard *h = arg;

	/* Called after the commit: the write lock is free again. */
	ck_assert_int_eq(sqlite3_get_autocommit(store_db(conn)), 1);
	h->commits++;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(h->notes,
		    json_pack("[i, s, s, s, s?]", (int)notes[i].what,
		        notes[i].uuid, notes[i].job_uuid, notes[i].prev_status,
		        notes[i].detail));
}

static bool
observer_wants(void *arg)
{
	return ((struct heard *)arg)->wants;
}

START_TEST(test_journal)
{
	struct heard h = { .notes = json_array(), .wants = true };
	struct store_conn *c = store_acquire(store);
	json_t *want;

	store_set_observer(store, observe, observer_wants, &h);
	/* Committed: heard once per object, first previous status kept. */
	ck_assert_int_eq(store_begin(c, true), FM_OK);
	store_note(c, STORE_CHANGED_TASK, "t1", "j1", "queued", NULL);
	store_note(c, STORE_CHANGED_JOB, "j1", NULL, NULL, NULL);
	store_note(c, STORE_CHANGED_TASK, "t1", "j1", "active", NULL);
	store_note(c, STORE_CHANGED_JOB, "j1", NULL, "queued", NULL);
	store_note(c, STORE_DELETED_TAG, "g1", NULL, NULL, xstrdup("gpu"));
	ck_assert_int_eq(h.commits, 0); /* nothing before the commit */
	ck_assert_int_eq(store_commit(c), FM_OK);
	want = json_pack("[[i,s,s,s,n], [i,s,s,s,n], [i,s,s,s,s]]",
	    STORE_CHANGED_TASK, "t1", "j1", "queued", STORE_CHANGED_JOB, "j1",
	    "", "queued", STORE_DELETED_TAG, "g1", "", "", "gpu");
	ck_assert_msg(json_equal(h.notes, want), "%s", json_dumps(h.notes, 0));
	json_decref(want);
	ck_assert_int_eq(h.commits, 1);

	/* Rolled back, or failed to commit: never heard. */
	json_array_clear(h.notes);
	ck_assert_int_eq(store_begin(c, true), FM_OK);
	store_note(c, STORE_CHANGED_WORKER, "w1", NULL, "awake", NULL);
	store_rollback(c);
	ck_assert_int_eq(store_begin(c, true), FM_OK);
	store_note(c, STORE_DELETED_TAG, "g2", NULL, NULL, xstrdup("x"));
	store_release(store, c); /* rolls back */
	c = store_acquire(store);
	ck_assert_int_eq(json_array_size(h.notes), 0);

	/* Outside a transaction a note is delivered at once. */
	store_note(c, STORE_CHANGED_WORKER, "w2", NULL, NULL, NULL);
	ck_assert_int_eq(json_array_size(h.notes), 1);

	/* Nobody listening: noting is free and nothing is kept. */
	h.wants = false;
	ck_assert_int_eq(store_begin(c, true), FM_OK);
	store_note(c, STORE_CHANGED_WORKER, "w3", NULL, NULL, xstrdup("x"));
	ck_assert_int_eq(store_commit(c), FM_OK);
	ck_assert_int_eq(json_array_size(h.notes), 1);

	store_set_observer(store, NULL, NULL, NULL);
	store_release(store, c);
	json_decref(h.notes);
}
END_TEST

/* Releasing a connection rolls back what its borrower left open. */
START_TEST(test_release_rolls_back)
{
	struct store_conn *conn = store_acquire(store), *again;
	struct store_conn *held[POOL - 1];

	/* Hold the others so the same connection comes back. */
	for (int i = 0; i < POOL - 1; i++)
		held[i] = store_acquire(store);
	ck_assert_int_eq(store_begin(conn, true), FM_OK);
	ck_assert_int_eq(insert_tag(conn, "lost"), FM_OK);
	store_release(store, conn);

	again = store_acquire(store);
	ck_assert_ptr_eq(again, conn);
	ck_assert_int_eq(sqlite3_get_autocommit(store_db(again)), 1);
	ck_assert_int_eq(count_on(again, "worker_tags"), 0);
	/* And it can start a new transaction. */
	ck_assert_int_eq(store_begin(again, true), FM_OK);
	ck_assert_int_eq(insert_tag(again, "kept"), FM_OK);
	ck_assert_int_eq(store_commit(again), FM_OK);
	ck_assert_int_eq(count_on(held[0], "worker_tags"), 1);
	store_release(store, again);
	for (int i = 0; i < POOL - 1; i++)
		store_release(store, held[i]);
}
END_TEST

/* A failed COMMIT (deferred foreign key) rolls back and closes the tx. */
START_TEST(test_commit_failure_rolls_back)
{
	struct store_conn *conn = store_acquire(store);
	sqlite3 *db = store_db(conn);

	ck_assert_int_eq(store_begin(conn, true), FM_OK);
	exec_ok(db, "PRAGMA defer_foreign_keys = ON");
	exec_ok(db, "INSERT INTO worker_tag_membership VALUES (41, 42)");
	ck_assert_int_eq(store_commit(conn), FM_ERR_CONFLICT);
	ck_assert_int_eq(sqlite3_get_autocommit(db), 1);
	ck_assert_int_eq(count_on(conn, "worker_tag_membership"), 0);
	ck_assert_int_eq(store_begin(conn, true), FM_OK);
	ck_assert_int_eq(store_commit(conn), FM_OK);
	store_release(store, conn);
}
END_TEST

/* ---- the pool under threads ---- */

#define THREADS    8
#define ITERATIONS 60

struct hammer {
	int id;
	atomic_int *in_use, *max_in_use, *failures;
};

static void *
hammer_thread(void *arg)
{
	struct hammer *h = arg;

	for (int i = 0; i < ITERATIONS; i++) {
		struct store_conn *conn = store_acquire(store);
		int now = atomic_fetch_add(h->in_use, 1) + 1;
		int max = atomic_load(h->max_in_use);
		char name[32];

		while (now > max &&
		    !atomic_compare_exchange_weak(h->max_in_use, &max, now))
			;
		snprintf(name, sizeof(name), "t%d-%d", h->id, i);
		if (i % 3 == 2) {
			/* A reader between the writers. */
			sqlite3_stmt *st;

			if (store_begin(conn, false) != FM_OK)
				atomic_fetch_add(h->failures, 1);
			st = store_stmt(
			    conn, "SELECT count(*) FROM worker_tags");
			if (st == NULL || sqlite3_step(st) != SQLITE_ROW)
				atomic_fetch_add(h->failures, 1);
			if (st != NULL)
				sqlite3_reset(st);
			if (store_commit(conn) != FM_OK)
				atomic_fetch_add(h->failures, 1);
		} else if (store_begin(conn, true) != FM_OK ||
		    insert_tag(conn, name) != FM_OK ||
		    store_commit(conn) != FM_OK) {
			atomic_fetch_add(h->failures, 1);
		}
		atomic_fetch_sub(h->in_use, 1);
		store_release(store, conn);
	}
	return NULL;
}

START_TEST(test_pool_threads)
{
	pthread_t threads[THREADS];
	struct hammer h[THREADS];
	atomic_int in_use = 0, max_in_use = 0, failures = 0;
	struct store_conn *conns[POOL];
	int writes = 0;

	for (int i = 0; i < THREADS; i++) {
		h[i] = (struct hammer){ i, &in_use, &max_in_use, &failures };
		ck_assert_int_eq(
		    pthread_create(&threads[i], NULL, hammer_thread, &h[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(threads[i], NULL);
	for (int i = 0; i < ITERATIONS; i++)
		writes += i % 3 != 2;
	ck_assert_int_eq(atomic_load(&failures), 0);
	ck_assert_int_le(atomic_load(&max_in_use), POOL);
	ck_assert_int_ge(atomic_load(&max_in_use), 1);
	ck_assert_int_eq(atomic_load(&in_use), 0);

	/* Every connection is back in the pool, none in a transaction. */
	for (int i = 0; i < POOL; i++) {
		conns[i] = store_acquire(store);
		ck_assert_int_eq(sqlite3_get_autocommit(store_db(conns[i])), 1);
	}
	ck_assert_int_eq(count_on(conns[0], "worker_tags"), THREADS * writes);
	for (int i = 0; i < POOL; i++)
		store_release(store, conns[i]);
}
END_TEST

struct waiter {
	struct store_conn *got;
	atomic_int done;
};

static void *
waiter_thread(void *arg)
{
	struct waiter *w = arg;

	w->got = store_acquire(store);
	atomic_store(&w->done, 1);
	return NULL;
}

/* With every connection out, acquire waits for a release. */
START_TEST(test_pool_acquire_waits)
{
	struct store_conn *conns[POOL];
	struct waiter w = { NULL, 0 };
	pthread_t t;

	for (int i = 0; i < POOL; i++)
		conns[i] = store_acquire(store);
	ck_assert_int_eq(pthread_create(&t, NULL, waiter_thread, &w), 0);
	usleep(100 * 1000);
	ck_assert_int_eq(atomic_load(&w.done), 0);
	store_release(store, conns[2]);
	pthread_join(t, NULL);
	ck_assert_ptr_eq(w.got, conns[2]);
	store_release(store, w.got);
	for (int i = 0; i < POOL; i++)
		if (i != 2)
			store_release(store, conns[i]);
}
END_TEST

/* ---- statement cache ---- */

static const char sql_a[] = "SELECT ?1";
static const char sql_b[] = "SELECT ?1 + 1";
static const char sql_bad[] = "SELEKT nothing";

START_TEST(test_stmt_cache)
{
	struct store_conn *conn = store_acquire(store), *other;
	sqlite3_stmt *a1, *a2, *b, *o;

	a1 = store_stmt(conn, sql_a);
	ck_assert_ptr_nonnull(a1);
	a2 = store_stmt(conn, sql_a);
	ck_assert_ptr_eq(a1, a2);
	b = store_stmt(conn, sql_b);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a1, b);
	ck_assert_ptr_eq(store_stmt(conn, sql_a), a1);
	ck_assert_str_eq(sqlite3_sql(a1), sql_a);

	/* Another connection has its own statements. */
	other = store_acquire(store);
	o = store_stmt(other, sql_a);
	ck_assert_ptr_nonnull(o);
	ck_assert_ptr_ne(o, a1);
	store_release(store, other);

	/* Handed out reset and with bindings cleared. */
	sqlite3_bind_int(a1, 1, 42);
	ck_assert_int_eq(sqlite3_step(a1), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(a1, 0), 42);
	a2 = store_stmt(conn, sql_a);
	ck_assert_ptr_eq(a2, a1);
	ck_assert_int_eq(sqlite3_step(a2), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_type(a2, 0), SQLITE_NULL);
	sqlite3_reset(a2);

	/* Bad SQL: NULL, every time, without poisoning the cache. */
	ck_assert_ptr_null(store_stmt(conn, sql_bad));
	ck_assert_ptr_null(store_stmt(conn, sql_bad));
	ck_assert_ptr_eq(store_stmt(conn, sql_b), b);
	store_release(store, conn);
}
END_TEST

#define MANY_STMTS 200
static char many_sql[MANY_STMTS][32]; /* static storage: valid cache keys */

START_TEST(test_stmt_cache_many)
{
	struct store_conn *conn = store_acquire(store);
	sqlite3_stmt *first[MANY_STMTS];

	for (int i = 0; i < MANY_STMTS; i++) {
		snprintf(many_sql[i], sizeof(many_sql[i]), "SELECT %d", i);
		first[i] = store_stmt(conn, many_sql[i]);
		ck_assert_ptr_nonnull(first[i]);
	}
	for (int i = 0; i < MANY_STMTS; i++) {
		sqlite3_stmt *st = store_stmt(conn, many_sql[i]);

		ck_assert_ptr_eq(st, first[i]);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
		ck_assert_int_eq(sqlite3_column_int(st, 0), i);
		sqlite3_reset(st);
	}
	store_release(store, conn);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_error_mapping)
{
	struct store_conn *conn = store_acquire(store);

	ck_assert_int_eq(store_error(conn, SQLITE_OK, "t"), FM_OK);
	ck_assert_int_eq(store_error(conn, SQLITE_ROW, "t"), FM_OK);
	ck_assert_int_eq(store_error(conn, SQLITE_DONE, "t"), FM_OK);
	ck_assert_int_eq(store_error(conn, SQLITE_BUSY, "t"), FM_ERR_BUSY);
	ck_assert_int_eq(
	    store_error(conn, SQLITE_BUSY_SNAPSHOT, "t"), FM_ERR_BUSY);
	ck_assert_int_eq(store_error(conn, SQLITE_LOCKED, "t"), FM_ERR_BUSY);
	ck_assert_int_eq(
	    store_error(conn, SQLITE_CONSTRAINT_UNIQUE, "t"), FM_ERR_CONFLICT);
	ck_assert_int_eq(store_error(conn, SQLITE_CONSTRAINT_FOREIGNKEY, "t"),
	    FM_ERR_CONFLICT);
	ck_assert_int_eq(store_error(conn, SQLITE_NOMEM, "t"), FM_ERR_NOMEM);
	ck_assert_int_eq(store_error(conn, SQLITE_ERROR, "t"), FM_ERR_DB);
	ck_assert_int_eq(store_error(conn, SQLITE_CORRUPT, "t"), FM_ERR_DB);
	ck_assert_int_eq(store_error(conn, SQLITE_IOERR_WRITE, "t"), FM_ERR_DB);

	ck_assert_int_eq(store_exec(conn, "SELEKT 1"), FM_ERR_DB);
	ck_assert_int_eq(store_exec(conn, "SELECT 1"), FM_OK);
	ck_assert_int_eq(insert_tag(conn, "dup"), FM_OK);
	ck_assert_int_eq(store_changes(conn), 1);
	ck_assert_int_eq(insert_tag(conn, "dup"), FM_ERR_CONFLICT);
	ck_assert_int_eq(
	    store_exec(conn, "UPDATE worker_tags SET description = 'x'"),
	    FM_OK);
	ck_assert_int_eq(store_changes(conn), 1);
	store_release(store, conn);
}
END_TEST

/* ---- schema ---- */

static void
make_farm(sqlite3 *db)
{
	exec_ok(db,
	    "INSERT INTO worker_tags (id, created_at, updated_at, uuid, name) "
	    "  VALUES (1, 1, 1, 'tag-1', 'gpu');"
	    "INSERT INTO workers (id, created_at, updated_at, uuid, "
	    "  secret_hash, secret_salt) VALUES (1, 1, 1, 'w-1', x'00', x'00'),"
	    "  (2, 1, 1, 'w-2', x'00', x'00');"
	    "INSERT INTO worker_tag_membership VALUES (1, 1), (1, 2);"
	    "INSERT INTO jobs (id, created_at, updated_at, uuid, name, "
	    "  job_type, priority, status, worker_tag_id) VALUES "
	    "  (1, 1, 1, 'j-1', 'one', 'simple-blender-render', 50, 'queued', 1),"
	    "  (2, 1, 1, 'j-2', 'two', 'simple-blender-render', 50, 'queued', "
	    "   NULL);"
	    "INSERT INTO tasks (id, created_at, updated_at, uuid, name, type, "
	    "  job_id, index_in_job, status, worker_id) VALUES "
	    "  (1, 1, 1, 't-1', 'a', 'blender', 1, 0, 'queued', 1),"
	    "  (2, 1, 1, 't-2', 'b', 'blender', 1, 1, 'queued', 2),"
	    "  (3, 1, 1, 't-3', 'c', 'ffmpeg', 1, 2, 'queued', NULL),"
	    "  (4, 1, 1, 't-4', 'd', 'blender', 2, 0, 'active', 1);"
	    "INSERT INTO task_dependencies VALUES (2, 1), (3, 1), (3, 2);"
	    "INSERT INTO task_failures VALUES (1, 1, 2), (1, 4, 2);"
	    "INSERT INTO job_blocks (created_at, job_id, worker_id, task_type) "
	    "  VALUES (1, 1, 2, 'blender');"
	    "INSERT INTO sleep_schedules (created_at, updated_at, worker_id) "
	    "  VALUES (1, 1, 2);"
	    "INSERT INTO last_rendereds VALUES (1, 1, 1, 1);");
}

START_TEST(test_job_delete_cascades)
{
	struct store_conn *conn = store_acquire(store);
	sqlite3 *db = store_db(conn);

	make_farm(db);
	exec_ok(db, "DELETE FROM jobs WHERE id = 1");
	ck_assert_int_eq(
	    query_int(db, "SELECT count(*) FROM tasks WHERE job_id = 1"), 0);
	ck_assert_int_eq(count_on(conn, "tasks"), 1);
	ck_assert_int_eq(count_on(conn, "task_dependencies"), 0);
	ck_assert_int_eq(count_on(conn, "task_failures"), 1);
	ck_assert_int_eq(count_on(conn, "job_blocks"), 0);
	ck_assert_int_eq(count_on(conn, "last_rendereds"), 0);
	/* Workers are not owned by jobs. */
	ck_assert_int_eq(count_on(conn, "workers"), 2);
	store_release(store, conn);
}
END_TEST

START_TEST(test_task_delete_cascades)
{
	struct store_conn *conn = store_acquire(store);
	sqlite3 *db = store_db(conn);

	make_farm(db);
	/* Deleting a dependency removes the edges from either end. */
	exec_ok(db, "DELETE FROM tasks WHERE id = 2");
	ck_assert_int_eq(count_on(conn, "task_dependencies"), 1);
	ck_assert_int_eq(query_int(db,
	                     "SELECT count(*) FROM "
	                     "task_dependencies WHERE task_id = 3 "
	                     "AND dependency_id = 1"),
	    1);
	store_release(store, conn);
}
END_TEST

START_TEST(test_worker_and_tag_delete)
{
	struct store_conn *conn = store_acquire(store);
	sqlite3 *db = store_db(conn);

	make_farm(db);
	exec_ok(db, "DELETE FROM workers WHERE id = 1");
	/* Tasks survive, unassigned; memberships and failures go. */
	ck_assert_int_eq(count_on(conn, "tasks"), 4);
	ck_assert_int_eq(query_int(db,
	                     "SELECT count(*) FROM tasks WHERE "
	                     "worker_id IS NULL"),
	    3);
	ck_assert_int_eq(count_on(conn, "worker_tag_membership"), 1);

	exec_ok(db, "DELETE FROM workers WHERE id = 2");
	ck_assert_int_eq(count_on(conn, "task_failures"), 0);
	ck_assert_int_eq(count_on(conn, "job_blocks"), 0);
	ck_assert_int_eq(count_on(conn, "sleep_schedules"), 0);

	exec_ok(db, "DELETE FROM worker_tags WHERE id = 1");
	ck_assert_int_eq(count_on(conn, "jobs"), 2);
	ck_assert_int_eq(query_int(db,
	                     "SELECT count(*) FROM jobs WHERE "
	                     "worker_tag_id IS NOT NULL"),
	    0);
	ck_assert_int_eq(count_on(conn, "worker_tag_membership"), 0);
	store_release(store, conn);
}
END_TEST

START_TEST(test_foreign_keys_enforced)
{
	struct store_conn *conn = store_acquire(store);
	sqlite3 *db = store_db(conn);

	make_farm(db);
	ck_assert_int_eq(exec_rc(db,
	                     "INSERT INTO tasks (created_at, updated_at, uuid, "
	                     "name, type, job_id, index_in_job, status) VALUES "
	                     "(1, 1, 't-x', 'x', 'blender', 999, 0, 'queued')"),
	    SQLITE_CONSTRAINT);
	ck_assert_int_eq(
	    sqlite3_extended_errcode(db), SQLITE_CONSTRAINT_FOREIGNKEY);
	ck_assert_int_eq(
	    exec_rc(db, "INSERT INTO task_dependencies VALUES (1, 999)"),
	    SQLITE_CONSTRAINT);
	ck_assert_int_eq(
	    exec_rc(db, "UPDATE tasks SET worker_id = 999 WHERE id = 1"),
	    SQLITE_CONSTRAINT);
	ck_assert_int_eq(
	    exec_rc(db, "UPDATE jobs SET worker_tag_id = 999 WHERE id = 1"),
	    SQLITE_CONSTRAINT);
	ck_assert_int_eq(exec_rc(db, "UPDATE last_rendereds SET job_id = 999"),
	    SQLITE_CONSTRAINT);
	ck_assert_int_eq(
	    sqlite3_extended_errcode(db), SQLITE_CONSTRAINT_FOREIGNKEY);
	/* Other constraints of the schema. */
	ck_assert_int_eq(exec_rc(db,
	                     "INSERT INTO tasks (created_at, updated_at, uuid, "
	                     "name, type, job_id, index_in_job, status) VALUES "
	                     "(1, 1, 't-y', 'y', 'blender', 1, 0, 'queued')"),
	    SQLITE_CONSTRAINT);
	ck_assert_int_eq(
	    sqlite3_extended_errcode(db), SQLITE_CONSTRAINT_UNIQUE);
	ck_assert_int_eq(exec_rc(db,
	                     "INSERT INTO jobs (created_at, updated_at, uuid, "
	                     "name, job_type, priority, status) VALUES "
	                     "(1, 1, 'j-1', 'dup', 'x', 50, 'queued')"),
	    SQLITE_CONSTRAINT);
	ck_assert_int_eq(exec_rc(db,
	                     "INSERT INTO last_rendereds VALUES "
	                     "(2, 1, 1, 1)"),
	    SQLITE_CONSTRAINT);
	ck_assert_int_eq(exec_rc(db,
	                     "INSERT INTO worker_tags (created_at, "
	                     "updated_at, uuid, name) VALUES "
	                     "(1, 1, 'tag-2', 'gpu')"),
	    SQLITE_CONSTRAINT);
	/* Flamenco's column defaults. */
	ck_assert_int_eq(
	    query_int(db, "SELECT priority FROM tasks WHERE id = 1"), 50);
	ck_assert_int_eq(query_int(db,
	                     "SELECT count(*) FROM "
	                     "pragma_foreign_key_check"),
	    0);
	store_release(store, conn);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc;

	tc = tcase_create("open");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fresh_database);
	tcase_add_test(tc, test_pragmas_every_connection);
	tcase_add_test(tc, test_reopen_idempotent);
	tcase_add_test(tc, test_close_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("refuse");
	tcase_add_checked_fixture(tc, setup_dir, teardown);
	tcase_add_test(tc, test_newer_refused);
	tcase_add_test(tc, test_corrupt_refused);
	tcase_add_test(tc, test_damaged_pages_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("migrate");
	tcase_add_test(tc, test_migrate_apply);
	tcase_add_test(tc, test_migrate_failure_atomic);
	suite_add_tcase(s, tc);

	tc = tcase_create("transactions");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_commit_and_rollback);
	tcase_add_test(tc, test_release_rolls_back);
	tcase_add_test(tc, test_commit_failure_rolls_back);
	tcase_add_test(tc, test_journal);
	suite_add_tcase(s, tc);

	tc = tcase_create("pool");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_pool_threads);
	tcase_add_test(tc, test_pool_acquire_waits);
	suite_add_tcase(s, tc);

	tc = tcase_create("statements");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_stmt_cache);
	tcase_add_test(tc, test_stmt_cache_many);
	tcase_add_test(tc, test_error_mapping);
	suite_add_tcase(s, tc);

	tc = tcase_create("schema");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_job_delete_cascades);
	tcase_add_test(tc, test_task_delete_cascades);
	tcase_add_test(tc, test_worker_and_tag_delete);
	tcase_add_test(tc, test_foreign_keys_enforced);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int failed;

	/* Migrations log at info; errors tested here log at warn/error. */
	log_set_level(LOG_LEVEL_ERROR);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
