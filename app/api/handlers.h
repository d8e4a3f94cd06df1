/* handlers.h -- every route handler roostd serves, one file per resource. */
#ifndef ROOST_API_HANDLERS_H
#define ROOST_API_HANDLERS_H

#include "api/app.h"

/* h_ops.c */
void rst_h_healthz(rst_ctx *c);
void rst_h_readyz(rst_ctx *c);
void rst_h_status(rst_ctx *c);
void rst_h_metrics(rst_ctx *c);

/* h_products.c */
void rst_h_products_list(rst_ctx *c);
void rst_h_product_get(rst_ctx *c);
void rst_h_product_create(rst_ctx *c);
void rst_h_product_update(rst_ctx *c);

/* h_users.c */
void rst_h_signup(rst_ctx *c);
void rst_h_signin(rst_ctx *c);
void rst_h_user_get(rst_ctx *c);
void rst_h_user_update(rst_ctx *c);

#endif
