#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# 1,000 concurrent connections with mixed valid, forged, expired and
# under-privileged tokens, driven by wrk: every answer must be the one
# its token deserves, and every 200 must carry the identity of the token
# that was sent, with zero exceptions.
#
# The wrk script picks a token per request and sends, next to it, the
# status it expects (X-Expect) and the sub it expects upstream
# (X-Expect-Sub); the gateway reflects both in the response headers
# (add_header ... always), so that response() can compare them with the
# status and with the x-user-id line of the echo upstream without
# tracking which connection sent what.  It runs twice: without, then
# with the verified-token cache (shared by two workers).

###############################################################################

use warnings;
use strict;

use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);

###############################################################################

# nginx's debug log would grow by gigabytes under this load
$ENV{AUTHZ_TEST_LOGLEVEL} = 'notice'
    if ($ENV{AUTHZ_TEST_LOGLEVEL} // 'debug') eq 'debug';

my ($wrk) = grep { -x } map { "$_/wrk" } split /:/, $ENV{PATH} // '';
plan(skip_all => 'wrk is missing (apt-get install -y wrk)') unless $wrk;

my $t = AuthzTest->new(workers => 2)->has('module', 'mint');

my $conf = <<'EOF';

%%TEST_GLOBALS%%

%%RLIMIT%%

events {
    worker_connections 4096;
}

http {
    %%TEST_GLOBALS_HTTP%%

    %%CACHE%%

    server {
        listen       127.0.0.1:%%PORT_8080%% backlog=4096;
        server_name  localhost;

        access_log off;

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;
        authz_key_file %%KEYDIR%%/k2.pub kid=k2;
        authz_issuer https://issuer.test;
        authz_audience api.test;

        add_header X-Expect $http_x_expect always;
        add_header X-Expect-Sub $http_x_expect_sub always;

        location /api/ {
            authz_rule GET /api/** blog:posts.read;
            proxy_pass http://%%ECHO%%;
        }
    }
}

EOF

# valgrind refuses a worker's setrlimit(RLIMIT_NOFILE) that changes the
# hard limit (an [alert]); nginx then keeps the limit it inherited
my $rlimit = ($ENV{AUTHZ_NGINX_PREFIX_CMD} // '') =~ /valgrind/ ? ''
    : 'worker_rlimit_nofile 8192;';
$conf =~ s/%%RLIMIT%%/$rlimit/;

(my $plain = $conf) =~ s/%%CACHE%%//;
$t->write_file_expand('nginx.conf', $plain);
$t->run->plan(2 * 10 + 3);

###############################################################################

my $kd = keydir();
my $now = time();
my @cli = ('--key', "$kd/k1.key", '--kid', 'k1', '--iss', 'https://issuer.test',
    '--aud', 'api.test', '--tenant', 'acme');

# [ token, expected status, expected sub upstream ('' unless 200) ]

my @tokens;

# 50 valid tokens of distinct subs, half from authz-mint, some signed by k2

for my $i (1 .. 50) {
    my $sub = sprintf 'user%03d', $i;
    my $tok = $i % 2
        ? mint(sub => $sub, permissions => ['blog:posts.read'],
            ($i % 5 == 1 ? (_key => 'k2') : ()))
        : mint_cli(@cli, '--sub', $sub, '--perm', 'blog:posts.read');
    push @tokens, [$tok, 200, $sub];
}

# 50 forged: flipped signature bits, swapped payloads, the wrong key
# under a kid, alg none, HS256 keyed with the public key

for my $i (1 .. 50) {
    my $sub = sprintf 'forged%03d', $i;
    my $valid = mint(sub => $sub, permissions => ['blog:posts.read']);
    my @p = split /\./, $valid;
    my $kind = $i % 5;
    my $tok;

    if ($kind == 0) {
        my $sig = b64url_decode($p[2]);
        substr($sig, $i, 1) ^= "\x01";
        $tok = "$p[0].$p[1]." . b64url($sig);

    } elsif ($kind == 1) {
        (my $pl = b64url_decode($p[1])) =~ s/"forged\d+"/"user001"/;
        $tok = "$p[0]." . b64url($pl) . ".$p[2]";

    } elsif ($kind == 2) {
        $tok = mint(sub => $sub, permissions => ['blog:posts.read'],
            _key => 'k2', _kid => 'k1');

    } elsif ($kind == 3) {
        $tok = mint(sub => $sub, permissions => ['blog:posts.read'],
            _alg => 'none');

    } else {
        $tok = hs256_with_pubkey(sub => $sub,
            permissions => ['blog:posts.read']);
    }

    push @tokens, [$tok, 401, ''];
}

# 20 expired

for my $i (1 .. 20) {
    my $sub = sprintf 'expired%03d', $i;
    push @tokens, [$i % 2
        ? mint(sub => $sub, permissions => ['blog:posts.read'],
            iat => $now - 3600, nbf => $now - 3600, exp => $now - 60 - $i)
        : mint_cli(@cli, '--sub', $sub, '--perm', 'blog:posts.read',
            '--iat', '-1h', '--exp', "-${i}m"), 401, ''];
}

# 10 signed with a bad claim (a comma in sub), 20 without the permission

push @tokens, [mint(sub => "bad$_,root", permissions => ['blog:posts.read']),
    401, ''] for 1 .. 10;

push @tokens, [mint(sub => sprintf('viewer%03d', $_),
    permissions => ['blog:posts.list']), 403, ''] for 1 .. 20;

# wrk's script: the token list, the checks, the counts in done()

my $lua = "local tokens = {\n"
    . join('', map { qq{  { "$_->[0]", "$_->[1]", "$_->[2]" },\n} } @tokens)
    . "}\n" . <<'EOF';

local threads = {}

function setup(thread)
    table.insert(threads, thread)
    thread:set("tid", #threads)
end

function init(args)
    math.randomseed(tid * 7919 + os.time())
    mismatches = 0
    submismatches = 0
    leaks = 0
    checked = 0
    by200, by401, by403 = 0, 0, 0
    first_status, first_sub, first_leak = "", "", ""
end

function request()
    local t = tokens[math.random(#tokens)]
    return wrk.format("GET", "/api/items", {
        ["Authorization"] = "Bearer " .. t[1],
        ["X-Expect"] = t[2],
        ["X-Expect-Sub"] = t[3],
    })
end

function response(status, headers, body)
    checked = checked + 1

    if status == 200 then by200 = by200 + 1
    elseif status == 401 then by401 = by401 + 1
    elseif status == 403 then by403 = by403 + 1 end

    local want = headers["X-Expect"]

    if want == nil or tonumber(want) ~= status then
        mismatches = mismatches + 1
        if first_status == "" then
            first_status = status .. ", expected " .. tostring(want)
        end
        return
    end

    local sub = body:match("x%-user%-id=([^\n]*)")

    if status == 200 then
        if sub == nil or sub ~= headers["X-Expect-Sub"] then
            submismatches = submismatches + 1
            if first_sub == "" then
                first_sub = tostring(sub) .. ", expected "
                            .. tostring(headers["X-Expect-Sub"])
            end
        end

    elseif sub ~= nil or body:find("uri=", 1, true) then
        leaks = leaks + 1
        if first_leak == "" then
            first_leak = status .. " with an upstream body"
        end
    end
end

function done(summary, latency, requests)
    local sum = { mismatches = 0, submismatches = 0, leaks = 0, checked = 0,
                  by200 = 0, by401 = 0, by403 = 0 }
    local firsts = { first_status = "", first_sub = "", first_leak = "" }

    for _, thread in ipairs(threads) do
        for k, _ in pairs(sum) do
            sum[k] = sum[k] + (thread:get(k) or 0)
        end
        for k, v in pairs(firsts) do
            local f = thread:get(k)
            if v == "" and f ~= nil then
                firsts[k] = f
            end
        end
    end

    for _, k in ipairs({ "mismatches", "submismatches", "leaks", "checked",
                         "by200", "by401", "by403" }) do
        io.write(string.format("AUTHZ %s %d\n", k, sum[k]))
    end
    for k, v in pairs(firsts) do
        io.write("AUTHZ " .. k .. " " .. v .. "\n")
    end
end
EOF

$t->write_file('check.lua', $lua);

# under valgrind nginx is about ten times slower: a longer run
my $seconds = ($ENV{AUTHZ_NGINX_PREFIX_CMD} // '') ne '' ? 10 : 5;
my $floor = 1000;

run_wrk('');

# the same load with the verified-token cache, shared by the two workers

(my $cached = $conf) =~ s/%%CACHE%%/authz_cache zone=conc:1m ttl=60s;/;
$t->write_file_expand('nginx.conf', $cached);
my $offset = length $t->error_log;
$t->restart;

run_wrk('cache: ');

my $log = $t->error_log;
unlike($log, qr/\[(alert|crit|emerg)\]/, 'no alert or crit');
unlike($log, qr/exited on signal/, 'no worker crash');
is(join(' ', map { scalar(() = $_ =~ /start worker process \d+/g) }
    substr($log, 0, $offset), substr($log, $offset)), '2 2',
    'two workers per run, never restarted');

###############################################################################

sub run_wrk {
    my ($p) = @_;

    my $url = 'http://127.0.0.1:' . $t->port(8080) . '/api/items';
    my $out = $t->testdir . '/wrk.out';

    # wrk needs a descriptor per connection: raise the soft limit
    local $ENV{OUT} = $out;
    system('sh', '-c', 'ulimit -n 8192 && exec "$0" "$@" > "$OUT" 2>&1',
        $wrk, '-t2', '-c1000', "-d${seconds}s", '--timeout', '10s',
        '-s', $t->testdir . '/check.lua', $url);
    my $rc = $? >> 8;
    my $text = $t->read_file('wrk.out') // '';

    my %a = $text =~ /^AUTHZ (\w+) (.*)$/mg;
    my ($requests) = $text =~ /^\s*(\d+) requests in /m;
    my ($socket) = $text =~ /^\s*Socket errors: (.*)$/m;

    diag("${p}wrk: " . ($requests // '?') . " requests, checked "
        . ($a{checked} // '?') . ' (200: ' . ($a{by200} // '?')
        . ', 401: ' . ($a{by401} // '?') . ', 403: ' . ($a{by403} // '?')
        . '), socket errors: ' . ($socket // 'none'))
        if $ENV{TEST_VERBOSE};

    is($rc, 0, "${p}wrk ran") or diag($text);
    is($a{mismatches}, 0, "${p}no wrong status")
        or diag("first: $a{first_status}");
    is($a{submismatches}, 0, "${p}every 200 forwarded its token's sub")
        or diag("first: $a{first_sub}");
    is($a{leaks}, 0, "${p}no denied request reached the upstream")
        or diag("first: $a{first_leak}");
    ok(($requests // 0) > $floor, "${p}more than $floor requests")
        or diag($text);
    ok(($a{checked} // 0) >= ($requests // 0) && ($requests // 0) > 0,
        "${p}every response checked")
        or diag("checked " . ($a{checked} // '?') . ' of '
            . ($requests // '?'));
    ok(($a{by200} // 0) > 0 && ($a{by401} // 0) > 0 && ($a{by403} // 0) > 0,
        "${p}200, 401 and 403 all seen");

    # connect errors would be the kernel's accept backlog (the listen
    # socket has backlog=4096): none expected; read, write and timeout
    # errors would be answers lost
    my %se = (connect => 0, read => 0, write => 0, timeout => 0);
    %se = (%se, $socket =~ /(\w+) (\d+)/g) if defined $socket;

    is($se{connect}, 0, "${p}no connect error");
    is($se{read} + $se{write}, 0, "${p}no read or write error");
    is($se{timeout}, 0, "${p}no timeout");
}

###############################################################################
