vcl 4.0;

# Shellac's built-in VCL.
#
# It is compiled after your VCL. Each sub below runs after the sub of the same name in your
# file, so when your sub ends without a `return`, the policy here decides. The helper subs
# (vcl_builtin_*, vcl_req_*, vcl_beresp_*) carry the same names as in Varnish, so a VCL may
# define one of them to change a single rule: its body runs before the one written here.

sub vcl_recv {
	call vcl_builtin_recv;
	return (hash);
}

sub vcl_builtin_recv {
	call vcl_req_host;
	call vcl_req_method;
	call vcl_req_authorization;
	call vcl_req_cookie;
}

sub vcl_req_host {
	# Host names are case-insensitive; one spelling means one cache object.
	if (req.http.host ~ "[[:upper:]]") {
		set req.http.host = req.http.host.lower();
	}
	# An HTTP/1.1 request must name its host.
	if (!req.http.host && req.esi_level == 0 && req.proto == "HTTP/1.1") {
		return (synth(400));
	}
}

sub vcl_req_method {
	# The HTTP/2 connection preface has no business arriving as an HTTP/1 request.
	if (req.method == "PRI") {
		return (synth(405));
	}
	# Methods we do not know are tunnelled to the backend untouched (Varnish 7.1's choice).
	if (req.method != "GET" && req.method != "HEAD" && req.method != "PUT" &&
	    req.method != "POST" && req.method != "TRACE" && req.method != "OPTIONS" &&
	    req.method != "DELETE" && req.method != "PATCH") {
		return (pipe);
	}
	# Only GET and HEAD are served from the cache.
	if (req.method != "GET" && req.method != "HEAD") {
		return (pass);
	}
}

sub vcl_req_authorization {
	# A response to an authenticated request may be meant for that user alone.
	if (req.http.Authorization) {
		return (pass);
	}
}

sub vcl_req_cookie {
	# Cookies usually mean per-user content: not safe to share by default.
	if (req.http.Cookie) {
		return (pass);
	}
}

sub vcl_pipe {
	call vcl_builtin_pipe;
	return (pipe);
}

sub vcl_builtin_pipe {
}

sub vcl_pass {
	call vcl_builtin_pass;
	return (fetch);
}

sub vcl_builtin_pass {
}

sub vcl_hash {
	call vcl_builtin_hash;
	return (lookup);
}

sub vcl_builtin_hash {
	hash_data(req.url);
	if (req.http.host) {
		hash_data(req.http.host);
	} else {
		hash_data(server.ip);
	}
}

sub vcl_purge {
	call vcl_builtin_purge;
	return (synth(200, "Purged"));
}

sub vcl_builtin_purge {
}

sub vcl_hit {
	call vcl_builtin_hit;
	return (deliver);
}

sub vcl_builtin_hit {
}

sub vcl_miss {
	call vcl_builtin_miss;
	return (fetch);
}

sub vcl_builtin_miss {
}

sub vcl_deliver {
	call vcl_builtin_deliver;
	return (deliver);
}

sub vcl_builtin_deliver {
}

# Synthetic responses, including the 500 and 503 errors the proxy itself produces.
sub vcl_synth {
	call vcl_builtin_synth;
	return (deliver);
}

sub vcl_builtin_synth {
	set resp.http.Content-Type = "text/html; charset=utf-8";
	set resp.http.Retry-After = "5";
	set resp.body = {"<!DOCTYPE html>
<html>
<head><title>"} + resp.status + " " + resp.reason + {"</title></head>
<body>
<h1>"} + resp.status + " " + resp.reason + {"</h1>
<p>Request "} + req.xid + {" could not be served.</p>
<hr><p>Shellac</p>
</body>
</html>
"};
}

sub vcl_backend_fetch {
	call vcl_builtin_backend_fetch;
	return (fetch);
}

sub vcl_builtin_backend_fetch {
	# A GET has no body; do not send one the client may have attached.
	if (bereq.method == "GET") {
		unset bereq.body;
	}
}

sub vcl_backend_response {
	call vcl_builtin_backend_response;
	return (deliver);
}

sub vcl_builtin_backend_response {
	# A pass is never cached anyway.
	if (bereq.uncacheable) {
		return (deliver);
	}
	call vcl_beresp_stale;
	call vcl_beresp_cookie;
	call vcl_beresp_control;
	call vcl_beresp_vary;
}

sub vcl_beresp_stale {
	if (beresp.ttl <= 0s) {
		call vcl_beresp_hitmiss;
	}
}

sub vcl_beresp_cookie {
	if (beresp.http.Set-Cookie) {
		call vcl_beresp_hitmiss;
	}
}

sub vcl_beresp_control {
	if (beresp.http.Surrogate-Control ~ "(?i)no-store" ||
	    (!beresp.http.Surrogate-Control &&
	     beresp.http.Cache-Control ~ "(?i:no-cache|no-store|private)")) {
		call vcl_beresp_hitmiss;
	}
}

sub vcl_beresp_vary {
	if (beresp.http.Vary == "*") {
		call vcl_beresp_hitmiss;
	}
}

# Remember for two minutes that this object cannot be cached, so that requests for it go to the
# backend at once instead of queueing behind each other (hit-for-miss).
sub vcl_beresp_hitmiss {
	set beresp.ttl = 120s;
	set beresp.uncacheable = true;
	return (deliver);
}

sub vcl_backend_error {
	call vcl_builtin_backend_error;
	return (deliver);
}

sub vcl_builtin_backend_error {
	set beresp.http.Content-Type = "text/html; charset=utf-8";
	set beresp.http.Retry-After = "5";
	set beresp.body = {"<!DOCTYPE html>
<html>
<head><title>"} + beresp.status + " " + beresp.reason + {"</title></head>
<body>
<h1>"} + beresp.status + " " + beresp.reason + {"</h1>
<p>Backend fetch "} + bereq.xid + {" failed.</p>
<hr><p>Shellac</p>
</body>
</html>
"};
}

sub vcl_init {
	return (ok);
}

sub vcl_fini {
	return (ok);
}
