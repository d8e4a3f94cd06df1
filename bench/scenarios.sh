# shellcheck shell=bash
# bench/scenarios.sh -- what ./dev bench measures, one line a scenario.
#
#   scenario NAME KIND TARGET METHOD PATH [OPTION...]
#
# KIND    floor (a yardstick, no target), peer (a yardstick too: what a
#         user would run instead of roost, from $ROOST_PEERS_DIR, PATH
#         /_peer/PEER/ROUTE for the peer's own /ROUTE; without the peer's
#         runtime its row says "skipped (why)") or scenario (a roost
#         endpoint)
# TARGET  the least acceptable ratio of its req/s to the `static` floor's,
#         or - for none
# PATH    the request path; {product} is replaced by each bench product id
#         and {user} by bench user names, and the requests are spread over
#         them (the wrk threads cycle through the list); {cart_user},
#         {cart_item} and {cart_product} come from one active item of the
#         seeded carts (20 items each): its owner, its id, its product;
#         {tweet} is drawn from a sample of tweet ids, {tweet_user} from
#         users with tweets, {feed_cursor} is the feed's cursor at depth
#         10 000, and {poster} a signed-in user whose token each request
#         carries (the cart owners'); {reader} (alone, at the start of
#         the path) a signed-in user following about 200 accounts,
#         {celebrity} the most-followed user, {followers_deep_path} the
#         whole path of its followers at cursor depth 10 000, and
#         {follow_pair} makes each cart owner follow and then unfollow
#         its own user with tweets (two requests a pair)
# OPTION  body=TEXT        a request body ({product} and {user} work here too;
#                          Content-Type: application/json is sent with it)
#         header='N: V'    one more request header
#         bypass-cache     send `Authorization: Bearer x`: nginx neither
#                          answers from nor stores in its micro-cache for a
#                          request with a token, and public GETs ignore the
#                          token, so roostd answers every request
#         auth=admin       send the bench admin's token (made with roostctl
#                          and signed in by the driver): for endpoints that
#                          need one; the admin may read and change any cart
#         auth=owner       with {cart_*}: each request carries its cart
#                          owner's token (a sample of owners signs in once)
#         redis-down       stop the stack's Redis for this scenario (roostd's
#                          circuit breaker then serves from MariaDB) and start
#                          it again afterwards
#         expect='N: V'    checked before the run: a second request must
#                          answer with this header (e.g. X-Cache: HIT)
#         lag-probe        while the scenario runs, a small author posts 30
#                          tweets one by one and the time until each is in a
#                          follower's Redis timeline is measured (p50/p99)
#         replicas-down    stop the MariaDB replicas (db1r, db2r) for this
#                          scenario: every read goes to the primaries; they
#                          start again after (and are waited for)
#         replica-lag      while the scenario runs, how long a replica takes
#                          to apply what its primary has (p50/p99 of samples
#                          every 200 ms, MASTER_GTID_WAIT)
#         pick=uniform     a uniformly random line of the list per request
#                          (default: cycle through it); pick=zipf:S a random
#                          line with P(k-th line) ~ 1 / k^S (a hot head)
#         target-of=NAME:R at least R times scenario NAME's req/s (medians of
#                          the same run); besides TARGET or instead of it, and
#                          repeatable: every target must be met. One on a
#                          skipped peer row says "skipped (why)"
#         p99-of=NAME:F    p99 at most F times scenario NAME's p99
#         conns=N          wrk's connections for this scenario (default 32)
#         trickle=N        while the scenario is measured, N slow clients keep
#                          connections open, sending their requests a byte
#                          a second (half GET headers, half a POST body;
#                          tests/chaos/chaos.c trickle)
#         background='C METHOD PATH [body=TEXT]'
#                          while the scenario is measured, a second wrk (one
#                          thread, C connections) sends these requests
#                          ({user} and the like work); its req/s is reported
#         roost-cached=K   before the scenario, every bench object of kind K
#                          (product: {product}'s ids, tweet: {tweet}'s; feed:
#                          the feed's sorted set and its first page) is in
#                          Redis as roostd wrote it, a minute at least to
#                          live (for a peer reading roostd's keys: it would
#                          cache a product it misses in its own JSON, and
#                          answer 404 for a tweet)
#         note=TEXT        shown under the table
#
# {unique} in a PATH becomes a value no other request of the run has, and
# {tweet100k} spreads over 100 000 tweet ids (10 000 with --quick) from both
# shard servers. Every roost scenario is also held to p99 <= 20 ms and
# p99 <= 5x p50 (the table's latency column).
#
# Every request sends `Accept: application/json`. Scenarios run in this
# order in each round; keep redis-down ones last, so the Redis-served ones
# of the next round find every worker's circuit breaker closed again.
# Adding an endpoint is one line here.

