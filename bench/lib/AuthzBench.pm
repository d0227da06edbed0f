package AuthzBench;

# Copyright (C) ngx_http_authz_module authors

# What bench/bench.pl and bench/callgrind.pl share: the token shape (the
# SPEC's example: sub, tenant, jti, five permissions, two services, one
# role; RS256 with kid, about 850 bytes), the servers they measure, and
# a keep-alive HTTP/1.1 client that sends requests one after another
# and reads the answers.

use warnings;
use strict;

use Exporter qw(import);
use IO::Socket::INET;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use AuthzTest qw(mint b64url);

our @EXPORT_OK = qw(bench_token bench_forged bench_expired bench_send
    bench_servers);

# extra: more claims (e.g. permissions => [...] of another length)

sub bench_token {
    my ($n, %extra) = @_;
    my $now = time;

    return mint(sub => "user_$n", tid => 'acme',
        jti => "9b1c2f3e4d5a6b7c8d9e0f1a-$n",
        permissions => [qw(bench:items.read blog:posts.read
            blog:posts.update chatbot:slots.read orders:read:team)],
        services => { bench => { enabled => JSON::PP::true() },
            blog => { enabled => JSON::PP::true() },
            chatbot => { enabled => JSON::PP::false() } },
        roles => ['role_editor'], iat => $now, nbf => $now,
        exp => $now + 3600, %extra);
}

# a valid token's header and payload with another signature of its length

sub bench_forged {
    my @p = split /\./, bench_token('forger');
    return "$p[0].$p[1]." . b64url("\x11" x 256);
}

sub bench_expired {
    my $now = time;
    return bench_token('late', iat => $now - 7200, nbf => $now - 7200,
        exp => $now - 3600);
}

# the http-level blocks of every bench: the upstream, a server block of
# the same nginx that answers "ok", and the gateway on port with /
# (authz_require, then rules: lines inside it), /plain/ (authz off) and
# /headers/ (authz off, the four identity headers as static lines: the
# ceiling of what forwarding an identity costs); extra: more lines of
# the gateway's server block

sub bench_servers {
    my (%a) = @_;
    my $rules = $a{rules} // '';
    my $extra = $a{extra} // '';

    return <<"EOF";
    upstream backend {
        server 127.0.0.1:$a{up};
        keepalive 64;
    }

    # the stand-in for the microservice: its 4k header buffer keeps
    # its own parse of the forwarded identity headers (a request over
    # the default 1k) off the large-buffer path, a cost that belongs to
    # the service's machine, not to the gateway measured here

    server {
        listen 127.0.0.1:$a{up};
        client_header_buffer_size 4k;
        location / {
            return 200 "ok\\n";
        }
    }

    server {
        listen 127.0.0.1:$a{port};

        authz on;
        authz_key_file $a{keys}/k1.pub kid=k1;
        authz_issuer https://issuer.test;
        authz_audience api.test;

        proxy_http_version 1.1;
        proxy_set_header Connection "";

        location / {
            authz_require bench:items.read;
$rules
            proxy_pass http://backend;
        }

        location /plain/ {
            authz off;
            proxy_pass http://backend;
        }

        location /headers/ {
            authz off;
            proxy_set_header Connection "";
            proxy_set_header X-User-Id user_1;
            proxy_set_header X-Tenant-Id acme;
            proxy_set_header X-User-Permissions "bench:items.read,blog:posts.read,blog:posts.update,chatbot:slots.read,orders:read:team";
            proxy_set_header X-User-Services bench,blog;
            proxy_pass http://backend;
        }
$extra
    }
EOF
}

# sends one request per token over keep-alive connections (500 requests
# each); returns the statuses

sub bench_send {
    my ($port, $path, @tokens) = @_;
    my @st;

    # nginx closes a keep-alive connection after 1000 requests

    while (@tokens > 500) {
        push @st, bench_send($port, $path, splice @tokens, 0, 500);
    }

    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port")
        or die "connect 127.0.0.1:$port: $!\n";

    for my $tok (@tokens) {
        print $s "GET $path HTTP/1.1\r\nHost: localhost\r\n"
            . (defined $tok ? "Authorization: Bearer $tok\r\n" : '')
            . "\r\n";

        my ($head, $len) = ('', 0);
        while (my $line = <$s>) {
            $head .= $line;
            $len = $1 if $line =~ /^Content-Length:\s*(\d+)/i;
            last if $line eq "\r\n";
        }
        die "connection closed\n" if $head eq '';
        read($s, my $body, $len) if $len;
        push @st, $head =~ m{^HTTP/1\.\d (\d+)} ? $1 : 0;
    }

    close $s;
    return @st;
}

1;
