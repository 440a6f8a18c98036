/*
 * fm-worker-sim: simulated Flamenco v3 Workers, for tests and benchmarks.
 *
 * Every simulated worker is a thread with one keep-alive libcurl handle. It
 * speaks the Worker protocol the way the real Flamenco Worker does (register,
 * sign on, acknowledge the requested status, ask for tasks, send task updates,
 * poll may-i-run, sign off), only with waits of milliseconds instead of
 * seconds. Every reply is checked against the wire rules the real Worker
 * depends on; a deviation is a "protocol error", printed on stderr, counted in
 * the summary and reflected in the exit status.
 *
 * Build: make build/fm-worker-sim
 *
 * Usage: fm-worker-sim [--manager URL] [options]
 *   --manager URL         Manager base URL (default http://127.0.0.1:8080)
 *   --workers N           simulated workers, one thread each (default 1)
 *   --name-prefix S       worker names are S-001, S-002, ... (default sim)
 *   --platform P          registration platform (default linux)
 *   --task-types LIST     comma-separated supported task types
 *                         (default blender,ffmpeg,file-management,misc)
 *   --mode run|stress     workload (default run), see below
 *   --duration S          run: stop after S seconds (default 0 = no limit);
 *                         stress: length of the update window (default 10)
 *   --max-tasks K         run: a worker stops after K tasks (default 0 = no
 *                         limit)
 *   --until-idle S        run: stop once no worker has had a task for S s
 *   --fail-rate P         run: fail a task with probability P (0..1)
 *   --steps-delay-ms D    run: sleep D ms before each step update (default 0)
 *   --poll-ms MS          wait between polls and retries (default 50)
 *   --output-produced     run: after each blender-render command, upload a
 *                         small JPEG to output-produced
 *   --wait-manager S      keep retrying registration while the Manager is
 *                         unreachable, for up to S s (default 10)
 *   --http-timeout-ms MS  per-request timeout (default 30000)
 *   --software-version V  sign-on software_version (default 3.9-beta1)
 *   --seed N              seed for --fail-rate decisions (default: random)
 *   --quiet               no progress lines (errors and summary only)
 *   --json                print one JSON object with the results on stdout
 *                         (the human summary then goes to stderr)
 *
 * Modes:
 *   run     Workers take tasks and pretend to run them: {Started, active},
 *           then per command a log update, one may-i-run poll (a "no" stops
 *           the task silently) and one Progress update per step (at least
 *           one per command), then {Completed, completed} or, with
 *           probability --fail-rate, {Failed: simulated, failed}. A 423 on
 *           the task request is followed like the real Worker does (asleep:
 *           poll /worker/state; awake: state-changed; offline: sign off and
 *           stop; restart: sign off and sign on again). The program ends
 *           when every worker stopped, after --duration, after --until-idle,
 *           or on SIGINT/SIGTERM; every worker then signs off.
 *   stress  Flamenco's own stress workload: every worker takes one task and,
 *           once all have one (or --duration passed), sends task updates
 *           with a ~375-byte log on it as fast as it can for --duration s.
 *           The task stays active; signing off at the end requeues it.
 *
 * Checked on every reply: 202/204/208 carry no body and no JSON Content-Type;
 * a body that claims JSON parses; replies >= 400 are JSON {"code": <status>,
 * "message": "..."}. Per endpoint: the exact success codes (register, sign-on
 * 200; state-changed, sign-off, task update 204; task request 200/204/423),
 * the required fields and their types (RegisteredWorker, WorkerStateChange,
 * AssignedTask with its Commands, MayKeepRunning), that JSON replies have a
 * Content-Type containing "json", that an assigned task is "active" and of a
 * type the worker supports. 409 (task request, task update), 429 (output
 * upload) and 503 (busy) are legal answers, counted but not errors; any
 * other status is an error, 403 included (the simulated worker registered
 * and never gets deleted, so its credentials must keep working).
 *
 * Workers sign on with can_restart true. In stress mode a worker waits up to
 * --duration s for its task before the window opens without it.
 *
 * Exit status: 0 fine, 1 protocol errors, 2 usage, 3 transport errors only
 * (Manager unreachable, timeouts).
 *
 * Examples:
 *   fm-worker-sim --workers 4 --until-idle 2 --fail-rate 0.1 --json
 *   fm-worker-sim --mode stress --workers 8 --duration 10
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#define SIM_NAME             "fm-worker-sim"
#define SIM_MAX_BODY         (4 * 1024 * 1024) /* biggest reply we buffer */
#define SIM_MAX_ERR_PRINT    50  /* error lines printed on stderr */
#define SIM_MAX_ERR_JSON     20  /* error lines kept for --json */
#define SIM_UPDATE_ATTEMPTS  5   /* run mode: tries per update (503, I/O) */
#define SIM_MAX_RESTARTS     3   /* restart requests in a row we follow */
#define SIM_STRESS_LOG_BYTES 375 /* log size of a stress update */
#define NS_PER_MS            INT64_C(1000000)
#define NS_PER_S             INT64_C(1000000000)

enum sim_mode {
	SIM_RUN,
	SIM_STRESS,
};

struct sim_options {
	const char *manager;     /* base URL, no trailing slash */
	int workers;             /* number of threads */
	const char *name_prefix; /* worker names: <prefix>-NNN */
	const char *platform;    /* registration platform */
	json_t *task_types;      /* array of strings */
	enum sim_mode mode;      /* run or stress */
	double duration;         /* s; run: 0 = no limit */
	long max_tasks;          /* run: per worker, 0 = no limit */
	double until_idle;       /* run: s, 0 = off */
	double fail_rate;        /* run: 0..1 */
	long steps_delay_ms;     /* run: before each step update */
	long poll_ms;            /* wait between polls and retries */
	bool output_produced;    /* run: upload a JPEG per blender-render */
	double wait_manager;     /* s to retry an unreachable Manager */
	long http_timeout_ms;    /* per request */
	const char *software;    /* sign-on software_version */
	uint64_t seed;           /* for --fail-rate */
	bool quiet;              /* no progress lines */
	bool json;               /* JSON result object on stdout */
};

/* Counters, summed over all workers for the summary and --json. */
#define SIM_STATS(X)                                                        \
	X(requests)         /* HTTP requests that got a reply */            \
	X(registered)       /* register-worker 200 */                       \
	X(sign_ons)         /* sign-on 200 */                               \
	X(sign_offs)        /* sign-off 204 */                              \
	X(restarts)         /* "restart" requests followed */               \
	X(state_changes)    /* state-changed 204 */                         \
	X(status_requests)  /* 423 on task request, 200 on /worker/state */ \
	X(tasks_run)        /* tasks received (200 on task request) */      \
	X(tasks_completed)  /* final "completed" update accepted */         \
	X(tasks_failed)     /* final "failed" update accepted */            \
	X(tasks_aborted)    /* stopped because may-i-run said no */         \
	X(tasks_abandoned)  /* 409 on an update, errors, or shutdown */     \
	X(updates_sent)     /* task updates that got a reply */             \
	X(updates_accepted) /* ... answered 204 */                          \
	X(updates_rejected) /* ... answered 409 */                          \
	X(may_i_run)        /* may-i-run 200 */                             \
	X(may_i_run_denied) /* ... with mayKeepRunning false */             \
	X(outputs_accepted) /* output-produced 202 */                       \
	X(outputs_dropped)  /* output-produced 429 */                       \
	X(no_task)          /* 204 on task request */                       \
	X(not_awake)        /* 409 on task request */                       \
	X(busy)             /* 503 anywhere */                              \
	X(protocol_errors)  /* replies breaking the protocol */             \
	X(transport_errors) /* connection failures and timeouts */

struct sim_stats {
#define X(f) uint64_t f;
	SIM_STATS(X)
#undef X
};

/* Task update latencies of one worker, in nanoseconds. */
struct sim_lat {
	int64_t *ns;
	size_t n;
	size_t cap;
};

struct sim;

struct sim_worker {
	struct sim *sim;                /* borrowed */
	pthread_t thread;               /* valid once started */
	char name[64];                  /* <prefix>-NNN */
	char secret[65];                /* 64 lower-case hex chars */
	char uuid[37];                  /* from register-worker */
	char what[256];                 /* "METHOD path" of the last request */
	char curl_err[CURL_ERROR_SIZE]; /* libcurl's error text */
	CURL *curl;                     /* one keep-alive handle per thread */
	struct curl_slist *hdr_json;    /* JSON body */
	struct curl_slist *hdr_none;    /* no body */
	struct curl_slist *hdr_jpeg;    /* image upload */
	char *buf;                      /* reply body, NUL-terminated */
	size_t len;                     /* bytes in buf */
	size_t cap;                     /* size of buf */
	bool quiet_transport;           /* registration retries: don't count */
	bool signed_on;                 /* must sign off before exiting */
	bool ready;                     /* stress: counted in sim->ready */
	uint64_t rng;                   /* splitmix64 state */
	uint64_t steps;                 /* steps_completed of the task run */
	int64_t last_update_ns;         /* end of the last task update */
	char stress_log[2 * SIM_STRESS_LOG_BYTES]; /* JSON-escaped log text */
	struct sim_stats st;                       /* this worker's counters */
	struct sim_lat lat;                        /* task update latencies */
};