# -- floors: the same nginx, nothing of roost behind it
scenario static              floor    -    GET  /_floor/static
scenario fcgi-hello          floor    -    GET  /_floor/hello
scenario fcgi-redis          floor    -    GET  /_floor/redis
scenario fcgi-mysql          floor    -    GET  '/_floor/mysql?id={product}'

# -- peers: the same nginx (proxy_pass, upstream keep-alive), the same data
scenario peer-fastify-redis  peer     -    GET  '/_peer/fastify/product/{product}' roost-cached=product \
    note='Node Fastify 5 cluster (a worker per core): every bench product in turn, roostd'"'"'s product JSON from roostd'"'"'s Redis key'
scenario peer-fastify-mysql  peer     -    GET  '/_peer/fastify/product-db/{product}' \
    note='the same products from the catalog (mysql2 prepared statement, the columns roostd returns, a response schema)'
scenario peer-fastify-products peer   -    GET  '/_peer/fastify/products' \
    note='the first 20 products by id from the catalog (the columns roostd returns)'
scenario peer-fastify-tweet  peer     -    GET  '/_peer/fastify/tweet/{tweet}' roost-cached=tweet \
    note='roostd'"'"'s tweet JSON and its author'"'"'s name from roostd'"'"'s Redis keys (two GETs; bench/peers/fastify-tweets.patch)'
scenario peer-fastify-feed   peer     -    GET  '/_peer/fastify/tweets' roost-cached=feed \
    note='the global feed'"'"'s 20 newest: ZREVRANGE, one MGET of tweets, one of names (bench/peers/fastify-tweets.patch)'

# -- roost
scenario product-microcache  scenario 0.70 GET  '/product/{first_product}' \
    expect='X-Cache: HIT' note='one URL again and again: nginx micro-cache HITs (1 s validity, one refresh a second)'
scenario product-redis       scenario 0.25 GET  '/product/{product}' bypass-cache \
    target-of=peer-fastify-redis:1.1 \
    note='every bench product in turn, served by roostd from Redis'
# The micro-cache under traffic that is not one URL: every figure against
# the bypassed path (a token: roostd answers every request) of the same run.
scenario product-uniform     scenario -    GET  '/product/{product}' pick=uniform target-of=product-redis:0.9 \
    note='anonymous, a uniformly random bench product per request (1 000 in the full dataset: ~30 requests a second each, so most are HITs; tweet-uniform is the all-miss case)'
scenario product-zipf        scenario -    GET  '/product/{product}' pick=zipf:1 target-of=product-redis:1.0 \
    note='anonymous, Zipf (s = 1) over every bench product: a hot head, a long tail'
scenario tweet-bypass        scenario -    GET  '/tweet/{tweet100k}' pick=uniform bypass-cache \
    note='the bypassed path for the tweet rows below: 100 000 tweet ids (10 000 with --quick), uniformly random, with a token'
scenario tweet-uniform       scenario -    GET  '/tweet/{tweet100k}' pick=uniform target-of=tweet-bypass:0.9 \
    note='anonymous, uniformly random over the same ids: nearly every request a first-seen key (a miss)'
scenario tweet-zipf          scenario -    GET  '/tweet/{tweet100k}' pick=zipf:1 target-of=tweet-bypass:1.0 \
    note='anonymous, Zipf (s = 1) over the same ids'
scenario product-unique-param scenario -   GET  '/product/{first_product}?_={unique}' target-of=product-microcache:0.9 \
    note='the micro-cache URL with an unknown query parameter whose value no other request of the run has'
scenario product-signin-bg   scenario -    GET  '/product/{product}' bypass-cache p99-of=product-redis:2 \
    background='8 POST /users/SignIn body={"name":"{user}","password":"benchpass1"}' \
    note='product-redis while 8 clients sign in (a second wrk, bench users in turn): p99 within 2x of product-redis, sign-ins/s beside it'
scenario product-slow-clients scenario -  GET  '/product/{product}' bypass-cache trickle=500 p99-of=product-redis:2 \
    note='as product-redis while 500 slow clients trickle headers or bodies at a byte a second: p99 within 2x of product-redis'
scenario products-list       scenario 0.12 GET  '/products?limit=20' bypass-cache \
    target-of=peer-fastify-products:1.5 \
    note='first page of 20, served by roostd from Redis'
scenario signin              scenario -    POST /users/SignIn conns=8 \
    body='{"name":"{user}","password":"benchpass1"}' \
    note='Argon2id-bound: req/s here are sign-ins/s, rotating over bench users; 8 connections, which the slow pool (2 workers, a queue of 8) holds -- with more, the rest would be 503s by design'
scenario cart-list           scenario 0.10 GET  '/addToCars/{cart_user}' auth=owner \
    note='a whole 20-item cart with its products, by its owner: two Redis round trips (cart copy, product MGET)'
