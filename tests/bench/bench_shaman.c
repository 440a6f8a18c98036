/*
 * Shaman over loopback against a running Manager: a 1 GB upload
 * (generated on the fly, never held in memory; hashing on the Manager
 * included) with the Manager's peak RSS before and after, then checkout
 * requirements and checkout creation for many small files.
 *
 * usage: bench_shaman PORT PID [MB [FILES]]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sha256.h"

#define CHUNK (1 << 20)

static int port;

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long
vm_kb(int pid, const char *field)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, strlen(field)) == 0)
			kb = strtol(line + strlen(field) + 1, NULL, 10);
	fclose(f);
	return kb;
}

static int
dial(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("connect");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void
send_all(int fd, const void *p, size_t len)
{
	const char *s = p;

	while (len > 0) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

		if (n <= 0) {
			perror("send");
			exit(1);
		}
		s += n;
		len -= (size_t)n;
	}
}

/*
 * Read one response on fd; returns the status, the body (new) in
 * *body_out when asked for.
 */
static int
read_response(int fd, char **body_out)
{
	size_t cap = 1 << 16, len = 0, clen = 0, head = 0;
	char *buf = malloc(cap), *end, *cl;
	int status = 0;

	for (;;) {
		ssize_t n;

		if (len + 1 >= cap)
			buf = realloc(buf, cap *= 2);
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		/* An offset, not a pointer: the buffer moves as it grows. */
		if (head == 0 && (end = strstr(buf, "\r\n\r\n")) != NULL) {
			head = (size_t)(end + 4 - buf);
			sscanf(buf, "HTTP/1.1 %d", &status);
			cl = strcasestr(buf, "Content-Length:");
			clen = cl != NULL && cl < end
			    ? strtoul(cl + 15, NULL, 10)
			    : 0;
		}
		if (head != 0 && len >= head + clen)
			break;
	}
	if (body_out != NULL)
		*body_out = head != 0 ? strdup(buf + head) : strdup("");
	free(buf);
	return status;
}

static int
post_json(int fd, const char *path, const char *json, char **body_out)
{
	char head[256];

	snprintf(head, sizeof(head),
	    "POST %s HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n",
	    path, strlen(json));
	send_all(fd, head, strlen(head));
	send_all(fd, json, strlen(json));
	return read_response(fd, body_out);
}