struct sim {
	struct sim_options opt;    /* immutable once threads run */
	struct sim_worker *w;      /* opt.workers entries */
	int64_t t_start;           /* monotonic ns */
	atomic_int stop;           /* set by the main thread: wind down */
	atomic_int running;        /* worker threads not yet finished */
	atomic_int busy_workers;   /* workers inside a task */
	atomic_llong last_task_ns; /* last task start or end */
	atomic_int ready;          /* stress: workers with a task, or gone */
	atomic_int go;             /* stress: update window open */
	atomic_llong t0;           /* stress: window start (set before go) */
	atomic_llong t1;           /* stress: window end (set before go) */
	pthread_mutex_t mu;        /* protects the three fields below */
	int n_printed;             /* error lines printed so far */
	json_t *errors;            /* first error lines, for --json */
};

/* Parsed reply; body, ctype and what are valid until the next request. */
struct reply {
	long status;       /* HTTP status; 0 after a transport error */
	const char *ctype; /* Content-Type or NULL */
	const char *body;  /* NUL-terminated */
	size_t len;        /* body length */
	json_t *json;      /* new: parsed body if the Content-Type says JSON */
	bool bad;          /* a common check already counted an error */
	int64_t ns;        /* request latency */
};

enum wstate {
	WS_AWAKE,
	WS_ASLEEP,
	WS_GONE, /* signed off or failed: the thread ends */
};

enum fetch {
	FETCH_TASK,   /* got a task */
	FETCH_NONE,   /* 204: nothing to do */
	FETCH_STATUS, /* 423: status change requested */
	FETCH_RETRY,  /* anything else: wait and ask again */
};

enum upd {
	UPD_OK,       /* 204 */
	UPD_CONFLICT, /* 409: the task is no longer ours */
	UPD_ERROR,    /* anything else */
};

enum field_type {
	FT_STRING,
	FT_INT,
	FT_BOOL,
	FT_OBJECT,
	FT_ARRAY,
};

static volatile sig_atomic_t got_signal; /* the only mutable global */

/*
 * A 32x18 gradient, baseline JPEG (quality 60), for output-produced. Decodes
 * with libjpeg and Go's image/jpeg.
 */
/* clang-format off */
static const unsigned char sim_jpeg[] = {
	0xff, 0xd8, 0xff, 0xdb, 0x00, 0x84, 0x00, 0x0d, 0x09, 0x0a, 0x0b, 0x0a,
	0x08, 0x0d, 0x0b, 0x0a, 0x0b, 0x0e, 0x0e, 0x0d, 0x0f, 0x13, 0x20, 0x15,
	0x13, 0x12, 0x12, 0x13, 0x27, 0x1c, 0x1e, 0x17, 0x20, 0x2e, 0x29, 0x31,
	0x30, 0x2e, 0x29, 0x2d, 0x2c, 0x33, 0x3a, 0x4a, 0x3e, 0x33, 0x36, 0x46,
	0x37, 0x2c, 0x2d, 0x40, 0x57, 0x41, 0x46, 0x4c, 0x4e, 0x52, 0x53, 0x52,
	0x32, 0x3e, 0x5a, 0x61, 0x5a, 0x50, 0x60, 0x4a, 0x51, 0x52, 0x4f, 0x01,
	0x0e, 0x0e, 0x0e, 0x13, 0x11, 0x13, 0x26, 0x15, 0x15, 0x26, 0x4f, 0x35,
	0x2d, 0x35, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f,
	0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f,
	0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f,
	0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f,
	0x4f, 0x4f, 0x4f, 0x4f, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x12, 0x00,
	0x20, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xff,
	0xc4, 0x01, 0xa2, 0x00, 0x00, 0x01, 0x05, 0x01, 0x01, 0x01, 0x01, 0x01,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03,
	0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x10, 0x00, 0x02, 0x01,
	0x03, 0x03, 0x02, 0x04, 0x03, 0x05, 0x05, 0x04, 0x04, 0x00, 0x00, 0x01,
	0x7d, 0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41,
	0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1,
	0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62,
	0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27,
	0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44,
	0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58,
	0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74,
	0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88,
	0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2,
	0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5,
	0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8,
	0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1,
	0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3,
	0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0x01, 0x00, 0x03, 0x01, 0x01,
	0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
	0x11, 0x00, 0x02, 0x01, 0x02, 0x04, 0x04, 0x03, 0x04, 0x07, 0x05, 0x04,
	0x04, 0x00, 0x01, 0x02, 0x77, 0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05,
	0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13, 0x22, 0x32,
	0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52,
	0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1,
	0x17, 0x18, 0x19, 0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37,
	0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53,
	0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67,
	0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82,
	0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95,
	0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8,
	0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2,
	0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5,
	0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8,
	0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xff,
	0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3f,
	0x00, 0xe4, 0xa2, 0xb0, 0xf6, 0xab, 0x91, 0x58, 0x7b, 0x56, 0xec, 0x56,
	0x1e, 0xd5, 0x72, 0x2b, 0x0f, 0x6a, 0xf5, 0x2a, 0x63, 0x0e, 0x0c, 0x2e,
	0x3f, 0xcc, 0xc2, 0x8a, 0xc3, 0xda, 0xae, 0x45, 0x61, 0xed, 0x5b, 0x91,
	0x58, 0x7b, 0x55, 0xc8, 0xac, 0x3d, 0xab, 0x8e, 0x78, 0xc3, 0xe9, 0x30,
	0xb8, 0xff, 0x00, 0x32, 0xbc, 0x40, 0x7a, 0x0a, 0xb9, 0x10, 0x1e, 0x82,
	0xaa, 0x45, 0x56, 0xe2, 0xae, 0x29, 0x9f, 0x9d, 0xe1, 0x4b, 0x91, 0x01,
	0xe8, 0x2a, 0xdc, 0x40, 0x7a, 0x0a, 0xa9, 0x15, 0x5c, 0x8a, 0xb8, 0xea,
	0x1f, 0x49, 0x85, 0x3f, 0xff, 0xd9,
};
/* clang-format on */

/* Blender-like output used to pad the stress updates' log. */
static const char stress_line[] =
    "Fra:1 Mem:123.45M (Peak 234.56M) | Time:00:01.23 | Remaining:00:12.34 "
    "| Mem:45.67M, Peak:78.90M | Scene, ViewLayer | Sample 16/128 ";

/* --- small utilities ------------------------------------------------- */

static void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", SIM_NAME);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void *
xrealloc(void *p, size_t size)
{
	if ((p = realloc(p, size)) == NULL)
		fatal("out of memory");
	return p;
}

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static bool
stopping(struct sim *sim)
{
	return atomic_load(&sim->stop) != 0;
}

/* Sleeps ms milliseconds, or less when the simulation is stopping. */
static void
sim_sleep(struct sim *sim, long ms)
{
	int64_t end = now_ns() + ms * NS_PER_MS;
	int64_t left;
	struct timespec ts;

	while (!stopping(sim) && (left = end - now_ns()) > 0) {
		if (left > 10 * NS_PER_MS)
			left = 10 * NS_PER_MS;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left;
		nanosleep(&ts, NULL);
	}
}

/* splitmix64: tiny, good enough for --fail-rate, reproducible per seed. */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static double
rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

/* Fills out with 64 lower-case hex chars from 32 random bytes. */
static void
random_secret(char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[32];
	size_t got = 0;
	ssize_t n;
	size_t i;

	while (got < sizeof(b)) {
		n = getrandom(b + got, sizeof(b) - got, 0);
		if (n < 0 && errno != EINTR)
			fatal("getrandom: %s", strerror(errno));
		if (n > 0)
			got += (size_t)n;
	}
	for (i = 0; i < sizeof(b); i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[64] = '\0';
}

/* True for a lower-case, hyphenated, 36-char UUID. */
static bool
valid_uuid(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
		               (s[i] >= 'a' && s[i] <= 'f'))) {
			return false;
		}
	}
	return true;
}

/* Copies at most outsz-1 bytes of s into out, control chars as '.'. */
static const char *
snip(const char *s, size_t len, char *out, size_t outsz)
{
	size_t i;

	if (s == NULL)
		s = "";
	for (i = 0; i < len && i + 1 < outsz; i++)
		out[i] = (unsigned char)s[i] < 0x20 ? '.' : s[i];
	out[i] = '\0';
	return out;
}

