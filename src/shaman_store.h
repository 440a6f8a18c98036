/*
 * Shaman's file store: files addressed by SHA-256 and size under the
 * shared storage path, uploaded by the Blender add-on (shamanFileStore)
 * and linked into job checkouts (shaman_checkout.h). Layout:
 *
 *   ROOT/file-store/stored/AB/CDEF...(62 hex)/SIZE.blob   a stored file
 *   ROOT/file-store/uploading/SHA-SIZE-RANDOM.tmp          an upload under way
 *   ROOT/jobs/CHECKOUT/...                                 checkouts (symlinks)
 *
 * An upload streams into its own temporary file (O_EXCL) while it is
 * hashed; only once its size and checksum match the claim and it is on
 * disk (fsync) is it linked into stored/ with link(2), which never
 * replaces: of two identical uploads at once, one links and the other
 * finds the file there, and both succeed. A stored file is thus always
 * complete. Thread-safe; the uploads in progress are known in memory.
 */
#ifndef FM_SHAMAN_STORE_H
#define FM_SHAMAN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fm.h"

#define SHAMAN_CHECKSUM_LEN 64 /* lower-case hex SHA-256 */

struct shaman_store;
struct shaman_upload;

enum shaman_status {
	SHAMAN_STATUS_UNKNOWN,
	SHAMAN_STATUS_UPLOADING,
	SHAMAN_STATUS_STORED,
};

/* How an upload ended. */
enum shaman_result {
	SHAMAN_STORED,   /* this upload made the stored file */
	SHAMAN_KNOWN,    /* the file was stored already (by another) */
	SHAMAN_MISMATCH, /* size or checksum differ from the claim */
	SHAMAN_NOSPACE,  /* the disk is full (or a file-size limit hit) */
	SHAMAN_IO,       /* another I/O failure, logged */
};

/* "unknown", "uploading", "stored" (Flamenco's ShamanFileStatus). */
const char *shaman_status_name(enum shaman_status status);

/* 64 hex digits; upper case is accepted and folded by the callers. */
bool shaman_checksum_valid(const char *checksum);

/*
 * Open the store under root (the shared storage path), creating its
 * directories. *err_out gets one line on failure (new).
 */
FM_MUST_CHECK enum fm_err shaman_store_open(
    const char *root, struct shaman_store **store_out, char **err_out);

/* NULL-safe; no upload may be open. */
void shaman_store_free(struct shaman_store *store);

/*
 * Garbage collection removes stored files older than max_age_s: files
 * asked for are touched at most half that age apart (and at most hourly).
 * Call before the store is shared between threads.
 */
void shaman_store_set_max_age(struct shaman_store *store, int64_t max_age_s);

/*
 * The store's GC lock. Garbage collection holds it for writing
 * (shaman_store_gc_begin/end); whatever must not have stored files
 * vanish half way (publishing an upload, making a checkout) holds it for
 * reading (shaman_store_use/unuse).
 */
void shaman_store_use(struct shaman_store *store);
void shaman_store_unuse(struct shaman_store *store);
void shaman_store_gc_begin(struct shaman_store *store);
void shaman_store_gc_end(struct shaman_store *store);

/* Borrowed paths: ROOT/file-store/stored, .../uploading, ROOT/jobs. */
const char *shaman_store_stored_dir(const struct shaman_store *store);
const char *shaman_store_uploading_dir(const struct shaman_store *store);
const char *shaman_store_jobs_dir(const struct shaman_store *store);

/* The stored file's path for checksum and size (new). */
char *shaman_store_blob_path(
    const struct shaman_store *store, const char *checksum, int64_t size);

/*
 * The file's status. With touch, a stored file's mtime is set to now, so
 * garbage collection (which goes by age) keeps what is still asked for.
 */
enum shaman_status shaman_store_status(
    struct shaman_store *store, const char *checksum, int64_t size, bool touch);

/*
 * Start receiving a file: a new temporary file, registered as uploading.
 * FM_ERR_IO (logged) when it cannot be made; *nospace_out is then set
 * when the disk is too full for size bytes.
 */
FM_MUST_CHECK enum fm_err shaman_upload_begin(struct shaman_store *store,
    const char *checksum, int64_t size, struct shaman_upload **up_out,
    bool *nospace_out);

/*
 * More bytes. A non-OK result says the upload has failed: more bytes than
 * claimed (SHAMAN_MISMATCH), the disk is full (SHAMAN_NOSPACE) or another
 * write error (SHAMAN_IO). Later calls return the same.
 */
enum shaman_result shaman_upload_write(
    struct shaman_upload *up, const void *data, size_t len);

/*
 * All bytes are in: check the size and checksum, flush to disk and link
 * into place. SHAMAN_STORED or SHAMAN_KNOWN on success. The temporary
 * file is gone afterwards in every case.
 */
enum shaman_result shaman_upload_finish(struct shaman_upload *up);

/* Bytes received so far. */
uint64_t shaman_upload_received(const struct shaman_upload *up);

/* Remove the temporary file (if still there) and free. NULL-safe. */
void shaman_upload_free(struct shaman_upload *up);

/*
 * True when path (a file in uploading/, by its name) belongs to an upload
 * in progress, for garbage collection.
 */
bool shaman_store_upload_active(struct shaman_store *store, const char *name);

/* Uploads now writing through a thread of their own (at most 4). */
unsigned shaman_store_writer_threads(struct shaman_store *store);

#endif
