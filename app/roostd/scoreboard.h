/* scoreboard.h -- shared memory the master and workers both see.
 *
 * The master maps it before forking; each worker writes only its own slot
 * and the master only reads slots (to find stuck workers and, later, to
 * serve /status and /metrics). Fields are single machine words updated with
 * relaxed atomics: a reader may see a slightly stale picture, never a torn
 * number. */
#ifndef ROOSTD_SCOREBOARD_H
#define ROOSTD_SCOREBOARD_H

#include <stdint.h>
#include <sys/types.h>

typedef enum {
    RST_SLOT_EMPTY = 0,
    RST_SLOT_IDLE,
    RST_SLOT_BUSY,
    RST_SLOT_EXITING
} rst_slot_state;

typedef struct {
    pid_t    pid;
    int      state;              /* rst_slot_state */
    uint64_t requests;           /* served since the worker started */
    uint64_t busy_since_ms;      /* start of the current request, 0 when idle */
    uint64_t last_duration_us;
    char     method[8];
    char     path[120];
} rst_slot;

typedef struct {
    uint64_t start_ms;
    uint64_t accepted;           /* connections accepted, all workers */
    int      nslots;
    rst_slot slots[];
} rst_scoreboard;

rst_scoreboard *rst_scoreboard_map(int nslots);
void            rst_scoreboard_unmap(rst_scoreboard *sb);

void rst_slot_busy(rst_slot *s, const char *method, const char *path, uint64_t now_ms);
void rst_slot_idle(rst_slot *s, uint64_t duration_us);

#endif
