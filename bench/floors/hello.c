/* hello.c -- the fcgi-hello floor: a fixed JSON body, nothing else. It
 * measures nginx + one FastCGI connection per request + libfcgi.
 * usage: fcgi-hello SOCKET WORKERS */
#include "prefork.h"

static const char BODY[] = "{\"hello\":\"world\"}";

static int floor_init(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void floor_serve(FCGX_Request *req)
{
    floor_reply(req, 200, BODY, sizeof(BODY) - 1);
}

int main(int argc, char **argv)
{
    return floor_main(argc, argv);
}
