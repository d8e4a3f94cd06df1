/* test_hosts.c -- several roostd hosts behind one nginx. The test stack's
 * second host, roostd2 (tools/stack.sh), runs in a network namespace of
 * its own with its own address on a veth pair; its pools listen on TCP
 * there and nginx's upstreams take them beside the first host's unix
 * sockets. Requests through nginx are served by both hosts; the ids each
 * host mints carry generators of its own block (claimed in the catalog);
 * a third roostd with the second's generator settings is refused; and a
 * shard move, which reloads only its own file's roostd, is refused while
 * another host runs. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accounts.h"
#include "core/fcgiclient.h"
#include "core/ids.h"
#include "private_roostd.h"
#include "suites.h"

#define POSTS 80

/* run/test/host2/roost.conf. */
static const char *host2_conf(void)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s/host2/roost.conf", getenv("ROOST_TEST_RUN_DIR"));
    return path;
}

/* The value of the first `key = ` line of a file (the [roostd] section's
 * listen comes first). */
static void first_value(const char *path, const char *key, char *out, size_t len)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot read %s", path);
    char line[1024], want[64];
    snprintf(want, sizeof(want), "%s = ", key);
    out[0] = '\0';
    while (out[0] == '\0' && fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, want, strlen(want)) == 0)
            snprintf(out, len, "%.*s", (int)strcspn(line + strlen(want), "\n"), line + strlen(want));
    fclose(f);
    ck_assert_msg(out[0] != '\0', "no %s in %s", key, path);
}

/* The main pool's "requests" of the roostd listening at `listen`. */
static long long requests_of(const char *listen)
{
    char body[1 << 15];
    int st = rst_fcgi_get(listen, "/status", 3000, body, sizeof(body));
    ck_assert_msg(st == 200, "/status of %s: %d", listen, st);
    const char *p = strstr(body, "\"requests\":");
    ck_assert_ptr_nonnull(p);
    return atoll(p + 11);
}

static unsigned generator_of(uint64_t id)
{
    return (unsigned)((id >> RST_ID_SEQ_BITS) & (RST_ID_MAX_GEN - 1));
}

