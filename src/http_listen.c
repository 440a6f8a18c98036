/*
 * The HTTP server's listening socket, and how many connections it may
 * hold: the process's open-file limit is raised to its maximum and the
 * connection limit sized from it, since every connection is a descriptor
 * and the usual soft limit of 1024 would cap the Manager at about a
 * thousand clients.
 */
#include "http_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"

/*
 * Descriptors kept back from connections for the database, logs and
 * scripts, and the largest connection limit picked automatically.
 */
#define FD_RESERVE           256
#define AUTO_MAX_CONNECTIONS 16384
#define FD_LIMIT_UNLIMITED   (1 << 20) /* what "unlimited" is taken as */

int
http_listen_socket(const char *listen_addr, char **err_out)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256] = "", port[16] = "";
	const char *colon;
	int fd = -1, err = 0, one = 1;

	colon = strrchr(listen_addr, ':');
	if (colon == NULL || colon[1] == '\0' ||
	    strlen(colon + 1) >= sizeof(port) ||
	    (size_t)(colon - listen_addr) >= sizeof(host)) {
		*err_out = xasprintf(
		    "listen %s: expected HOST:PORT or :PORT", listen_addr);
		return -1;
	}
	memcpy(host, listen_addr, (size_t)(colon - listen_addr));
	snprintf(port, sizeof(port), "%s", colon + 1);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	hints.ai_family = host[0] ? AF_UNSPEC : AF_INET6;
	err = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (err != 0 && host[0] == '\0') {
		hints.ai_family = AF_INET;
		err = getaddrinfo(NULL, port, &hints, &res);
	}
	if (err != 0) {
		*err_out =
		    xasprintf("listen %s: %s", listen_addr, gai_strerror(err));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int zero = 0;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6 && host[0] == '\0')
			setsockopt(
			    fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 1024) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		*err_out = xasprintf(
		    "cannot listen on %s: %s", listen_addr, strerror(err));
	return fd;
}

int
http_listen_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/*
 * Raise the soft limit on open files to the hard one: every connection
 * is a descriptor, and the soft limit is often 1024 where the hard one
 * allows far more. Returns the soft limit now in force.
 */
static uint64_t
fd_limit_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < rl.rlim_max) {
		rlim_t old = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY
		    ? (rlim_t)FD_LIMIT_UNLIMITED
		    : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			log_warn("cannot raise the open-file limit from %llu "
			         "to %llu: %s",
			    (unsigned long long)old,
			    (unsigned long long)rl.rlim_cur, strerror(errno));
			rl.rlim_cur = old;
		}
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > FD_LIMIT_UNLIMITED)
		return FD_LIMIT_UNLIMITED;
	return rl.rlim_cur;
}

unsigned
http_listen_connection_limit(size_t configured, int threads)
{
	uint64_t fds = fd_limit_raise();
	uint64_t fit = fds > 2 * FD_RESERVE ? (fds - FD_RESERVE) / 2 : fds / 4;
	uint64_t limit = configured;

	if (limit == 0) {
		limit = fit < AUTO_MAX_CONNECTIONS ? fit : AUTO_MAX_CONNECTIONS;
		if (limit < 1024)
			log_warn("the open-file limit is %" PRIu64 ", enough "
			         "for %" PRIu64 " HTTP connections; raise it "
			         "(ulimit -n, systemd LimitNOFILE=)",
			    fds, limit);
	} else if (limit > fit) {
		log_warn("http_max_connections = %" PRIu64 " but the "
		         "open-file limit of %" PRIu64 " fits about %" PRIu64
		         "; connections beyond that will fail",
		    limit, fds, fit);
	}
	/* MHD splits the limit between its threads; each needs some. */
	if (limit < (uint64_t)threads * 4)
		limit = (uint64_t)threads * 4;
	return limit > UINT_MAX ? UINT_MAX : (unsigned)limit;
}
