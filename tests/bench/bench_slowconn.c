/*
 * Requests served while many slow connections are open: SLOW connections
 * each send the start of a request and then one more header byte every
 * two seconds (reconnecting when the Manager closes them), spread over
 * source addresses 127.0.0.2 and up so a per-address limit does not
 * refuse them; meanwhile CLIENTS keep-alive clients from 127.0.0.1 send
 * GET /api/v3/version back to back. Prints requests/s and latencies.
 *
 * usage: bench_slowconn PORT [SLOW [SECONDS [CLIENTS]]]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define PER_ADDRESS     200     /* slow connections per source address */
#define TRICKLE_US      2000000 /* one header byte this often */
#define REQUEST_TIMEOUT 5000    /* ms before a request counts as failed */
#define MAX_SAMPLES     (1 << 22)

static const char version_request[] =
    "GET /api/v3/version HTTP/1.1\r\nHost: bench\r\n\r\n";

static int port;
static atomic_bool stop;

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A connection from src (NULL: any address); -1 on failure. */
static int
connect_from(const char *src)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = REQUEST_TIMEOUT / 1000 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	/* A server that stopped accepting leaves connect() waiting. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (src != NULL) {
		inet_pton(AF_INET, src, &sa.sin_addr);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			goto fail;
	}
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	sa.sin_port = htons((uint16_t)port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/* --- slow connections --------------------------------------------- */

struct slow {
	int n;
	int *fds;
	int64_t *next_us;
	atomic_long reconnects; /* closed by the server */
	atomic_int open;
};

static void
slow_open(struct slow *s, int i)
{
	char src[32];
	static const char start[] = "GET /api/v3/version HTTP/1.1\r\nX-Slow: ";

	snprintf(src, sizeof(src), "127.0.0.%d", 2 + i / PER_ADDRESS);
	s->fds[i] = connect_from(src);
	if (s->fds[i] >= 0)
		send(s->fds[i], start, sizeof(start) - 1, MSG_NOSIGNAL);
	/* Spread the trickle so the bytes do not all go at once. */
	s->next_us[i] = now_us() + TRICKLE_US * (i % 100) / 100;
}

