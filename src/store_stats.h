/*
 * Aggregate counts over the store: workers and jobs per status, for the
 * farm status and (later) metrics.
 */
#ifndef FM_STORE_STATS_H
#define FM_STORE_STATS_H

#include "fm.h"

struct store_conn;
struct farm_counts;

/* Fill counts of non-deleted workers and of jobs per status. */
FM_MUST_CHECK enum fm_err store_stats_farm_counts(
    struct store_conn *conn, struct farm_counts *counts_out);

#endif
