#
# api-cache.vcl: a cache in front of a JSON API.
#
# - Responses name what they contain in an X-Cache-Tags header ("user:42
#   team:7"); a BAN request with X-Tags invalidates every response carrying
#   one of those tags, whatever its URL.
# - Errors from the API are retried once against a fallback backend, and
#   stale or revalidated copies cover short outages.
# - Every answer, errors included, is JSON and carries CORS headers, so a
#   browser application can read it.
#
vcl 4.1;

import std;

backend api {
    .host = "127.0.0.1";
    .port = "8080";
    .first_byte_timeout = 10s;
    .probe = {
        .url = "/healthz";
        .interval = 2s;
        .timeout = 1s;
        .window = 5;
        .threshold = 3;
    }
}

# A second deployment (another region, or a read-only replica) that answers
# when the main API fails.
backend api_fallback {
    .host = "127.0.0.1";
    .port = "8081";
    .first_byte_timeout = 10s;
    .probe = {
        .url = "/healthz";
        .interval = 5s;
        .timeout = 1s;
        .window = 5;
        .threshold = 3;
    }
}

acl invalidators {
    "127.0.0.1";
    "::1";
    "192.168.0.0"/16;
}

sub vcl_recv {
    # A restart (see vcl_deliver) means the main API just failed us.
    if (req.restarts == 0) {
        set req.backend_hint = api;
    } else {
        set req.backend_hint = api_fallback;
    }

    if (req.method == "BAN") {
        call ban_by_tags;
    }

    # CORS preflight: answer it here, the API never needs to see it.
    if (req.method == "OPTIONS" && req.http.Origin &&
        req.http.Access-Control-Request-Method) {
        return (synth(204, "No Content"));
    }

    # While the API is healthy, serve a stale copy at most 10 seconds past
    # its expiry (refreshing it in the background); when it is sick, the
    # full grace set in vcl_backend_response applies.
    if (std.healthy(req.backend_hint)) {
        set req.grace = 10s;
    }

    # Requests with an Authorization header or cookies are personal: the
    # built-in rules pass them, and nothing here overrides that.
}

# BAN with "X-Tags: user:42 team:7" drops every cached response whose
# X-Cache-Tags holds user:42 or team:7. The ban looks only at obj.* so the
# ban lurker can apply it in the background. Tags are limited to a safe
# alphabet so that a tag can neither inject regex syntax nor a second ban
# condition, and can be matched as whole words.
sub ban_by_tags {
    if (client.ip !~ invalidators) {
        return (synth(403, "Not allowed to ban"));
    }
    if (req.http.X-Tags !~ "^[A-Za-z0-9_:-]+([ ,]+[A-Za-z0-9_:-]+)*$") {
        return (synth(400, "X-Tags must list tags made of letters, digits, _ : -"));
    }
    if (std.ban("obj.http.X-Cache-Tags ~ (^|[\s,])(" +
        regsuball(req.http.X-Tags, "[ ,]+", "|") + ")([\s,]|$)")) {
        return (synth(200, "Banned"));
    }
    return (synth(500, std.ban_error()));
}

sub vcl_backend_response {
    if (beresp.status >= 500) {
        # A failed background refresh must not replace the stale copy we
        # are still serving: drop the error and keep the old object.
        if (bereq.is_bgfetch) {
            return (abandon);
        }
        # Never cache errors; vcl_deliver retries elsewhere.
        set beresp.uncacheable = true;
        return (deliver);
    }

    if (!beresp.http.Cache-Control) {
        set beresp.ttl = 60s;
    }
    # Answers from the fallback may be older data: keep them only briefly,
    # so the main API's answers take over soon after it recovers.
    if (beresp.backend.name == "api_fallback") {
        set beresp.ttl = 10s;
    }

    # Grace: how long past expiry a copy may still be served while a fresh
    # one is fetched. Keep: how much longer it stays after that, unused for
    # serving, so that the next fetch is conditional (If-None-Match or
    # If-Modified-Since from its ETag or Last-Modified) and an unchanged
    # resource costs the API a 304 instead of a full body.
    set beresp.grace = 1h;
    set beresp.keep = 24h;
}

sub vcl_backend_error {
    set beresp.http.Content-Type = "application/json";
    set beresp.body = {"{"error":{"status":"} + beresp.status +
        {","message":"Backend fetch failed","request":""} + bereq.xid +
        {"""} + "}}";
    return (deliver);
}

sub vcl_deliver {
    # One more try on the fallback when the main API (or our fetch from it)
    # failed. Only for GET and HEAD: they are safe to repeat, and the body of
    # any other request has already been sent upstream.
    if (resp.status >= 500 && req.restarts == 0 &&
        (req.method == "GET" || req.method == "HEAD")) {
        return (restart);
    }

    # Tags are our business, not the client's.
    unset resp.http.X-Cache-Tags;
    call add_cors_headers;

    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}

sub vcl_synth {
    call add_cors_headers;

    if (req.method == "OPTIONS" && resp.status == 204) {
        set resp.http.Access-Control-Allow-Methods = "GET, HEAD, POST, PUT, PATCH, DELETE";
        set resp.http.Access-Control-Allow-Headers = "Authorization, Content-Type";
        # Browsers may reuse this answer for a day instead of asking again.
        set resp.http.Access-Control-Max-Age = "86400";
        return (deliver);
    }

    # The reason may come from std.ban_error(): escape it for JSON.
    set resp.http.Content-Type = "application/json";
    set resp.body = {"{"error":{"status":"} + resp.status +
        {","message":""} + regsuball(resp.reason, {"(["\\])"}, "\\\1") +
        {"","request":""} + req.xid + {"""} + "}}";
    return (deliver);
}

# Browser applications on our own sites may read the API's answers. The
# header depends on the request's Origin, so say so with Vary: a shared
# cache downstream must not hand one site's answer to another.
sub add_cors_headers {
    if (req.http.Origin ~ "^https://([a-z0-9-]+\.)*example\.com$") {
        set resp.http.Access-Control-Allow-Origin = req.http.Origin;
        set resp.http.Access-Control-Expose-Headers = "X-Cache";
    }
    if (resp.http.Vary) {
        set resp.http.Vary = resp.http.Vary + ", Origin";
    } else {
        set resp.http.Vary = "Origin";
    }
}
