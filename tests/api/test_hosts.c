/* test_hosts.c -- several roostd hosts behind one nginx. The test stack's
 * second host, roostd2 (tools/stack.sh), runs in a network namespace of
 * its own with its own address on a veth pair; its pools listen on TCP
 * there and nginx's upstreams take them beside the first host's unix
 * sockets. Requests through nginx are served by both hosts; the ids each
 * host mints carry generators of its own block (claimed in the catalog);
 * a third roostd with the second's generator settings is refused. Host 2
 * follows the catalog's shard map ([shards] map = catalog): a shard move
 * run on host 1 (growing to a third server and back) reaches it, under
 * writes through nginx to both; a host that follows only its own file
 * makes a move refuse. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/* The value of `key = ` in [section] of a file. */
static void section_value(const char *path, const char *section, const char *key, char *out,
                          size_t len)
{
    char *text = api_read_file(path), want[64];
    const char *sec = strstr(text, section);
    ck_assert_msg(sec != NULL, "no %s in %s", section, path);
    snprintf(want, sizeof(want), "\n%s = ", key);
    const char *line = strstr(sec, want), *next = strstr(sec + 1, "\n[");
    ck_assert_msg(line != NULL && (next == NULL || line < next), "no %s in %s of %s", key, section, path);
    line += strlen(want);
    snprintf(out, len, "%.*s", (int)strcspn(line, "\n"), line);
    free(text);
}

