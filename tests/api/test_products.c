#include "suites.h"
Suite *suite_products(void) { return suite_create("products"); }