START_TEST(two_hosts_behind_one_nginx)
{
    static char out[1 << 16];
    ck_assert_msg(api_stack("start", "roostd2") == 0, "./dev svc test start roostd2 failed");
    char listen1[256], listen2[256], gen2[16];
    first_value(getenv("ROOST_TEST_CONF"), "listen", listen1, sizeof(listen1));
    first_value(host2_conf(), "listen", listen2, sizeof(listen2));
    first_value(host2_conf(), "generator_base", gen2, sizeof(gen2));
    ck_assert_msg(listen2[0] != '/', "host 2 listens on %s, not on TCP", listen2);
    unsigned base2 = (unsigned)atoi(gen2);
    ck_assert_uint_gt(base2, 0);

    long long before1 = requests_of(listen1), before2 = requests_of(listen2);
    /* Writes through nginx: signed up (the slow pools), then posts (the
     * main pools); each answer's id says which host minted it. */
    acct_user u;
    acct_user_new(&u, "hst");
    char path[64], ids[POSTS][24];
    snprintf(path, sizeof(path), "/tweets/%s", u.id);
    int on1 = 0, on2 = 0;
    for (int i = 0; i < POSTS; i++) {
        char body[64];
        snprintf(body, sizeof(body), "{\"message\":\"from a host %d\"}", i);
        api_resp r;
        api_ok(acct_req(&r, "POST", path, body, u.tok, NULL));
        ck_assert_msg(r.status == 201, "post %d answered %ld: %s", i, r.status, r.body);
        const char *id = api_json_str(&r, "tweet.id");
        ck_assert_ptr_nonnull(id);
        snprintf(ids[i], sizeof(ids[i]), "%s", id);
        unsigned g = generator_of(strtoull(id, NULL, 10));
        if (g >= base2)
            on2++;
        else
            on1++;
        api_free(&r);
    }
    long long after1 = requests_of(listen1), after2 = requests_of(listen2);
    fprintf(stderr, "two hosts: %d posts minted by host 1, %d by host 2; requests %lld and %lld\n",
            on1, on2, after1 - before1, after2 - before2);
    ck_assert_msg(on1 >= POSTS / 5 && on2 >= POSTS / 5,
                  "nginx did not spread the posts over both hosts: %d and %d", on1, on2);
    ck_assert_int_ge(after1 - before1, POSTS / 5);
    ck_assert_int_ge(after2 - before2, POSTS / 5);
    /* Every id routes, whichever host minted it and whichever reads it. */
    for (int i = 0; i < POSTS; i++) {
        snprintf(path, sizeof(path), "/tweet/%.23s", ids[i]);
        api_resp r;
        api_ok(api_get_fresh(&r, path));
        ck_assert_msg(r.status == 200, "%s answered %ld", path, r.status);
        api_free(&r);
    }

    /* A third host with the second's generator settings is refused. */
    char dir[] = "/tmp/roost-host3-XXXXXX", conf[128], log[128];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    copy_host_config(host2_conf(), dir, -1, conf, sizeof(conf));     /* its generators too */
    snprintf(log, sizeof(log), "%s/log", dir);
    int rc = wait_exit(spawn_roostd(conf, log), 15000);
    char want[64];
    snprintf(want, sizeof(want), "overlap %u-", base2);
    int refused = file_has(log, want) && file_has(log, "host2/roost.conf") && !file_has(log, "ready:");
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "cat %s >&2; rm -rf %s", log, dir);
    if (!refused)
        ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_msg(rc != 0 && rc != -2, "a third host with host 2's generators exited %d", rc);
    ck_assert_msg(refused, "the third host was not refused for host 2's claim");

    /* A shard move would leave host 2 on the old map: refused, and
     * nothing is journaled. */
    rc = api_roostctl(NULL, getenv("ROOST_TEST_CONF"), "shard move 3072-4095 --to a", out, sizeof(out));
    ck_assert_msg(rc == 1 && strstr(out, "other roostd hosts are running") != NULL &&
                  strstr(out, "host2/roost.conf") != NULL, "a move with two hosts: exit %d: %s", rc, out);
    ck_assert_int_eq(api_roostctl(NULL, getenv("ROOST_TEST_CONF"), "shards", out, sizeof(out)), 0);
    ck_assert_msg(strstr(out, "shard moves in progress (catalog shard_moves):\n  none") != NULL &&
                  strstr(out, "host2/roost.conf") != NULL, "%s", out);

    /* Host 2 stopped: out of nginx, its claim given up. */
    ck_assert_int_eq(api_stack("stop", "roostd2"), 0);
    ck_assert_int_eq(api_roostctl(NULL, getenv("ROOST_TEST_CONF"), "shards", out, sizeof(out)), 0);
    ck_assert_msg(strstr(out, "host2/roost.conf") == NULL, "host 2's claim outlived it: %s", out);
    for (int i = 0; i < 20; i++) {
        char body[64];
        snprintf(body, sizeof(body), "{\"message\":\"one host again %d\"}", i);
        snprintf(path, sizeof(path), "/tweets/%s", u.id);
        api_resp r;
        api_ok(acct_req(&r, "POST", path, body, u.tok, NULL));
        ck_assert_msg(r.status == 201, "with host 2 gone, post %d answered %ld", i, r.status);
        ck_assert_uint_lt(generator_of(strtoull(api_json_str(&r, "tweet.id"), NULL, 10)), base2);
        api_free(&r);
    }
}
END_TEST

Suite *suite_hosts(void)
{
    Suite *s = suite_create("hosts");
    TCase *tc = api_tcase(s, "two roostd hosts");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, two_hosts_behind_one_nginx);
    return s;
}
