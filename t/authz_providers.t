#!/usr/bin/perl

# Copyright (C) ngx_http_authz_module authors

# The recipes of docs/providers.md, as written there: for each provider
# the "token", "jwks", "http", "server" and "keys" blocks are read from
# the page (the fenced block after each "<!-- provider-test: NAME KIND -->"
# marker).  A token is minted with Crypt::JWT in exactly the documented
# shape (the same header fields and claims, the times moved to now),
# signed with a test key published in a JWKS of the documented shape,
# and sent through an nginx of its own configured with the recipe's
# blocks: the allowed routes answer 200 with the expected X-User-*
# headers (client copies replaced), a route needing a permission the
# token lacks 403, a token for another audience or from another issuer
# (a near miss: the trailing "/" toggled) 401, a signature by another key
# 401.  Each recipe runs twice: with its key set as a file
# (authz_key_file), and with the recipe's "keys" block itself
# (authz_key_request through the internal location, the provider's host
# replaced by a local server that publishes the JWKS at the provider's
# path).

###############################################################################

use warnings;
use strict;

use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use AuthzTest qw(:all);

use Crypt::JWT qw(encode_jwt);
use Crypt::PK::RSA;
use JSON::PP;

###############################################################################

AuthzTest->new->has('module');

my $DOC = "$FindBin::Bin/../docs/providers.md";
my %blocks = doc_blocks($DOC);

# the documented times are around this instant; tokens move them to now
my $DOC_NOW = 1795320000;
my @TIMES = qw(iat nbf exp auth_time);

my $json = JSON::PP->new->canonical;
my $k1 = Crypt::PK::RSA->new(keydir() . '/k1.key');
my $k2 = Crypt::PK::RSA->new(keydir() . '/k2.key');

# the headers the upstream of the recipes reports
my @ECHO = qw(x-user-id x-tenant-id x-user-permissions x-user-services
    x-user-name x-user-oid x-user-uid x-user-email x-client-id);

