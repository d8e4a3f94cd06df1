#include "suites.h"
Suite *suite_tweets(void) { return suite_create("tweets"); }
