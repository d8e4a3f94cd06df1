/* ctl.h -- what roostctl's command files share. */
#ifndef ROOSTCTL_CTL_H
#define ROOSTCTL_CTL_H

#include "domain/services.h"

/* roostctl mints ids with generator 127, reserved for it. */
#define RST_CTL_GENERATOR 127

int rst_ctl_seed(rst_services *s, int argc, char **argv);
int rst_ctl_user(rst_services *s, int argc, char **argv);
int rst_ctl_repair(rst_services *s, int argc, char **argv);

#endif
