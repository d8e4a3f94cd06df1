/* listenq.h -- how many connections wait in the listen socket's queue. */
#ifndef ROOSTD_LISTENQ_H
#define ROOSTD_LISTENQ_H

/* Current length and configured maximum of fd's accept queue. 0 on
 * success; -1 when the kernel does not tell (then both are 0). Works for
 * TCP (TCP_INFO) and unix sockets (sock_diag netlink, as `ss -xl` does). */
int rst_listen_queue(int fd, unsigned *len, unsigned *max);

#endif
