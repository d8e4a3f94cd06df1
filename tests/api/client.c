/* client.c -- libcurl requests against the test stack (see client.h). */
#include <arpa/inet.h>
#include <check.h>
#include <ctype.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

const char *api_base(void)
{
    const char *u = getenv("ROOST_TEST_URL");
    return u ? u : "http://127.0.0.1:28080";
}

typedef struct {
    char  *data;
    size_t len;
} grow;

static size_t on_data(char *p, size_t size, size_t n, void *user)
{
    grow *g = user;
    size_t add = size * n;
    char *d = realloc(g->data, g->len + add + 1);
    if (d == NULL)
        return 0;
    memcpy(d + g->len, p, add);
    g->len += add;
    d[g->len] = '\0';
    g->data = d;
    return add;
}

/* "Accept: v" sends v, "Accept:" sends no Accept at all and "Accept;"
 * sends an empty one (libcurl's conventions): any of them replaces ours. */
static int has_accept(const char *const *headers)
{
    for (size_t i = 0; headers && headers[i]; i++)
        if (strncasecmp(headers[i], "Accept", 6) == 0 &&
            (headers[i][6] == ':' || headers[i][6] == ';'))
            return 1;
    return 0;
}

/* ------------------------------------------------------------ recording */

/* The header lines of the last head of r (after any 100 Continue) as a
 * JSON object of lower-cased names; a repeated header keeps its values
 * joined with ", " as HTTP allows. */
static cJSON *head_object(const api_resp *r)
{
    const char *last = r->headers;
    for (const char *p = r->headers; p && (p = strstr(p, "HTTP/")) != NULL; p++)
        if (p == r->headers || p[-1] == '\n')
            last = p;
    cJSON *o = cJSON_CreateObject();
    for (const char *p = last ? strstr(last, "\r\n") : NULL; p && p[2] != '\r' && p[2]; ) {
        p += 2;
        const char *eol = strstr(p, "\r\n"), *colon = memchr(p, ':', eol ? (size_t)(eol - p) : 0);
        if (eol == NULL)
            break;
        if (colon != NULL && o != NULL) {
            char name[128], value[4096];
            size_t n = (size_t)(colon - p) < sizeof(name) ? (size_t)(colon - p) : sizeof(name) - 1;
            for (size_t i = 0; i < n; i++)
                name[i] = (char)tolower((unsigned char)p[i]);
            name[n] = '\0';
            const char *v = colon + 1;
            while (*v == ' ')
                v++;
            snprintf(value, sizeof(value), "%.*s", (int)(eol - v), v);
            cJSON *had = cJSON_GetObjectItemCaseSensitive(o, name);
            if (cJSON_IsString(had)) {
                char both[8192];
                snprintf(both, sizeof(both), "%s, %s", had->valuestring, value);
                cJSON_ReplaceItemInObjectCaseSensitive(o, name, cJSON_CreateString(both));
            } else {
                cJSON_AddStringToObject(o, name, value);
            }
        }
        p = eol;
    }
    return o;
}

/* With ROOST_TEST_RECORD=FILE, every answer is appended to FILE as one
 * JSON line {method, path, status, headers, body}, for the OpenAPI check
 * (tests/pkg/openapi.sh). One write(2) per line on an O_APPEND file, so
 * the forked tests never interleave their lines. */
static void record(const char *method, const char *path, const api_resp *r)
{
    const char *file = getenv("ROOST_TEST_RECORD");
    if (file == NULL || file[0] == '\0')
        return;
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return;
    cJSON_AddStringToObject(o, "method", method);
    cJSON_AddStringToObject(o, "path", path);
    cJSON_AddNumberToObject(o, "status", (double)r->status);
    cJSON_AddItemToObject(o, "headers", head_object(r));
    cJSON_AddStringToObject(o, "body", r->body ? r->body : "");
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (line == NULL)
        return;
    size_t n = strlen(line);
    line[n] = '\n';                     /* over the NUL: write n + 1 bytes */
    int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, line, n + 1) != (ssize_t)(n + 1))
        fprintf(stderr, "api tests: cannot record to %s\n", file);
    if (fd >= 0)
        close(fd);
    free(line);
}