static void
hex(const unsigned char d[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* Deterministic bytes: the same stream for hashing and for sending. */
static void
fill(unsigned char *buf, size_t len, uint64_t *state)
{
	for (size_t i = 0; i + 8 <= len; i += 8) {
		*state ^= *state << 13;
		*state ^= *state >> 7;
		*state ^= *state << 17;
		memcpy(buf + i, state, 8);
	}
}

static void
big_upload(int pid, uint64_t size)
{
	unsigned char *buf = malloc(CHUNK), d[32];
	struct sha256_ctx c;
	uint64_t state = 88172645463325252ULL;
	char sum[65], head[512];
	int64_t t0, t1;
	int fd, status;
	long hwm0 = vm_kb(pid, "VmHWM"), rss0 = vm_kb(pid, "VmRSS");

	sha256_init(&c);
	for (uint64_t off = 0; off < size; off += CHUNK) {
		size_t n = size - off < CHUNK ? size - off : CHUNK;

		fill(buf, CHUNK, &state);
		sha256_update(&c, buf, n);
	}
	sha256_final(&c, d);
	hex(d, sum);
	fd = dial();
	snprintf(head, sizeof(head),
	    "POST /api/v3/shaman/files/%s/%llu HTTP/1.1\r\nHost: b\r\n"
	    "Content-Type: application/octet-stream\r\n"
	    "X-Shaman-Can-Defer-Upload: False\r\n"
	    "X-Shaman-Original-Filename: big.bin\r\n"
	    "Content-Length: %llu\r\n\r\n",
	    sum, (unsigned long long)size, (unsigned long long)size);
	state = 88172645463325252ULL;
	t0 = now_us();
	send_all(fd, head, strlen(head));
	for (uint64_t off = 0; off < size; off += CHUNK) {
		size_t n = size - off < CHUNK ? size - off : CHUNK;

		fill(buf, CHUNK, &state);
		send_all(fd, buf, n);
	}
	status = read_response(fd, NULL);
	t1 = now_us();
	close(fd);
	printf("upload %llu MB: %d in %.2f s = %.0f MB/s (target >= 500 MB/s); "
	       "Manager RSS %ld KiB before, %ld KiB after, peak %ld -> %ld "
	       "KiB\n",
	    (unsigned long long)(size / 1000000), status,
	    (double)(t1 - t0) / 1e6, (double)size / (double)(t1 - t0), rss0,
	    vm_kb(pid, "VmRSS"), hwm0, vm_kb(pid, "VmHWM"));
	free(buf);
}

/* {"files": [...], "checkoutPath": "..."} for n small files (new). */
static char *
files_json(int n, const char (*sums)[65], const char *checkout)
{
	size_t cap = (size_t)n * 160 + 256, len = 0;
	char *s = malloc(cap);

	len += (size_t)snprintf(s + len, cap - len, "{\"files\": [");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len,
		    "%s{\"sha\": \"%s\", \"size\": 16, \"path\": "
		    "\"textures/set%03d/file%05d.png\"}",
		    i ? "," : "", sums[i], i / 100, i);
	snprintf(s + len, cap - len, "], \"checkoutPath\": \"%s\"}", checkout);
	return s;
}

static void
many_files(int n)
{
	char(*sums)[65] = calloc((size_t)n, 65), *json, *body;
	int fd = dial(), status, listed;
	int64_t t0, best;

	for (int i = 0; i < n; i++) {
		unsigned char data[16] = { 0 }, d[32];
		struct sha256_ctx c;

		snprintf((char *)data, sizeof(data), "file %d", i);
		sha256_init(&c);
		sha256_update(&c, data, 16);
		sha256_final(&c, d);
		hex(d, sums[i]);
	}
	json = files_json(n, (const char(*)[65])sums, "bench");
	t0 = now_us();
	status =
	    post_json(fd, "/api/v3/shaman/checkout/requirements", json, &body);
	listed = 0;
	for (char *p = body; (p = strstr(p, "\"status\"")) != NULL; p++)
		listed++;
	printf("requirements, %d files none stored: %d, %d listed, %.1f ms "
	       "(target < 100 ms)\n",
	    n, status, listed, (double)(now_us() - t0) / 1000);
	free(body);
	/* Upload them all, one request each on one connection. */
	t0 = now_us();
	for (int i = 0; i < n; i++) {
		unsigned char data[16] = { 0 };
		char head[256];

		snprintf((char *)data, sizeof(data), "file %d", i);
		snprintf(head, sizeof(head),
		    "POST /api/v3/shaman/files/%s/16 HTTP/1.1\r\nHost: b\r\n"
		    "Content-Type: application/octet-stream\r\n"
		    "Content-Length: 16\r\n\r\n",
		    sums[i]);
		send_all(fd, head, strlen(head));
		send_all(fd, data, 16);
		if ((status = read_response(fd, NULL)) != 204) {
			printf("upload %d: %d\n", i, status);
			exit(1);
		}
	}
	printf("uploaded %d small files in %.0f ms (%.0f/s)\n", n,
	    (double)(now_us() - t0) / 1000,
	    n / ((double)(now_us() - t0) / 1e6));
	best = INT64_MAX;
	for (int r = 0; r < 3; r++) {
		t0 = now_us();
		status = post_json(
		    fd, "/api/v3/shaman/checkout/requirements", json, &body);
		if (now_us() - t0 < best)
			best = now_us() - t0;
		free(body);
	}
	printf("requirements, %d files all stored: %d, best of 3 %.1f ms "
	       "(target < 100 ms)\n",
	    n, status, (double)best / 1000);
	best = INT64_MAX;
	for (int r = 0; r < 3; r++) {
		t0 = now_us();
		status = post_json(
		    fd, "/api/v3/shaman/checkout/create", json, &body);
		if (now_us() - t0 < best)
			best = now_us() - t0;
		if (r == 0)
			printf("checkout create: %d %s\n", status, body);
		free(body);
	}
	printf("checkout create, %d files: best of 3 %.1f ms (target < 1 s)\n",
	    n, (double)best / 1000);
	close(fd);
	free(json);
	free(sums);
}

int
main(int argc, char **argv)
{
	int pid;
	uint64_t mb;
	int files;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_shaman PORT PID [MB [FILES]]\n");
		return 2;
	}
	port = atoi(argv[1]);
	pid = atoi(argv[2]);
	mb = argc > 3 ? strtoull(argv[3], NULL, 10) : 1000;
	files = argc > 4 ? atoi(argv[4]) : 10000;
	if (mb > 0)
		big_upload(pid, mb * 1000000);
	if (files > 0)
		many_files(files);
	return 0;
}
