/* test_confdoc.c -- roost.conf(5) and the config loader cannot drift: every
 * key the page lists is one the loader takes, with the default the page
 * gives (a file setting a key to its documented default loads to the very
 * same rst_config as a file without it), and every key name in the
 * loader's source (lib/core/config.c) is on the page. The page and the
 * source are read from $ROOST_SRCDIR (make check sets it). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "suites.h"

#define MAX_DOC_KEYS 128
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

typedef struct {
    char section[32];             /* "roostd", "shard NAME", ... */
    char key[48];
    char def[64];
    int  has_def;
} doc_key;

static doc_key keys[MAX_DOC_KEYS];
static int nkeys;

/* The whole of $ROOST_SRCDIR/rel, NUL-terminated (the caller frees). */
static char *slurp(const char *rel)
{
    const char *src = getenv("ROOST_SRCDIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", src ? src : "..", rel);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s (set ROOST_SRCDIR)", path);
    static char buf[1 << 17];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    ck_assert_int_eq(fclose(f), 0);
    buf[n] = '\0';
    char *copy = strdup(buf);
    ck_assert_ptr_nonnull(copy);
    return copy;
}

/* ".B key = default" or ".B key" right after ".TP" or ".TQ". */
static void parse_key_line(const char *section, const char *line)
{
    ck_assert_int_lt(nkeys, MAX_DOC_KEYS);
    doc_key *k = &keys[nkeys++];
    memset(k, 0, sizeof(*k));
    snprintf(k->section, sizeof(k->section), "%s", section);
    const char *p = line + 3;
    size_t n = strcspn(p, " \n");
    ck_assert_msg(n > 0 && n < sizeof(k->key), "bad key line: %s", line);
    memcpy(k->key, p, n);
    p += n;
    if (strncmp(p, " = ", 3) == 0) {
        k->has_def = 1;
        snprintf(k->def, sizeof(k->def), "%.*s", (int)strcspn(p + 3, "\n"), p + 3);
    }
}

/* The keys of roost.conf.5, by section. */
static void read_man_page(void)
{
    char *text = slurp("docs/man/roost.conf.5");
    char section[32] = "";
    int after_tag = 0;
    nkeys = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, ".SH [", 5) == 0) {
            snprintf(section, sizeof(section), "%.*s", (int)strcspn(line + 5, "]"), line + 5);
        } else if (strncmp(line, ".SH ", 4) == 0) {
            section[0] = '\0';
        } else if (strcmp(line, ".TP") == 0 || strcmp(line, ".TQ") == 0) {
            after_tag = 1;
            continue;
        } else if (after_tag && section[0] && strncmp(line, ".B ", 3) == 0) {
            parse_key_line(section, line);
        }
        after_tag = 0;
    }
    free(text);
    ck_assert_int_gt(nkeys, 30);
}

static int documented(const char *key)
{
    for (int i = 0; i < nkeys; i++)
        if (strcmp(keys[i].key, key) == 0)
            return 1;
    return 0;
}

/* Valid without the key under test: the shard map covers the default
 * count. */
#define BASE "[catalog]\ndatabase = c\n[shard a]\nrange = 0-4095\ndatabase = s\n"

/* The section header a key of the page is written under. */
static void header_of(const doc_key *k, char *out, size_t len)
{
    snprintf(out, len, "[%.31s]", strcmp(k->section, "shard NAME") == 0 ? "shard a" : k->section);
}

/* A value the loader takes for a key without a default. */
static const char *sample_value(const char *key)
{
    if (strcmp(key, "password_file") == 0)
        return "/dev/null";
    if (strcmp(key, "sentinels") == 0)
        return "127.0.0.1:26379 127.0.0.1:26380";
    if (strcmp(key, "replica") == 0)
        return "127.0.0.1:3307 weight=2";
    if (strcmp(key, "process_priority") == 0)
        return "10";
    if (strcmp(key, "fenced") == 0)
        return "5, 7-9";
    return strstr(key, "socket") || strstr(key, "_dir") || strstr(key, "_file") ? "/tmp/x" : "d";
}

START_TEST(every_documented_key_has_its_default)
{
    read_man_page();
    static rst_config plain, with_key;
    char err[1024], text[2048], header[64];
    ck_assert_msg(rst_config_load_string(&plain, BASE, err, sizeof(err)) == 0, "%s", err);
    for (int i = 0; i < nkeys; i++) {
        const doc_key *k = &keys[i];
        header_of(k, header, sizeof(header));
        if (strcmp(k->key, "range") == 0)
            continue;                       /* BASE has it: required, no default */
        snprintf(text, sizeof(text), BASE "%s\n%s = %s\n", header, k->key,
                 k->has_def ? k->def : sample_value(k->key));
        int rc = rst_config_load_string(&with_key, text, err, sizeof(err));
        ck_assert_msg(rc == 0, "[%s] %s: the documented %s does not load: %s", k->section, k->key,
                      k->has_def ? "default" : "key", err);
        if (k->has_def)
            ck_assert_msg(memcmp(&plain, &with_key, sizeof(plain)) == 0,
                          "[%s] %s = %s is not the loader's default", k->section, k->key, k->def);
    }
}
END_TEST

/* Key names in config.c: the string in INT_KEY("x", ...), STR_KEY,
 * PATH_KEY and strcmp(name, "x"). */
START_TEST(every_loader_key_is_documented)
{
    read_man_page();
    char *src = slurp("lib/core/config.c");
    static const char *const marks[] = { "INT_KEY(\"", "STR_KEY(\"", "PATH_KEY(\"", "strcmp(name, \"" };
    int found = 0;
    for (int m = 0; m < COUNT(marks); m++) {
        for (const char *p = strstr(src, marks[m]); p; p = strstr(p + 1, marks[m])) {
            const char *name = p + strlen(marks[m]);
            char key[64];
            size_t n = strcspn(name, "\"");
            if (n == 0 || n >= sizeof(key) || !islower((unsigned char)name[0]))
                continue;                   /* the macros' own definitions */
            memcpy(key, name, n);
            key[n] = '\0';
            found++;
            ck_assert_msg(documented(key), "config.c reads \"%s\", roost.conf(5) does not list it", key);
        }
    }
    free(src);
    ck_assert_int_gt(found, 30);
}
END_TEST

Suite *suite_confdoc(void)
{
    Suite *s = suite_create("confdoc");
    TCase *tc = tcase_create("roost.conf.5");
    tcase_add_test(tc, every_documented_key_has_its_default);
    tcase_add_test(tc, every_loader_key_is_documented);
    suite_add_tcase(s, tc);
    return s;
}
