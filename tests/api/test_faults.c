#include "suites.h"
Suite *suite_faults(void) { return suite_create("faults"); }
