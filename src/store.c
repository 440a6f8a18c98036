/*
 * Connection pool and transaction helpers over one SQLite database. Each
 * connection is opened SQLITE_OPEN_NOMUTEX and used by one thread at a
 * time; the pool hands them out under a mutex. Writers use BEGIN
 * IMMEDIATE so a read transaction never has to upgrade under WAL.
 */
#include "store_internal.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "migrate.h"
#include "timeutil.h"
#include "xmalloc.h"

#define STMT_CACHE_SIZE 256 /* power of two; open addressing on the SQL */
#define BUSY_TIMEOUT_MS 20000

struct stmt_slot {
	const char *sql; /* static string: pointer identity is the key */
	sqlite3_stmt *stmt;
};

struct store_conn {
	sqlite3 *db;
	struct store *store;
	bool in_tx;
	bool writing; /* holds store->write_lock */
	struct store_conn *next_free;
	struct store_note *notes; /* the open transaction's journal */
	size_t nnotes, notes_cap;
	struct stmt_slot cache[STMT_CACHE_SIZE];
};

struct store {
	/*
	 * Writers queue here rather than in SQLite's busy handler, which
	 * sleeps in steps of milliseconds: one writer at a time, in-process,
	 * served in arrival order (a ticket lock) so a writer that loops over
	 * batches cannot starve a request.
	 */
	pthread_mutex_t write_lock; /* guards the two tickets */
	pthread_cond_t write_turn;
	uint64_t write_next;    /* next ticket to hand out */
	uint64_t write_serving; /* ticket whose turn it is */
	pthread_mutex_t lock;
	pthread_cond_t available;
	struct store_conn *conns;
	int nconns;
	struct store_conn *free_list;
	store_observer_fn observer;
	store_observer_wants_fn observer_wants;
	void *observer_arg;
};

sqlite3 *
store_db(struct store_conn *conn)
{
	return conn->db;
}

static enum fm_err
conn_open(const char *path, sqlite3 **db_out, char **err_out)
{
	static const char pragmas[] = "PRAGMA journal_mode = WAL;"
	                              "PRAGMA synchronous = NORMAL;"
	                              "PRAGMA foreign_keys = ON;"
	                              "PRAGMA temp_store = MEMORY;";
	sqlite3 *db = NULL;
	char *errmsg = NULL;
	int rc;

	*db_out = NULL;
	rc = sqlite3_open_v2(path, &db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	    NULL);
	if (rc != SQLITE_OK) {
		*err_out = xasprintf("cannot open database %s: %s", path,
		    db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return FM_ERR_DB;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	if (sqlite3_exec(db, pragmas, NULL, NULL, &errmsg) != SQLITE_OK) {
		*err_out =
		    xasprintf("cannot use database %s: %s", path, errmsg);
		sqlite3_free(errmsg);
		sqlite3_close(db);
		return FM_ERR_DB;
	}
	*db_out = db;
	return FM_OK;
}

/* quick_check: page-level integrity in time linear in the file size. */
static enum fm_err
check_integrity(sqlite3 *db, const char *path, char **err_out)
{
	sqlite3_stmt *st = NULL;
	enum fm_err rc = FM_OK;
	int fk_problems = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL) !=
	        SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		*err_out = xasprintf("database %s failed its integrity check: "
		                     "%s",
		    path, sqlite3_errmsg(db));
		rc = FM_ERR_DB;
		goto done;
	}
	if (strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0) {
		*err_out = xasprintf("database %s is corrupt: %s", path,
		    sqlite3_column_text(st, 0));
		rc = FM_ERR_DB;
		goto done;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db,
	        "SELECT count(*) FROM pragma_foreign_key_check", -1, &st,
	        NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		fk_problems = sqlite3_column_int(st, 0);
	if (fk_problems != 0) {
		*err_out = xasprintf("database %s has %d rows with broken "
		                     "references",
		    path, fk_problems);
		rc = FM_ERR_DB;
	}
done:
	sqlite3_finalize(st);
	return rc;
}

enum fm_err
store_open(
    const char *path, int nconns, struct store **store_out, char **err_out)
{
	struct store *store = NULL;
	enum fm_err rc;
	sqlite3 *db = NULL;

	*store_out = NULL;
	*err_out = NULL;
	if (nconns < 1)
		nconns = 1;
	if ((rc = conn_open(path, &db, err_out)) != FM_OK)
		goto fail;
	if ((rc = check_integrity(db, path, err_out)) != FM_OK)
		goto fail;
	if ((rc = migrate_apply(db, err_out)) != FM_OK) {
		char *why = *err_out;

		*err_out = xasprintf("database %s: %s", path, why);
		free(why);
		goto fail;
	}
	sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA optimize",
	    NULL, NULL, NULL);

	store = xcalloc(1, sizeof(*store));
	pthread_mutex_init(&store->lock, NULL);
	pthread_mutex_init(&store->write_lock, NULL);
	pthread_cond_init(&store->write_turn, NULL);
	pthread_cond_init(&store->available, NULL);
	store->conns = xcalloc((size_t)nconns, sizeof(*store->conns));
	store->nconns = nconns;
	store->conns[0].db = db;
	db = NULL;
	for (int i = 0; i < nconns; i++)
		store->conns[i].store = store;
	for (int i = 1; i < nconns; i++)
		if ((rc = conn_open(path, &store->conns[i].db, err_out)) !=
		    FM_OK)
			goto fail;
	for (int i = nconns - 1; i >= 0; i--) {
		store->conns[i].next_free = store->free_list;
		store->free_list = &store->conns[i];
	}
	*store_out = store;
	return FM_OK;
fail:
	sqlite3_close(db);
	store_close(store);
	return rc;
}

