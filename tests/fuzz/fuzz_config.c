/* fuzz_config.c -- libFuzzer target: the configuration parser
 * (lib/core/config.c over libinih).
 *
 * The input is a roost.conf. Checked: a load that fails says why (a
 * non-empty message), one that succeeds gives values within the ranges the
 * parser promises: a shard map that covers every logical shard exactly
 * once, with each range naming a configured server. ./dev fuzz runs it
 * with stdin from /dev/null: a password_file of /dev/stdin must not block. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/ids.h"

static void check_loaded(const rst_config *cfg)
{
    if (cfg->npools < 1 || cfg->npools > RST_MAX_POOLS || cfg->nshard_servers < 1 ||
        cfg->nshard_servers > RST_MAX_SERVERS || cfg->nranges < 1 || cfg->nranges > RST_MAX_RANGES ||
        cfg->shard_count < 1)
        abort();
    /* Every pool loaded has a socket and a size, and the dynamic bounds
     * php-fpm's rules allow; and all of them fit the id generators. */
    for (int p = 0; p < cfg->npools; p++) {
        const rst_pool_conf *pc = &cfg->pools[p];
        if (pc->listen[0] == '\0' || pc->max_children < 1 || pc->max_children > RST_MAX_CHILDREN)
            abort();
        if (pc->pm == RST_PM_DYNAMIC &&
            (pc->min_spare_servers < 1 || pc->min_spare_servers > pc->start_servers ||
             pc->start_servers > pc->max_spare_servers || pc->max_spare_servers > pc->max_children))
            abort();
    }
    if (cfg->generator_base + rst_config_slots(cfg) > (int)RST_ID_GEN_ROOSTD)
        abort();
    unsigned long covered = 0;
    for (int i = 0; i < cfg->nranges; i++) {
        const rst_shard_range *r = &cfg->ranges[i];
        if (r->first > r->last || r->last >= cfg->shard_count || r->server < 0 ||
            r->server >= cfg->nshard_servers)
            abort();
        covered += (unsigned long)r->last - r->first + 1;
    }
    if (covered != cfg->shard_count)
        abort();
}

/* libFuzzer's entry point (it declares none). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static rst_config cfg;
    char err[2048];
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    err[0] = '\0';
    if (rst_config_load_string(&cfg, text, err, sizeof(err)) == 0)
        check_loaded(&cfg);
    else if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
        abort();
    free(text);
    return 0;
}
