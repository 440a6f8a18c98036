/*
 * The HTTP server's listening socket and its connection limit.
 */
#ifndef FM_HTTP_LISTEN_H
#define FM_HTTP_LISTEN_H

#include <stddef.h>

/*
 * A listening TCP socket for ":PORT", "HOST:PORT" or "[V6]:PORT" (port 0
 * picks a free one). On failure -1, and *err_out gets one line (new).
 */
int http_listen_socket(const char *listen_addr, char **err_out);

/* The port fd is bound to; -1 if unknown. */
int http_listen_port(int fd);

/*
 * Raise the soft open-file limit to the hard one, then return the
 * connection limit to use: configured, or (when 0) what the descriptor
 * limit fits, counting two per connection (a download also holds the file
 * it sends) after a reserve for the database and logs, at most 16384.
 * Never below 4 per thread, as MHD divides the limit among its threads.
 * Warns when the limit is low or beyond what the descriptors allow.
 */
unsigned http_listen_connection_limit(size_t configured, int threads);

#endif