static void
conn_close(struct store_conn *conn)
{
	for (size_t i = 0; i < STMT_CACHE_SIZE; i++)
		sqlite3_finalize(conn->cache[i].stmt);
	sqlite3_close(conn->db);
	free(conn->notes);
}

void
store_close(struct store *store)
{
	if (store == NULL)
		return;
	for (int i = 0; i < store->nconns; i++)
		conn_close(&store->conns[i]);
	pthread_mutex_destroy(&store->lock);
	pthread_mutex_destroy(&store->write_lock);
	pthread_cond_destroy(&store->write_turn);
	pthread_cond_destroy(&store->available);
	free(store->conns);
	free(store);
}

struct store_conn *
store_acquire(struct store *store)
{
	struct store_conn *conn;

	pthread_mutex_lock(&store->lock);
	while (store->free_list == NULL)
		pthread_cond_wait(&store->available, &store->lock);
	conn = store->free_list;
	store->free_list = conn->next_free;
	pthread_mutex_unlock(&store->lock);
	return conn;
}

void
store_release(struct store *store, struct store_conn *conn)
{
	sqlite3_stmt *st;

	if (conn == NULL)
		return;
	/* A statement left mid-result would pin an old read snapshot. */
	for (st = sqlite3_next_stmt(conn->db, NULL); st != NULL;
	     st = sqlite3_next_stmt(conn->db, st))
		if (sqlite3_stmt_busy(st))
			sqlite3_reset(st);
	if (conn->in_tx)
		store_rollback(conn);
	pthread_mutex_lock(&store->lock);
	conn->next_free = store->free_list;
	store->free_list = conn;
	pthread_cond_signal(&store->available);
	pthread_mutex_unlock(&store->lock);
}

enum fm_err
store_error(struct store_conn *conn, int sqlite_rc, const char *what)
{
	switch (sqlite_rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return FM_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		log_warn("database busy during %s: %s", what,
		    sqlite3_errmsg(conn->db));
		return FM_ERR_BUSY;
	case SQLITE_CONSTRAINT:
		log_warn("database constraint during %s: %s", what,
		    sqlite3_errmsg(conn->db));
		return FM_ERR_CONFLICT;
	case SQLITE_NOMEM:
		return FM_ERR_NOMEM;
	default:
		log_error("database error during %s: %s", what,
		    sqlite3_errmsg(conn->db));
		return FM_ERR_DB;
	}
}

enum fm_err
store_exec(struct store_conn *conn, const char *sql)
{
	return store_error(
	    conn, sqlite3_exec(conn->db, sql, NULL, NULL, NULL), sql);
}

static void
end_write(struct store_conn *conn)
{
	struct store *store = conn->store;

	if (!conn->writing)
		return;
	conn->writing = false;
	pthread_mutex_lock(&store->write_lock);
	store->write_serving++;
	pthread_cond_broadcast(&store->write_turn);
	pthread_mutex_unlock(&store->write_lock);
}

enum fm_err
store_begin(struct store_conn *conn, bool write)
{
	enum fm_err rc;

	FM_ASSERT(!conn->in_tx);
	if (write) {
		struct store *store = conn->store;
		uint64_t ticket;

		pthread_mutex_lock(&store->write_lock);
		ticket = store->write_next++;
		while (ticket != store->write_serving)
			pthread_cond_wait(
			    &store->write_turn, &store->write_lock);
		pthread_mutex_unlock(&store->write_lock);
		conn->writing = true;
	}
	rc = store_exec(conn, write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
	if (rc == FM_OK)
		conn->in_tx = true;
	else
		end_write(conn);
	return rc;
}

/* --- the change journal ------------------------------------------ */

void
store_set_observer(struct store *store, store_observer_fn fn,
    store_observer_wants_fn wants, void *arg)
{
	store->observer = fn;
	store->observer_wants = wants;
	store->observer_arg = arg;
}

static void
notes_clear(struct store_conn *conn)
{
	for (size_t i = 0; i < conn->nnotes; i++)
		free(conn->notes[i].detail);
	conn->nnotes = 0;
}

/* Hand the journal to the observer and empty it. */
static void
notes_deliver(struct store_conn *conn)
{
	struct store *store = conn->store;

	if (conn->nnotes > 0 && store->observer != NULL)
		store->observer(
		    store->observer_arg, conn, conn->notes, conn->nnotes);
	notes_clear(conn);
}

static void
copy_id(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src != NULL ? src : "");
}