static void
lat_add(struct sim_lat *l, int64_t ns)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 1024;
		l->ns = xrealloc(l->ns, l->cap * sizeof(*l->ns));
	}
	l->ns[l->n++] = ns;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array, in milliseconds. */
static double
percentile_ms(const int64_t *v, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	rank = (size_t)(p * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return (double)v[rank - 1] / (double)NS_PER_MS;
}

/* --- reporting ------------------------------------------------------- */

/* Progress line on stderr, unless --quiet. */
static void note(struct sim_worker *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
note(struct sim_worker *w, const char *fmt, ...)
{
	va_list ap;

	if (w->sim->opt.quiet)
		return;
	pthread_mutex_lock(&w->sim->mu);
	va_start(ap, fmt);
	fprintf(stderr, "%s: %s: ", SIM_NAME, w->name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	pthread_mutex_unlock(&w->sim->mu);
}

/* Prints (the first few) and records an error line about w->what. */
static void
report(struct sim_worker *w, const char *kind, const char *fmt, va_list ap)
{
	struct sim *sim = w->sim;
	char msg[1024];
	int n;

	n = snprintf(msg, sizeof(msg), "%s: %s: %s: ", kind, w->name, w->what);
	if (n > 0 && (size_t)n < sizeof(msg))
		vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	pthread_mutex_lock(&sim->mu);
	if (sim->n_printed < SIM_MAX_ERR_PRINT) {
		fprintf(stderr, "%s: %s\n", SIM_NAME, msg);
		if (++sim->n_printed == SIM_MAX_ERR_PRINT)
			fprintf(
			    stderr, "%s: further errors not shown\n", SIM_NAME);
	}
	if (json_array_size(sim->errors) < SIM_MAX_ERR_JSON)
		json_array_append_new(sim->errors, json_string(msg));
	pthread_mutex_unlock(&sim->mu);
}

static void proto_error(struct sim_worker *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
proto_error(struct sim_worker *w, const char *fmt, ...)
{
	va_list ap;

	w->st.protocol_errors++;
	va_start(ap, fmt);
	report(w, "protocol error", fmt, ap);
	va_end(ap);
}

static void transport_error(struct sim_worker *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
transport_error(struct sim_worker *w, const char *fmt, ...)
{
	va_list ap;

	w->st.transport_errors++;
	va_start(ap, fmt);
	report(w, "transport error", fmt, ap);
	va_end(ap);
}

/* A status code the endpoint never answers with. */
static void
unexpected(struct sim_worker *w, const struct reply *r)
{
	char b[161];

	proto_error(w, "unexpected status %ld: %s", r->status,
	    snip(r->body, r->len, b, sizeof(b)));
}

/* --- HTTP ------------------------------------------------------------ */

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sim_worker *w = arg;
	size_t n = size * nmemb;

	if (w->len + n + 1 > SIM_MAX_BODY)
		return 0; /* makes curl fail with CURLE_WRITE_ERROR */
	if (w->len + n + 1 > w->cap) {
		while (w->len + n + 1 > w->cap)
			w->cap *= 2;
		w->buf = xrealloc(w->buf, w->cap);
	}
	memcpy(w->buf + w->len, data, n);
	w->len += n;
	w->buf[w->len] = '\0';
	return n;
}

static bool
is_json_ctype(const char *ctype)
{
	return ctype != NULL && strstr(ctype, "json") != NULL;
}

/* Error replies must be Error objects: {"code": <status>, "message"}. */
static void
check_error_body(struct sim_worker *w, struct reply *r)
{
	json_t *code, *msg;
	char b[121];

	if (!is_json_ctype(r->ctype)) {
		proto_error(w, "%ld reply without a JSON Content-Type (%s): %s",
		    r->status, r->ctype ? r->ctype : "none",
		    snip(r->body, r->len, b, sizeof(b)));
		r->bad = true;
		return;
	}
	if (!json_is_object(r->json)) {
		proto_error(w, "%ld reply is not an Error object: %s",
		    r->status, snip(r->body, r->len, b, sizeof(b)));
		r->bad = true;
		return;
	}
	code = json_object_get(r->json, "code");
	msg = json_object_get(r->json, "message");
	if (!json_is_integer(code) || json_integer_value(code) != r->status) {
		proto_error(w,
		    "%ld reply: Error \"code\" missing or not %ld: %s",
		    r->status, r->status, snip(r->body, r->len, b, sizeof(b)));
		r->bad = true;
	}
	if (!json_is_string(msg)) {
		proto_error(w, "%ld reply: Error lacks a string \"message\"",
		    r->status);
		r->bad = true;
	}
}

/* Checks that hold for every reply of every endpoint. */
static void
check_common(struct sim_worker *w, struct reply *r)
{
	json_error_t jerr;
	char b[81];

	if (r->status == 202 || r->status == 204 || r->status == 208) {
		if (is_json_ctype(r->ctype)) {
			proto_error(w, "%ld reply with Content-Type \"%s\"",
			    r->status, r->ctype);
			r->bad = true;
		}
		if (r->len > 0) {
			proto_error(w, "%ld reply with a %zu-byte body",
			    r->status, r->len);
			r->bad = true;
		}
		return;
	}
	if (is_json_ctype(r->ctype)) {
		if (r->len == 0) {
			proto_error(w,
			    "%ld reply with Content-Type \"%s\" has no body",
			    r->status, r->ctype);
			r->bad = true;
			return;
		}
		r->json = json_loadb(r->body, r->len, JSON_DECODE_ANY, &jerr);
		if (r->json == NULL) {
			proto_error(w, "%ld reply is not valid JSON (%s): %s",
			    r->status, jerr.text,
			    snip(r->body, r->len, b, sizeof(b)));
			r->bad = true;
			return;
		}
	}
	/* 423 carries a WorkerStateChange, not an Error. */
	if (r->status >= 400 && r->status != 423)
		check_error_body(w, r);
}

static void
reply_free(struct reply *r)
{
	json_decref(r->json);
	r->json = NULL;
}

/*
 * Performs one request on the worker's keep-alive handle and runs the common
 * reply checks. data may be NULL for no body. Returns 0 when a reply arrived
 * (r filled in; call reply_free), -1 after a transport error (counted unless
 * w->quiet_transport).
 */
static int
http_perform(struct sim_worker *w, const char *method, const char *path,
    struct curl_slist *hdrs, const char *data, size_t len, struct reply *r)
{
	char url[1024];
	char *ctype = NULL;
	CURLcode cc;
	int64_t t;

	memset(r, 0, sizeof(*r));
	snprintf(w->what, sizeof(w->what), "%s %s", method, path);
	snprintf(url, sizeof(url), "%s%s", w->sim->opt.manager, path);
	w->len = 0;
	w->buf[0] = '\0';
	w->curl_err[0] = '\0';
	curl_easy_setopt(w->curl, CURLOPT_URL, url);
	curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, hdrs);
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(w->curl, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(w->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(
		    w->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(
		    w->curl, CURLOPT_POSTFIELDS, data != NULL ? data : "");
	}
	t = now_ns();
	cc = curl_easy_perform(w->curl);
	r->ns = now_ns() - t;
	if (cc != CURLE_OK) {
		if (!w->quiet_transport)
			transport_error(w, "%s",
			    w->curl_err[0] ? w->curl_err
			                   : curl_easy_strerror(cc));
		return -1;
	}
	curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(w->curl, CURLINFO_CONTENT_TYPE, &ctype);
	r->ctype = ctype;
	r->body = w->buf;
	r->len = w->len;
	w->st.requests++;
	if (r->status == 503)
		w->st.busy++;
	check_common(w, r);
	return 0;
}

/* Like http_perform, with a JSON body (borrowed; NULL for none). */
static int
http_json(struct sim_worker *w, const char *method, const char *path,
    json_t *body, struct reply *r)
{
	char *s;
	int rc;

	if (body == NULL)
		return http_perform(w, method, path, w->hdr_none, NULL, 0, r);
	if ((s = json_dumps(body, JSON_COMPACT)) == NULL)
		fatal("out of memory");
	rc = http_perform(w, method, path, w->hdr_json, s, strlen(s), r);
	free(s);
	return rc;
}

/* The reply's JSON object (borrowed from r), or NULL after an error. */
static json_t *
expect_object(struct sim_worker *w, struct reply *r)
{
	char b[81];

	if (r->bad)
		return NULL; /* already counted */
	if (!is_json_ctype(r->ctype)) {
		proto_error(w, "%ld reply without a JSON Content-Type (%s): %s",
		    r->status, r->ctype ? r->ctype : "none",
		    snip(r->body, r->len, b, sizeof(b)));
		return NULL;
	}
	if (!json_is_object(r->json)) {
		proto_error(w, "%ld reply is not a JSON object: %s", r->status,
		    snip(r->body, r->len, b, sizeof(b)));
		return NULL;
	}
	return r->json;
}

/* obj[key] if present with the right type (borrowed), else NULL + error. */
static json_t *
need(struct sim_worker *w, const char *ctx, json_t *obj, const char *key,
    enum field_type type)
{
	static const char *const names[] = {
		[FT_STRING] = "string",
		[FT_INT] = "integer",
		[FT_BOOL] = "boolean",
		[FT_OBJECT] = "object",
		[FT_ARRAY] = "array",
	};
	json_t *v = json_object_get(obj, key);
	bool ok = false;

	switch (type) {
	case FT_STRING:
		ok = json_is_string(v);
		break;
	case FT_INT:
		ok = json_is_integer(v);
		break;
	case FT_BOOL:
		ok = json_is_boolean(v);
		break;
	case FT_OBJECT:
		ok = json_is_object(v);
		break;
	case FT_ARRAY:
		ok = json_is_array(v);
		break;
	}
	if (ok)
		return v;
	if (v == NULL)
		proto_error(w, "%s: required field \"%s\" missing", ctx, key);
	else if (json_is_null(v))
		proto_error(w, "%s: field \"%s\" is null", ctx, key);
	else
		proto_error(w, "%s: field \"%s\" is not a%s %s", ctx, key,
		    type == FT_OBJECT || type == FT_ARRAY || type == FT_INT
		        ? "n"
		        : "",
		    names[type]);
	return NULL;
}

/* Copies a WorkerStateChange's status_requested; false after an error. */
static bool
get_status_requested(
    struct sim_worker *w, struct reply *r, char *out, size_t size)
{
	json_t *obj, *s;

	if ((obj = expect_object(w, r)) == NULL)
		return false;
	s = need(w, "WorkerStateChange", obj, "status_requested", FT_STRING);
	if (s == NULL)
		return false;
	snprintf(out, size, "%s", json_string_value(s));
	return true;
}

/* --- worker requests ------------------------------------------------- */

/*
 * POST /worker/register-worker; on success w->uuid is set and the handle
 * sends Basic auth from then on. While the Manager is unreachable this is
 * retried for --wait-manager seconds. Returns 0 or -1.
 */
static int
worker_register(struct sim_worker *w)
{
	struct sim *sim = w->sim;
	const char *ctx = "RegisteredWorker";
	int64_t deadline = now_ns() + (int64_t)(sim->opt.wait_manager * 1e9);
	json_t *body, *obj, *v, *uuid;
	struct reply r;
	int rc = -1;

	body = json_pack("{s:s, s:s, s:s, s:O}", "name", w->name, "secret",
	    w->secret, "platform", sim->opt.platform, "supported_task_types",
	    sim->opt.task_types);
	if (body == NULL)
		fatal("out of memory");
	w->quiet_transport = true;
	for (;;) {
		if (http_json(w, "POST", "/api/v3/worker/register-worker", body,
		        &r) == 0)
			break;
		if (stopping(sim) || now_ns() >= deadline) {
			transport_error(w, "cannot reach the Manager at %s: %s",
			    sim->opt.manager, w->curl_err);
			w->quiet_transport = false;
			goto done;
		}
		sim_sleep(sim, 100);
	}
	w->quiet_transport = false;
	if (r.status != 200) {
		unexpected(w, &r);
		goto done;
	}
	if ((obj = expect_object(w, &r)) == NULL)
		goto done;
	uuid = need(w, ctx, obj, "uuid", FT_STRING);
	if ((v = need(w, ctx, obj, "name", FT_STRING)) != NULL &&
	    strcmp(json_string_value(v), w->name) != 0)
		proto_error(w, "%s: name \"%s\", registered as \"%s\"", ctx,
		    json_string_value(v), w->name);
	if ((v = need(w, ctx, obj, "platform", FT_STRING)) != NULL &&
	    strcmp(json_string_value(v), sim->opt.platform) != 0)
		proto_error(w, "%s: platform \"%s\", registered as \"%s\"", ctx,
		    json_string_value(v), sim->opt.platform);
	need(w, ctx, obj, "address", FT_STRING);
	need(w, ctx, obj, "status", FT_STRING);
	need(w, ctx, obj, "software", FT_STRING);
	need(w, ctx, obj, "supported_task_types", FT_ARRAY);
	if (uuid == NULL)
		goto done;
	if (!valid_uuid(json_string_value(uuid))) {
		proto_error(w, "%s: uuid \"%s\" is not a lower-case UUID", ctx,
		    json_string_value(uuid));
		goto done;
	}
	snprintf(w->uuid, sizeof(w->uuid), "%s", json_string_value(uuid));
	curl_easy_setopt(w->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(w->curl, CURLOPT_USERNAME, w->uuid);
	curl_easy_setopt(w->curl, CURLOPT_PASSWORD, w->secret);
	w->st.registered++;
	note(w, "registered as %s", w->uuid);
	rc = 0;
done:
	reply_free(&r);
	json_decref(body);
	return rc;
}

/* POST /worker/sign-on; copies the initial status into status_out. */
static int
worker_sign_on(struct sim_worker *w, char *status_out, size_t size)
{
	struct sim *sim = w->sim;
	json_t *body;
	struct reply r;
	int rc = -1;

	status_out[0] = '\0';
	body = json_pack("{s:s, s:O, s:s, s:b}", "name", w->name,
	    "supported_task_types", sim->opt.task_types, "software_version",
	    sim->opt.software, "can_restart", 1);
	if (body == NULL)
		fatal("out of memory");
	if (http_json(w, "POST", "/api/v3/worker/sign-on", body, &r) != 0)
		goto done;
	if (r.status != 200) {
		unexpected(w, &r);
		goto done;
	}
	if (!get_status_requested(w, &r, status_out, size))
		goto done;
	w->signed_on = true;
	w->st.sign_ons++;
	rc = 0;
done:
	reply_free(&r);
	json_decref(body);
	return rc;
}

/* POST /worker/sign-off. The worker counts as signed off either way. */
static void
worker_sign_off(struct sim_worker *w)
{
	struct reply r;

	w->signed_on = false;
	if (http_json(w, "POST", "/api/v3/worker/sign-off", NULL, &r) != 0)
		return;
	if (r.status == 204)
		w->st.sign_offs++;
	else
		unexpected(w, &r);
	reply_free(&r);
}

/* POST /worker/state-changed {"status": status}. */
static void
worker_state_changed(struct sim_worker *w, const char *status)
{
	json_t *body;
	struct reply r;

	if ((body = json_pack("{s:s}", "status", status)) == NULL)
		fatal("out of memory");
	if (http_json(w, "POST", "/api/v3/worker/state-changed", body, &r) ==
	    0) {
		if (r.status == 204)
			w->st.state_changes++;
		else
			unexpected(w, &r);
		reply_free(&r);
	}
	json_decref(body);
}

/* GET /worker/state: 1 = a status is requested (in out), 0 = none, -1. */
static int
worker_get_state(struct sim_worker *w, char *out, size_t size)
{
	struct reply r;
	int rc = -1;

	if (http_json(w, "GET", "/api/v3/worker/state", NULL, &r) != 0)
		return -1;
	if (r.status == 204) {
		rc = 0;
	} else if (r.status == 200) {
		if (get_status_requested(w, &r, out, size)) {
			w->st.status_requests++;
			rc = 1;
		}
	} else if (r.status != 503) {
		unexpected(w, &r);
	}
	reply_free(&r);
	return rc;
}

/*
 * Goes to the requested status the way the real Worker does and returns the
 * resulting state: awake and asleep are acknowledged with state-changed,
 * offline signs off, restart signs off and on again, anything else means
 * asleep.
 */
static enum wstate
worker_enter(struct sim_worker *w, const char *requested)
{
	static const char *const other[] = { "starting", "error", "testing" };
	char next[64];
	int restarts = 0;
	bool known;
	size_t i;

	for (;;) {
		if (strcmp(requested, "awake") == 0) {
			/* Restarts the --until-idle clock, e.g. after a slow
			 * registration of many workers. */
			atomic_store(&w->sim->last_task_ns, now_ns());
			worker_state_changed(w, "awake");
			note(w, "awake");
			return WS_AWAKE;
		}
		if (strcmp(requested, "offline") == 0) {
			note(w, "going offline as requested");
			worker_sign_off(w);
			return WS_GONE;
		}
		if (strcmp(requested, "restart") == 0) {
			note(w, "restarting as requested");
			worker_sign_off(w);
			w->st.restarts++;
			if (++restarts > SIM_MAX_RESTARTS) {
				proto_error(w,
				    "restart requested %d times in "
				    "a row",
				    restarts);
				return WS_GONE;
			}
			if (worker_sign_on(w, next, sizeof(next)) != 0)
				return WS_GONE;
			requested = next;
			continue;
		}
		known = strcmp(requested, "asleep") == 0;
		for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
			known = known || strcmp(requested, other[i]) == 0;
		if (!known)
			proto_error(w,
			    "requested status \"%s\" is not a "
			    "WorkerStatus",
			    requested);
		worker_state_changed(w, "asleep");
		note(w, "asleep");
		return WS_ASLEEP;
	}
}

/* Validates an AssignedTask; false if it cannot be run at all. */
static bool
check_assigned_task(struct sim_worker *w, json_t *t)
{
	const char *ctx = "AssignedTask";
	json_t *uuid, *cmds, *cmd, *v;
	char cctx[64];
	bool ok = true;
	bool known = false;
	size_t i;

	uuid = need(w, ctx, t, "uuid", FT_STRING);
	if (uuid != NULL && !valid_uuid(json_string_value(uuid))) {
		proto_error(w, "%s: uuid \"%s\" is not a lower-case UUID", ctx,
		    json_string_value(uuid));
		uuid = NULL;
	}
	need(w, ctx, t, "job", FT_STRING);
	need(w, ctx, t, "name", FT_STRING);
	need(w, ctx, t, "priority", FT_INT);
	need(w, ctx, t, "job_priority", FT_INT);
	need(w, ctx, t, "job_type", FT_STRING);
	need(w, ctx, t, "steps_completed", FT_INT);
	need(w, ctx, t, "steps_total", FT_INT);
	if ((v = need(w, ctx, t, "status", FT_STRING)) != NULL &&
	    strcmp(json_string_value(v), "active") != 0)
		proto_error(w, "%s: status \"%s\", want \"active\"", ctx,
		    json_string_value(v));
	if ((v = need(w, ctx, t, "task_type", FT_STRING)) != NULL) {
		for (i = 0; i < json_array_size(w->sim->opt.task_types); i++)
			known = known ||
			    strcmp(json_string_value(json_array_get(
			               w->sim->opt.task_types, i)),
			        json_string_value(v)) == 0;
		if (!known)
			proto_error(w,
			    "%s: task_type \"%s\" not supported "
			    "by this worker",
			    ctx, json_string_value(v));
	}
	if ((cmds = need(w, ctx, t, "commands", FT_ARRAY)) == NULL)
		return false;
	json_array_foreach (cmds, i, cmd) {
		snprintf(cctx, sizeof(cctx), "%s.commands[%zu]", ctx, i);
		if (!json_is_object(cmd)) {
			proto_error(w, "%s is not an object", cctx);
			ok = false;
			continue;
		}
		ok = need(w, cctx, cmd, "name", FT_STRING) != NULL && ok;
		ok = need(w, cctx, cmd, "parameters", FT_OBJECT) != NULL && ok;
		v = need(w, cctx, cmd, "total_step_count", FT_INT);
		ok = v != NULL && ok;
		if (v != NULL && json_integer_value(v) < 0) {
			proto_error(w, "%s: negative total_step_count", cctx);
			ok = false;
		}
	}
	return ok && uuid != NULL;
}

/* POST /worker/task. On FETCH_TASK, *task_out is a new reference. */
static enum fetch
worker_fetch(struct sim_worker *w, json_t **task_out, char *status, size_t size)
{
	enum fetch res = FETCH_RETRY;
	json_t *obj;
	struct reply r;

	*task_out = NULL;
	if (http_json(w, "POST", "/api/v3/worker/task", NULL, &r) != 0)
		return FETCH_RETRY;
	switch (r.status) {
	case 200:
		if ((obj = expect_object(w, &r)) != NULL &&
		    check_assigned_task(w, obj)) {
			*task_out = json_incref(obj);
			res = FETCH_TASK;
		}
		break;
	case 204:
		w->st.no_task++;
		res = FETCH_NONE;
		break;
	case 423:
		w->st.status_requests++;
		if (get_status_requested(w, &r, status, size))
			res = FETCH_STATUS;
		break;
	case 409: /* not awake; the real Worker just waits */
		w->st.not_awake++;
		break;
	case 503: /* busy, counted by http_perform */
		break;
	default:
		unexpected(w, &r);
		break;
	}
	reply_free(&r);
	return res;
}

/*
 * POST /worker/task/{id} with the given JSON text, up to attempts times while
 * the Manager is busy (503) or unreachable. Latencies are recorded.
 */
static enum upd
worker_update_raw(struct sim_worker *w, const char *task_id, const char *body,
    size_t len, int attempts)
{
	enum upd res = UPD_ERROR;
	char path[128];
	struct reply r;
	int i;

	snprintf(path, sizeof(path), "/api/v3/worker/task/%s", task_id);
	for (i = 0; i < attempts; i++) {
		if (i > 0) {
			if (stopping(w->sim))
				break;
			sim_sleep(w->sim, w->sim->opt.poll_ms);
		}
		if (http_perform(w, "POST", path, w->hdr_json, body, len, &r) !=
		    0)
			continue;
		w->st.updates_sent++;
		w->last_update_ns = now_ns();
		lat_add(&w->lat, r.ns);
		switch (r.status) {
		case 204:
			w->st.updates_accepted++;
			res = UPD_OK;
			break;
		case 409:
			w->st.updates_rejected++;
			res = UPD_CONFLICT;
			break;
		case 503:
			reply_free(&r);
			continue;
		default:
			unexpected(w, &r);
			res = UPD_ERROR;
			break;
		}
		reply_free(&r);
		return res;
	}
	return res;
}

/* Like worker_update_raw, for a JSON object (stolen). */
static enum upd
worker_update(struct sim_worker *w, const char *task_id, json_t *body)
{
	enum upd res;
	char *s;

	if (body == NULL || (s = json_dumps(body, JSON_COMPACT)) == NULL)
		fatal("out of memory");
	res = worker_update_raw(w, task_id, s, strlen(s), SIM_UPDATE_ATTEMPTS);
	free(s);
	json_decref(body);
	return res;
}

/* GET /worker/task/{id}/may-i-run; fails open like the real Worker. */
static bool
worker_may_i_run(struct sim_worker *w, const char *task_id)
{
	const char *ctx = "MayKeepRunning";
	json_t *obj, *may;
	char path[128];
	struct reply r;
	bool res = true;

	snprintf(
	    path, sizeof(path), "/api/v3/worker/task/%s/may-i-run", task_id);
	if (http_json(w, "GET", path, NULL, &r) != 0)
		return true;
	if (r.status == 200) {
		if ((obj = expect_object(w, &r)) != NULL) {
			may = need(w, ctx, obj, "mayKeepRunning", FT_BOOL);
			need(w, ctx, obj, "reason", FT_STRING);
			need(w, ctx, obj, "statusChangeRequested", FT_BOOL);
			w->st.may_i_run++;
			if (may != NULL && !json_is_true(may)) {
				w->st.may_i_run_denied++;
				note(w, "task %s: may not keep running: %s",
				    task_id,
				    json_string_value(
				        json_object_get(obj, "reason")));
				res = false;
			}
		}
	} else if (r.status != 503) {
		unexpected(w, &r);
	}
	reply_free(&r);
	return res;
}

/* POST /worker/task/{id}/output-produced with the built-in JPEG. */
static void
worker_output_produced(struct sim_worker *w, const char *task_id)
{
	char path[128];
	struct reply r;

	snprintf(path, sizeof(path), "/api/v3/worker/task/%s/output-produced",
	    task_id);
	if (http_perform(w, "POST", path, w->hdr_jpeg, (const char *)sim_jpeg,
	        sizeof(sim_jpeg), &r) != 0)
		return;
	if (r.status == 202)
		w->st.outputs_accepted++;
	else if (r.status == 429)
		w->st.outputs_dropped++;
	else if (r.status != 503)
		unexpected(w, &r);
	reply_free(&r);
}

/* --- workloads ------------------------------------------------------- */

static void
task_begin(struct sim_worker *w)
{
	atomic_fetch_add(&w->sim->busy_workers, 1);
	atomic_store(&w->sim->last_task_ns, now_ns());
	w->st.tasks_run++;
	w->steps = 0;
}

static void
task_end(struct sim_worker *w)
{
	atomic_store(&w->sim->last_task_ns, now_ns());
	atomic_fetch_sub(&w->sim->busy_workers, 1);
}

/* The log update for command i: a few hundred bytes, like real output. */
static json_t *
command_log(struct sim_worker *w, json_t *task, json_t *cmd, size_t i, size_t n)
{
	char stamp[32], log[1024];
	struct tm tm;
	time_t now = time(NULL);
	char *params;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	params = json_dumps(
	    json_object_get(cmd, "parameters"), JSON_COMPACT | JSON_SORT_KEYS);
	snprintf(log, sizeof(log),
	    "%s %s %s: command %zu/%zu \"%s\" of task \"%s\" (%s), "
	    "%" JSON_INTEGER_FORMAT " steps\n"
	    "parameters: %.240s\n"
	    "simulated output: reading scene, building BVH, rendering tiles\n"
	    "simulated output: done in 0.00 s\n",
	    stamp, SIM_NAME, w->name, i + 1, n,
	    json_string_value(json_object_get(cmd, "name")),
	    json_string_value(json_object_get(task, "name")),
	    json_string_value(json_object_get(task, "uuid")),
	    json_integer_value(json_object_get(cmd, "total_step_count")),
	    params != NULL ? params : "{}");
	free(params);
	return json_pack("{s:s}", "log", log);
}

/* Run mode: pretends to execute one assigned task (borrowed). */
static void
worker_run_task(struct sim_worker *w, json_t *task)
{
	struct sim *sim = w->sim;
	const char *id = json_string_value(json_object_get(task, "uuid"));
	const char *name = json_string_value(json_object_get(task, "name"));
	json_t *cmds = json_object_get(task, "commands");
	json_t *cmd;
	size_t ncmd = json_array_size(cmds);
	size_t fail_at = SIZE_MAX;
	json_int_t nsteps, s;
	const char *outcome = "abandoned";
	enum upd u;
	size_t i;

	task_begin(w);
	if (sim->opt.fail_rate > 0 && rng_unit(&w->rng) < sim->opt.fail_rate)
		fail_at = ncmd > 0 ? (size_t)(rng_next(&w->rng) % ncmd) : 0;
	note(w, "task %s (%s): %zu commands", id, name ? name : "?", ncmd);
	u = worker_update(w, id,
	    json_pack(
	        "{s:s, s:s}", "activity", "Started", "taskStatus", "active"));
	if (u != UPD_OK)
		goto done;
	if (ncmd == 0 && fail_at == 0)
		goto fail;
	for (i = 0; i < ncmd; i++) {
		cmd = json_array_get(cmds, i);
		if (stopping(sim))
			goto done;
		if (worker_update(w, id, command_log(w, task, cmd, i, ncmd)) !=
		    UPD_OK)
			goto done;
		if (!worker_may_i_run(w, id)) {
			outcome = "aborted";
			w->st.tasks_aborted++;
			goto out;
		}
		if (i == fail_at)
			goto fail;
		nsteps = json_integer_value(
		    json_object_get(cmd, "total_step_count"));
		if (nsteps < 1)
			nsteps = 1; /* one step after a step-less command */
		for (s = 0; s < nsteps; s++) {
			if (sim->opt.steps_delay_ms > 0)
				sim_sleep(sim, sim->opt.steps_delay_ms);
			if (stopping(sim))
				goto done;
			w->steps++;
			u = worker_update(w, id,
			    json_pack("{s:s, s:I}", "activity", "Progress",
			        "steps_completed", (json_int_t)w->steps));
			if (u != UPD_OK)
				goto done;
		}
		if (sim->opt.output_produced &&
		    strcmp(json_string_value(json_object_get(cmd, "name")),
		        "blender-render") == 0)
			worker_output_produced(w, id);
	}
	if (worker_update(w, id,
	        json_pack("{s:s, s:s}", "activity", "Completed", "taskStatus",
	            "completed")) == UPD_OK) {
		outcome = "completed";
		w->st.tasks_completed++;
		goto out;
	}
	goto done;
fail:
	if (worker_update(w, id,
	        json_pack("{s:s, s:s, s:s}", "activity", "Failed: simulated",
	            "log", "Failed: simulated", "taskStatus", "failed")) ==
	    UPD_OK) {
		outcome = "failed";
		w->st.tasks_failed++;
		goto out;
	}
done:
	w->st.tasks_abandoned++;
out:
	note(w, "task %s: %s", id, outcome);
	task_end(w);
}

static void
stress_ready(struct sim_worker *w)
{
	if (!w->ready) {
		w->ready = true;
		atomic_fetch_add(&w->sim->ready, 1);
	}
}

/*
 * Stress mode: waits for the window to open, then sends updates on the task
 * (borrowed) as fast as possible until it closes or the task is taken away.
 */
static void
worker_stress_task(struct sim_worker *w, json_t *task)
{
	struct sim *sim = w->sim;
	const char *id = json_string_value(json_object_get(task, "uuid"));
	char body[3 * SIM_STRESS_LOG_BYTES];
	uint64_t n = 0;
	int len;

	task_begin(w);
	note(w, "stress task %s", id);
	stress_ready(w);
	while (!atomic_load(&sim->go) && !stopping(sim))
		sim_sleep(sim, 1);
	while (!stopping(sim) && now_ns() < atomic_load(&sim->t1)) {
		n++;
		len = snprintf(body, sizeof(body),
		    "{\"activity\":\"Stress test update %" PRIu64 "\","
		    "\"log\":\"%s\",\"steps_completed\":%" PRIu64 "}",
		    n, w->stress_log, n);
		if (len < 0 || (size_t)len >= sizeof(body))
			fatal("stress update does not fit");
		switch (worker_update_raw(w, id, body, (size_t)len, 1)) {
		case UPD_OK:
			break;
		case UPD_CONFLICT:
			note(w, "stress task %s taken away (409)", id);
			w->st.tasks_abandoned++;
			task_end(w);
			return;
		case UPD_ERROR:
			/* Transport errors: don't spin on a dead Manager. */
			if (w->len == 0)
				sim_sleep(sim, sim->opt.poll_ms);
			break;
		}
	}
	task_end(w);
}

/* The awake/asleep loop shared by both modes. */
static void
worker_loop(struct sim_worker *w, enum wstate state)
{
	struct sim *sim = w->sim;
	bool stress = sim->opt.mode == SIM_STRESS;
	json_t *task = NULL;
	char req[64];

	while (state != WS_GONE && !stopping(sim)) {
		if (stress && atomic_load(&sim->go) &&
		    now_ns() >= atomic_load(&sim->t1))
			break;
		if (state == WS_ASLEEP) {
			if (worker_get_state(w, req, sizeof(req)) == 1)
				state = worker_enter(w, req);
			else
				sim_sleep(sim, sim->opt.poll_ms);
			continue;
		}
		if (!stress && sim->opt.max_tasks > 0 &&
		    w->st.tasks_run >= (uint64_t)sim->opt.max_tasks)
			break;
		switch (worker_fetch(w, &task, req, sizeof(req))) {
		case FETCH_TASK:
			if (stress)
				worker_stress_task(w, task);
			else
				worker_run_task(w, task);
			json_decref(task);
			task = NULL;
			break;
		case FETCH_STATUS:
			state = worker_enter(w, req);
			break;
		case FETCH_NONE:
		case FETCH_RETRY:
			sim_sleep(sim, sim->opt.poll_ms);
			break;
		}
	}
}

static void
worker_init_stress_log(struct sim_worker *w)
{
	size_t n, l = strlen(stress_line);
	int k;

	k = snprintf(w->stress_log, sizeof(w->stress_log), "%s: ", w->name);
	n = k > 0 ? (size_t)k : 0;
	while (n < SIM_STRESS_LOG_BYTES - 1) {
		w->stress_log[n] = stress_line[n % l];
		n++;
	}
	memcpy(w->stress_log + n, "\\n", 3); /* JSON-escaped newline + NUL */
}

static void *
worker_main(void *arg)
{
	struct sim_worker *w = arg;
	struct sim *sim = w->sim;
	enum wstate state = WS_GONE;
	char req[64], ua[128];

	w->cap = 4096;
	w->buf = xrealloc(NULL, w->cap);
	w->buf[0] = '\0';
	if ((w->curl = curl_easy_init()) == NULL)
		fatal("curl_easy_init failed");
	curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(w->curl, CURLOPT_TIMEOUT_MS, sim->opt.http_timeout_ms);
	curl_easy_setopt(w->curl, CURLOPT_CONNECTTIMEOUT_MS,
	    sim->opt.http_timeout_ms < 5000 ? sim->opt.http_timeout_ms : 5000L);
	curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(w->curl, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(w->curl, CURLOPT_ERRORBUFFER, w->curl_err);
	curl_easy_setopt(w->curl, CURLOPT_TCP_NODELAY, 1L);
	snprintf(
	    ua, sizeof(ua), "Flamenco/%s (%s)", sim->opt.software, SIM_NAME);
	curl_easy_setopt(w->curl, CURLOPT_USERAGENT, ua); /* curl copies it */

	if (worker_register(w) == 0 && worker_sign_on(w, req, sizeof(req)) == 0)
		state = worker_enter(w, req);
	worker_loop(w, state);
	if (w->signed_on)
		worker_sign_off(w);

	stress_ready(w);
	curl_easy_cleanup(w->curl);
	w->curl = NULL;
	free(w->buf);
	w->buf = NULL;
	atomic_fetch_sub(&sim->running, 1);
	return NULL;
}

/* --- options --------------------------------------------------------- */

enum {
	OPT_MANAGER = 256,
	OPT_WORKERS,
	OPT_NAME_PREFIX,
	OPT_PLATFORM,
	OPT_TASK_TYPES,
	OPT_MODE,
	OPT_DURATION,
	OPT_MAX_TASKS,
	OPT_UNTIL_IDLE,
	OPT_FAIL_RATE,
	OPT_STEPS_DELAY,
	OPT_POLL,
	OPT_OUTPUT,
	OPT_WAIT_MANAGER,
	OPT_HTTP_TIMEOUT,
	OPT_SOFTWARE,
	OPT_SEED,
	OPT_JSON,
};

static const struct option long_options[] = {
	{ "manager", required_argument, NULL, OPT_MANAGER },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "name-prefix", required_argument, NULL, OPT_NAME_PREFIX },
	{ "platform", required_argument, NULL, OPT_PLATFORM },
	{ "task-types", required_argument, NULL, OPT_TASK_TYPES },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "max-tasks", required_argument, NULL, OPT_MAX_TASKS },
	{ "until-idle", required_argument, NULL, OPT_UNTIL_IDLE },
	{ "fail-rate", required_argument, NULL, OPT_FAIL_RATE },
	{ "steps-delay-ms", required_argument, NULL, OPT_STEPS_DELAY },
	{ "poll-ms", required_argument, NULL, OPT_POLL },
	{ "output-produced", no_argument, NULL, OPT_OUTPUT },
	{ "wait-manager", required_argument, NULL, OPT_WAIT_MANAGER },
	{ "http-timeout-ms", required_argument, NULL, OPT_HTTP_TIMEOUT },
	{ "software-version", required_argument, NULL, OPT_SOFTWARE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "quiet", no_argument, NULL, 'q' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: %s [--manager URL] [--workers N] [--name-prefix S]\n"
	    "         [--platform P] [--task-types a,b,...] [--mode run|stress]\n"
	    "         [--duration S] [--max-tasks K] [--until-idle S]\n"
	    "         [--fail-rate P] [--steps-delay-ms D] [--poll-ms MS]\n"
	    "         [--output-produced] [--wait-manager S]\n"
	    "         [--http-timeout-ms MS] [--software-version V] [--seed N]\n"
	    "         [--quiet] [--json]\n"
	    "Simulated Flamenco Workers; see the comment at the top of\n"
	    "contrib/fm-worker-sim.c for details.\n",
	    SIM_NAME);
}

static long
parse_long(const char *opt, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		fatal("--%s: want an integer in [%ld, %ld], got \"%s\"", opt,
		    min, max, s);
	return v;
}

static double
parse_double(const char *opt, const char *s, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= min && v <= max))
		fatal("--%s: want a number in [%g, %g], got \"%s\"", opt, min,
		    max, s);
	return v;
}

/* Splits "a, b,c" into a new JSON array of trimmed, non-empty strings. */
static json_t *
parse_task_types(const char *s)
{
	json_t *a = json_array();
	const char *p = s, *e, *comma;

	while (*p != '\0') {
		comma = strchr(p, ',');
		e = comma != NULL ? comma : p + strlen(p);
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > p)
			json_array_append_new(
			    a, json_stringn(p, (size_t)(e - p)));
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	if (json_array_size(a) == 0)
		fatal("--task-types: no task types in \"%s\"", s);
	return a;
}

static void
parse_options(int argc, char **argv, struct sim_options *o)
{
	static char manager[1024];
	bool duration_set = false;
	int c;

	*o = (struct sim_options){
		.manager = "http://127.0.0.1:8080",
		.workers = 1,
		.name_prefix = "sim",
		.platform = "linux",
		.mode = SIM_RUN,
		.poll_ms = 50,
		.wait_manager = 10,
		.http_timeout_ms = 30000,
		.software = "3.9-beta1",
	};
	o->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	while ((c = getopt_long(argc, argv, "qh", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_MANAGER:
			o->manager = optarg;
			break;
		case OPT_WORKERS:
			o->workers =
			    (int)parse_long("workers", optarg, 1, 10000);
			break;
		case OPT_NAME_PREFIX:
			o->name_prefix = optarg;
			break;
		case OPT_PLATFORM:
			o->platform = optarg;
			break;
		case OPT_TASK_TYPES:
			json_decref(o->task_types);
			o->task_types = parse_task_types(optarg);
			break;
		case OPT_MODE:
			if (strcmp(optarg, "run") == 0)
				o->mode = SIM_RUN;
			else if (strcmp(optarg, "stress") == 0)
				o->mode = SIM_STRESS;
			else
				fatal("--mode: want run or stress, got \"%s\"",
				    optarg);
			break;
		case OPT_DURATION:
			o->duration = parse_double("duration", optarg, 0, 1e7);
			duration_set = true;
			break;
		case OPT_MAX_TASKS:
			o->max_tasks =
			    parse_long("max-tasks", optarg, 0, LONG_MAX);
			break;
		case OPT_UNTIL_IDLE:
			o->until_idle =
			    parse_double("until-idle", optarg, 0, 1e7);
			break;
		case OPT_FAIL_RATE:
			o->fail_rate = parse_double("fail-rate", optarg, 0, 1);
			break;
		case OPT_STEPS_DELAY:
			o->steps_delay_ms =
			    parse_long("steps-delay-ms", optarg, 0, 3600000);
			break;
		case OPT_POLL:
			o->poll_ms = parse_long("poll-ms", optarg, 0, 3600000);
			break;
		case OPT_OUTPUT:
			o->output_produced = true;
			break;
		case OPT_WAIT_MANAGER:
			o->wait_manager =
			    parse_double("wait-manager", optarg, 0, 1e7);
			break;
		case OPT_HTTP_TIMEOUT:
			o->http_timeout_ms =
			    parse_long("http-timeout-ms", optarg, 1, 3600000);
			break;
		case OPT_SOFTWARE:
			o->software = optarg;
			break;
		case OPT_SEED:
			o->seed =
			    (uint64_t)parse_long("seed", optarg, 0, LONG_MAX);
			break;
		case 'q':
			o->quiet = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc) {
		usage(stderr);
		exit(2);
	}
	if (o->task_types == NULL)
		o->task_types =
		    parse_task_types("blender,ffmpeg,file-management,misc");
	if (o->mode == SIM_STRESS && !duration_set)
		o->duration = 10;
	if (o->mode == SIM_STRESS && o->duration <= 0)
		fatal("--duration: stress mode needs a positive duration");
	/* Paths are appended to the base URL: drop trailing slashes. */
	snprintf(manager, sizeof(manager), "%s", o->manager);
	while (strlen(manager) > 0 && manager[strlen(manager) - 1] == '/')
		manager[strlen(manager) - 1] = '\0';
	if (strncmp(manager, "http://", 7) != 0 &&
	    strncmp(manager, "https://", 8) != 0)
		fatal("--manager: want an http:// or https:// URL, got \"%s\"",
		    o->manager);
	o->manager = manager;
}

/* --- main ------------------------------------------------------------ */

static void
on_signal(int sig)
{
	(void)sig;
	if (got_signal)
		_exit(130); /* second ^C: give up on signing off */
	got_signal = 1;
}

/* Watches the workers and decides when the simulation ends. */
static void
monitor(struct sim *sim)
{
	const struct sim_options *o = &sim->opt;
	int64_t dur = (int64_t)(o->duration * 1e9);
	int64_t idle = (int64_t)(o->until_idle * 1e9);
	int64_t now;

	for (;;) {
		now = now_ns();
		if (got_signal || atomic_load(&sim->running) == 0)
			break;
		if (o->mode == SIM_RUN) {
			if (dur > 0 && now - sim->t_start >= dur)
				break;
			if (idle > 0 && atomic_load(&sim->busy_workers) == 0 &&
			    now - atomic_load(&sim->last_task_ns) >= idle)
				break;
		} else if (!atomic_load(&sim->go) &&
		    (atomic_load(&sim->ready) >= o->workers ||
		        now - sim->t_start >= dur)) {
			/* Everyone has a task, or waited long enough. */
			atomic_store(&sim->t0, now);
			atomic_store(&sim->t1, now + dur);
			atomic_store(&sim->go, 1);
		}
		sim_sleep(sim, 10);
	}
	atomic_store(&sim->stop, 1);
}

/* The numbers of a finished simulation, summed over all workers. */
struct sim_result {
	struct sim_stats t;        /* counters */
	double elapsed;            /* s since start */
	double window;             /* s the updates/s rate is over */
	double rate;               /* accepted task updates per second */
	size_t samples;            /* task update latencies */
	double p50, p90, p99, max; /* ms */
};

static void
result_compute(struct sim *sim, int64_t t_end, struct sim_result *res)
{
	const struct sim_options *o = &sim->opt;
	struct sim_lat all = { 0 };
	int64_t last = 0, t0;
	size_t k;
	int i;

	memset(res, 0, sizeof(*res));
	for (i = 0; i < o->workers; i++) {
		struct sim_worker *w = &sim->w[i];

#define X(f) res->t.f += w->st.f;
		SIM_STATS(X)
#undef X
		for (k = 0; k < w->lat.n; k++)
			lat_add(&all, w->lat.ns[k]);
		if (w->last_update_ns > last)
			last = w->last_update_ns;
	}
	res->elapsed = (double)(t_end - sim->t_start) / 1e9;
	res->window = res->elapsed;
	if (o->mode == SIM_STRESS) {
		/* From the window opening to the last update's reply. */
		t0 = atomic_load(&sim->t0);
		res->window = atomic_load(&sim->go) && last > t0
		    ? (double)(last - t0) / 1e9
		    : 0;
	}
	if (res->window > 0)
		res->rate = (double)res->t.updates_accepted / res->window;
	if (all.n > 0)
		qsort(all.ns, all.n, sizeof(*all.ns), cmp_i64);
	res->samples = all.n;
	res->p50 = percentile_ms(all.ns, all.n, 0.50);
	res->p90 = percentile_ms(all.ns, all.n, 0.90);
	res->p99 = percentile_ms(all.ns, all.n, 0.99);
	res->max = percentile_ms(all.ns, all.n, 1.0);
	free(all.ns);
}

static void
print_human(FILE *fp, const struct sim *sim, const struct sim_result *res)
{
	const struct sim_options *o = &sim->opt;
	const struct sim_stats *t = &res->t;

	fprintf(fp, "%s: %s mode, %d workers, %s, %.2f s (seed %" PRIu64 ")\n",
	    SIM_NAME, o->mode == SIM_RUN ? "run" : "stress", o->workers,
	    o->manager, res->elapsed, o->seed);
	fprintf(fp,
	    "  workers   %" PRIu64 " registered, %" PRIu64
	    " signed on, %" PRIu64 " signed off, %" PRIu64 " restarts, %" PRIu64
	    " state changes\n",
	    t->registered, t->sign_ons, t->sign_offs, t->restarts,
	    t->state_changes);
	fprintf(fp,
	    "  tasks     %" PRIu64 " run: %" PRIu64 " completed, %" PRIu64
	    " failed, %" PRIu64 " aborted, %" PRIu64 " abandoned\n",
	    t->tasks_run, t->tasks_completed, t->tasks_failed, t->tasks_aborted,
	    t->tasks_abandoned);
	fprintf(fp,
	    "  updates   %" PRIu64 " sent, %" PRIu64 " accepted, %" PRIu64
	    " rejected (409); %.1f/s over %.2f s\n",
	    t->updates_sent, t->updates_accepted, t->updates_rejected,
	    res->rate, res->window);
	fprintf(fp,
	    "  latency   p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms "
	    "(%zu task updates)\n",
	    res->p50, res->p90, res->p99, res->max, res->samples);
	fprintf(fp,
	    "  polls     %" PRIu64 " no task (204), %" PRIu64
	    " status requests, %" PRIu64 " not awake (409), %" PRIu64
	    " busy (503)\n",
	    t->no_task, t->status_requests, t->not_awake, t->busy);
	fprintf(fp,
	    "  task I/O  %" PRIu64 " may-i-run (%" PRIu64 " denied), %" PRIu64
	    " outputs accepted, %" PRIu64 " dropped (429)\n",
	    t->may_i_run, t->may_i_run_denied, t->outputs_accepted,
	    t->outputs_dropped);
	fprintf(fp,
	    "  errors    %" PRIu64 " protocol, %" PRIu64 " transport (%" PRIu64
	    " requests answered)\n",
	    t->protocol_errors, t->transport_errors, t->requests);
}

/* One line of JSON on stdout: options, every counter, latencies, errors. */
static void
print_json(struct sim *sim, const struct sim_result *res)
{
	const struct sim_options *o = &sim->opt;
	json_t *j;

	j = json_pack("{s:s, s:s, s:i, s:I, s:f, s:f, s:f}", "mode",
	    o->mode == SIM_RUN ? "run" : "stress", "manager", o->manager,
	    "workers", o->workers, "seed", (json_int_t)o->seed, "elapsed_s",
	    res->elapsed, "window_s", res->window, "updates_per_s", res->rate);
	if (j == NULL)
		fatal("out of memory");
#define X(f) json_object_set_new(j, #f, json_integer((json_int_t)res->t.f));
	SIM_STATS(X)
#undef X
	json_object_set_new(j, "latency_ms",
	    json_pack("{s:I, s:f, s:f, s:f, s:f}", "samples",
	        (json_int_t)res->samples, "p50", res->p50, "p90", res->p90,
	        "p99", res->p99, "max", res->max));
	pthread_mutex_lock(&sim->mu);
	json_object_set(j, "errors", sim->errors);
	pthread_mutex_unlock(&sim->mu);
	json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(6));
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(j);
}

/* Prints the results; returns the exit status. */
static int
summarize(struct sim *sim, int64_t t_end)
{
	struct sim_result res;

	result_compute(sim, t_end, &res);
	if (sim->opt.mode == SIM_STRESS && res.t.tasks_run == 0 &&
	    res.t.registered > 0)
		fprintf(stderr, "%s: warning: no worker got a task to stress\n",
		    SIM_NAME);
	print_human(sim->opt.json ? stderr : stdout, sim, &res);
	if (sim->opt.json)
		print_json(sim, &res);
	if (res.t.protocol_errors > 0)
		return 1;
	if (res.t.transport_errors > 0)
		return 3;
	return 0;
}

int
main(int argc, char **argv)
{
	struct sim sim;
	struct sigaction sa;
	int i, started, rc;

	memset(&sim, 0, sizeof(sim));
	parse_options(argc, argv, &sim.opt);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatal("curl_global_init failed");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	pthread_mutex_init(&sim.mu, NULL);
	sim.errors = json_array();
	sim.t_start = now_ns();
	atomic_store(&sim.last_task_ns, sim.t_start);
	sim.w = calloc((size_t)sim.opt.workers, sizeof(*sim.w));
	if (sim.w == NULL || sim.errors == NULL)
		fatal("out of memory");
	for (i = 0; i < sim.opt.workers; i++) {
		struct sim_worker *w = &sim.w[i];

		w->sim = &sim;
		snprintf(w->name, sizeof(w->name), "%s-%03d",
		    sim.opt.name_prefix, i + 1);
		random_secret(w->secret);
		w->rng = sim.opt.seed ^ ((uint64_t)(i + 1) << 40);
		w->hdr_json =
		    curl_slist_append(NULL, "Content-Type: application/json");
		w->hdr_json = curl_slist_append(w->hdr_json, "Expect:");
		/* No body: don't let curl add a form Content-Type. */
		w->hdr_none = curl_slist_append(NULL, "Content-Type:");
		w->hdr_none = curl_slist_append(w->hdr_none, "Expect:");
		w->hdr_jpeg =
		    curl_slist_append(NULL, "Content-Type: image/jpeg");
		w->hdr_jpeg = curl_slist_append(w->hdr_jpeg, "Expect:");
		if (w->hdr_json == NULL || w->hdr_none == NULL ||
		    w->hdr_jpeg == NULL)
			fatal("out of memory");
		worker_init_stress_log(w);
	}

	for (started = 0; started < sim.opt.workers; started++) {
		atomic_fetch_add(&sim.running, 1);
		rc = pthread_create(
		    &sim.w[started].thread, NULL, worker_main, &sim.w[started]);
		if (rc != 0) {
			atomic_fetch_sub(&sim.running, 1);
			fprintf(stderr, "%s: pthread_create: %s\n", SIM_NAME,
			    strerror(rc));
			atomic_store(&sim.stop, 1);
			break;
		}
	}
	if (started == sim.opt.workers)
		monitor(&sim);
	for (i = 0; i < started; i++)
		pthread_join(sim.w[i].thread, NULL);
	rc = summarize(&sim, now_ns());
	if (started < sim.opt.workers && rc == 0)
		rc = 2;

	for (i = 0; i < sim.opt.workers; i++) {
		curl_slist_free_all(sim.w[i].hdr_json);
		curl_slist_free_all(sim.w[i].hdr_none);
		curl_slist_free_all(sim.w[i].hdr_jpeg);
		free(sim.w[i].lat.ns);
	}
	free(sim.w);
	json_decref(sim.errors);
	json_decref(sim.opt.task_types);
	pthread_mutex_destroy(&sim.mu);
	curl_global_cleanup();
	return rc;
}
