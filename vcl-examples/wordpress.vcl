#
# wordpress.vcl: a cache in front of a WordPress site.
#
# Anonymous visitors get cached pages; editors and logged-in users always
# reach WordPress. Publishing tools (a cache-purge plugin, a deploy script)
# invalidate pages with PURGE (one URL) or BAN (every URL matching a regex).
#
vcl 4.1;

import std;
import cookie;

backend wordpress {
    .host = "127.0.0.1";
    .port = "8080";
    # PHP pages can be slow to render; a cold cache should not time out.
    .first_byte_timeout = 60s;
    .probe = {
        # robots.txt is rendered by WordPress itself (unless a real file
        # shadows it), so a good answer means PHP and the site are up.
        .url = "/robots.txt";
        .interval = 5s;
        .timeout = 3s;
        .window = 5;
        .threshold = 3;
    }
}

# Machines allowed to invalidate the cache: this host and the private
# network the WordPress servers live on.
acl purgers {
    "127.0.0.1";
    "::1";
    "10.0.0.0"/8;
}

# File types that never change behind the same URL in a typical theme (they
# are versioned with ?ver=...), so they can be cached for a long time. The
# mark is a request header so that vcl_backend_response sees it too.
sub is_static_file {
    if (req.url ~ "\.(css|js|mjs|png|jpe?g|gif|webp|avif|svg|ico|woff2?|ttf|eot|mp4|webm|pdf)(\?.*)?$") {
        set req.http.X-Static = "1";
    } else {
        unset req.http.X-Static;
    }
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(405, "Not allowed"));
        }
        return (purge);
    }

    # BAN takes a regex over URLs of this host in the X-Ban-Url header, e.g.
    #   curl -X BAN -H 'X-Ban-Url: ^/category/news/' http://example.com/
    # The ban only looks at obj.* headers (set in vcl_backend_response), so
    # the background ban lurker can evict matching objects without waiting
    # for a request to hit them. Ban arguments are bare words, so the regex
    # must not contain spaces (use \s).
    if (req.method == "BAN") {
        if (client.ip !~ purgers) {
            return (synth(405, "Not allowed"));
        }
        if (!req.http.X-Ban-Url) {
            return (synth(400, "BAN needs an X-Ban-Url header"));
        }
        if (std.ban("obj.http.X-Host == " + req.http.host +
            " && obj.http.X-Url ~ " + req.http.X-Ban-Url)) {
            return (synth(200, "Ban added"));
        }
        return (synth(400, std.ban_error()));
    }

    # Comments, logins and searches are POSTed: send them straight through.
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }

    # The dashboard, the login page, cron, XML-RPC and post previews are
    # personal or have side effects: never cache them.
    if (req.url ~ "^/(wp-admin|wp-login\.php|wp-cron\.php|xmlrpc\.php)" ||
        req.url ~ "[?&](preview|customize_changeset_uuid)=") {
        return (pass);
    }

    call is_static_file;
    if (req.http.X-Static) {
        # Cookies are never needed to serve a stylesheet or an image.
        unset req.http.Cookie;
        return (hash);
    }

    if (req.http.Cookie) {
        # Logged-in users see the admin bar and their own drafts.
        if (req.http.Cookie ~ "wordpress_logged_in_") {
            return (pass);
        }
        # Of all the other cookies, only two change what WordPress renders:
        # the password for a protected post and the commenter's name and
        # e-mail (pre-filled into the comment form). Analytics and consent
        # cookies are for the browser's scripts only, so drop them: with
        # them the request would not be cached.
        cookie.parse(req.http.Cookie);
        cookie.keep_re("^(wp-postpass_|comment_author_)");
        set req.http.Cookie = cookie.get_string();
        if (req.http.Cookie == "") {
            unset req.http.Cookie;
        } else {
            return (pass);
        }
    }
}

sub vcl_backend_response {
    # Copies of the request's host and URL on the object, for lurker-friendly
    # bans (see BAN above). vcl_deliver hides them from visitors.
    set beresp.http.X-Host = bereq.http.host;
    set beresp.http.X-Url = bereq.url;

    if (bereq.http.X-Static) {
        unset beresp.http.Set-Cookie;
        set beresp.ttl = 7d;
        set beresp.http.Cache-Control = "public, max-age=604800";
    } elsif (!beresp.http.Cache-Control && !beresp.http.Set-Cookie) {
        # WordPress sends no caching headers on pages. Ten minutes is short
        # enough without a purge plugin, and a plugin purges on edit anyway.
        set beresp.ttl = 10m;
    }

    # If PHP or the database fall over, keep serving what we have for up to
    # a day rather than an error page.
    set beresp.grace = 24h;
}

sub vcl_deliver {
    unset resp.http.X-Host;
    unset resp.http.X-Url;

    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
    set resp.http.X-Cache-Hits = obj.hits;
}
