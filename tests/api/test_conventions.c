#include "suites.h"
Suite *suite_conventions(void) { return suite_create("conventions"); }
