/*
 * Shared by the in-process benchmarks: fabricate stored jobs quickly
 * (every task after the first depends on the job's first task) and sort
 * latencies for percentiles.
 */
#ifndef FM_BENCH_FILL_H
#define FM_BENCH_FILL_H

#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "ids.h"
#include "timeutil.h"

static json_t *
make_job(int64_t ntasks, int index)
{
	char uuid[ID_UUID_LEN + 1], first[ID_UUID_LEN + 1];
	json_t *tasks = json_array();

	for (int64_t i = 0; i < ntasks; i++) {
		json_t *deps = json_array();

		ids_new_uuid(uuid);
		if (i == 0)
			memcpy(first, uuid, sizeof(first));
		else
			json_array_append_new(deps, json_string(first));
		json_array_append_new(tasks,
		    json_pack("{s:s, s:s, s:s, s:i, s:[{s:s, s:{s:s}, s:i}], "
		              "s:o}",
		        "uuid", uuid, "name", i == 0 ? "first" : "render",
		        "type", "misc", "priority", 50, "commands", "name",
		        "echo", "parameters", "message", "hi",
		        "total_step_count", 1, "dependencies", deps));
	}
	ids_new_uuid(uuid);
	return json_pack("{s:s, s:s, s:s, s:i, s:s, s:{}, s:{}, s:I, s:o}",
	    "id", uuid, "name", "bench", "type", "echo-sleep-test", "priority",
	    index % 3 == 0 ? 60 : 50, "status", "queued", "settings",
	    "metadata", "created", (json_int_t)time_now_us(), "tasks", tasks);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

#endif
