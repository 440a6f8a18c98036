/*
 * Shaman checkouts (trees of symlinks into the file store), their removal,
 * and garbage collection of the store. See shaman_checkout.h.
 */
#include "shaman_checkout.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "openjd_expand.h"
#include "shaman_store.h"
#include "xmalloc.h"

#define CHECKOUT_PATH_MAX 1024
#define FILE_PATH_MAX     2048
/* File systems take names of 255 bytes; a checkout's last name may get
 * a "-" and a 6-digit token (make_checkout_dir()), hence 240 there. */
#define NAME_COMPONENT_MAX 255
#define CHECKOUT_NAME_MAX  240
#define CHECKOUT_TRIES     10
/* A temporary file this much older than its last write is abandoned. */
#define STALE_UPLOAD_S 60

/* The longest '/'-separated component of [path, path+len). */
static size_t
longest_component(const char *path, size_t len)
{
	size_t best = 0, cur = 0;

	for (size_t i = 0; i < len; i++) {
		cur = path[i] == '/' ? 0 : cur + 1;
		if (cur > best)
			best = cur;
	}
	return best;
}

/* Some '/'-separated component of [path, path+len) equals comp. */
static bool
has_component(const char *path, size_t len, const char *comp)
{
	size_t clen = strlen(comp);
	const char *end = path + len;

	for (const char *s = path; s <= end;) {
		const char *slash = memchr(s, '/', (size_t)(end - s));
		const char *e = slash != NULL ? slash : end;

		if ((size_t)(e - s) == clen && memcmp(s, comp, clen) == 0)
			return true;
		s = e + 1;
	}
	return false;
}

bool
shaman_checkout_path_valid(const char *path, size_t len, const char **why_out)
{
	static const char banned[] = "?*:;{}\\";

	*why_out = NULL;
	if (len == 0)
		*why_out = "checkout path is empty";
	else if (len > CHECKOUT_PATH_MAX)
		*why_out = "checkout path is longer than 1024 bytes";
	else if (memchr(path, '\0', len) != NULL)
		*why_out = "checkout path contains a NUL character";
	else if (path[0] == '/')
		*why_out = "checkout path must be relative";
	else if (strpbrk(path, banned) != NULL)
		*why_out = "checkout path may not contain ? * : ; { } or \\";
	else if (strstr(path, "../") != NULL || strstr(path, "/..") != NULL ||
	    has_component(path, len, ".."))
		*why_out = "checkout path may not contain \"..\"";
	else if (has_component(path, len, ".") || has_component(path, len, ""))
		*why_out = "checkout path may not contain empty or \".\" "
		           "components";
	else if (longest_component(path, len) > CHECKOUT_NAME_MAX)
		*why_out = "checkout path has a name longer than 240 bytes";
	else if (openjd_files_dir_taken(path, len))
		*why_out = "checkout path may not start with \"openjd/\"";
	return *why_out == NULL;
}

bool
shaman_file_path_valid(const char *path, size_t len, const char **why_out)
{
	*why_out = NULL;
	if (len == 0)
		*why_out = "file path is empty";
	else if (len > FILE_PATH_MAX)
		*why_out = "file path is longer than 4096 bytes";
	else if (memchr(path, '\0', len) != NULL)
		*why_out = "file path contains a NUL character";
	else if (path[0] == '/')
		*why_out = "file path must be relative to the checkout";
	else if (has_component(path, len, ".."))
		*why_out = "file path may not contain \"..\"";
	else if (has_component(path, len, ".") || has_component(path, len, ""))
		*why_out = "file path may not contain empty or \".\" "
		           "components";
	else if (longest_component(path, len) > NAME_COMPONENT_MAX)
		*why_out = "file path has a name longer than 255 bytes";
	return *why_out == NULL;
}

/*
 * mkdir -p of rel under base, refusing to pass through anything but a
 * real directory (a symlink in the way is an error, not followed).
 */
static int
mkdirs_under(const char *base, const char *rel)
{
	char *p = xasprintf("%s/%s", base, rel);
	size_t blen = strlen(base);
	int rc = 0;

	for (char *s = p + blen + 1; rc == 0; s++) {
		bool end = *s == '\0';
		struct stat st;

		if (*s != '/' && !end)
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0) {
			if (errno != EEXIST)
				rc = -1;
			else if (lstat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
				errno = ENOTDIR;
				rc = -1;
			}
		}
		if (end)
			break;
		*s = '/';
	}
	free(p);
	return rc;
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	/* FTW_PHYS: symlinks are reported as FTW_SL and removed, never
	 * followed, so their targets in the store are untouched. */
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) != 0 &&
	    errno != ENOENT)
		log_warn("Shaman: cannot remove %s: %s", path, strerror(errno));
	return 0;
}

