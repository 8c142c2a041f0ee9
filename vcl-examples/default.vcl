#
# default.vcl: the configuration `npm start` serves.
#
# Shellac sits in front of one origin and caches what it may. Read it top to
# bottom: each subroutine runs at one step of a request, and whatever a
# subroutine does not decide falls through to the built-in defaults, which
# already cache GET and HEAD and pass anything carrying cookies or credentials.
#
vcl 4.1;

import std;

# The origin. For the demo, Shellac replaces host and port with those of its
# built-in origin; point them at your own server to cache a real site.
backend default {
    .host = "127.0.0.1";
    .port = "8080";
    .connect_timeout = 2s;
    .first_byte_timeout = 30s;

    # Ask the origin for "/" every 5 seconds. It counts as healthy while at
    # least 3 of the last 5 answers were a 200 within 2 seconds. When it is
    # sick, visitors get stale copies from the cache (see grace below).
    # It starts out healthy (.initial: 3 good answers assumed), so the first
    # visitors are served before the first probe has come back; without it,
    # a backend starts sick and requests fail until the origin has answered.
    .probe = {
        .url = "/";
        .interval = 5s;
        .timeout = 2s;
        .window = 5;
        .threshold = 3;
        .initial = 3;
    }
}

# Who may remove pages from the cache: only this machine.
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    # `curl -X PURGE http://localhost:6081/some/page` drops that page from the
    # cache, so the next visitor fetches a fresh copy.
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(405, "Purging is not allowed from your address"));
        }
        return (purge);
    }

    # Links shared on social media and in newsletters carry tracking
    # parameters (utm_source, fbclid, ...). The page is the same without
    # them, so drop them: otherwise every campaign would get its own copy in
    # the cache and nearly every visit from a campaign would be a miss.
    if (req.url ~ "[?&](utm_[a-z]+|gclid|fbclid|mc_cid|mc_eid)=") {
        set req.url = regsuball(req.url,
            "(?<=[?&])(utm_[a-z]+|gclid|fbclid|mc_cid|mc_eid)=[^&]*&?", "");
        set req.url = regsub(req.url, "[?&]$", "");
    }

    # Browsers word Accept-Encoding in many ways ("gzip, deflate, br",
    # "gzip,deflate", ...). An origin that varies on it would make us keep one
    # copy per wording; reduce it to the one thing that matters to us.
    if (req.http.Accept-Encoding) {
        if (req.url ~ "\.(jpe?g|png|gif|webp|avif|woff2?|mp4|zip|gz)$") {
            # Already compressed: squeezing them again only wastes time.
            unset req.http.Accept-Encoding;
        } elsif (req.http.Accept-Encoding ~ "gzip") {
            set req.http.Accept-Encoding = "gzip";
        } else {
            unset req.http.Accept-Encoding;
        }
    }

    # While the origin is healthy, accept copies at most 10 seconds past
    # their expiry (and refresh them in the background). When it is sick,
    # the longer grace set in vcl_backend_response applies instead.
    if (std.healthy(req.backend_hint)) {
        set req.grace = 10s;
    }
}

sub vcl_backend_response {
    # Keep every object for an hour after it expires, so there is something
    # to serve if the origin goes down.
    set beresp.grace = 1h;
}

sub vcl_deliver {
    # Show caching at work: `curl -i` the same page twice and watch X-Cache
    # turn from MISS into HIT, and X-Cache-Hits count up.
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
    set resp.http.X-Cache-Hits = obj.hits;
}

# Pages Shellac makes up itself (the purge answers above, errors) get a small
# HTML body instead of an empty one.
sub vcl_synth {
    set resp.http.Content-Type = "text/html; charset=utf-8";
    set resp.body = {"<!DOCTYPE html>
<html>
  <head><title>"} + resp.status + " " + resp.reason + {"</title></head>
  <body>
    <h1>"} + resp.status + " " + resp.reason + {"</h1>
    <p>Served by Shellac. Request id: "} + req.xid + {"</p>
  </body>
</html>
"};
    return (deliver);
}
