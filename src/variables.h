/*
 * Configuration variables as Flamenco defines them (getVariables):
 * lookup per audience and platform, {name} expansion for task hand-out
 * and storage answers, and the reverse two-way replacement applied to
 * submitted settings.
 */
#ifndef FM_VARIABLES_H
#define FM_VARIABLES_H

#include <jansson.h>

#include "fm.h"

struct fm_config;

/* The platform the Manager itself runs on ("linux", "darwin", ...). */
const char *variables_manager_platform(void);

/*
 * The value of variable name for audience ("workers"/"users") and
 * platform, including the implicit "jobs". NULL if it has none. Borrowed
 * from cfg.
 */
const char *variables_lookup(const struct fm_config *cfg, const char *name,
    const char *audience, const char *platform);

/* Expand s for (audience, platform) as Flamenco does (tests/check_variables.c).
 * New string. */
char *variables_expand(const struct fm_config *cfg, const char *audience,
    const char *platform, const char *s);

/*
 * Expand every top-level string parameter, and strings inside top-level
 * arrays, of each command of a commands array in place.
 */
void variables_expand_commands(const struct fm_config *cfg,
    const char *audience, const char *platform, json_t *commands);

/*
 * Two-way replacement at submission (submitJob): a string that starts with
 * a two-way variable's value for (workers, platform) gets that prefix
 * replaced by "{name}". Returns a new string, or NULL when unchanged.
 */
char *variables_replace_twoway(
    const struct fm_config *cfg, const char *platform, const char *s);

/* Apply variables_replace_twoway to each top-level string of obj. */
void variables_replace_twoway_object(
    const struct fm_config *cfg, const char *platform, json_t *obj);

/* {"name": {"value": ..., "is_twoway": bool}} for (audience, platform). */
json_t *variables_to_json(
    const struct fm_config *cfg, const char *audience, const char *platform);

#endif
