/* listenq.c -- reading a listen socket's queue length from the kernel.
 *
 * php-fpm reports its listen queue; so does roostd's /status. For TCP the
 * kernel puts it in TCP_INFO (tcpi_unacked is the queue, tcpi_sacked the
 * backlog for a listening socket). For unix sockets it is only available
 * over sock_diag: ask for the socket with our inode and UDIAG_SHOW_RQLEN. */
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roostd/listenq.h"

#define TCP_LISTEN_STATE 10

static int tcp_queue(int fd, unsigned *len, unsigned *max)
{
    struct tcp_info ti;
    socklen_t sl = sizeof(ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &sl) != 0)
        return -1;
    *len = ti.tcpi_unacked;
    *max = ti.tcpi_sacked;
    return 0;
}

static int read_rqlen(const unsigned char *buf, ssize_t n, unsigned *len, unsigned *max)
{
    const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
    if (!NLMSG_OK(h, (size_t)n) || h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
        return -1;
    const struct unix_diag_msg *msg = NLMSG_DATA(h);
    int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*msg)));
    const struct rtattr *a = (const struct rtattr *)(msg + 1);
    for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
        if (a->rta_type == UNIX_DIAG_RQLEN && RTA_PAYLOAD(a) >= sizeof(struct unix_diag_rqlen)) {
            const struct unix_diag_rqlen *rq = RTA_DATA(a);
            *len = rq->udiag_rqueue;
            *max = rq->udiag_wqueue;
            return 0;
        }
    }
    return -1;
}

static int unix_queue(int fd, unsigned *len, unsigned *max)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -1;
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0)
        return -1;
    struct {
        struct nlmsghdr       nlh;
        struct unix_diag_req  req;
    } q;
    memset(&q, 0, sizeof(q));
    q.nlh.nlmsg_len = sizeof(q);
    q.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    q.nlh.nlmsg_flags = NLM_F_REQUEST;
    q.req.sdiag_family = AF_UNIX;
    q.req.udiag_states = 1u << TCP_LISTEN_STATE;
    q.req.udiag_ino = (unsigned)st.st_ino;
    q.req.udiag_show = UDIAG_SHOW_RQLEN;
    q.req.udiag_cookie[0] = q.req.udiag_cookie[1] = (unsigned)-1;   /* no cookie */
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    unsigned char buf[1024];
    int rc = -1;
    if (sendto(nl, &q, sizeof(q), 0, (struct sockaddr *)&kernel, sizeof(kernel)) == (ssize_t)sizeof(q)) {
        ssize_t n = recv(nl, buf, sizeof(buf), 0);
        if (n > 0)
            rc = read_rqlen(buf, n, len, max);
    }
    close(nl);
    return rc;
}

int rst_listen_queue(int fd, unsigned *len, unsigned *max)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    *len = *max = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        return -1;
    if (ss.ss_family == AF_UNIX)
        return unix_queue(fd, len, max);
    return tcp_queue(fd, len, max);
}
