/*
 * The optional admin password (config key admin_password, beyond
 * Flamenco): the check the HTTP layer runs for ROUTE_ADMIN routes. The
 * password is compared in constant time; a crypt(3) hash is checked by
 * hashing the candidate with it.
 */
#include "api.h"

#include <crypt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "sha256.h"
#include "xmalloc.h"

static void
digest(const char *s, unsigned char out[SHA256_DIGEST_LEN])
{
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, s, strlen(s));
	sha256_final(&ctx, out);
}

/*
 * Whether a equals b, in time that depends on neither: both are hashed
 * first, so even their lengths stay hidden.
 */
static bool
same_secret(const char *a, const char *b)
{
	unsigned char da[SHA256_DIGEST_LEN], db[SHA256_DIGEST_LEN];
	unsigned diff = 0;

	digest(a, da);
	digest(b, db);
	for (size_t i = 0; i < SHA256_DIGEST_LEN; i++)
		diff |= (unsigned)(da[i] ^ db[i]);
	return diff == 0;
}

/* Whether pass is the configured password (plain, or a "$..." hash). */
static bool
password_matches(const char *want, const char *pass)
{
	struct crypt_data *cd;
	const char *got;
	bool ok;

	if (want[0] != '$')
		return same_secret(pass, want);
	/* Large (tens of KiB): not on an HTTP thread's stack. */
	cd = xcalloc(1, sizeof(*cd));
	got = crypt_r(pass, want, cd);
	ok = got != NULL && got[0] == '$' && same_secret(got, want);
	free(cd);
	return ok;
}

/*
 * The http_auth_fn for ROUTE_ADMIN routes. The user name is not checked
 * (any will do; the README says "admin"): the password is the credential.
 */
enum fm_err
api_admin_auth(struct req *req, const char *user, const char *pass)
{
	const struct fm_config *cfg = ((struct fm_ctx *)req_app(req))->cfg;

	(void)user;
	if (cfg->admin_password == NULL || cfg->admin_password[0] == '\0')
		return FM_OK;
	if (pass == NULL)
		return FM_ERR_INVALID;
	if (!password_matches(cfg->admin_password, pass)) {
		log_warn("wrong admin password for %s %s from %s",
		    req_method(req), req_path(req), req_client_ip(req));
		return FM_ERR_INVALID;
	}
	return FM_OK;
}
