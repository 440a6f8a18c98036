/*
 * Shaman checkouts and garbage collection. A checkout is a directory
 * under ROOT/jobs holding, for every file of a job, a symlink to its
 * stored file (shaman_store.h), so the packed .blend and its assets
 * appear to Workers as a plain file tree. Nothing here ever writes,
 * removes or follows a path outside the jobs directory: checkout paths
 * and file paths are checked first (shaman_checkout_path_valid(),
 * shaman_file_path_valid()), and removal deletes the links, never what
 * they point at.
 */
#ifndef FM_SHAMAN_CHECKOUT_H
#define FM_SHAMAN_CHECKOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fm.h"

struct shaman_store;

/* One file of a checkout request. Borrowed strings. */
struct shaman_file {
	const char *checksum; /* valid (shaman_checksum_valid()) */
	int64_t size;
	const char *path; /* valid (shaman_file_path_valid()) */
};

/*
 * A checkout path as Flamenco takes it: matches
 * ^[^/?*:;{}\\][^?*:;{}\\]*$, holds no "../" or "/..", and here also no
 * ".." component, no empty or "." component, no NUL, no more than 1024
 * bytes, no name over 240, and nothing under "openjd/" (any case), where
 * job template files go (openjd_files_dir_taken()). *why_out says what is
 * wrong (static text).
 */
bool shaman_checkout_path_valid(
    const char *path, size_t len, const char **why_out);

/*
 * A file path inside a checkout: relative, not empty, no ".." or empty
 * component ("a//b"), no NUL, no trailing "/", at most 2048 bytes and
 * 256 levels, no name over 255.
 */
bool shaman_file_path_valid(const char *path, size_t len, const char **why_out);

/*
 * Make the checkout: the directory jobs/PATH, or when that exists
 * jobs/PATH-TOKEN with a random token (ten tries), holding a marker file
 * (.shaman-checkout) and a symlink per file to its stored file. Runs
 * under the store's GC lock (read), so garbage collection cannot take a
 * file half way. *actual_out gets the path used, relative to the jobs
 * directory (new). FM_ERR_NOTFOUND (with *err_out, new) when a file is
 * not stored (each stored one is touched, for garbage collection);
 * FM_ERR_INVALID when two files clash ("a" and "a" or "a/b"), a path is
 * too long for the file system or crosses a file; FM_ERR_CONFLICT when
 * every variant is taken, the path lies inside another checkout (whose
 * deletion would take it along) or is a directory holding checkouts;
 * FM_ERR_IO (logged, *err_out) when the disk refuses; nothing is left
 * behind then.
 */
FM_MUST_CHECK enum fm_err shaman_checkout_create(struct shaman_store *store,
    const char *path, const struct shaman_file *files, size_t nfiles,
    char **actual_out, char **err_out);

/*
 * Remove the checkout jobs/PATH and every link in it, then its parents
 * that became empty (up to the jobs directory). Walks from the jobs
 * directory with O_NOFOLLOW and removes with unlinkat(): a symbolic link
 * on the way (planted in shared storage) is never followed; such a
 * checkout is left alone (logged, FM_OK). FM_ERR_INVALID for a path
 * shaman_checkout_path_valid() refuses; FM_ERR_IO (logged) when
 * something could not be removed, so the caller can retry later; a
 * missing checkout is FM_OK.
 */
FM_MUST_CHECK enum fm_err shaman_checkout_remove(
    struct shaman_store *store, const char *path);

struct shaman_gc_stats {
	uint64_t blobs_removed, bytes_removed;
	uint64_t blobs_kept_linked; /* old enough but linked by a checkout */
	uint64_t uploads_removed;   /* stale temporary files */
};

/*
 * Garbage collection: remove stored files whose mtime is older than
 * max_age_s and which no checkout links to (the checkouts are scanned
 * first; a link counts by the file it reaches, by device and inode),
 * and temporary files in uploading/ that belong to no upload in
 * progress and are older than a minute. When some of the checkouts
 * cannot be read, no stored file is removed that round (logged). Logs
 * what it removed.
 */
void shaman_gc(struct shaman_store *store, int64_t max_age_s,
    struct shaman_gc_stats *stats_out);

#endif
