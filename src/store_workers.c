/*
 * Worker persistence. Secrets are stored as SHA-256(salt || secret) with
 * a 16-byte random salt per worker; checking one costs a microsecond, and
 * the 256-bit secret makes guessing hopeless without a slow hash.
 */
#include "store_workers.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "sha256.h"
#include "store_internal.h"
#include "timeutil.h"
#include "xmalloc.h"

#define SALT_LEN 16

static const char sql_register[] =
    "INSERT INTO workers (created_at, updated_at, uuid, secret_hash, "
    "secret_salt, name, address, platform, supported_task_types) "
    "VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char sql_auth[] =
    "SELECT id, secret_hash, secret_salt, name, address, platform, "
    "software, supported_task_types, status, status_requested, "
    "lazy_status_request, can_restart, coalesce(last_seen_at, 0) "
    "FROM workers "
    "WHERE uuid = ?1 AND deleted_at IS NULL";
static const char sql_sign_on[] =
    "UPDATE workers SET status = 'starting', name = ?2, "
    "supported_task_types = ?3, software = ?4, can_restart = ?5, "
    "address = ?6, last_seen_at = ?7, updated_at = ?7 WHERE id = ?1";
static const char sql_seen[] =
    "UPDATE workers SET last_seen_at = ?2 WHERE id = ?1";
static const char sql_set_status[] =
    "UPDATE workers SET status = ?2, updated_at = ?3, last_seen_at = ?3, "
    "status_requested = CASE WHEN ?4 THEN '' ELSE status_requested END, "
    "lazy_status_request = CASE WHEN ?4 THEN 0 ELSE lazy_status_request "
    "END WHERE id = ?1";
static const char sql_set_request[] =
    "UPDATE workers SET status_requested = ?2, lazy_status_request = ?3, "
    "updated_at = ?4 WHERE id = ?1";
static const char sql_uuid_status_name[] =
    "SELECT uuid, status, name FROM workers WHERE id = ?1";
static const char sql_schedule[] =
    "SELECT is_active, days_of_week, start_time, end_time "
    "FROM sleep_schedules WHERE worker_id = ?1";

void
worker_clear(struct worker *w)
{
	if (w == NULL)
		return;
	free(w->name);
	free(w->address);
	free(w->platform);
	free(w->software);
	free(w->task_types);
	memset(w, 0, sizeof(*w));
}

char *
store_workers_join_types(const json_t *types)
{
	size_t i, len = 0;
	json_t *t;
	char *out = xstrdup("");

	json_array_foreach (types, i, t) {
		const char *s = json_string_value(t);
		size_t n;

		if (s == NULL)
			continue;
		while (isspace((unsigned char)*s))
			s++;
		n = strlen(s);
		while (n > 0 && isspace((unsigned char)s[n - 1]))
			n--;
		if (n == 0)
			continue;
		out = xrealloc(out, len + n + 2);
		if (len > 0)
			out[len++] = ',';
		for (size_t k = 0; k < n; k++)
			out[len++] = (char)tolower((unsigned char)s[k]);
		out[len] = '\0';
	}
	return out;
}

static void
hash_secret(const unsigned char *salt, const char *secret,
    unsigned char digest[SHA256_DIGEST_LEN])
{
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, salt, SALT_LEN);
	sha256_update(&ctx, secret, strlen(secret));
	sha256_final(&ctx, digest);
}

void
store_workers_note(struct store_conn *conn, int64_t id)
{
	sqlite3_stmt *st;

	if (!store_noting(conn) ||
	    (st = store_stmt(conn, sql_uuid_status_name)) == NULL)
		return;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		store_note(conn, STORE_CHANGED_WORKER,
		    (const char *)sqlite3_column_text(st, 0), NULL,
		    (const char *)sqlite3_column_text(st, 1),
		    xstrdup((const char *)sqlite3_column_text(st, 2)));
	sqlite3_reset(st);
}

enum fm_err
store_workers_register(struct store_conn *conn, const char *name,
    const char *secret, const char *platform, const char *task_types,
    const char *address, char *uuid_out)
{
	unsigned char salt[SALT_LEN], digest[SHA256_DIGEST_LEN];
	sqlite3_stmt *st;

	if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt))
		return FM_ERR_INTERNAL;
	hash_secret(salt, secret, digest);
	ids_new_uuid(uuid_out);
	if ((st = store_stmt(conn, sql_register)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, time_now_us());
	sqlite3_bind_text(st, 2, uuid_out, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, digest, sizeof(digest), SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, salt, sizeof(salt), SQLITE_STATIC);
	sqlite3_bind_text(st, 5, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, address, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, task_types, -1, SQLITE_STATIC);
	store_note(conn, STORE_CHANGED_WORKER, uuid_out, NULL, NULL, NULL);
	return store_step_done(conn, st, "registering a worker");
}

static char *
col_dup(sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);

	return xstrdup(s ? s : "");
}

/* Compare without an early exit, so timing tells nothing. */
static bool
same_digest(const unsigned char *a, const void *b, int blen)
{
	const unsigned char *bb = b;
	unsigned diff = 0;

	if (b == NULL || blen != SHA256_DIGEST_LEN)
		return false;
	for (int i = 0; i < SHA256_DIGEST_LEN; i++)
		diff |= (unsigned)(a[i] ^ bb[i]);
	return diff == 0;
}

