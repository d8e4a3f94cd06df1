/* test_ids.c -- unit tests of core/ids: the bit layout, uniqueness across
 * processes generating at once, monotonic (ms, seq) under a clock that steps
 * back, borrowing the next millisecond, and id parsing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/ids.h"
#include "suites.h"

/* Hot loops check with this instead of ck_assert: Check's passing asserts
 * each record a checkpoint (a write to a pipe in fork mode), which makes
 * 100 000-iteration loops slow enough to hit the test timeout. */
#define FAST_CHECK(cond, ...) \
    do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)

#define T0 (RST_ID_EPOCH_MS + 1000000)   /* some instant after the epoch */

/* The parts of an id that only move forward within one generator: time and
 * sequence. The shard bits sit between them, so ids for different shards in
 * the same millisecond need not be ordered; this key always is. */
static uint64_t time_seq(uint64_t id)
{
    return ((id >> 23) << 1) | (id & 0x1);
}

static unsigned generator_of(uint64_t id)
{
    return (unsigned)((id >> 1) & 0x3FF);
}

START_TEST(test_init)
{
    rst_idgen g;

    ck_assert_int_eq(rst_idgen_init(&g, 0), 0);
    ck_assert_int_eq(rst_idgen_init(&g, 1023), 0);
    ck_assert_uint_eq(g.generator, 1023);
    ck_assert_int_eq(rst_idgen_init(&g, 1024), -1);
    ck_assert_int_eq(rst_idgen_init(&g, 100000), -1);
    ck_assert_int_eq(rst_idgen_init(NULL, 1), -1);
}
END_TEST

START_TEST(test_layout)
{
    rst_idgen g;
    uint64_t id;

    ck_assert_int_eq(rst_idgen_init(&g, 5), 0);
    id = rst_idgen_next_at(&g, 77, RST_ID_EPOCH_MS + 1000);
    ck_assert(id == ((1000ULL << 23) | (77ULL << 11) | (5ULL << 1) | 0));
    ck_assert_uint_eq(rst_id_shard(id), 77);
    ck_assert(rst_id_unix_ms(id) == RST_ID_EPOCH_MS + 1000);
    ck_assert_uint_eq(generator_of(id), 5);
    id = rst_idgen_next_at(&g, 4095, RST_ID_EPOCH_MS + 1000);
    ck_assert(id == ((1000ULL << 23) | (4095ULL << 11) | (5ULL << 1) | 1));
    /* An id of the old layout (7 generator bits, 4 sequence bits) still
     * routes: the shard field did not move. */
    ck_assert_uint_eq(rst_id_shard((1000ULL << 23) | (77ULL << 11) | (95ULL << 4) | 15), 77);
}
END_TEST

START_TEST(test_shard_round_trip)
{
    rst_idgen g;
    unsigned shard, gen;

    for (gen = 0; gen < RST_ID_MAX_GEN; gen += 21) {
        ck_assert_int_eq(rst_idgen_init(&g, gen), 0);
        for (shard = 0; shard < RST_ID_MAX_SHARDS; shard++) {
            uint64_t id = rst_idgen_next_at(&g, shard, T0 + shard);

            FAST_CHECK(rst_id_shard(id) == shard && generator_of(id) == gen &&
                       rst_id_unix_ms(id) == T0 + shard,
                       "gen %u shard %u: id %llx", gen, shard, (unsigned long long)id);
        }
    }
    /* An out-of-range shard gets 0, which is never a valid id. */
    ck_assert(rst_idgen_next_at(&g, RST_ID_MAX_SHARDS, T0 + 10000) == 0);
    ck_assert(rst_idgen_next_at(&g, 0xFFFFFFFFu, T0 + 10000) == 0);
}
END_TEST

START_TEST(test_two_per_ms_then_borrow)
{
    rst_idgen g;
    uint64_t id, prev = 0;
    unsigned i;

    ck_assert_int_eq(rst_idgen_init(&g, 9), 0);
    for (i = 0; i < 2; i++) {
        id = rst_idgen_next_at(&g, 1, T0);
        ck_assert(rst_id_unix_ms(id) == T0);
        ck_assert_uint_eq(id & 0x1, i);
        ck_assert(id > prev);
        prev = id;
    }
    /* The third id in the same millisecond borrows the next one. */
    id = rst_idgen_next_at(&g, 1, T0);
    ck_assert(rst_id_unix_ms(id) == T0 + 1);
    ck_assert_uint_eq(id & 0x1, 0);
    ck_assert(id > prev);
    prev = id;
    /* When the clock reaches the borrowed millisecond, it carries on there. */
    id = rst_idgen_next_at(&g, 1, T0 + 1);
    ck_assert(rst_id_unix_ms(id) == T0 + 1);
    ck_assert_uint_eq(id & 0x1, 1);
    ck_assert(id > prev);
    /* A clock ahead resets the sequence. */
    id = rst_idgen_next_at(&g, 1, T0 + 5);
    ck_assert(rst_id_unix_ms(id) == T0 + 5);
    ck_assert_uint_eq(id & 0x1, 0);
}
END_TEST

