/*
 * sha256.c: thin wrapper over OpenSSL's EVP digest interface.
 * A failure inside libcrypto is a broken installation: exit as internal.
 */
#include <openssl/evp.h>
#include <stdlib.h>

#include "payrun/exitcode.h"
#include "payrun/log.h"
#include "payrun/sha256.h"
#include "payrun/banned.h"

static void
digest_failed(const char *step)
{
	log_error("internal error: libcrypto SHA-256 %s failed", step);
	exit(PAYRUN_EXIT_INTERNAL);
}

void
sha256_init(struct sha256 *d)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		digest_failed("init");
	d->ctx = ctx;
}

void
sha256_update(struct sha256 *d, const void *data, size_t len)
{
	if (EVP_DigestUpdate(d->ctx, data, len) != 1)
		digest_failed("update");
}

void
sha256_final_hex(struct sha256 *d, char hex[SHA256_HEX_LEN])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char     md[EVP_MAX_MD_SIZE];
	unsigned int      len = 0;

	if (EVP_DigestFinal_ex(d->ctx, md, &len) != 1 || len != 32)
		digest_failed("final");
	for (unsigned int i = 0; i < len; i++)
	{
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}

void
sha256_release(struct sha256 *d)
{
	EVP_MD_CTX_free(d->ctx);
	d->ctx = NULL;
}