enum fm_err
store_workers_auth(struct store_conn *conn, const char *uuid,
    const char *secret, struct worker *w_out)
{
	unsigned char digest[SHA256_DIGEST_LEN];
	sqlite3_stmt *st;
	enum fm_err rc = FM_ERR_NOTFOUND;
	int step;

	memset(w_out, 0, sizeof(*w_out));
	if (uuid == NULL || secret == NULL || !ids_valid_uuid(uuid))
		return FM_ERR_NOTFOUND;
	if ((st = store_stmt(conn, sql_auth)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW && sqlite3_column_bytes(st, 2) == SALT_LEN) {
		hash_secret(sqlite3_column_blob(st, 2), secret, digest);
		if (same_digest(digest, sqlite3_column_blob(st, 1),
		        sqlite3_column_bytes(st, 1))) {
			w_out->id = sqlite3_column_int64(st, 0);
			snprintf(w_out->uuid, sizeof(w_out->uuid), "%s", uuid);
			w_out->name = col_dup(st, 3);
			w_out->address = col_dup(st, 4);
			w_out->platform = col_dup(st, 5);
			w_out->software = col_dup(st, 6);
			w_out->task_types = col_dup(st, 7);
			if (state_worker_status_parse(
			        (const char *)sqlite3_column_text(st, 8),
			        &w_out->status) != FM_OK)
				w_out->status = WORKER_STATUS_ERROR;
			w_out->has_request =
			    state_worker_status_parse(
			        (const char *)sqlite3_column_text(st, 9),
			        &w_out->status_requested) == FM_OK &&
			    w_out->status_requested != WORKER_STATUS_REGISTERED;
			w_out->lazy = sqlite3_column_int(st, 10) != 0;
			w_out->can_restart = sqlite3_column_int(st, 11) != 0;
			w_out->last_seen_us = sqlite3_column_int64(st, 12);
			rc = FM_OK;
		}
	} else if (step != SQLITE_ROW && step != SQLITE_DONE) {
		rc = store_error(conn, step, "checking worker credentials");
	}
	sqlite3_reset(st);
	return rc;
}

enum fm_err
store_workers_sign_on(struct store_conn *conn, int64_t id, const char *name,
    const char *task_types, const char *software, bool can_restart,
    const char *address)
{
	sqlite3_stmt *st;

	store_workers_note(conn, id);
	if ((st = store_stmt(conn, sql_sign_on)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, task_types, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, software, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, can_restart);
	sqlite3_bind_text(st, 6, address, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, time_now_us());
	return store_step_done(conn, st, "signing a worker on");
}

enum fm_err
store_workers_seen(struct store_conn *conn, const struct worker *w)
{
	int64_t now = time_now_us();
	sqlite3_stmt *st;

	if (now - w->last_seen_us < STORE_WORKERS_SEEN_GRANULARITY_US)
		return FM_OK;
	if ((st = store_stmt(conn, sql_seen)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, w->id);
	sqlite3_bind_int64(st, 2, now);
	return store_step_done(conn, st, "marking a worker seen");
}

enum fm_err
store_workers_set_status(struct store_conn *conn, int64_t id,
    enum worker_status status, bool clear_request)
{
	sqlite3_stmt *st;

	store_workers_note(conn, id);
	if ((st = store_stmt(conn, sql_set_status)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(
	    st, 2, state_worker_status_name(status), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, time_now_us());
	sqlite3_bind_int(st, 4, clear_request);
	return store_step_done(conn, st, "setting a worker's status");
}

enum fm_err
store_workers_set_request(struct store_conn *conn, int64_t id, bool has,
    enum worker_status status, bool lazy)
{
	sqlite3_stmt *st;

	store_workers_note(conn, id);
	if ((st = store_stmt(conn, sql_set_request)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, has ? state_worker_status_name(status) : "",
	    -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, has && lazy);
	sqlite3_bind_int64(st, 4, time_now_us());
	return store_step_done(conn, st, "setting a worker status request");
}

enum fm_err
store_workers_schedule_verdict(
    struct store_conn *conn, int64_t id, enum worker_status *verdict_out)
{
	struct sleep_schedule sched;
	sqlite3_stmt *st;
	const char *why;
	int step;

	*verdict_out = WORKER_STATUS_AWAKE;
	if ((st = store_stmt(conn, sql_schedule)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW &&
	    state_sleep_parse(sqlite3_column_int(st, 0) != 0,
	        (const char *)sqlite3_column_text(st, 1),
	        (const char *)sqlite3_column_text(st, 2),
	        (const char *)sqlite3_column_text(st, 3), &sched,
	        &why) == FM_OK) {
		time_t now = time(NULL);
		struct tm tm;

		localtime_r(&now, &tm);
		*verdict_out = state_sleep_verdict(&sched, tm.tm_wday,
		    tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
	}
	sqlite3_reset(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return store_error(conn, step, "reading a sleep schedule");
	return FM_OK;
}
