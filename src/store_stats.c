/*
 * Status counts, grouped in SQL so their cost follows the number of
 * distinct statuses read from the indexes, not the number of rows sent.
 */
#include "store_stats.h"

#include <string.h>

#include "state.h"
#include "store_internal.h"

static const char sql_worker_counts[] =
    "SELECT status, count(*) FROM workers WHERE deleted_at IS NULL "
    "GROUP BY status";
static const char sql_job_counts[] =
    "SELECT status, count(*) FROM jobs GROUP BY status";

enum fm_err
store_stats_farm_counts(struct store_conn *conn, struct farm_counts *counts_out)
{
	sqlite3_stmt *st;
	int rc;

	memset(counts_out, 0, sizeof(*counts_out));
	if ((st = store_stmt(conn, sql_worker_counts)) == NULL)
		return FM_ERR_DB;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		enum worker_status ws;

		if (state_worker_status_parse(
		        (const char *)sqlite3_column_text(st, 0), &ws) == FM_OK)
			counts_out->workers[ws] += sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_error(conn, rc, "counting workers");
	if ((st = store_stmt(conn, sql_job_counts)) == NULL)
		return FM_ERR_DB;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		enum job_status js;

		if (state_job_status_parse(
		        (const char *)sqlite3_column_text(st, 0), &js) == FM_OK)
			counts_out->jobs[js] += sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? FM_OK
	                         : store_error(conn, rc, "counting jobs");
}