scenario cart-item           scenario 0.08 GET  '/addToCar/{cart_item}' auth=owner \
    note='one cart item and its product, by its owner: one shard query, one Redis GET'
scenario cart-list-admin     scenario -    GET  '/addToCars/{cart_user}' auth=admin \
    note='the same carts read by an admin: one more shard query (does the user exist?)'
scenario cart-add-merge      scenario -    POST '/addToCars/{cart_user}' auth=owner \
    body='{"product_id":"{cart_product}","quantity":1}' \
    note='adds one more of a product already in the cart (200, merged): a locked shard transaction a request'
scenario tweet-redis         scenario 0.20 GET  '/tweet/{tweet}' bypass-cache \
    target-of=peer-fastify-tweet:1.1 \
    note='tweets spread over both shard servers: their JSON and the author name from Redis'
scenario feed-page1          scenario 0.12 GET  '/tweets?limit=20' bypass-cache \
    target-of=peer-fastify-feed:1.1 \
    note='the global feed, page 1 of 20: the Redis sorted set, one MGET of tweets, one of names'
scenario feed-page50         scenario -    GET  '/tweets?limit=20&page=50' bypass-cache \
    header='Cache-Control: no-cache' \
    note='page 50 by rank in the same sorted set (ZREVRANGE 980..1000); no-cache: no hot copy, the range read every time'
scenario feed-deep-cursor    scenario 0.10 GET  '/tweets?limit=20&cursor={feed_cursor}' bypass-cache \
    header='Cache-Control: no-cache' \
    note='a cursor at depth 10 000 (ZREVRANGEBYLEX; no-cache: no hot copy); target: within 1.2x of feed-page1 (0.12 / 1.2)'
scenario tweets-user         scenario 0.12 GET  '/tweets/{tweet_user}?limit=20' bypass-cache \
    note='one user'"'"'s tweets: one index range scan on the shard, then one MGET'
scenario tweet-post          scenario -    POST '/tweets/{poster}' body='{"message":"a bench tweet"}' \
    replica-lag note='writes/s and p99: signed-in users posting (insert + tweets_count in one transaction, then Redis)'
scenario tweet-post-big      scenario -    POST '/tweets/{author_big}' body='{"message":"a bench tweet"}' \
    note='the 6 most-followed users posting (tens of thousands of followers each, above the fan-out threshold: merged at read time)'
scenario tweet-post-small    scenario -    POST '/tweets/{author_small}' body='{"message":"a bench tweet"}' \
    note='6 users with about 10 followers posting (fanned out on write, off the request path): p50/p99 within 1.5x of tweet-post-big'
scenario timeline            scenario 0.10 GET  '{reader}/timeline?limit=20' lag-probe \
    note='the home timeline of users following ~200 accounts: following list, then one round trip for the Redis timeline and every read-time merged author, one MGET of tweets, one of names'
scenario followers-page1     scenario -    GET  '/followers/{celebrity}?limit=20' bypass-cache \
    note='the most-followed bench user: page 1 of its followers (one index range, names in one batch)'
scenario followers-deep      scenario -    GET  '{followers_deep_path}' bypass-cache \
    note='the same list at cursor depth 10 000: target within 1.2x of followers-page1'
scenario follow-pair         scenario -    POST '/followers/{follow_pair}' \
    note='follow then unfollow, alternating (pairs/s = req/s / 2): two local transactions on two shards each'
scenario product-mariadb     scenario 0.15 GET  '/product/{product}' bypass-cache redis-down \
    target-of=peer-fastify-mysql:1.2 \
    note='Redis stopped: roostd serves every product from MariaDB'
scenario feed-scatter        scenario -    GET  '/tweets?limit=20' bypass-cache redis-down \
    header='Cache-Control: no-cache' \
    note='Redis stopped: page 1 by scatter-gather over both shard servers at once, k-way merge (no-cache: every request, no hot copy)'
scenario tweets-user-db      scenario -    GET  '/tweets/{tweet_user}?limit=20' bypass-cache redis-down \
    header='Cache-Control: no-cache' note='Redis stopped: one user'"'"'s tweets from MariaDB, read on the replicas'
scenario tweets-user-primary scenario -    GET  '/tweets/{tweet_user}?limit=20' bypass-cache redis-down replicas-down \
    header='Cache-Control: no-cache' note='the same with the replicas stopped: read on the primaries'
scenario user-db             scenario -    GET  '/users/{tweet_user}' bypass-cache redis-down \
    note='Redis stopped: one user row, read on the replicas'
scenario user-primary        scenario -    GET  '/users/{tweet_user}' bypass-cache redis-down replicas-down \
    note='the same with the replicas stopped: read on the primaries'