/* A post for u through nginx: its status. */
static long post_once(const acct_user *u, int i)
{
    char path[64], body[64];
    snprintf(path, sizeof(path), "/tweets/%s", u->id);
    snprintf(body, sizeof(body), "{\"message\":\"blind %d\"}", i);
    api_resp r;
    api_ok(acct_req(&r, "POST", path, body, u->tok, NULL));
    long st = r.status;
    if (st == 503) {
        char ra[16];
        ck_assert_msg(api_header(&r, "Retry-After", ra, sizeof(ra)) != NULL, "a 503 without Retry-After");
    }
    api_free(&r);
    return st;
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

/* ------------------------------------------------------------ moves */

/* SIGHUP to the roostd whose pid file is ROOST_TEST_RUN_DIR/NAME.pid. */
static void reload_service(const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s.pid", getenv("ROOST_TEST_RUN_DIR"), name);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "no %s", path);
    int pid = 0;
    ck_assert_int_eq(fscanf(f, "%d", &pid), 1);
    fclose(f);
    ck_assert_int_eq(kill(pid, SIGHUP), 0);
}

/* Moves 3072-4095 of server b to c and back with roostctl, in a child,
 * while this process posts for `u` (a user on those shards) through
 * nginx, reaching both hosts. Every answer is 201 or the fence's 503;
 * every acknowledged post reads back; roostctl's output goes to out. */
static void moves_under_posts(const acct_user *u, char *out, size_t len)
{
    char log[64];
    snprintf(log, sizeof(log), "/tmp/roost-hosts-move-%d.log", (int)getpid());
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        static char o[1 << 16];
        int rc = api_roostctl(NULL, getenv("ROOST_TEST_CONF"), "shard move 3072-4095 --to c", o, sizeof(o));
        FILE *f = fopen(log, "w");
        if (f != NULL) {
            fputs(o, f);
            fclose(f);
        }
        if (rc == 0)
            rc = api_roostctl(NULL, getenv("ROOST_TEST_CONF"), "shard move 3072-4095 --to b", o, sizeof(o));
        f = fopen(log, "a");
        if (f != NULL) {
            fputs(o, f);
            fclose(f);
        }
        _exit(rc == 0 ? 0 : 1);
    }
    static char ids[4000][24];
    int n = 0, fenced = 0, st = 0;
    double t0 = api_now_s();
    char path[64];
    snprintf(path, sizeof(path), "/tweets/%s", u->id);
    for (int i = 0; waitpid(child, &st, WNOHANG) == 0 && i < 20000; i++) {
        char body[64];
        snprintf(body, sizeof(body), "{\"message\":\"across hosts %d\"}", i);
        api_resp r;
        api_ok(acct_req(&r, "POST", path, body, u->tok, NULL));
        ck_assert_msg(r.status == 201 || r.status == 503, "a post during the moves answered %ld: %s",
                      r.status, r.body);
        if (r.status == 503)
            fenced++;
        else if (n < 4000)
            snprintf(ids[n++], sizeof(ids[0]), "%s", api_json_str(&r, "tweet.id"));
        api_free(&r);
        usleep(10 * 1000);
    }
    FILE *f = fopen(log, "r");
    size_t got = f != NULL ? fread(out, 1, len - 1, f) : 0;
    out[got] = '\0';
    if (f != NULL)
        fclose(f);
    unlink(log);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the moves failed: %s", out);
    fprintf(stderr, "moves across two hosts: %d posts acknowledged, %d refused by the fence, "
            "%.1f s\n%s", n, fenced, api_now_s() - t0, out);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "/tweet/%.23s", ids[i]);
        api_resp r;
        api_ok(api_get_fresh(&r, path));
        ck_assert_msg(r.status == 200, "acknowledged %s answers %ld after the moves", path, r.status);
        api_free(&r);
    }
    ck_assert_int_gt(n, 20);
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

    /* Growing to a third server with both hosts serving: c added to both
     * files, migrated, both reloaded; the moves run on host 1, host 2
     * follows the catalog's map. */
    const char *conf1 = getenv("ROOST_TEST_CONF");
    char c1[256], c2[256];
    snprintf(c1, sizeof(c1), "%s/shard-c.conf", getenv("ROOST_TEST_RUN_DIR"));
    snprintf(c2, sizeof(c2), "%s/host2/shard-c.conf", getenv("ROOST_TEST_RUN_DIR"));
    char *orig1 = api_read_file(conf1), *orig2 = api_read_file(host2_conf()), *sec1 = api_read_file(c1),
         *sec2 = api_read_file(c2);
    api_write_file(conf1, orig1, sec1);
    api_write_file(host2_conf(), orig2, sec2);
    rc = api_roostctl(NULL, conf1, "migrate", out, sizeof(out));
    ck_assert_msg(rc == 0, "migrate: %s", out);
    reload_service("roostd");
    reload_service("roostd2");
    /* Idle, the reloads' draining workers go within a second or two; under
     * the posts below they would keep their kept connections busy and the
     * move would wait for them before its fence (up to nginx's 1000
     * requests a connection). */
    usleep(2500 * 1000);
    acct_user mover;
    do
        acct_user_new(&mover, "hmv");
    while (rst_id_shard(strtoull(mover.id, NULL, 10)) < 3072);
    moves_under_posts(&mover, out, sizeof(out));
    ck_assert_msg(strstr(out, "of the catalog in effect on 1 other roostd host") != NULL,
                  "the moves did not wait for host 2: %s", out);
    char log2[256];
    snprintf(log2, sizeof(log2), "%s/log/roostd2.log", getenv("ROOST_TEST_RUN_DIR"));
    ck_assert_msg(file_has(log2, "from the catalog: a=0-2047;b=2048-3071;c=3072-4095; fenced 3072-4095"),
                  "host 2 never routed with the fence of the move to c");
    ck_assert_msg(file_has(log2, "from the catalog: a=0-2047;b=2048-3071;c=3072-4095\n"),
                  "host 2 never routed with c holding 3072-4095");
    ck_assert_int_eq(api_roostctl(NULL, conf1, "shards", out, sizeof(out)), 0);
    ck_assert_msg(strstr(out, "catalog ") != NULL && strstr(out, "host2/roost.conf") != NULL, "%s", out);
    /* c taken out of both files again. */
    api_write_file(conf1, orig1, NULL);
    api_write_file(host2_conf(), orig2, NULL);
    reload_service("roostd");
    reload_service("roostd2");
    free(orig1);
    free(orig2);
    free(sec1);
    free(sec2);

    /* A host that follows only its own file makes a move refuse: it would
     * keep routing the range with its old map. */
    char dir4[] = "/tmp/roost-host4-XXXXXX", conf4[128], log4[128];
    ck_assert_ptr_nonnull(mkdtemp(dir4));
    copy_host_config(conf1, dir4, 800, conf4, sizeof(conf4));
    snprintf(log4, sizeof(log4), "%s/log", dir4);
    pid_t h4 = spawn_roostd(conf4, log4);
    for (int i = 0; i < 200 && !file_has(log4, "ready:"); i++)
        usleep(50 * 1000);
    int h4_ready = file_has(log4, "ready:");
    rc = api_roostctl(NULL, conf1, "shard move 3072-4095 --to a", out, sizeof(out));
    kill(h4, SIGTERM);
    int h4_rc = wait_exit(h4, 20000);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir4);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_msg(h4_ready, "a file-following fourth host did not start");
    ck_assert_msg(rc == 1 && strstr(out, "that follow their own file") != NULL &&
                  strstr(out, dir4) != NULL && strstr(out, "host2/roost.conf") == NULL,
                  "a move beside a file-following host: exit %d: %s", rc, out);
    ck_assert_int_eq(h4_rc, 0);
    ck_assert_int_eq(api_roostctl(NULL, conf1, "shards", out, sizeof(out)), 0);
    ck_assert_msg(strstr(out, "shard moves in progress (catalog shard_moves):\n  none") != NULL, "%s", out);

    /* Host 2 cut off from the catalog (the unix socket it reaches it by
     * moved away; host 1 goes by TCP): after RST_CATMAP_BLIND_MS (20 s)
     * it refuses every write -- its map could be one a move has left
     * behind -- and serves them again once the catalog answers. Stopped
     * right after, it still gives up its claim, which it could not renew
     * meanwhile (it once left the row behind). */
    char sock[256], away[300];
    section_value(host2_conf(), "[catalog]", "socket", sock, sizeof(sock));
    snprintf(away, sizeof(away), "%s.away", sock);
    ck_assert_int_eq(rename(sock, away), 0);
    long st = 0;
    double t_cut = api_now_s(), blind_after = -1;
    for (int i = 0; api_now_s() - t_cut < 40; i++) {
        if ((st = post_once(&mover, i)) == 503) {
            blind_after = api_now_s() - t_cut;
            break;
        }
        ck_assert_msg(st == 201, "a post while host 2 could still read its map: %ld", st);
        usleep(200 * 1000);
    }
    int blind_503 = 0, served = 0;
    for (int i = 0; i < 40; i++) {
        st = post_once(&mover, 1000 + i);
        blind_503 += st == 503;
        served += st == 201;
    }
    ck_assert_int_eq(rename(away, sock), 0);
    double t_back = api_now_s(), back_after = -1;
    for (int ok = 0, i = 0; api_now_s() - t_back < 20; i++) {
        st = post_once(&mover, 2000 + i);
        ok = st == 201 ? ok + 1 : 0;
        if (ok == 20) {
            back_after = api_now_s() - t_back;
            break;
        }
        usleep(100 * 1000);
    }
    fprintf(stderr, "host 2 without the catalog: writes refused after %.1f s (then %d of 40 posts "
            "503, %d 201); served again %.1f s after it answered\n", blind_after, blind_503, served,
            back_after);
    ck_assert_msg(blind_after >= 15 && blind_after < 35, "host 2 refused writes after %.1f s",
                  blind_after);
    ck_assert_msg(blind_503 > 0 && served > 0 && blind_503 + served == 40,
                  "with host 2 blind: %d refused, %d served of 40", blind_503, served);
    ck_assert_msg(back_after >= 0, "host 2 did not serve writes again");
    ck_assert(file_has(log2, "has not been read for 20 s: every write is refused"));
    ck_assert(file_has(log2, "shard map read again: writes are served"));

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
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, two_hosts_behind_one_nginx);
    return s;
}