START_TEST(test_clock_steps_back)
{
    rst_idgen g;
    uint64_t a, b, c;

    ck_assert_int_eq(rst_idgen_init(&g, 3), 0);
    a = rst_idgen_next_at(&g, 7, T0 + 100);
    b = rst_idgen_next_at(&g, 7, T0);            /* 100 ms back */
    c = rst_idgen_next_at(&g, 7, T0 - 5000);     /* further back */
    ck_assert(b > a);
    ck_assert(c > b);
    ck_assert(rst_id_unix_ms(b) == T0 + 100);    /* stays on its last millisecond */
    ck_assert(rst_id_unix_ms(c) == T0 + 101);    /* its two ids spent: the next one */
}
END_TEST

START_TEST(test_wandering_clock_never_repeats)
{
    /* A clock that jumps back and forth; ids for one shard strictly
     * increase (hence never repeat), and (time, seq) does for any shard. */
    rst_idgen g, h;
    uint64_t now = T0, prev_same = 0, prev_key = 0;
    unsigned seed = 2024;
    int i;

    ck_assert_int_eq(rst_idgen_init(&g, 1), 0);
    ck_assert_int_eq(rst_idgen_init(&h, 2), 0);
    for (i = 0; i < 200000; i++) {
        int r = rand_r(&seed) % 100;
        uint64_t id, other;

        if (r < 5 && now > T0 - 500000)
            now -= (uint64_t)(rand_r(&seed) % 3000);      /* step back */
        else if (r < 60)
            now += (uint64_t)(rand_r(&seed) % 3);         /* creep forward */
        id = rst_idgen_next_at(&g, 42, now);
        FAST_CHECK(id > prev_same, "step %d: id did not increase", i);
        prev_same = id;
        other = rst_idgen_next_at(&h, (unsigned)rand_r(&seed) % RST_ID_MAX_SHARDS, now);
        FAST_CHECK(time_seq(other) > prev_key, "step %d: (time, seq) did not increase", i);
        prev_key = time_seq(other);
        FAST_CHECK(id != other, "step %d: two generators collided", i);
    }
}
END_TEST

START_TEST(test_before_epoch_and_end_of_time)
{
    rst_idgen g;
    uint64_t a, b, last;

    ck_assert_int_eq(rst_idgen_init(&g, 1), 0);
    a = rst_idgen_next_at(&g, 0, 0);             /* clock before the epoch */
    b = rst_idgen_next_at(&g, 0, 0);
    ck_assert(a != 0);
    ck_assert(b > a);
    /* The 41-bit time field holds 2^41 - 1 ms; past that, 0 (not an id). */
    last = RST_ID_EPOCH_MS + (1ULL << 41) - 1;
    ck_assert(rst_id_unix_ms(rst_idgen_next_at(&g, 0, last)) == last);
    ck_assert(rst_idgen_next_at(&g, 0, last + 1) == 0);
}
END_TEST

START_TEST(test_real_clock)
{
    rst_idgen g;
    uint64_t prev = 0, id;
    int i;

    ck_assert_int_eq(rst_idgen_init(&g, 100), 0);
    for (i = 0; i < 10000; i++) {
        id = rst_idgen_next(&g, 12);
        FAST_CHECK(id > prev && rst_id_shard(id) == 12, "id %d out of order", i);
        prev = id;
    }
}
END_TEST

START_TEST(test_all_generators_same_ms_distinct)
{
    uint64_t ids[RST_ID_MAX_GEN];
    unsigned i, j;

    for (i = 0; i < RST_ID_MAX_GEN; i++) {
        rst_idgen g;

        ck_assert_int_eq(rst_idgen_init(&g, i), 0);
        ids[i] = rst_idgen_next_at(&g, 3, T0);
    }
    for (i = 0; i < RST_ID_MAX_GEN; i++)
        for (j = i + 1; j < RST_ID_MAX_GEN; j++)
            FAST_CHECK(ids[i] != ids[j], "generators %u and %u collide", i, j);
}
END_TEST

#define PROCS    4
#define PER_PROC 50000

static unsigned shard_for(unsigned *seed)
{
    return (unsigned)rand_r(seed) % RST_ID_MAX_SHARDS;
}

/* Child: waits for the start signal, then mints PER_PROC ids on the real
 * clock into its slice of the shared map. Never returns into Check. */
