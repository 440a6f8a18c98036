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
#include "utf8.h"
#include "xmalloc.h"

#define CHECKOUT_PATH_MAX 1024
#define FILE_PATH_MAX     2048
/* Levels of a file path: removal descends them (REMOVE_DEPTH_MAX). */
#define FILE_DEPTH_MAX 256
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

/* The '/' in [path, path+len). */
static size_t
count_slashes(const char *path, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += path[i] == '/';
	return n;
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
		*why_out = "file path is longer than 2048 bytes";
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
	else if (count_slashes(path, len) >= FILE_DEPTH_MAX)
		*why_out = "file path has more than 256 levels";
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

/* Log text for a client's path: escaped, so it cannot forge lines. */
#define SHOWN_MAX 512
static const char *
shown(const char *path, char buf[SHOWN_MAX])
{
	utf8_escape_log(path, buf, SHOWN_MAX);
	return buf;
}

/*
 * Directory levels removal descends, an open descriptor each. Real
 * checkouts are a few levels deep; one deeper (a pathological request
 * or a tree made behind the Manager's back) is reported, not removed.
 */
#define REMOVE_DEPTH_MAX 512

/*
 * Remove directory name under dirfd and all in it, never following a
 * symbolic link: each level is opened relative to its parent with
 * O_NOFOLLOW and its entries go with unlinkat(), so a link planted in a
 * checkout, even mid-walk, is removed, not entered. 0, or -1 (logged)
 * when something stayed; what (the checkout) names the tree in the log.
 */
static int
remove_tree_at(int dirfd, const char *name, const char *what, int depth)
{
	int fd, rc = 0;
	DIR *d;
	struct dirent *de;

	if (depth > REMOVE_DEPTH_MAX) {
		log_error("Shaman: checkout %s nests deeper than %d "
		          "directories; not removed",
		    what, REMOVE_DEPTH_MAX);
		return -1;
	}
	fd = openat(
	    dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (errno == ENOENT)
			return 0;
		log_error("Shaman: cannot open a directory of checkout %s: %s",
		    what, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		bool is_dir = de->d_type == DT_DIR;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type == DT_UNKNOWN)
			is_dir = fstatat(fd, de->d_name, &st,
			             AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISDIR(st.st_mode);
		if (is_dir) {
			if (remove_tree_at(fd, de->d_name, what, depth + 1) !=
			    0)
				rc = -1;
		} else if (unlinkat(fd, de->d_name, 0) != 0 &&
		    errno != ENOENT) {
			log_error("Shaman: cannot remove a file of checkout "
			          "%s: %s",
			    what, strerror(errno));
			rc = -1;
		}
	}
	closedir(d);
	if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) != 0 &&
	    errno != ENOENT) {
		log_error("Shaman: cannot remove checkout %s: %s", what,
		    strerror(errno));
		rc = -1;
	}
	return rc;
}

/*
 * The directory holding the last component of jobs/rel, opened from the
 * jobs directory down with O_NOFOLLOW: a symbolic link on the way (one
 * planted in shared storage, pointing elsewhere) is ELOOP or ENOTDIR,
 * never followed. -1 with errno on failure; *last_out points into rel.
 */