int api_request_from(api_resp *r, const char *source_ip, const char *method, const char *path,
                     const char *body, size_t body_len, const char *const *headers)
{
    memset(r, 0, sizeof(*r));
    CURL *c = curl_easy_init();
    if (c == NULL)
        return -1;
    size_t ulen = strlen(api_base()) + strlen(path) + 1;
    char *url = malloc(ulen);
    if (url == NULL) {
        curl_easy_cleanup(c);
        return -1;
    }
    snprintf(url, ulen, "%s%s", api_base(), path);
    struct curl_slist *hl = NULL;
    if (!has_accept(headers))
        hl = curl_slist_append(hl, "Accept: application/json");
    /* libcurl adds "Expect: 100-continue" for big bodies; nginx handles it,
     * but it only slows the tests down. */
    hl = curl_slist_append(hl, "Expect:");
    for (size_t i = 0; headers && headers[i]; i++)
        hl = curl_slist_append(hl, headers[i]);
    grow b = { 0 }, h = { 0 };
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (source_ip != NULL)
        curl_easy_setopt(c, CURLOPT_INTERFACE, source_ip);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    else
        fprintf(stderr, "api_request %s %s%s%s: %s\n", method, path, source_ip ? " from " : "",
                source_ip ? source_ip : "", curl_easy_strerror(rc));
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    free(url);
    r->body = b.data ? b.data : calloc(1, 1);
    r->body_len = b.len;
    r->headers = h.data ? h.data : calloc(1, 1);
    r->json = cJSON_ParseWithLength(r->body, r->body_len);
    if (rc == CURLE_OK)
        record(method, path, r);
    return rc == CURLE_OK ? 0 : -1;
}

int api_request(api_resp *r, const char *method, const char *path,
                const char *body, size_t body_len, const char *const *headers)
{
    return api_request_from(r, NULL, method, path, body, body_len, headers);
}

/* ------------------------------------------------------------ raw bytes */

/* host and port of an "http://host:port" base URL. */
static int base_address(struct sockaddr_in *sa)
{
    char host[64];
    int port = 80;
    const char *b = api_base();
    if (strncmp(b, "http://", 7) != 0 ||
        sscanf(b + 7, "%63[^:/]:%d", host, &port) < 1)
        return -1;
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((unsigned short)port);
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

/* Splits what came back into status, head and body. */
static void parse_raw(api_resp *r, grow *in)
{
    char *all = in->data ? in->data : calloc(1, 1);
    char *end = strstr(all, "\r\n\r\n");
    size_t hlen = end ? (size_t)(end - all) + 4 : strlen(all);
    sscanf(all, "HTTP/%*s %ld", &r->status);
    r->headers = strndup(all, hlen);
    r->body_len = in->len > hlen ? in->len - hlen : 0;
    r->body = malloc(r->body_len + 1);
    memcpy(r->body, all + hlen, r->body_len);
    r->body[r->body_len] = '\0';
    r->json = cJSON_ParseWithLength(r->body, r->body_len);
    free(all);
}

int api_raw(api_resp *r, const char *bytes, size_t len)
{
    memset(r, 0, sizeof(*r));
    struct sockaddr_in sa;
    if (base_address(&sa) != 0)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    grow in = { 0 };
    int rc = -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        send(fd, bytes, len, MSG_NOSIGNAL) == (ssize_t)len) {
        char buf[4096];
        ssize_t n;
        while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
            on_data(buf, 1, (size_t)n, &in);
        rc = in.len > 0 ? 0 : -1;
    }
    close(fd);
    parse_raw(r, &in);
    return rc;
}

int api_get(api_resp *r, const char *path)
{
    return api_request(r, "GET", path, NULL, 0, NULL);
}

int api_get_h(api_resp *r, const char *path, const char *const *headers)
{
    return api_request(r, "GET", path, NULL, 0, headers);
}

int api_get_accept(api_resp *r, const char *path, const char *accept)
{
    char line[512];
    snprintf(line, sizeof(line), "Accept: %s", accept);
    const char *h[] = { line, NULL };
    return api_request(r, "GET", path, NULL, 0, h);
}

const char *api_unique_accept(char *out, size_t outlen)
{
    static unsigned counter;
    snprintf(out, outlen, "application/json, text/x-roost-test-%ld-%ld-%u;q=0.1",
             (long)getpid(), (long)time(NULL), ++counter);
    return out;
}

int api_get_fresh(api_resp *r, const char *path)
{
    char accept[160];
    /* Fresh from the databases too: an anonymous read may be served by a
     * replica, which applies a write a moment after it was acknowledged.
     * Best effort: with a server stopped the read goes ahead at once. */
    api_await_replicas();
    /* ... and past the workers' hot copies (lib/store/hotcache.h), which
     * honour a request's Cache-Control: no-cache. */
    char accept_h[200];
    snprintf(accept_h, sizeof(accept_h), "Accept: %s", api_unique_accept(accept, sizeof(accept)));
    const char *headers[] = { accept_h, "Cache-Control: no-cache", NULL };
    return api_get_h(r, path, headers);
}