bool
store_noting(struct store_conn *conn)
{
	struct store *store = conn->store;

	return store->observer != NULL &&
	    (store->observer_wants == NULL ||
	        store->observer_wants(store->observer_arg));
}

void
store_note(struct store_conn *conn, enum store_change what, const char *uuid,
    const char *job_uuid, const char *prev_status, char *detail)
{
	struct store_note *n = NULL;

	if (!store_noting(conn)) {
		free(detail);
		return;
	}
	/* One note per object: the observer reads its state after the
	 * commit anyway; only the first previous status matters. */
	for (size_t i = 0; i < conn->nnotes && uuid != NULL; i++) {
		if (conn->notes[i].what == what &&
		    strcmp(conn->notes[i].uuid, uuid) == 0) {
			n = &conn->notes[i];
			break;
		}
	}
	if (n != NULL) {
		if (n->prev_status[0] == '\0')
			copy_id(n->prev_status, sizeof(n->prev_status),
			    prev_status);
		free(n->detail);
		n->detail = detail;
	} else {
		if (conn->nnotes == conn->notes_cap) {
			conn->notes_cap =
			    conn->notes_cap ? conn->notes_cap * 2 : 8;
			conn->notes = xrealloc(conn->notes,
			    conn->notes_cap * sizeof(*conn->notes));
		}
		n = &conn->notes[conn->nnotes++];
		n->what = what;
		copy_id(n->uuid, sizeof(n->uuid), uuid);
		copy_id(n->job_uuid, sizeof(n->job_uuid), job_uuid);
		copy_id(n->prev_status, sizeof(n->prev_status), prev_status);
		n->detail = detail;
	}
	if (!conn->in_tx)
		notes_deliver(conn);
}

enum fm_err
store_commit(struct store_conn *conn)
{
	enum fm_err rc;

	FM_ASSERT(conn->in_tx);
	rc = store_exec(conn, "COMMIT");
	if (rc != FM_OK) {
		store_rollback(conn);
		return rc;
	}
	conn->in_tx = false;
	end_write(conn);
	notes_deliver(conn);
	return FM_OK;
}

void
store_rollback(struct store_conn *conn)
{
	if (!conn->in_tx)
		return;
	if (sqlite3_get_autocommit(conn->db) == 0)
		sqlite3_exec(conn->db, "ROLLBACK", NULL, NULL, NULL);
	conn->in_tx = false;
	end_write(conn);
	notes_clear(conn);
}

sqlite3_stmt *
store_stmt(struct store_conn *conn, const char *sql)
{
	uintptr_t h = (uintptr_t)sql;
	size_t i;

	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ULL;
	i = (size_t)(h >> 40) & (STMT_CACHE_SIZE - 1);
	for (size_t probes = 0; probes < STMT_CACHE_SIZE; probes++) {
		struct stmt_slot *slot = &conn->cache[i];

		if (slot->sql == sql) {
			sqlite3_reset(slot->stmt);
			sqlite3_clear_bindings(slot->stmt);
			return slot->stmt;
		}
		if (slot->sql == NULL) {
			int rc = sqlite3_prepare_v3(conn->db, sql, -1,
			    SQLITE_PREPARE_PERSISTENT, &slot->stmt, NULL);

			if (rc != SQLITE_OK) {
				store_error(conn, rc, "prepare");
				log_error("failed SQL: %s", sql);
				sqlite3_finalize(slot->stmt);
				slot->stmt = NULL;
				return NULL;
			}
			slot->sql = sql;
			return slot->stmt;
		}
		i = (i + 1) & (STMT_CACHE_SIZE - 1);
	}
	FM_ASSERT(!"statement cache full");
	return NULL;
}

int
store_changes(struct store_conn *conn)
{
	return sqlite3_changes(conn->db);
}

int
store_schema_version(struct store *store)
{
	struct store_conn *conn = store_acquire(store);
	sqlite3_stmt *st = store_stmt(conn, "PRAGMA user_version");
	int v = -1;

	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	if (st != NULL)
		sqlite3_reset(st);
	store_release(store, conn);
	return v;
}

enum fm_err
store_collect(struct store_conn *conn, sqlite3_stmt *st, store_row_fn row_fn,
    const char *what, json_t **array_out)
{
	json_t *list = json_array();
	int rc;

	*array_out = NULL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(list, row_fn(st));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(list);
		return store_error(conn, rc, what);
	}
	*array_out = list;
	return FM_OK;
}

enum fm_err
store_step_done(struct store_conn *conn, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? FM_OK : store_error(conn, rc, what);
}

const char *
store_text(sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);

	return s != NULL ? s : "";
}

void
store_json_time(json_t *obj, const char *key, int64_t us)
{
	char buf[TIME_RFC3339_MAX];

	time_format_rfc3339(us, buf, sizeof(buf));
	json_object_set_new(obj, key, json_string(buf));
}
