/* client.c -- libcurl requests against the test stack (see client.h). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static int has_accept(const char *const *headers)
{
    for (size_t i = 0; headers && headers[i]; i++)
        if (strncasecmp(headers[i], "Accept:", 7) == 0)
            return 1;
    return 0;
}

int api_request(api_resp *r, const char *method, const char *path,
                const char *body, size_t body_len, const char *const *headers)
{
    memset(r, 0, sizeof(*r));
    CURL *c = curl_easy_init();
    if (c == NULL)
        return -1;
    char url[4096];
    snprintf(url, sizeof(url), "%s%s", api_base(), path);
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
        fprintf(stderr, "api_request %s %s: %s\n", method, path, curl_easy_strerror(rc));
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    r->body = b.data ? b.data : calloc(1, 1);
    r->body_len = b.len;
    r->headers = h.data ? h.data : calloc(1, 1);
    r->json = cJSON_ParseWithLength(r->body, r->body_len);
    return rc == CURLE_OK ? 0 : -1;
}

int api_get(api_resp *r, const char *path)
{
    return api_request(r, "GET", path, NULL, 0, NULL);
}

int api_get_h(api_resp *r, const char *path, const char *const *headers)
{
    return api_request(r, "GET", path, NULL, 0, headers);
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
