/* handlers.h -- the route tables, one per resource file. A new resource
 * adds its table here and to the list in app.c; a new route of an existing
 * resource is one row in its file's table. */
#ifndef ROOST_API_HANDLERS_H
#define ROOST_API_HANDLERS_H

#include "api/ctx.h"

extern const rst_route_table rst_ops_routes;        /* h_ops.c */
extern const rst_route_table rst_cart_routes;       /* h_carts.c */
extern const rst_route_table rst_follow_routes;     /* h_follows.c */
extern const rst_route_table rst_product_routes;    /* h_products.c */
extern const rst_route_table rst_user_routes;       /* h_users.c */
extern const rst_route_table rst_tweet_routes;      /* h_tweets.c */
extern const rst_route_table rst_timeline_routes;   /* h_timeline.c */

#endif
