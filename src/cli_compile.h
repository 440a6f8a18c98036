/*
 * "flamenco-manager compile TYPE JOB.json": run a job type on a job
 * offline and print what the Manager would author, for script authors.
 */
#ifndef FM_CLI_COMPILE_H
#define FM_CLI_COMPILE_H

struct fm_config;

/*
 * TYPE is a job-type name (built-in or from scripts_path) or the path of
 * a .js file. Prints the explained job as JSON on stdout. Returns the
 * process exit code: 0 success, 1 the job did not compile, 2 bad usage.
 */
int cli_compile(
    const struct fm_config *cfg, const char *type, const char *job_path);

#endif
