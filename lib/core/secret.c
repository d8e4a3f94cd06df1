/* secret.c -- reading the secret file and deriving per-use keys (secret.h). */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/secret.h"

enum { SUBKEY_JWT = 1, SUBKEY_CURSOR = 2 };
static const char kdf_context[crypto_kdf_CONTEXTBYTES] = { 'r', 'o', 'o', 's', 't', 'k', 'e', 'y' };

int rst_secret_derive(const unsigned char *raw, size_t len, rst_secrets *out)
{
    unsigned char master[crypto_kdf_KEYBYTES];
    if (len < RST_SECRET_MIN_BYTES)
        return -1;
    /* Hash first: the file may hold hex or base64 text, not raw key bytes. */
    crypto_generichash(master, sizeof(master), raw, len, NULL, 0);
    int rc = crypto_kdf_derive_from_key(out->jwt, sizeof(out->jwt), SUBKEY_JWT, kdf_context, master);
    rc |= crypto_kdf_derive_from_key(out->cursor.key, sizeof(out->cursor.key), SUBKEY_CURSOR,
                                     kdf_context, master);
    sodium_memzero(master, sizeof(master));
    return rc == 0 ? 0 : -1;
}

int rst_secret_load(const char *path, rst_secrets *out, char *err, size_t errlen)
{
    unsigned char raw[4096];
    if (path == NULL || path[0] == '\0') {
        snprintf(err, errlen, "[security] secret_file is not set");
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "secret_file %s: %s", path, strerror(errno));
        return -1;
    }
    ssize_t n = read(fd, raw, sizeof(raw));
    int saved = errno;
    close(fd);
    if (n < 0) {
        snprintf(err, errlen, "secret_file %s: %s", path, strerror(saved));
        return -1;
    }
    size_t len = (size_t)n;
    while (len > 0 && (raw[len - 1] == '\n' || raw[len - 1] == '\r'))
        len--;
    if (len < RST_SECRET_MIN_BYTES) {
        snprintf(err, errlen, "secret_file %s: holds %zu bytes, needs at least %d random bytes",
                 path, len, RST_SECRET_MIN_BYTES);
        sodium_memzero(raw, sizeof(raw));
        return -1;
    }
    int rc = rst_secret_derive(raw, len, out);
    sodium_memzero(raw, sizeof(raw));
    /* The derivation's own frames (libsodium's BLAKE2b state and output
     * block) are dead stack now, below this frame, and keep key bytes
     * until something happens to overwrite them: a long-running master
     * would hold a replaced secret's keys for good (the roostd suite's
     * memory scan found a cursor key there under ASan, whose larger
     * frames are overwritten less). */
    sodium_stackzero(16 * 1024);
    if (rc != 0)
        snprintf(err, errlen, "secret_file %s: key derivation failed", path);
    return rc;
}
