#
# multi-backend.vcl: one cache in front of several pools of servers.
#
#   www.example.com          -> web pool, round robin
#   api.example.com, /api/   -> API, primary with a standby (fallback)
#   /account, /cart, ...     -> application servers, sticky per session (hash)
#   media.example.com        -> a tier of inner caches, each URL on one node (shard)
#
# Send "X-Debug: 1" from the office network to see which backend answered
# and the health of every pool.
#
vcl 4.1;

import std;
import directors;

# One health check shared by most backends: GET /healthz must answer 200
# within a second, and a backend counts as healthy while 5 of the last 8
# checks passed. Starting at 5 lets a freshly loaded VCL use backends at
# once instead of waiting for 5 good checks.
probe healthz {
    .url = "/healthz";
    .expected_response = 200;
    .interval = 3s;
    .timeout = 1s;
    .window = 8;
    .threshold = 5;
    .initial = 5;
}

backend web1 { .host = "10.0.1.11"; .port = "80"; .probe = healthz; }
backend web2 { .host = "10.0.1.12"; .port = "80"; .probe = healthz; }
backend web3 { .host = "10.0.1.13"; .port = "80"; .probe = healthz; }

# The API answers health checks only for its own virtual host, so its
# probes spell out the whole request.
backend api_primary {
    .host = "10.0.2.21";
    .port = "8080";
    .probe = {
        .request =
            "GET /status HTTP/1.1"
            "Host: api.example.com"
            "Connection: close"
            "User-Agent: cache-health-check";
        .interval = 2s;
        .timeout = 1s;
        .window = 5;
        .threshold = 3;
    }
}

backend api_standby {
    .host = "10.0.2.22";
    .port = "8080";
    .probe = {
        .request =
            "GET /status HTTP/1.1"
            "Host: api.example.com"
            "Connection: close"
            "User-Agent: cache-health-check";
        .interval = 5s;
        .timeout = 1s;
        .window = 5;
        .threshold = 3;
    }
}

backend app1 { .host = "10.0.4.41"; .port = "8000"; .probe = healthz; }
backend app2 { .host = "10.0.4.42"; .port = "8000"; .probe = healthz; }

backend media1 { .host = "10.0.3.31"; .port = "6081"; .probe = healthz; }
backend media2 { .host = "10.0.3.32"; .port = "6081"; .probe = healthz; }
backend media3 { .host = "10.0.3.33"; .port = "6081"; .probe = healthz; }

acl office {
    "127.0.0.1";
    "10.0.0.0"/8;
}

sub vcl_init {
    # Stateless pages: spread the load evenly.
    new web = directors.round_robin();
    web.add_backend(web1);
    web.add_backend(web2);
    web.add_backend(web3);

    # The first healthy backend in the order added: the standby only works
    # while the primary is down.
    new api = directors.fallback();
    api.add_backend(api_primary);
    api.add_backend(api_standby);

    # Sessions live in the memory of one application server, so the same
    # session must always reach the same server.
    new sessions = directors.hash();
    sessions.add_backend(app1, 1.0);
    sessions.add_backend(app2, 1.0);

    # Consistent hashing: each URL is stored on one inner cache, so the
    # tier holds three times as much as one node. Adding or removing a node
    # moves only about a third of the URLs.
    new media = directors.shard();
    media.add_backend(media1);
    media.add_backend(media2);
    media.add_backend(media3);
    media.reconfigure();
}

sub vcl_recv {
    # Route on a host name without port and in one case.
    set req.http.host = regsub(std.tolower(req.http.host), ":[0-9]+$", "");

    if (req.http.host == "api.example.com" || req.url ~ "^/api/") {
        set req.backend_hint = api.backend();
    } elsif (req.http.host == "media.example.com") {
        set req.backend_hint = media.backend(by=URL);
    } elsif (req.url ~ "^/(account|cart|checkout)(/|$)") {
        call pick_session_backend;
        # These pages belong to one visitor: never cache them.
        return (pass);
    } else {
        set req.backend_hint = web.backend();
    }
}

# Sticky key: the session cookie when there is one, else the client's
# address, so that the request which creates the session and the ones
# following it land on the same server.
sub pick_session_backend {
    if (req.http.Cookie ~ "(^|;\s*)session=") {
        set req.http.X-Session-Key = regsub(req.http.Cookie,
            "^(.*;\s*)?session=([^;]*).*$", "\2");
    } else {
        set req.http.X-Session-Key = client.ip;
    }
    set req.backend_hint = sessions.backend(req.http.X-Session-Key);
    unset req.http.X-Session-Key;
}

sub vcl_backend_response {
    # Remember who answered, for the debug header below.
    set beresp.http.X-Served-By = beresp.backend.name;
}

sub vcl_deliver {
    if (req.http.X-Debug && client.ip ~ office) {
        # A director counts as healthy while any of its backends is. The
        # hash director has no such question (it always picks a member for
        # a key), so its members are listed one by one.
        set resp.http.X-Backend-Health =
            "web=" + std.healthy(web.backend()) +
            " api=" + std.healthy(api.backend()) +
            " api_primary=" + std.healthy(api_primary) +
            " app1=" + std.healthy(app1) +
            " app2=" + std.healthy(app2) +
            " media=" + std.healthy(media.backend(resolve=LAZY));
    } else {
        unset resp.http.X-Served-By;
    }
}