# per recipe: what the documented token may do, and what the upstream
# must receive for it
my @RECIPES = (
    {
        name => 'keycloak',
        allow => [[GET => '/api/orders/42'], [POST => '/api/orders']],
        deny => [DELETE => '/api/orders/42', 'orders:delete'],
        expect => {
            'x-user-id' => 'f3b5c9e2-8a0d-4e8b-9d61-2f7a0c4d1e55',
            'x-tenant-id' => 'acme',
            'x-user-permissions' => 'orders:read,orders:write',
            'x-user-services' => 'orders,billing',
            'x-user-name' => 'alice',
        },
        # DPoP-bound: refused by authz_token_binding's default
        extra => [['DPoP-bound token (cnf.jkt)',
            { cnf => { jkt => '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' } },
            401]],
    },
    {
        name => 'auth0',
        allow => [[GET => '/api/orders/42'], [POST => '/api/orders']],
        deny => [DELETE => '/api/orders/42', 'orders:delete'],
        expect => {
            'x-user-id' => 'auth0|6543a1b2c3d4e5f6a7b8c9d0',
            'x-tenant-id' => 'org_9ybsU1dN2dKfDkBi',
            'x-user-permissions' => 'orders:read,orders:write',
            'x-user-services' => 'orders,billing',
        },
        extra => [['scope only, no permissions (RBAC off)',
            { permissions => undef }, 403]],
    },
    {
        name => 'entra',
        allow => [[GET => '/api/orders/42'], [POST => '/api/orders']],
        deny => [DELETE => '/api/orders/42', 'Orders.Admin'],
        expect => {
            'x-user-id' => 'k9Xq3ZbV7tPcYw2LmN8rJ5sHfD1gA4eU6oI0pQ-zRyT',
            'x-tenant-id' => '5f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f',
            'x-user-permissions' => 'Orders.Read,Orders.Write,Orders.Writer',
            'x-user-services' => 'orders,billing',
            'x-user-oid' => '8f2e4d6c-1a3b-4c5d-9e7f-0a2b4c6d8e0f',
        },
        extra => [['v1.0 token (sts.windows.net issuer, api:// audience)',
            { iss => 'https://sts.windows.net/'
                . '5f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f/',
              aud => 'api://orders', ver => '1.0' }, 401]],
    },
    {
        name => 'cognito',
        allow => [[GET => '/api/orders/42'], [POST => '/api/orders']],
        deny => [DELETE => '/api/orders/42', 'orders-api/delete'],
        expect => {
            'x-user-id' => 'a1b2c3d4-0000-4a1b-9c2d-3e4f5a6b7c8d',
            'x-tenant-id' => 'acme',
            'x-user-permissions' =>
                'orders-api/read,openid,email,orders-api/write',
            'x-user-services' => 'orders,billing',
        },
        # no "aud" in Cognito access tokens: the app client is checked
        no_aud => 1,
        extra => [
            ['another app client of the pool',
                { client_id => '3other4567890abcdefghijklm' }, 403],
            ['an ID token of the pool (token_use id)',
                { token_use => 'id' }, 403],
        ],
    },
    {
        name => 'okta',
        allow => [[GET => '/api/orders/42'], [POST => '/api/orders']],
        deny => [DELETE => '/api/orders/42', 'orders:delete'],
        expect => {
            'x-user-id' => 'alice@acme.example',
            'x-tenant-id' => 'acme',
            'x-user-permissions' => 'openid,orders:read,orders:write',
            'x-user-services' => 'orders,billing',
            'x-user-uid' => '00u1a2b3c4D5e6F7g8h9',
        },
    },
    {
        name => 'firebase',
        allow => [[GET => '/api/orders/42'], [POST => '/api/orders']],
        deny => [DELETE => '/api/orders/42', 'orders:delete'],
        expect => {
            'x-user-id' => 'Xy7ZbCp0qUeT1mN2oP3qRs4tUv5w',
            'x-tenant-id' => 'acme-k3x9q',
            'x-user-permissions' => 'orders:read,orders:write',
            'x-user-services' => 'orders,billing',
            'x-user-email' => 'alice@acme.example',
        },
        extra => [['unsigned emulator token (alg none)',
            { _alg => 'none' }, 401]],
    },
    {
        name => 'zitadel',
        allow => [[GET => '/api/orders/42'], [POST => '/api/orders']],
        deny => [DELETE => '/api/orders/42', 'orders:delete'],
        expect => {
            'x-user-id' => '279123456789012400',
            'x-tenant-id' => '279123456789012300',
            'x-user-permissions' => 'orders:read,orders:write',
            'x-user-services' => 'orders,billing',
        },
    },
    {
        name => 'generic',
        allow => [[GET => '/api/orders/42'], [POST => '/api/orders']],
        deny => [DELETE => '/api/orders/42', 'orders:delete'],
        expect => {
            'x-user-id' => '5ba552d67',
            'x-tenant-id' => 'acme',
            'x-user-permissions' => 'orders:read,orders:write',
            'x-user-services' => 'orders,billing',
            'x-client-id' => 's6BhdRkqt3',
        },
        extra => [['typ JWT (an ID token), not at+jwt',
            { _typ => 'JWT' }, 401]],
    },
);

###############################################################################

# the page has every block the tests use, and nothing else is marked

is_deeply([sort keys %blocks],
    [sort 'common', map { $_->{name} } @RECIPES], 'providers.md: recipes');
ok($blocks{common}{'jwks-proxy'}, 'providers.md: jwks-proxy.conf');

for my $r (@RECIPES) {
    my $b = $blocks{$r->{name}} // {};
    ok($b->{token} && $b->{jwks} && $b->{server} && $b->{keys},
        "$r->{name}: token, jwks, server and keys blocks");
}

for my $r (@RECIPES) {
    my $b = $blocks{$r->{name}} or next;
    next unless $b->{token} && $b->{jwks} && $b->{server} && $b->{keys};

    subtest "$r->{name}: authz_key_file" => sub {
        run_recipe($r, $b, 'file');
    };

    subtest "$r->{name}: authz_key_request (the keys block)" => sub {
        run_recipe($r, $b, 'request');
    };
}

