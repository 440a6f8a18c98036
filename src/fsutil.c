#include "fsutil.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "xmalloc.h"

/* path is a directory afterwards (an existing non-directory: ENOTDIR). */
static bool
mkdir_one(const char *path)
{
	struct stat st;

	if (mkdir(path, 0755) == 0)
		return true;
	if (errno != EEXIST)
		return false;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return true;
	errno = ENOTDIR;
	return false;
}

bool
fs_mkdirs(const char *path)
{
	char *p = xstrdup(path);
	bool ok = true;

	for (char *s = p + 1; ok && *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		ok = mkdir_one(p);
		*s = '/';
	}
	if (ok)
		ok = mkdir_one(p);
	free(p);
	return ok;
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0 && errno != ENOENT) {
		log_error("cannot remove %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

enum fm_err
fs_remove_tree(const char *path)
{
	if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) !=
	        0 &&
	    errno != ENOENT)
		return FM_ERR_IO;
	return FM_OK;
}
