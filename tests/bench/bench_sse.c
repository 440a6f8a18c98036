/*
 * Event fan-out benchmark: opens N Server-Sent Event streams to a running
 * Manager, then every 200 ms creates a worker tag and times how long each
 * stream takes to show its /workertags event (commit to client). Prints
 * the latency percentiles over all streams and samples, and how many
 * streams were cut off. Single-threaded epoll; raw HTTP/1.0 sockets.
 *
 * Usage: bench_sse PORT STREAMS SECONDS
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SAMPLE_EVERY_US (200 * 1000LL)
#define MAX_SAMPLES     1024

struct stream {
	int fd;
	char tail[64]; /* end of what was read, to find split markers */
	size_t seen;   /* samples this stream has shown */
	bool open;
};

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
dial(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("connect");
		exit(1);
	}
	return fd;
}

/* POST a tag named bench-N; returns once the Manager answered. */
static void
make_tag(int port, int n)
{
	char body[64], req[256], buf[1024];
	int fd = dial(port), len;

	len = snprintf(body, sizeof(body), "{\"name\": \"bench-%d\"}", n);
	snprintf(req, sizeof(req),
	    "POST /api/v3/worker-mgt/tags HTTP/1.0\r\nHost: b\r\n"
	    "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
	    len, body);
	if (write(fd, req, strlen(req)) < 0)
		perror("write");
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
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
	int port, nstreams, seconds, ep, nsamples = 0, cut = 0;
	struct rlimit rl;
	struct stream *s;
	int64_t sent_at[MAX_SAMPLES], *lat, end, next_sample;
	size_t nlat = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: bench_sse PORT STREAMS SECONDS\n");
		return 2;
	}
	port = atoi(argv[1]);
	nstreams = atoi(argv[2]);
	seconds = atoi(argv[3]);
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	s = calloc((size_t)nstreams, sizeof(*s));
	lat = calloc((size_t)nstreams * MAX_SAMPLES, sizeof(*lat));
	ep = epoll_create1(0);
	for (int i = 0; i < nstreams; i++) {
		static const char req[] =
		    "GET /api/v3/events HTTP/1.0\r\nHost: b\r\n\r\n";
		struct epoll_event e = { .events = EPOLLIN,
			.data.u32 = (uint32_t)i };

		s[i].fd = dial(port);
		s[i].open = true;
		if (write(s[i].fd, req, sizeof(req) - 1) < 0)
			perror("write");
		epoll_ctl(ep, EPOLL_CTL_ADD, s[i].fd, &e);
	}
	end = now_us() + (int64_t)seconds * 1000000;
	next_sample = now_us() + SAMPLE_EVERY_US;
	while (now_us() < end) {
		struct epoll_event evs[256];
		int n;

		if (now_us() >= next_sample && nsamples < MAX_SAMPLES) {
			sent_at[nsamples] = now_us();
			make_tag(port, nsamples);
			nsamples++;
			next_sample = now_us() + SAMPLE_EVERY_US;
		}
		n = epoll_wait(ep, evs, 256, 10);
		for (int k = 0; k < n; k++) {
			struct stream *st = &s[evs[k].data.u32];
			char buf[65536 + 64], *p;
			size_t keep = strlen(st->tail);
			ssize_t r;

			memcpy(buf, st->tail, keep);
			r = read(st->fd, buf + keep, 65536);
			if (r <= 0) {
				if (st->open)
					cut++;
				st->open = false;
				epoll_ctl(ep, EPOLL_CTL_DEL, st->fd, NULL);
				continue;
			}
			buf[keep + (size_t)r] = '\0';
			for (p = buf; (p = strstr(p, "\"bench-")) != NULL;
			     p++) {
				int idx = atoi(p + 7);

				if (p >= buf + keep || idx >= (int)st->seen) {
					if (idx < nsamples &&
					    idx >= (int)st->seen) {
						lat[nlat++] =
						    now_us() - sent_at[idx];
						st->seen = (size_t)idx + 1;
					}
				}
			}
			keep = strlen(buf) > 40 ? 40 : strlen(buf);
			memcpy(st->tail, buf + strlen(buf) - keep, keep);
			st->tail[keep] = '\0';
		}
	}
	qsort(lat, nlat, sizeof(*lat), cmp_i64);
	printf("%d streams, %d samples: %zu deliveries of %zu expected; "
	       "%d streams cut off\n",
	    nstreams, nsamples, nlat, (size_t)nstreams * (size_t)nsamples, cut);
	if (nlat > 0)
		printf("commit-to-client latency: p50 %.1f ms, p99 %.1f ms, "
		       "max %.1f ms (target p99 < 50 ms)\n",
		    lat[nlat / 2] / 1000.0, lat[nlat * 99 / 100] / 1000.0,
		    lat[nlat - 1] / 1000.0);
	for (int i = 0; i < nstreams; i++)
		close(s[i].fd);
	free(s);
	free(lat);
	return 0;
}