done_testing();

###############################################################################

# { NAME => { KIND => text } } from the "<!-- provider-test: NAME KIND -->"
# markers, each followed by one fenced block
sub doc_blocks {
    my ($path) = @_;

    open my $fh, '<', $path or die "open $path: $!";
    my $text = do { local $/; <$fh> };
    close $fh;

    my %b;
    my $re = qr/<!-- provider-test: (\S+) (\S+) -->\n```\w+\n(.*?)^```/ms;
    while ($text =~ /$re/g) {
        die "$path: two \"$1 $2\" blocks\n" if exists $b{$1}{$2};
        $b{$1}{$2} = $3;
    }

    return %b;
}

sub run_recipe {
    my ($r, $b, $mode) = @_;

    my $name = $r->{name};
    my $doc = $json->decode($b->{token});
    my $jwks = $json->decode($b->{jwks});
    my $kid = $doc->{header}{kid};

    my $t = AuthzTest->new;

    # the documented key set: the signing key is k1, any other key k2
    my $n = 0;
    for my $key (@{ $jwks->{keys} }) {
        my $pk = $n++ ? $k2 : $k1;
        my $jwk = $pk->export_key_jwk('public', 1);
        @$key{qw(n e)} = @$jwk{qw(n e)};
    }
    my $set = $json->encode($jwks);
    $t->write_file("$name.jwks", $set);

    my ($keys, $jwks_server) = ('', '');

    if ($mode eq 'file') {
        $keys = "authz_key_file %%TESTDIR%%/$name.jwks;";

    } else {
        # the recipe's keys block, the provider's host replaced
        $keys = $b->{keys};
        $keys =~ s{proxy_pass https://[^/;]+(/[^;]*);}{
            $t->write_file("jwks-root$1", $set);
            "proxy_pass http://127.0.0.1:%%PORT_8082%%$1;"
        }e or die "$name: no proxy_pass https:// in the keys block\n";
        # (the CA bundle is in Debian's ca-certificates, which a fresh
        # machine may lack: nginx -t would fail on the missing file)
        my $proxy = $blocks{common}{'jwks-proxy'};
        my $ca = keydir() . '/k1.crt';
        $proxy =~ s{(proxy_ssl_trusted_certificate\s+)(\S+);}{
            -e $2 ? "$1$2;" : "$1$ca;" }e;
        $t->write_file('authz/jwks-proxy.conf', $proxy);
        $jwks_server = <<"EOF";
    authz_key_cache zone=authz_keys:1m;

    server {
        listen       127.0.0.1:%%PORT_8082%%;
        server_name  jwks;

        location / {
            root %%TESTDIR%%/jwks-root;
            default_type application/json;
        }
    }
EOF
    }

    my $echo = join '', map { "$_=\$http_" . ($_ =~ tr/-/_/r) . '\n' }
        @ECHO;

    my $conf = <<"EOF";

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    upstream orders {
        server 127.0.0.1:%%PORT_8081%%;
    }

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  orders;

        location / {
            default_type text/plain;
            return 200 "$echo";
        }
    }

$jwks_server
    # ---- the recipe's http block
@{[ $b->{http} // '' ]}
    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        add_header X-Authz-Reason \$authz_reason always;

        # ---- keys
$keys

        # ---- the recipe's server block
$b->{server}
    }
}

