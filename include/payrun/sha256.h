/*
 * sha256.h: SHA-256 digests of inputs and outputs (OpenSSL libcrypto).
 */
#ifndef PAYRUN_SHA256_H
#define PAYRUN_SHA256_H

#include <stddef.h>

#define SHA256_HEX_LEN 65 /* 64 hex digits plus NUL */

struct sha256
{
	void *ctx; /* owned EVP_MD_CTX */
};

void sha256_init(struct sha256 *d);
void sha256_update(struct sha256 *d, const void *data, size_t len);
/* Writes the lowercase hex digest; the context may then only be released. */
void sha256_final_hex(struct sha256 *d, char hex[SHA256_HEX_LEN]);
void sha256_release(struct sha256 *d);

#endif