static int
open_parent(const char *jobs, const char *rel, const char **last_out)
{
	int fd = open(jobs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const char *s = rel, *slash;

	while (fd >= 0 && (slash = strchr(s, '/')) != NULL) {
		char *comp = xstrndup(s, (size_t)(slash - s));
		int sub = openat(
		    fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int err = errno;

		free(comp);
		close(fd);
		fd = sub;
		errno = err;
		s = slash + 1;
	}
	*last_out = s;
	return fd;
}

/*
 * Remove the checkout jobs/rel (see shaman_checkout_remove()). *walked_out
 * when the way there held no link, so its empty parents may go too.
 */
static enum fm_err
remove_checkout_dir(const char *jobs, const char *rel, bool *walked_out)
{
	char buf[SHOWN_MAX];
	const char *last, *what = shown(rel, buf);
	int fd = open_parent(jobs, rel, &last);
	struct stat st;
	enum fm_err rc = FM_OK;

	*walked_out = fd >= 0;
	if (fd < 0) {
		if (errno == ENOENT)
			return FM_OK; /* not there: nothing to do */
		if (errno == ELOOP || errno == ENOTDIR) {
			log_warn("Shaman: checkout %s: a link or file on the "
			         "way there; left alone",
			    what);
			return FM_OK;
		}
		log_error("Shaman: checkout %s: cannot open its directory: %s",
		    what, strerror(errno));
		return FM_ERR_IO;
	}
	if (fstatat(fd, last, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno != ENOENT) {
			log_error(
			    "Shaman: checkout %s: %s", what, strerror(errno));
			rc = FM_ERR_IO;
		}
	} else if (!S_ISDIR(st.st_mode)) {
		log_warn(
		    "Shaman: checkout %s is not a directory; left alone", what);
	} else if (remove_tree_at(fd, last, what, 0) != 0) {
		rc = FM_ERR_IO;
	} else {
		log_info("Shaman: checkout %s removed", what);
	}
	close(fd);
	return rc;
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
 * Every checkout root holds this file, written right after its mkdir:
 * it tells a checkout from the plain directories above checkouts
 * without reading their contents (and so without trusting d_type).
 */
#define CHECKOUT_MARKER ".shaman-checkout"

/* Checkout directories are made, and empty parents removed, one at a
 * time: two requests at once cannot both pass the nesting checks. */
static pthread_mutex_t checkout_dirs_lock = PTHREAD_MUTEX_INITIALIZER;

/* dir (absolute) is a checkout root. */
static bool
is_checkout(const char *dir)
{
	char *marker = xasprintf("%s/" CHECKOUT_MARKER, dir);
	struct stat st;
	bool found = lstat(marker, &st) == 0 && S_ISREG(st.st_mode);

	free(marker);
	return found;
}

/*
 * jobs/PARENTS or a directory on the way there is a checkout: one made
 * inside it would be deleted with it.
 */
static bool
inside_checkout(const char *jobs, const char *parents)
{
	char *p = xasprintf("%s/%s", jobs, parents);
	bool found = false;

	for (char *s = p + strlen(jobs) + 1; !found; s++) {
		bool end = *s == '\0';

		if (*s != '/' && !end)
			continue;
		*s = '\0';
		found = is_checkout(p);
		if (end)
			break;
		*s = '/';
	}
	free(p);
	return found;
}

/* Remove the empty directories above dir, up to the jobs directory.
 * Under checkout_dirs_lock. */
static void
remove_empty_parents(const char *jobs, const char *dir)
{
	char *p = xstrdup(dir), *slash;

	while ((slash = strrchr(p, '/')) != NULL &&
	    (size_t)(slash - p) > strlen(jobs)) {
		*slash = '\0';
		if (rmdir(p) != 0 && errno != ENOENT)
			break; /* not empty: another checkout's */
	}
	free(p);
}

/* The errno of a failed mkdir as a result: the client's path or us. */
static enum fm_err
mkdir_failure(const char *rel, char **err_out)
{
	int err = errno;

	*err_out = xasprintf(
	    "cannot create checkout directory %s: %s", rel, strerror(err));
	return err == ENOTDIR || err == ENAMETOOLONG ? FM_ERR_INVALID
	                                             : FM_ERR_IO;
}

/*
 * Make jobs/rel with its marker, unless that would nest checkouts.
 * *taken_out when jobs/rel is a checkout already (try a variant).
 * Under checkout_dirs_lock.
 */
static enum fm_err
make_one_checkout_dir(const char *jobs, const char *want, char *rel,
    bool *taken_out, char **err_out)
{
	char *dir = xasprintf("%s/%s", jobs, rel), *marker, buf[SHOWN_MAX];
	char *parent = strrchr(rel, '/');
	struct stat st;
	enum fm_err rc = FM_OK;
	int fd;

	*taken_out = false;
	if (parent != NULL) {
		*parent = '\0';
		if (inside_checkout(jobs, rel)) {
			*err_out = xasprintf("checkout path \"%s\" lies "
			                     "inside another checkout",
			    want);
			rc = FM_ERR_CONFLICT;
		} else if (mkdirs_under(jobs, rel) != 0) {
			rc = mkdir_failure(rel, err_out);
		}
		*parent = '/';
		if (rc != FM_OK) {
			remove_empty_parents(jobs, dir);
			goto out;
		}
	}
	if (mkdir(dir, 0755) != 0) {
		if (errno != EEXIST)
			rc = mkdir_failure(rel, err_out);
		else if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
		    !is_checkout(dir)) {
			*err_out = xasprintf("checkout path \"%s\" holds "
			                     "other checkouts",
			    want);
			rc = FM_ERR_CONFLICT;
		} else {
			*taken_out = true;
			goto out;
		}
		remove_empty_parents(jobs, dir);
		goto out;
	}
	marker = xasprintf("%s/" CHECKOUT_MARKER, dir);
	fd = open(marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || close(fd) != 0) {
		*err_out =
		    xasprintf("cannot create %s: %s", marker, strerror(errno));
		log_error("Shaman: %s", shown(*err_out, buf));
		(void)rmdir(dir);
		remove_empty_parents(jobs, dir);
		rc = FM_ERR_IO;
	}
	free(marker);
out:
	free(dir);
	return rc;
}

/* Create jobs/want or a variant; *dir_out (new, absolute) on success. */
static enum fm_err
make_checkout_dir(const char *jobs, const char *want, char **rel_out,
    char **dir_out, char **err_out)
{
	for (int i = 0; i < CHECKOUT_TRIES; i++) {
		char *rel;
		uint32_t token;
		enum fm_err rc;
		bool taken;

		if (i == 0) {
			rel = xstrdup(want);
		} else {
			if (getrandom(&token, sizeof(token), 0) !=
			    sizeof(token))
				token = (uint32_t)rand();
			rel =
			    xasprintf("%s-%06" PRIx32, want, token & 0xffffff);
		}
		pthread_mutex_lock(&checkout_dirs_lock);
		rc = make_one_checkout_dir(jobs, want, rel, &taken, err_out);
		pthread_mutex_unlock(&checkout_dirs_lock);
		if (rc == FM_OK && !taken) {
			*rel_out = rel;
			*dir_out = xasprintf("%s/%s", jobs, rel);
			return FM_OK;
		}
		free(rel);
		if (rc != FM_OK)
			return rc;
	}
	*err_out = xasprintf("checkout path \"%s\" and %d variants of it are "
	                     "taken",
	    want, CHECKOUT_TRIES - 1);
	return FM_ERR_CONFLICT;
}

/* Every file is stored (touched, so GC keeps it); FM_ERR_NOTFOUND with
 * *err_out naming the first missing one. Under the GC lock (read). */
static enum fm_err
all_stored(struct shaman_store *store, const struct shaman_file *files,
    size_t nfiles, char **err_out)
{
	for (size_t i = 0; i < nfiles; i++) {
		if (shaman_store_status(store, files[i].checksum, files[i].size,
		        true) != SHAMAN_STATUS_STORED) {
			*err_out = xasprintf("file \"%s\" is not stored on "
			                     "the Manager; upload it first",
			    files[i].path);
			return FM_ERR_NOTFOUND;
		}
	}
	return FM_OK;
}

static enum fm_err
create_locked(struct shaman_store *store, const char *path,
    const struct shaman_file *files, size_t nfiles, char **actual_out,
    char **err_out)
{
	const char *jobs = shaman_store_jobs_dir(store);
	char *rel = NULL, *dir = NULL, buf[SHOWN_MAX];
	enum fm_err rc;

	if ((rc = all_stored(store, files, nfiles, err_out)) != FM_OK)
		return rc;
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
			log_error("Shaman: %s", shown(*err_out, buf));
			rc = FM_ERR_IO;
		}
		if (rc != FM_OK) {
			bool walked;

			if (remove_checkout_dir(jobs, rel, &walked) == FM_OK &&
			    walked) {
				pthread_mutex_lock(&checkout_dirs_lock);
				remove_empty_parents(jobs, dir);
				pthread_mutex_unlock(&checkout_dirs_lock);
			}
			free(rel);
			free(dir);
			return rc;
		}
	}
	log_info(
	    "Shaman: checkout %s made with %zu files", shown(rel, buf), nfiles);
	free(dir);
	*actual_out = rel;
	return FM_OK;
}

