/* ctl.h -- what roostctl's command files share. */
#ifndef ROOSTCTL_CTL_H
#define ROOSTCTL_CTL_H

#include "domain/services.h"

/* roostctl mints ids with generator 127, reserved for it. */
#define RST_CTL_GENERATOR RST_ID_GEN_ROOSTCTL

/* Each command has a check of its arguments, run before the configuration
 * is read (0, or 2 after a message naming the command), and its run. */
int rst_ctl_seed_check(int argc, char **argv);
int rst_ctl_seed(rst_services *s, int argc, char **argv);
int rst_ctl_user_check(int argc, char **argv);
int rst_ctl_user(rst_services *s, int argc, char **argv);
int rst_ctl_repair_check(int argc, char **argv);
int rst_ctl_repair(rst_services *s, int argc, char **argv);

/* shard move: logical shards from one server to another (move.c); it
 * edits the configuration file roostctl read, rst_ctl_conf_path. */
extern const char *rst_ctl_conf_path;
int rst_ctl_shard_check(int argc, char **argv);
int rst_ctl_shard(rst_services *s, int argc, char **argv);
/* roostctl shards: the moves in progress. */
void rst_ctl_shard_moves(rst_services *s);

/* top and advise read a running roostd through its pool sockets: they
 * need the configuration, no database. */
int rst_ctl_top_check(int argc, char **argv);
int rst_ctl_top(const rst_config *cfg, int argc, char **argv);
int rst_ctl_advise_check(int argc, char **argv);
int rst_ctl_advise(const rst_config *cfg, int argc, char **argv);

#endif
