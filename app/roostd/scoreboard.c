/* scoreboard.c -- the shared worker table (see scoreboard.h). */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "core/timefmt.h"
#include "roostd/scoreboard.h"

static size_t map_size(int nslots)
{
    return sizeof(rst_scoreboard) + sizeof(rst_slot) * (size_t)nslots;
}

rst_scoreboard *rst_scoreboard_map(int nslots)
{
    void *p = mmap(NULL, map_size(nslots), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    rst_scoreboard *sb = p;
    memset(sb, 0, map_size(nslots));
    sb->nslots = nslots;
    sb->start_ms = rst_time_now_ms();
    return sb;
}

void rst_scoreboard_unmap(rst_scoreboard *sb)
{
    if (sb != NULL)
        munmap(sb, map_size(sb->nslots));
}

void rst_slot_busy(rst_slot *s, const char *method, const char *path, uint64_t now_ms)
{
    snprintf(s->method, sizeof(s->method), "%s", method);
    snprintf(s->path, sizeof(s->path), "%s", path);
    __atomic_store_n(&s->busy_since_ms, now_ms, __ATOMIC_RELAXED);
    __atomic_store_n(&s->state, RST_SLOT_BUSY, __ATOMIC_RELEASE);
}

void rst_slot_idle(rst_slot *s, uint64_t duration_us)
{
    __atomic_store_n(&s->last_duration_us, duration_us, __ATOMIC_RELAXED);
    __atomic_add_fetch(&s->requests, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&s->busy_since_ms, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&s->state, RST_SLOT_IDLE, __ATOMIC_RELEASE);
}
