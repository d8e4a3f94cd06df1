/* fuzz.h -- what the fuzz targets that run app/api code share: services
 * pointed at a dead stack, made once per process.
 *
 * Like tests/unit/test_api.c, every store is a closed port on 127.0.0.1:
 * whatever reaches MariaDB answers 502 and Redis is down (its circuit
 * breaker then skips it), so a target exercises the pipeline and the
 * handlers' check steps without a stack, and stays fast and repeatable.
 * Passwords are hashed with libsodium's minimum Argon2id cost here (never
 * in roostd: rst_pw_params_init refuses it), or sign-ins would cost 30 ms
 * an input. */
#ifndef ROOST_TESTS_FUZZ_H
#define ROOST_TESTS_FUZZ_H

#include <stdlib.h>

#include "core/config.h"
#include "core/log.h"
#include "core/secret.h"
#include "domain/services.h"

#define FUZZ_DEAD_STACK \
    "[roostd]\nlog_level = error\n" \
    "[redis]\nport = 1\nconnect_timeout_ms = 50\n" \
    "[catalog]\nport = 1\ndatabase = cat\n" \
    "[shards]\ncount = 8\n" \
    "[shard a]\nrange = 0-7\nport = 1\ndatabase = s\n"

/* The services every input runs against; aborts when they cannot be made
 * (a broken harness must not look like a clean run). */
static inline rst_services *fuzz_services(void)
{
    static rst_config cfg;
    static rst_services svc;
    static int ready;
    if (ready)
        return &svc;
    char err[512];
    static const unsigned char raw[32] = "fuzz-target secret, 32 bytes...";
    rst_secrets sec;
    if (rst_config_load_string(&cfg, FUZZ_DEAD_STACK, err, sizeof(err)) != 0 ||
        rst_secret_derive(raw, sizeof(raw), &sec) != 0 ||
        rst_services_open(&svc, &cfg, &sec, 1) != 0)
        abort();
    /* Errors only (a 500 is logged: the fuzzer should not drown in them). */
    rst_log_setup("fuzz", RST_LOG_ERROR, 0);
    svc.pw.opslimit = crypto_pwhash_OPSLIMIT_MIN;
    svc.pw.memlimit = crypto_pwhash_MEMLIMIT_MIN;
    ready = 1;
    return &svc;
}

#endif
