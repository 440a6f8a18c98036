/*
 * flamenco-manager: command line, start-up in dependency order (config,
 * storage, job compiler, HTTP), then wait for SIGINT/SIGTERM and shut
 * down in reverse order.
 */
#include <getopt.h>
#include <pthread.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "app.h"
#include "cli_compile.h"
#include "config.h"
#include "log.h"
#include "timeutil.h"
#include "xmalloc.h"
#include "version.h" /* generated: FM_VERSION, FM_GIT_HASH */

#define DEFAULT_CONFIG "flamenco-manager.conf"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: flamenco-manager [-c FILE] [--listen ADDR] "
	    "[--database PATH]\n"
	    "       flamenco-manager [-c FILE] compile TYPE|FILE.js|FILE.yaml JOB.json\n"
	    "       flamenco-manager --help-config | --version | "
	    "--dump-routes\n"
	    "\n"
	    "  -c, --config FILE   configuration file (default %s)\n"
	    "  --listen ADDR       override \"listen\", e.g. :8080 or "
	    "127.0.0.1:0\n"
	    "  --database PATH     override \"database\"\n"
	    "  --help-config       list every configuration key\n"
	    "  --dump-routes       print the HTTP routes served\n"
	    "  --version           print the version\n",
	    DEFAULT_CONFIG);
}

static int
serve(struct fm_config *cfg)
{
	struct fm_app *app = NULL;
	int64_t t0 = time_mono_us();
	char *err = NULL;
	sigset_t sigs;
	int sig = 0;

	/* Signals go to sigwait() below, not to whichever thread. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A file-size limit (ulimit -f) fails a Shaman upload with EFBIG,
	 * answered 503, instead of killing the Manager. */
	signal(SIGXFSZ, SIG_IGN);

	if (app_start(cfg, &app, &err) != FM_OK) {
		fprintf(stderr, "flamenco-manager: %s\n", err);
		free(err);
		return 1;
	}
	log_info("%s listening on %s (port %d), ready in %" PRId64 " ms",
	    cfg->manager_name, cfg->listen, app_port(app),
	    (time_mono_us() - t0) / 1000);

	sigwait(&sigs, &sig);
	log_info("signal %d: shutting down", sig);
	app_stop(app);
	log_info("shut down cleanly");
	log_shutdown();
	return 0;
}

int
main(int argc, char **argv)
{
	enum {
		OPT_HELP_CONFIG = 256,
		OPT_VERSION,
		OPT_LISTEN,
		OPT_DATABASE,
		OPT_DUMP_ROUTES
	};
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "help-config", no_argument, NULL, OPT_HELP_CONFIG },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "database", required_argument, NULL, OPT_DATABASE },
		{ "dump-routes", no_argument, NULL, OPT_DUMP_ROUTES },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = DEFAULT_CONFIG, *listen_override = NULL,
	           *database_override = NULL;
	bool explicit_config = false;
	struct fm_config *cfg = NULL;
	char *err = NULL;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			explicit_config = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_HELP_CONFIG:
			config_print_help(stdout);
			return 0;
		case OPT_VERSION:
			printf("flamenco-manager %s (git %s), serving the "
			       "Flamenco %s API\n",
			    FM_VERSION, FM_GIT_HASH, API_FLAMENCO_SHORTVERSION);
			return 0;
		case OPT_LISTEN:
			listen_override = optarg;
			break;
		case OPT_DATABASE:
			database_override = optarg;
			break;
		case OPT_DUMP_ROUTES:
			router_dump(
			    api_all_routes, api_all_routes_count, stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc &&
	    !(argc - optind == 3 && strcmp(argv[optind], "compile") == 0)) {
		usage(stderr);
		return 2;
	}

	if (config_load(config_path, !explicit_config, &cfg, &err) != FM_OK ||
	    (listen_override != NULL &&
	        config_set(cfg, "listen", listen_override, &err) != FM_OK) ||
	    (database_override != NULL &&
	        config_set(cfg, "database", database_override, &err) !=
	            FM_OK)) {
		fprintf(stderr, "flamenco-manager: %s\n", err);
		free(err);
		config_free(cfg);
		return 2;
	}
	if (optind != argc) {
		/* "compile TYPE JOB.json": no storage, no HTTP. */
		rc = cli_compile(cfg, argv[optind + 1], argv[optind + 2]);
		config_free(cfg);
		return rc;
	}
	if (!cfg->file_exists)
		fprintf(stderr,
		    "flamenco-manager: no %s, running on defaults\n",
		    config_path);
	rc = serve(cfg);
	config_free(cfg);
	return rc;
}
