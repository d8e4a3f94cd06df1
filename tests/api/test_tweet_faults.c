#include "suites.h"
Suite *suite_tweet_faults(void) { return suite_create("tweet_faults"); }
