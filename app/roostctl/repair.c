/* repair.c -- `roostctl repair follows [--dry-run]`: completes or removes
 * every half-written follow and sets every user's follow counters to the
 * rows they count (lib/domain/follows.c does the work). A progress line
 * with counts, rate and ETA is drawn on a terminal; otherwise only the
 * summary is printed. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/timefmt.h"
#include "domain/follows.h"
#include "roostctl/ctl.h"

typedef struct {
    uint64_t start_ms;
    uint64_t last_ms;
    int      tty;
} progress_state;

static void draw_progress(uint64_t done, uint64_t total, void *arg)
{
    progress_state *p = arg;
    uint64_t now = rst_time_mono_ms();
    if (!p->tty || (now - p->last_ms < 200 && done < total))
        return;
    p->last_ms = now;
    double secs = (double)(now - p->start_ms) / 1000.0;
    double rate = secs > 0 ? (double)done / secs : 0;
    double eta = rate > 0 && total > done ? (double)(total - done) / rate : 0;
    fprintf(stderr, "\rrepair follows: %llu/%llu halves (%.0f %%), %.0f/s, ETA %.0f s   ",
            (unsigned long long)done, (unsigned long long)total,
            total ? 100.0 * (double)done / (double)total : 100.0, rate, eta);
}

static void usage(void)
{
    fprintf(stderr, "usage: roostctl repair follows [--dry-run]\n");
}

/* `repair follows [--dry-run]`; 0 (and *dry_run), or 2 after a message
 * naming what is wrong. */
static int parse_repair(int argc, char **argv, int *dry_run)
{
    *dry_run = 0;
    if (argc < 1 || strcmp(argv[0], "follows") != 0) {
        if (argc < 1)
            fprintf(stderr, "roostctl: repair: no subcommand given (follows)\n");
        else
            fprintf(stderr, "roostctl: repair: unknown subcommand '%s'\n", argv[0]);
        usage();
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") != 0) {
            fprintf(stderr, "roostctl: repair follows: unknown option '%s'\n", argv[i]);
            usage();
            return 2;
        }
        *dry_run = 1;
    }
    return 0;
}

int rst_ctl_repair_check(int argc, char **argv)
{
    int dry_run;
    return parse_repair(argc, argv, &dry_run);
}

int rst_ctl_repair(rst_services *s, int argc, char **argv)
{
    int dry_run;
    if (parse_repair(argc, argv, &dry_run) != 0)
        return 2;
    progress_state p = { rst_time_mono_ms(), 0, isatty(STDERR_FILENO) };
    rst_follow_repair r;
    rst_err err = rst_follows_repair(s, dry_run, draw_progress, &p, &r);
    if (p.tty)
        fputc('\n', stderr);
    printf("repair follows%s: %llu halves examined, %llu in halves %s, %llu orphaned in halves "
           "%s, %llu users' counters %s\n", dry_run ? " (dry run)" : "",
           (unsigned long long)r.examined, (unsigned long long)r.completed,
           dry_run ? "missing" : "added", (unsigned long long)r.removed,
           dry_run ? "found" : "removed", (unsigned long long)r.counters,
           dry_run ? "wrong" : "fixed");
    if (err != RST_OK) {
        fprintf(stderr, "roostctl: repair follows: stopped: %s (see the log above); "
                "run it again once the databases answer\n",
                err == RST_E_UNAVAILABLE ? "a shard server is unavailable" : "a database error");
        return 1;
    }
    return 0;
}