enum fm_err
shaman_checkout_create(struct shaman_store *store, const char *path,
    const struct shaman_file *files, size_t nfiles, char **actual_out,
    char **err_out)
{
	enum fm_err rc;

	*actual_out = NULL;
	*err_out = NULL;
	/* Garbage collection waits until every link is made. */
	shaman_store_use(store);
	rc = create_locked(store, path, files, nfiles, actual_out, err_out);
	shaman_store_unuse(store);
	return rc;
}

enum fm_err
shaman_checkout_remove(struct shaman_store *store, const char *path)
{
	const char *jobs = shaman_store_jobs_dir(store);
	const char *why;
	char *dir;
	bool walked;
	enum fm_err rc;

	if (!shaman_checkout_path_valid(path, strlen(path), &why))
		return FM_ERR_INVALID;
	rc = remove_checkout_dir(jobs, path, &walked);
	if (rc != FM_OK || !walked)
		return rc;
	/* Parents that held only this checkout go too. */
	dir = xasprintf("%s/%s", jobs, path);
	pthread_mutex_lock(&checkout_dirs_lock);
	remove_empty_parents(jobs, dir);
	pthread_mutex_unlock(&checkout_dirs_lock);
	free(dir);
	return FM_OK;
}

/* --- garbage collection --------------------------------------------- */

