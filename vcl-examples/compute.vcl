# Compute at the edge: programs as backends (vmods/compute, docs/compute.md). The programs are
# the examples in programs/, built by `npm install` and defined in programs/library.json (paths
# in it are relative to it; this library path is relative to where shellac runs).
#
#   /hello               the WebAssembly hello program
#   /api/...             the origin, cached as usual
#   /transformed/NAME    the origin's /api/NAME.json through a chain: fetch (a self-request),
#                        then json-transform, cached like any backend response
#   /page?title=...      an HTML page rendered by the JS template program
#   /mandelbrot?WxH      real CPU work in a worker thread: a PGM image
#   /compute/stats       the programs' statistics, as JSON
#   POST /compute/update with X-Program and X-LiveUpdate (the key): swap a program live
#
# Self-requests come back through a listener of this server: start it with
# `-a 127.0.0.1:6081` (or a Unix socket, given as the first argument of init_self_requests).

vcl 4.1;

import compute;
import std;

backend origin {
    .host = "127.0.0.1";
    .port = "8080";
}

acl operators {
    "127.0.0.1";
    "::1";
}

sub vcl_init {
    compute.library("programs/library.json");
    # Programs' requests to this server; at most 20 in flight stops a program that loops.
    compute.init_self_requests("", "http://127.0.0.1:6081", 20);
    # The page renderer gets a small page template without waiting for a request.
    compute.start("template");
}

sub vcl_recv {
    if (req.url == "/compute/stats") {
        if (client.ip !~ operators) {
            return (synth(403));
        }
        return (synth(700));
    }
    if (req.url == "/compute/update") {
        if (req.method != "POST" || client.ip !~ operators) {
            return (synth(403));
        }
        return (pass);
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    return (hash);
}

sub vcl_backend_fetch {
    if (bereq.url == "/compute/update") {
        # The key is checked against the program's "key" in the library.
        set bereq.backend = compute.live_update(bereq.http.X-Program, bereq.http.X-LiveUpdate, 10MB);
    } else if (bereq.url ~ "^/hello") {
        set bereq.backend = compute.program("hello", "greeting");
    } else if (bereq.url ~ "^/transformed/[a-z0-9-]+$") {
        compute.chain("fetch", regsub(bereq.url, "^/transformed/(.*)$", "/api/\1.json"));
        set bereq.backend = compute.program("json-transform", "shellac");
    } else if (bereq.url ~ "^/page") {
        set bereq.backend = compute.program("template", config = {"{"items": ["fast", "sandboxed", "cached"]}"});
    } else if (bereq.url ~ "^/mandelbrot") {
        set bereq.backend = compute.program("mandelbrot", regsub(bereq.url, "^/mandelbrot\??", ""), "200");
    } else {
        set bereq.backend = origin;
    }
}

sub vcl_backend_response {
    if (bereq.url ~ "^/(hello|transformed|page|mandelbrot)") {
        # What programs make is cached as any origin's response would be.
        set beresp.ttl = 1m;
        set beresp.grace = 10s;
    }
}

sub vcl_synth {
    if (resp.status == 700) {
        set resp.status = 200;
        set resp.http.Content-Type = "application/json";
        set resp.body = compute.stats("", 2);
        return (deliver);
    }
}