static void
remove_tree(const char *dir)
{
	if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) !=
	        0 &&
	    errno != ENOENT)
		log_warn("Shaman: cannot remove %s: %s", dir, strerror(errno));
}

/*
 * The symlink text for a file at jobs/REL/PATH: relative, up to the
 * shared storage root and down to the blob ("../../file-store/..."),
 * so a checkout works wherever a Worker mounts the shared storage.
 */
static char *
link_target(
    const char *jobs, const char *blob, const char *rel, const char *path)
{
	size_t root_len = strlen(jobs) - strlen("/jobs"), ups = 2, n = 0;
	char *out;

	for (const char *s = rel; *s != '\0'; s++)
		ups += *s == '/';
	for (const char *s = path; *s != '\0'; s++)
		ups += *s == '/';
	out = xmalloc(ups * 3 + strlen(blob + root_len + 1) + 1);
	for (size_t i = 0; i < ups; i++, n += 3)
		memcpy(out + n, "../", 3);
	strcpy(out + n, blob + root_len + 1);
	return out;
}

/*
 * Some existing directory on the way to jobs/PARENTS holds a file (a
 * link): it is a checkout, and one inside it would be deleted with it.
 * Directories made only as parents hold nothing but directories.
 */
static bool
inside_checkout(const char *jobs, const char *parents)
{
	char *p = xasprintf("%s/%s", jobs, parents);
	size_t jlen = strlen(jobs);
	bool found = false;

	for (char *s = p + jlen + 1; !found; s++) {
		bool end = *s == '\0';
		DIR *d;
		struct dirent *de;

		if (*s != '/' && !end)
			continue;
		*s = '\0';
		if ((d = opendir(p)) == NULL) {
			*s = end ? '\0' : '/';
			break; /* not there yet: nothing inside it either */
		}
		while (!found && (de = readdir(d)) != NULL)
			found =
			    de->d_type != DT_DIR && de->d_type != DT_UNKNOWN;
		closedir(d);
		if (end)
			break;
		*s = '/';
	}
	free(p);
	return found;
}

/* Create jobs/want or a variant; *dir_out (new, absolute) on success. */
static enum fm_err
make_checkout_dir(const char *jobs, const char *want, char **rel_out,
    char **dir_out, char **err_out)
{
	for (int i = 0; i < CHECKOUT_TRIES; i++) {
		char *rel, *dir, *parent;
		uint32_t token;

		if (i == 0) {
			rel = xstrdup(want);
		} else {
			if (getrandom(&token, sizeof(token), 0) !=
			    sizeof(token))
				token = (uint32_t)rand();
			rel =
			    xasprintf("%s-%06" PRIx32, want, token & 0xffffff);
		}
		dir = xasprintf("%s/%s", jobs, rel);
		parent = strrchr(rel, '/');
		if (parent != NULL) {
			*parent = '\0';
			if (inside_checkout(jobs, rel)) {
				*err_out =
				    xasprintf("checkout path \"%s\" lies "
				              "inside another checkout",
				        want);
				free(rel);
				free(dir);
				return FM_ERR_CONFLICT;
			}
			if (mkdirs_under(jobs, rel) != 0) {
				*err_out = xasprintf("cannot create checkout "
				                     "directory %s: %s",
				    rel, strerror(errno));
				free(rel);
				free(dir);
				return errno == ENOTDIR || errno == ENAMETOOLONG
				    ? FM_ERR_INVALID
				    : FM_ERR_IO;
			}
			*parent = '/';
		}
		if (mkdir(dir, 0755) == 0) {
			*rel_out = rel;
			*dir_out = dir;
			return FM_OK;
		}
		if (errno != EEXIST) {
			enum fm_err rc =
			    errno == ENAMETOOLONG || errno == ENOTDIR
			    ? FM_ERR_INVALID
			    : FM_ERR_IO;

			*err_out = xasprintf("cannot create checkout "
			                     "directory %s: %s",
			    rel, strerror(errno));
			free(rel);
			free(dir);
			return rc;
		}
		free(rel);
		free(dir);
	}
	*err_out = xasprintf("checkout path \"%s\" and %d variants of it are "
	                     "taken",
	    want, CHECKOUT_TRIES - 1);
	return FM_ERR_CONFLICT;
}