void api_free(api_resp *r)
{
    free(r->body);
    free(r->headers);
    if (r->json)
        cJSON_Delete(r->json);
    memset(r, 0, sizeof(*r));
}

const char *api_header(const api_resp *r, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    /* With redirects or 100-continue there can be several heads; the last
     * one is the answer, so keep the last match. */
    const char *found = NULL;
    for (const char *p = r->headers; p && *p; ) {
        const char *eol = strstr(p, "\r\n");
        if (eol == NULL)
            break;
        if ((size_t)(eol - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':')
            found = p;
        p = eol + 2;
    }
    if (found == NULL)
        return NULL;
    const char *v = found + nlen + 1;
    while (*v == ' ')
        v++;
    const char *eol = strstr(v, "\r\n");
    size_t n = (size_t)(eol - v);
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, v, n);
    out[n] = '\0';
    return out;
}

int api_header_count(const api_resp *r, const char *name)
{
    size_t nlen = strlen(name);
    int n = 0;
    for (const char *p = r->headers; p && *p; ) {
        const char *eol = strstr(p, "\r\n");
        if (eol == NULL)
            break;
        if (strncasecmp(p, "HTTP/", 5) == 0)
            n = 0;              /* a new head starts: count the last one only */
        else if ((size_t)(eol - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':')
            n++;
        p = eol + 2;
    }
    return n;
}

const cJSON *api_json_at(const api_resp *r, const char *dotted)
{
    const cJSON *node = r->json;
    char part[128];
    while (node != NULL && *dotted) {
        const char *dot = strchr(dotted, '.');
        size_t n = dot ? (size_t)(dot - dotted) : strlen(dotted);
        if (n >= sizeof(part))
            return NULL;
        memcpy(part, dotted, n);
        part[n] = '\0';
        /* In an array, a part of digits is an index: "items.0.id". */
        if (cJSON_IsArray(node) && n > 0 && strspn(part, "0123456789") == n)
            node = cJSON_GetArrayItem(node, atoi(part));
        else
            node = cJSON_GetObjectItemCaseSensitive(node, part);
        dotted += n + (dot ? 1 : 0);
    }
    return node;
}

const char *api_json_str(const api_resp *r, const char *dotted)
{
    const cJSON *n = api_json_at(r, dotted);
    return cJSON_IsString(n) ? n->valuestring : NULL;
}

int api_stack(const char *action, const char *name)
{
    const char *dev = getenv("ROOST_DEV");
    const char *stack = getenv("ROOST_TEST_STACK");
    if (dev == NULL || stack == NULL)
        return -1;
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "'%s' svc '%s' %s %s >&2", dev, stack, action, name);
    return system(cmd) == 0 ? 0 : -1;
}

int api_sql(const char *name, const char *sql, char *out, size_t outlen)
{
    const char *run = getenv("ROOST_TEST_RUN_DIR");
    if (run == NULL || strchr(sql, '\'') != NULL || strchr(name, '\'') != NULL)
        return -1;
    char cmd[2048];
    /* The server's my.cnf has its socket under [client]. */
    int n = snprintf(cmd, sizeof(cmd), "mariadb --defaults-file='%s/%s/my.cnf' -u\"$(id -un)\" -N -e '%s'",
                     run, name, sql);
    if (n < 0 || (size_t)n >= sizeof(cmd))
        return -1;
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    char line[512] = "";
    if (fgets(line, sizeof(line), p) == NULL)
        line[0] = '\0';
    char rest[512];
    while (fgets(rest, sizeof(rest), p) != NULL)
        ;
    int rc = pclose(p);
    line[strcspn(line, "\n")] = '\0';
    if (out != NULL && outlen > 0)
        snprintf(out, outlen, "%s", line);
    return rc == 0 ? 0 : -1;
}

