#
# device-detection.vcl: one URL, different pages for phones, tablets,
# desktops and crawlers.
#
# Caching by User-Agent would keep one copy per browser build (thousands of
# them). Instead the cache sorts each User-Agent into one of four classes,
# tells the origin the class in X-Device, and keeps at most four copies of
# each page.
#
vcl 4.1;

backend default {
    .host = "127.0.0.1";
    .port = "8080";
}

# Sets X-Device to bot, tablet, mobile or desktop. The order of the tests
# matters: crawlers often claim to be a phone, and Android tablets say
# "Android" without "Mobile", so bots come first and tablets before phones.
sub detect_device {
    if (req.http.User-Agent ~ "(?i)(bot|crawler|spider|slurp|facebookexternalhit|whatsapp|lighthouse)") {
        set req.http.X-Device = "bot";
    } elsif (req.http.User-Agent ~ "(?i)(ipad|tablet|kindle|silk|playbook)" ||
             (req.http.User-Agent ~ "(?i)android" && req.http.User-Agent !~ "(?i)mobile")) {
        set req.http.X-Device = "tablet";
    } elsif (req.http.User-Agent ~ "(?i)(mobi|iphone|ipod|windows phone|blackberry|opera mini)") {
        set req.http.X-Device = "mobile";
    } else {
        # Also the answer when there is no User-Agent at all.
        set req.http.X-Device = "desktop";
    }
}

sub vcl_recv {
    # Always overwrites X-Device: a client cannot pick its class by sending
    # the header itself.
    call detect_device;
}

sub vcl_hash {
    # The built-in key (URL and host) plus the device class, so each class
    # has its own copy. Note that a PURGE therefore only drops the copy of
    # the purging client's class; use a ban on the URL to drop them all.
    hash_data(req.url);
    if (req.http.host) {
        hash_data(req.http.host);
    } else {
        hash_data(server.ip);
    }
    hash_data(req.http.X-Device);
    return (lookup);
}

sub vcl_backend_response {
    # The origin reads X-Device, so that is what its pages vary on. Many
    # origins say "Vary: User-Agent" out of habit; keeping that would split
    # the stored variants per browser build again.
    if (!beresp.http.Vary) {
        set beresp.http.Vary = "X-Device";
    } elsif (beresp.http.Vary ~ "(?i)x-device") {
        # Already right.
    } elsif (beresp.http.Vary ~ "(?i)user-agent") {
        set beresp.http.Vary = regsuball(beresp.http.Vary, "(?i)user-agent", "X-Device");
    } else {
        set beresp.http.Vary = beresp.http.Vary + ", X-Device";
    }
}

sub vcl_deliver {
    # Browsers and caches after us never see X-Device: for them the page
    # depends on the User-Agent they sent, so say that instead.
    if (resp.http.Vary) {
        set resp.http.Vary = regsuball(resp.http.Vary, "X-Device", "User-Agent");
    }
}