enum fm_err
shaman_checkout_create(struct shaman_store *store, const char *path,
    const struct shaman_file *files, size_t nfiles, char **actual_out,
    char **err_out)
{
	const char *jobs = shaman_store_jobs_dir(store);
	char *rel = NULL, *dir = NULL;
	enum fm_err rc;

	*actual_out = NULL;
	*err_out = NULL;
	if ((rc = make_checkout_dir(jobs, path, &rel, &dir, err_out)) != FM_OK)
		return rc;
	for (size_t i = 0; i < nfiles; i++) {
		const struct shaman_file *f = &files[i];
		char *blob =
		    shaman_store_blob_path(store, f->checksum, f->size);
		char *link = xasprintf("%s/%s", dir, f->path);
		char *slash = strrchr(f->path, '/');
		int err = 0;

		if (slash != NULL) {
			char *sub =
			    xstrndup(f->path, (size_t)(slash - f->path));

			if (mkdirs_under(dir, sub) != 0)
				err = errno;
			free(sub);
		}
		if (err == 0) {
			char *target = link_target(jobs, blob, rel, f->path);

			if (symlink(target, link) != 0)
				err = errno;
			free(target);
		}
		if (err == 0)
			(void)utimensat(AT_FDCWD, blob, NULL, 0);
		free(blob);
		free(link);
		if (err == ENAMETOOLONG) {
			*err_out = xasprintf("file path \"%s\" is too long "
			                     "for the file system",
			    f->path);
			rc = FM_ERR_INVALID;
		} else if (err == EEXIST || err == ENOTDIR) {
			*err_out = xasprintf("file path \"%s\" clashes with "
			                     "another file of the checkout",
			    f->path);
			rc = FM_ERR_INVALID;
		} else if (err != 0) {
			*err_out = xasprintf("cannot link %s into checkout "
			                     "%s: %s",
			    f->path, rel, strerror(err));
			log_error("Shaman: %s", *err_out);
			rc = FM_ERR_IO;
		}
		if (rc != FM_OK) {
			remove_tree(dir);
			free(rel);
			free(dir);
			return rc;
		}
	}
	log_info("Shaman: checkout %s made with %zu files", rel, nfiles);
	free(dir);
	*actual_out = rel;
	return FM_OK;
}

enum fm_err
shaman_checkout_remove(struct shaman_store *store, const char *path)
{
	const char *jobs = shaman_store_jobs_dir(store);
	const char *why;
	char *dir, *slash;
	struct stat st;

	if (!shaman_checkout_path_valid(path, strlen(path), &why))
		return FM_ERR_INVALID;
	dir = xasprintf("%s/%s", jobs, path);
	/* A checkout is a real directory; a link there is not followed. */
	if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
		remove_tree(dir);
		log_info("Shaman: checkout %s removed", path);
	} else if (lstat(dir, &st) == 0) {
		log_warn(
		    "Shaman: checkout %s is not a directory; left alone", path);
	}
	/* Parents that held only this checkout go too. */
	while ((slash = strrchr(dir, '/')) != NULL &&
	    (size_t)(slash - dir) > strlen(jobs)) {
		*slash = '\0';
		if (rmdir(dir) != 0)
			break;
	}
	free(dir);
	return FM_OK;
}

/* --- garbage collection --------------------------------------------- */

/* The blob paths checkouts link to: a sorted array for bsearch. */
struct linkset {
	char **v;
	size_t n, cap;
};

/* nftw() passes no user pointer: these hold the walk's state, under
 * shaman_gc()'s lock. */
static struct linkset *gc_links;

/*
 * Where the link at path (absolute) with text target points, as a path
 * spelt like the store's own (lexically: "." and ".." folded), new.
 */