int api_roostctl(const char *env, const char *conf, const char *args, char *out, size_t outlen)
{
    const char *bin = getenv("ROOST_TEST_ROOSTCTL");
    char cmd[2048];
    out[0] = '\0';
    snprintf(cmd, sizeof(cmd), "%s '%s' -c '%s' %s 2>&1", env ? env : "",
             bin ? bin : "app/roostctl/roostctl", conf, args);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int api_await_replicas(void)
{
    static const char *const pairs[][2] = { { "db1", "db1r" }, { "db2", "db2r" } };
    for (int i = 0; i < 2; i++) {
        char pos[256], sql[400], got[32];
        if (api_sql(pairs[i][0], "SELECT @@gtid_binlog_pos", pos, sizeof(pos)) != 0)
            return -1;
        snprintf(sql, sizeof(sql), "SELECT MASTER_GTID_WAIT(\"%s\", 10)", pos);
        if (api_sql(pairs[i][1], sql, got, sizeof(got)) != 0 || strcmp(got, "0") != 0)
            return -1;
    }
    return 0;
}

TCase *api_tcase(Suite *s, const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    return tc;
}

int api_product_id(int nth, char *out, size_t outlen)
{
    api_resp r;
    int rc = -1;
    if (api_get_fresh(&r, "/products?limit=100") == 0 && r.status == 200) {
        const cJSON *item = cJSON_GetArrayItem(api_json_at(&r, "items"), nth);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
        if (cJSON_IsString(id) && strlen(id->valuestring) < outlen) {
            strcpy(out, id->valuestring);
            rc = 0;
        }
    }
    api_free(&r);
    return rc;
}

/* ------------------------------------------------------------ formats */

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int api_is_id(const char *s)
{
    if (s == NULL)
        return 0;
    size_t n = strlen(s);
    if (n == 0 || n > 20 || !all_digits(s, n))
        return 0;
    /* 20 digits may still overflow 64 bits */
    return n < 20 || strcmp(s, "18446744073709551615") <= 0;
}

/* Two digits at s as a number, or -1. */
static int num2(const char *s)
{
    return all_digits(s, 2) ? (s[0] - '0') * 10 + (s[1] - '0') : -1;
}

int api_is_timestamp(const char *s)
{
    /* YYYY-MM-DDTHH:MM:SS.mmmZ */
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (s == NULL || strlen(s) != sizeof(shape) - 1)
        return 0;
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return 0;
    }
    int mon = num2(s + 5), day = num2(s + 8), hour = num2(s + 11),
        min = num2(s + 14), sec = num2(s + 17);
    return mon >= 1 && mon <= 12 && day >= 1 && day <= 31 && hour <= 23 &&
           min <= 59 && sec <= 60;
}

/* ------------------------------------------------------------ the stack's Redis */

const rst_config *api_stack_config(void)
{
    static rst_config cfg;
    static int loaded;
    char err[256];
    const char *conf = getenv("ROOST_TEST_CONF");
    if (loaded)
        return &cfg;
    if (conf == NULL || rst_config_load(&cfg, conf, err, sizeof(err)) != 0) {
        fprintf(stderr, "api tests: cannot read %s: %s\n", conf ? conf : "ROOST_TEST_CONF",
                conf ? err : "not set");
        return NULL;
    }
    loaded = 1;
    return &cfg;
}

const char *api_redis_prefix(void)
{
    const rst_config *cfg = api_stack_config();
    return cfg ? cfg->redis_prefix : "";
}

redisReply *api_redis(const char *fmt, ...)
{
    const rst_config *cfg = api_stack_config();
    if (cfg == NULL)
        return NULL;
    struct timeval tv = { 2, 0 };
    redisContext *c = redisConnectWithTimeout(cfg->redis_host, cfg->redis_port, tv);
    if (c == NULL || c->err) {
        if (c)
            redisFree(c);
        return NULL;
    }
    va_list ap;
    va_start(ap, fmt);
    redisReply *rep = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    return rep;
}

pid_t api_roostd_master(void)
{
    const char *run = getenv("ROOST_TEST_RUN_DIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/roostd.pid", run != NULL ? run : "run/test");
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (f != NULL) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    return (pid_t)pid;
}

int api_roostd_workers(pid_t master, pid_t *out, int max)
{
    char path[128];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)master, (int)master);
    FILE *f = fopen(path, "r");
    int n = 0;
    long pid;
    if (f == NULL)
        return -1;
    while (n < max && fscanf(f, "%ld", &pid) == 1)
        out[n++] = (pid_t)pid;
    fclose(f);
    return n;
}

double api_metric(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p; ) {
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return -1;
}

double api_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long api_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

char *api_read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot read %s", path);
    char *t = calloc(1, 1 << 16);
    ck_assert_ptr_nonnull(t);
    size_t n = fread(t, 1, (1 << 16) - 1, f);
    fclose(f);
    t[n] = '\0';
    return t;
}

void api_write_file(const char *path, const char *a, const char *b)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert_int_ge(fputs(a, f), 0);
    if (b != NULL)
        ck_assert_int_ge(fputs(b, f), 0);
    ck_assert_int_eq(fclose(f), 0);
}