static void mint_ids(unsigned gen, int start_fd, uint64_t *slice)
{
    rst_idgen g;
    unsigned seed = gen;
    char go;
    int i;

    if (rst_idgen_init(&g, gen) != 0 || read(start_fd, &go, 1) != 0)
        _exit(2);
    for (i = 0; i < PER_PROC; i++)
        slice[i] = rst_idgen_next(&g, shard_for(&seed));
    _exit(0);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

START_TEST(test_unique_across_processes)
{
    size_t total = (size_t)PROCS * PER_PROC, i;
    uint64_t *ids = mmap(NULL, total * sizeof *ids, PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    uint64_t *sorted;
    pid_t pids[PROCS];
    int start[2];
    unsigned p;

    ck_assert(ids != MAP_FAILED);
    ck_assert_int_eq(pipe(start), 0);
    for (p = 0; p < PROCS; p++) {
        pids[p] = fork();
        ck_assert_int_ge(pids[p], 0);
        if (pids[p] == 0) {
            close(start[1]);
            mint_ids(p + 1, start[0], ids + (size_t)p * PER_PROC);
        }
    }
    close(start[0]);
    close(start[1]);   /* EOF on the pipe: all children start at once */
    for (p = 0; p < PROCS; p++) {
        int status;

        ck_assert_int_eq(waitpid(pids[p], &status, 0), pids[p]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }

    /* Per process: its generator bits, the shards it asked for, and
     * (time, seq) strictly increasing. */
    for (p = 0; p < PROCS; p++) {
        const uint64_t *slice = ids + (size_t)p * PER_PROC;
        unsigned seed = p + 1;

        for (i = 0; i < PER_PROC; i++) {
            FAST_CHECK(generator_of(slice[i]) == p + 1, "process %u id %zu: generator", p, i);
            FAST_CHECK(rst_id_shard(slice[i]) == shard_for(&seed), "process %u id %zu: shard", p, i);
            FAST_CHECK(i == 0 || time_seq(slice[i]) > time_seq(slice[i - 1]),
                       "process %u id %zu: (time, seq) did not increase", p, i);
        }
    }

    sorted = malloc(total * sizeof *sorted);
    ck_assert_ptr_nonnull(sorted);
    memcpy(sorted, ids, total * sizeof *sorted);
    qsort(sorted, total, sizeof *sorted, cmp_u64);
    ck_assert(sorted[0] != 0);
    for (i = 1; i < total; i++)
        FAST_CHECK(sorted[i] != sorted[i - 1], "duplicate id %llu",
                   (unsigned long long)sorted[i]);
    free(sorted);
    ck_assert_int_eq(munmap(ids, total * sizeof *ids), 0);
}
END_TEST

START_TEST(test_parse)
{
    uint64_t v = 42;

    ck_assert_int_eq(rst_id_parse("1", &v), 1);
    ck_assert(v == 1);
    ck_assert_int_eq(rst_id_parse("7291840098234369", &v), 1);
    ck_assert(v == 7291840098234369ULL);
    ck_assert_int_eq(rst_id_parse("18446744073709551615", &v), 1);
    ck_assert(v == UINT64_MAX);
    /* Leading zeros: still decimal digits, within the 20-character cap. */
    ck_assert_int_eq(rst_id_parse("01", &v), 1);
    ck_assert(v == 1);
    ck_assert_int_eq(rst_id_parse("00000000000000000001", &v), 1);
    ck_assert(v == 1);
    v = 42;
    ck_assert_int_eq(rst_id_parse("000000000000000000001", &v), 0);   /* 21 chars */
    ck_assert_int_eq(rst_id_parse("0", &v), 0);
    ck_assert_int_eq(rst_id_parse("00", &v), 0);
    ck_assert_int_eq(rst_id_parse("", &v), 0);
    ck_assert_int_eq(rst_id_parse(NULL, &v), 0);
    ck_assert_int_eq(rst_id_parse("1", NULL), 0);
    ck_assert_int_eq(rst_id_parse("18446744073709551616", &v), 0);    /* 2^64 */
    ck_assert_int_eq(rst_id_parse("99999999999999999999", &v), 0);    /* 20 digits, too big */
    ck_assert_int_eq(rst_id_parse("123456789012345678901", &v), 0);
    ck_assert_int_eq(rst_id_parse("12a", &v), 0);
    ck_assert_int_eq(rst_id_parse("a12", &v), 0);
    ck_assert_int_eq(rst_id_parse("-1", &v), 0);
    ck_assert_int_eq(rst_id_parse("+1", &v), 0);
    ck_assert_int_eq(rst_id_parse(" 1", &v), 0);
    ck_assert_int_eq(rst_id_parse("1 ", &v), 0);
    ck_assert_int_eq(rst_id_parse("1.0", &v), 0);
    ck_assert_int_eq(rst_id_parse("0x10", &v), 0);
    ck_assert_int_eq(rst_id_parse("\xef\xbc\x91", &v), 0);            /* fullwidth 1 */
    ck_assert(v == 42);
}
END_TEST

Suite *suite_ids(void)
{
    Suite *s = suite_create("ids");
    TCase *tc = tcase_create("core");
    TCase *procs = tcase_create("processes");

    tcase_add_test(tc, test_init);
    tcase_add_test(tc, test_layout);
    tcase_add_test(tc, test_shard_round_trip);
    tcase_add_test(tc, test_two_per_ms_then_borrow);
    tcase_add_test(tc, test_clock_steps_back);
    tcase_add_test(tc, test_wandering_clock_never_repeats);
    tcase_add_test(tc, test_before_epoch_and_end_of_time);
    tcase_add_test(tc, test_real_clock);
    tcase_add_test(tc, test_all_generators_same_ms_distinct);
    tcase_add_test(tc, test_parse);
    suite_add_tcase(s, tc);

    tcase_set_timeout(procs, 60);
    tcase_add_test(procs, test_unique_across_processes);
    suite_add_tcase(s, procs);
    return s;
}