static char *
resolve_link(const char *path, const char *target)
{
	char *joined, *out, *save = NULL;
	size_t n = 0;

	if (target[0] == '/')
		joined = xstrdup(target);
	else
		joined = xasprintf(
		    "%.*s/%s", (int)(strrchr(path, '/') - path), path, target);
	out = xmalloc(strlen(joined) + 2);
	out[0] = '\0';
	for (char *c = strtok_r(joined, "/", &save); c != NULL;
	     c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			while (n > 0 && out[--n] != '/')
				;
			out[n] = '\0';
			continue;
		}
		n += (size_t)sprintf(out + n, "/%s", c);
	}
	if (n == 0)
		strcpy(out, "/");
	free(joined);
	return out;
}

static int
collect_link(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	char target[4096];
	ssize_t n;

	(void)st;
	(void)ftw;
	if (flag != FTW_SL)
		return 0;
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return 0;
	target[n] = '\0';
	if (gc_links->n == gc_links->cap) {
		gc_links->cap = gc_links->cap ? gc_links->cap * 2 : 1024;
		gc_links->v =
		    xrealloc(gc_links->v, gc_links->cap * sizeof(char *));
	}
	gc_links->v[gc_links->n++] = resolve_link(path, target);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct gc_walk {
	struct linkset *links;
	time_t cutoff;
	struct shaman_gc_stats *stats;
};

static struct gc_walk *gc_cur;

static int
collect_old_blob(
    const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	const char *p = path;

	if (flag == FTW_DP) {
		/* Empty hash directories go; rmdir fails on the others. */
		if (ftw->level > 0)
			(void)rmdir(path);
		return 0;
	}
	if (flag != FTW_F || st->st_mtime >= gc_cur->cutoff)
		return 0;
	if (gc_cur->links->n > 0 &&
	    bsearch(&p, gc_cur->links->v, gc_cur->links->n, sizeof(char *),
	        cmp_str) != NULL) {
		gc_cur->stats->blobs_kept_linked++;
		return 0;
	}
	if (unlink(path) == 0) {
		gc_cur->stats->blobs_removed++;
		gc_cur->stats->bytes_removed += (uint64_t)st->st_size;
		log_info("Shaman: garbage collection removed %s", path);
	}
	return 0;
}

void
shaman_gc(struct shaman_store *store, int64_t max_age_s,
    struct shaman_gc_stats *stats_out)
{
	static pthread_mutex_t gc_lock = PTHREAD_MUTEX_INITIALIZER;
	struct linkset links = { NULL, 0, 0 };
	struct gc_walk walk;
	time_t now = time(NULL);
	DIR *d;
	struct dirent *de;

	memset(stats_out, 0, sizeof(*stats_out));
	pthread_mutex_lock(&gc_lock);
	/* First every link, so a blob a checkout uses is never removed. */
	gc_links = &links;
	(void)nftw(shaman_store_jobs_dir(store), collect_link, 16,
	    FTW_PHYS | FTW_MOUNT);
	gc_links = NULL;
	if (links.n > 0)
		qsort(links.v, links.n, sizeof(char *), cmp_str);
	walk.links = &links;
	walk.cutoff = now - (time_t)max_age_s;
	walk.stats = stats_out;
	gc_cur = &walk;
	(void)nftw(shaman_store_stored_dir(store), collect_old_blob, 16,
	    FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	gc_cur = NULL;
	pthread_mutex_unlock(&gc_lock);
	for (size_t i = 0; i < links.n; i++)
		free(links.v[i]);
	free(links.v);

	d = opendir(shaman_store_uploading_dir(store));
	while (d != NULL && (de = readdir(d)) != NULL) {
		char *path;
		struct stat st;

		if (de->d_name[0] == '.' ||
		    shaman_store_upload_active(store, de->d_name))
			continue;
		path = xasprintf(
		    "%s/%s", shaman_store_uploading_dir(store), de->d_name);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_mtime < now - STALE_UPLOAD_S && unlink(path) == 0) {
			stats_out->uploads_removed++;
			log_info("Shaman: garbage collection removed abandoned "
			         "upload %s",
			    path);
		}
		free(path);
	}
	if (d != NULL)
		closedir(d);
	if (stats_out->blobs_removed > 0 || stats_out->uploads_removed > 0)
		log_info("Shaman: garbage collection removed %" PRIu64
		         " files (%" PRIu64 " bytes) and %" PRIu64
		         " abandoned uploads; kept %" PRIu64
		         " old files that checkouts link to",
		    stats_out->blobs_removed, stats_out->bytes_removed,
		    stats_out->uploads_removed, stats_out->blobs_kept_linked);
}
