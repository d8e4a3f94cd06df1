-- 0005_tweets_feed.sql -- a narrow index of tweet ids for the global feed's
-- scatter-gather (lib/domain/feed.c): "the newest ids below a cursor" and the
-- rebuild of the Redis feed read index entries of 8 bytes instead of walking
-- the clustered rows with their messages.
ALTER TABLE tweets ADD KEY tweets_feed (id);
