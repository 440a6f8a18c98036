/*
 * Directory trees on local and shared storage: made as a whole, removed
 * as a whole. Shared by the Manager's storage, the Shaman store, OpenJD
 * template files and the job deleter.
 */
#ifndef FM_FSUTIL_H
#define FM_FSUTIL_H

#include <stdbool.h>

#include "fm.h"

/*
 * mkdir -p (mode 0755): true when path is a directory afterwards. An
 * entry in the way that is not a directory fails with errno ENOTDIR.
 */
bool fs_mkdirs(const char *path);

/*
 * rm -rf: symbolic links are removed, never followed, and other mounted
 * file systems are not entered. A path that does not exist is fine.
 * FM_ERR_IO (each failure logged) when something could not be removed.
 */
FM_MUST_CHECK enum fm_err fs_remove_tree(const char *path);

#endif