static void *
slow_main(void *arg)
{
	struct slow *s = arg;
	struct pollfd *p = calloc((size_t)s->n, sizeof(*p));

	while (!atomic_load(&stop)) {
		int64_t now = now_us();
		int open = 0;

		for (int i = 0; i < s->n; i++) {
			p[i].fd = s->fds[i];
			p[i].events = POLLIN;
			p[i].revents = 0;
		}
		poll(p, (nfds_t)s->n, 100);
		for (int i = 0; i < s->n; i++) {
			char buf[512];

			if (s->fds[i] >= 0 &&
			    (p[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    recv(s->fds[i], buf, sizeof(buf), MSG_DONTWAIT) <=
			        0) {
				close(s->fds[i]);
				s->fds[i] = -1;
				atomic_fetch_add(&s->reconnects, 1);
			}
			if (s->fds[i] < 0) {
				slow_open(s, i);
				continue;
			}
			open++;
			if (now >= s->next_us[i]) {
				send(s->fds[i], "a", 1, MSG_NOSIGNAL);
				s->next_us[i] = now + TRICKLE_US;
			}
		}
		atomic_store(&s->open, open);
	}
	free(p);
	return NULL;
}

/* --- keep-alive clients ------------------------------------------- */

struct client {
	pthread_t thread;
	int64_t *lat_us; /* one per request served */
	size_t nlat, cap;
	long errors;
};

/* One request on *fd (reconnecting if needed); latency or -1. */
static int64_t
one_request(int *fd)
{
	char buf[4096];
	size_t len = 0;
	int64_t t0 = now_us();

	if (*fd < 0 && (*fd = connect_from(NULL)) < 0)
		return -1;
	if (send(*fd, version_request, sizeof(version_request) - 1,
	        MSG_NOSIGNAL) < 0)
		goto fail;
	for (;;) {
		struct pollfd p = { .fd = *fd, .events = POLLIN };
		char *end, *cl;
		ssize_t n;

		if (poll(&p, 1, REQUEST_TIMEOUT) <= 0)
			goto fail;
		n = recv(*fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n <= 0)
			goto fail;
		len += (size_t)n;
		buf[len] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL &&
		    (cl = strcasestr(buf, "Content-Length:")) != NULL &&
		    len >= (size_t)(end + 4 - buf) + strtoul(cl + 15, NULL, 10))
			break;
		if (len >= sizeof(buf) - 1)
			goto fail;
	}
	if (strncmp(buf, "HTTP/1.1 200", 12) != 0)
		goto fail;
	return now_us() - t0;
fail:
	close(*fd);
	*fd = -1;
	return -1;
}

static void *
client_main(void *arg)
{
	struct client *c = arg;
	int fd = -1;

	while (!atomic_load(&stop)) {
		int64_t us = one_request(&fd);

		if (us < 0) {
			c->errors++;
			continue;
		}
		if (c->nlat < c->cap)
			c->lat_us[c->nlat++] = us;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	int nslow = argc > 2 ? atoi(argv[2]) : 2000;
	int seconds = argc > 3 ? atoi(argv[3]) : 10;
	int nclients = argc > 4 ? atoi(argv[4]) : 8;
	struct slow s = { .n = nslow };
	struct client *clients;
	pthread_t slow_thread;
	struct rlimit rl;
	int64_t *all;
	size_t total = 0;
	long errors = 0;
	int64_t t0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PORT [SLOW [SECONDS [CLIENTS]]]\n",
		    argv[0]);
		return 2;
	}
	port = atoi(argv[1]);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	s.fds = malloc((size_t)nslow * sizeof(*s.fds));
	s.next_us = malloc((size_t)nslow * sizeof(*s.next_us));
	for (int i = 0; i < nslow; i++)
		slow_open(&s, i);
	pthread_create(&slow_thread, NULL, slow_main, &s);
	sleep(1);
	clients = calloc((size_t)nclients, sizeof(*clients));
	t0 = now_us();
	for (int i = 0; i < nclients; i++) {
		clients[i].cap = MAX_SAMPLES / (size_t)nclients;
		clients[i].lat_us = malloc(clients[i].cap * sizeof(int64_t));
		pthread_create(
		    &clients[i].thread, NULL, client_main, &clients[i]);
	}
	sleep((unsigned)seconds);
	atomic_store(&stop, true);
	for (int i = 0; i < nclients; i++) {
		pthread_join(clients[i].thread, NULL);
		total += clients[i].nlat;
		errors += clients[i].errors;
	}
	t0 = now_us() - t0;
	pthread_join(slow_thread, NULL);
	all = malloc((total + 1) * sizeof(*all));
	total = 0;
	for (int i = 0; i < nclients; i++) {
		memcpy(all + total, clients[i].lat_us,
		    clients[i].nlat * sizeof(int64_t));
		total += clients[i].nlat;
		free(clients[i].lat_us);
	}
	qsort(all, total, sizeof(*all), cmp_i64);
	printf("%d slow connections (%d open at the end, %ld closed by the "
	       "server), %d clients, %d s: %.0f req/s",
	    nslow, atomic_load(&s.open), atomic_load(&s.reconnects), nclients,
	    seconds, (double)total * 1e6 / (double)t0);
	if (total > 0)
		printf(", p50 %.2f ms, p99 %.2f ms, max %.2f ms",
		    all[total / 2] / 1000.0, all[total * 99 / 100] / 1000.0,
		    all[total - 1] / 1000.0);
	printf(", %ld failed or timed out\n", errors);
	for (int i = 0; i < nslow; i++)
		if (s.fds[i] >= 0)
			close(s.fds[i]);
	free(all);
	free(clients);
	free(s.fds);
	free(s.next_us);
	return 0;
}