/*
 * The stored files checkouts link to, by (st_dev, st_ino) from stat() on
 * each link: no path spelling (a relative link, "./" or "//" in the
 * storage path) can make a linked file look unlinked. A sorted array for
 * bsearch.
 */
struct file_id {
	dev_t dev;
	ino_t ino;
};

struct linkset {
	struct file_id *v;
	size_t n, cap;
	bool incomplete; /* some directory or entry could not be read */
};

/* nftw() passes no user pointer: these hold the walk's state, under
 * shaman_gc()'s lock. */
static struct linkset *gc_links;

static int
collect_link(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	struct stat target;
	char buf[SHOWN_MAX];

	(void)st;
	(void)ftw;
	if (flag == FTW_DNR || flag == FTW_NS) {
		log_warn("Shaman: garbage collection cannot read %s",
		    shown(path, buf));
		gc_links->incomplete = true;
		return 0;
	}
	if (flag != FTW_SL)
		return 0;
	if (stat(path, &target) != 0) {
		/* A dangling link keeps nothing; anything else might. */
		if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP) {
			log_warn("Shaman: garbage collection cannot follow "
			         "%s: %s",
			    shown(path, buf), strerror(errno));
			gc_links->incomplete = true;
		}
		return 0;
	}
	if (!S_ISREG(target.st_mode))
		return 0;
	if (gc_links->n == gc_links->cap) {
		gc_links->cap = gc_links->cap ? gc_links->cap * 2 : 1024;
		gc_links->v =
		    xrealloc(gc_links->v, gc_links->cap * sizeof(*gc_links->v));
	}
	gc_links->v[gc_links->n++] =
	    (struct file_id){ target.st_dev, target.st_ino };
	return 0;
}

static int
cmp_file_id(const void *a, const void *b)
{
	const struct file_id *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return 0;
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
	struct file_id id;

	if (flag == FTW_DP) {
		/* Empty hash directories go; rmdir fails on the others. */
		if (ftw->level > 0)
			(void)rmdir(path);
		return 0;
	}
	if (flag != FTW_F || st->st_mtime >= gc_cur->cutoff)
		return 0;
	id = (struct file_id){ st->st_dev, st->st_ino };
	if (gc_cur->links->n > 0 &&
	    bsearch(&id, gc_cur->links->v, gc_cur->links->n,
	        sizeof(*gc_cur->links->v), cmp_file_id) != NULL) {
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
	struct linkset links = { NULL, 0, 0, false };
	struct gc_walk walk;
	time_t now = time(NULL);
	DIR *d;
	struct dirent *de;

	memset(stats_out, 0, sizeof(*stats_out));
	pthread_mutex_lock(&gc_lock);
	shaman_store_gc_begin(store);
	/*
	 * First every link, so a blob a checkout uses is never removed. Not
	 * FTW_MOUNT: a checkout on another mount still links here. When the
	 * scan is incomplete, no stored file is removed this round.
	 */
	gc_links = &links;
	if (nftw(shaman_store_jobs_dir(store), collect_link, 16, FTW_PHYS) !=
	    0) {
		log_warn("Shaman: garbage collection cannot scan %s: %s",
		    shaman_store_jobs_dir(store), strerror(errno));
		links.incomplete = true;
	}
	gc_links = NULL;
	if (links.incomplete) {
		log_warn("Shaman: garbage collection removes no stored files "
		         "this time: the checkouts could not all be read");
	} else {
		if (links.n > 0)
			qsort(links.v, links.n, sizeof(*links.v), cmp_file_id);
		walk.links = &links;
		walk.cutoff = now - (time_t)max_age_s;
		walk.stats = stats_out;
		gc_cur = &walk;
		(void)nftw(shaman_store_stored_dir(store), collect_old_blob, 16,
		    FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
		gc_cur = NULL;
	}
	shaman_store_gc_end(store);
	pthread_mutex_unlock(&gc_lock);
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