EOF

    $t->write_file_expand('nginx.conf', $conf);

    my ($rc, $out) = $t->nginx_t($conf);
    unless (is($rc, 0, "$name: nginx -t")) {
        diag($out);
        return;
    }

    $t->run;

    my $token = token($doc);

    # negatives first

    for my $bad (
        ['wrong signature (another key, same kid)', token($doc, _key => $k2)],
        ['expired', token($doc, exp => time - 3600, iat => time - 7200,
            nbf => exists $doc->{payload}{nbf} ? time - 7200 : undef,
            auth_time => exists $doc->{payload}{auth_time}
                ? time - 7200 : undef)],
        ['wrong iss (trailing "/" toggled)',
            token($doc, iss => toggle_slash($doc->{payload}{iss}))],
        ['wrong iss (another issuer)',
            token($doc, iss => 'https://idp.attacker.example')],
        ($r->{no_aud} ? () : (
            ['wrong aud', token($doc, aud => wrong_aud($doc->{payload}{aud}))],
            ['aud missing', token($doc, aud => undef)])),
    ) {
        my ($what, $tok) = @$bad;
        my $res = $t->get('/api/orders/42', token => $tok);
        is($res->{status}, 401, "$name: $what: 401");
        like($res->{headers}{'www-authenticate'} // '',
            qr/error="invalid_token"/, "$name: $what: invalid_token");
        unlike($res->{body}, qr/x-user-id=/, "$name: $what: not forwarded");
    }

    my ($method, $path, $need) = @{ $r->{deny} };
    my $res = $t->req($method, $path, token => $token);
    is($res->{status}, 403, "$name: $method $path: 403");
    like($res->{headers}{'www-authenticate'} // '',
        qr/error="insufficient_scope", scope="\Q$need\E"/,
        "$name: $method $path: insufficient_scope $need");

    for my $x (@{ $r->{extra} // [] }) {
        my ($what, $claims, $status) = @$x;
        $res = $t->get('/api/orders/42', token => token($doc, %$claims));
        is($res->{status}, $status, "$name: $what: $status")
            or diag("reason: " . ($res->{headers}{'x-authz-reason'} // ''));
        unlike($res->{body}, qr/x-user-id=/, "$name: $what: not forwarded");
    }

    $res = $t->get('/api/orders/42');
    is($res->{status}, 401, "$name: no token: 401");

    # the allowed routes, with spoofed identity headers

    my @spoof = map { $_ => 'spoofed' } sort keys %{ $r->{expect} };

    for my $a (@{ $r->{allow} }) {
        my ($m, $p) = @$a;
        $res = $t->req($m, $p, token => $token, headers => \@spoof,
            body => $m eq 'POST' ? '{}' : undef);
        is($res->{status}, 200, "$name: $m $p: 200")
            or diag("reason: " . ($res->{headers}{'x-authz-reason'} // ''));

        my $got = parse_echo($res);
        for my $h (sort keys %{ $r->{expect} }) {
            my $want = $r->{expect}{$h};
            if ($h eq 'x-user-permissions' || $h eq 'x-user-services') {
                is(set($got->{$h}), set($want), "$name: $m $p: $h");
            } else {
                is($got->{$h}, $want, "$name: $m $p: $h");
            }
        }
    }

    $t->stop;
}

# a token in the documented shape; %o: claims to change (undef removes),
# _key (a Crypt::PK::RSA), _alg, _typ
sub token {
    my ($doc, %o) = @_;

    my %hdr = %{ $doc->{header} };
    my %pl = %{ $json->decode($json->encode($doc->{payload})) };

    my $delta = time - $DOC_NOW;
    for (@TIMES) {
        $pl{$_} += $delta if exists $pl{$_};
    }

    my $key = delete $o{_key} // $k1;
    my $alg = delete $o{_alg} // delete $hdr{alg};
    delete $hdr{alg};
    if (exists $o{_typ}) {
        $hdr{typ} = delete $o{_typ};
    }

    for (keys %o) {
        if (defined $o{$_}) {
            $pl{$_} = $o{$_};
        } else {
            delete $pl{$_};
        }
    }

    return encode_jwt(payload => $json->encode(\%pl), alg => $alg,
        key => $alg eq 'none' ? undef : $key, extra_headers => \%hdr,
        allow_none => 1);
}

sub toggle_slash {
    my ($s) = @_;
    return $s =~ m{/$} ? substr($s, 0, -1) : "$s/";
}

# the documented aud with every value changed: "x" -> "x/"
sub wrong_aud {
    my ($aud) = @_;
    return ref $aud ? [map { toggle_slash($_) } @$aud] : toggle_slash($aud);
}

sub set {
    my ($s) = @_;
    return join ',', sort split /,/, $s // '';
}

###############################################################################
