package AuthzCacheHit;

# Copyright (C) ngx_http_authz_module authors
#
# The pair of servers of the cache-hit comparisons (t/authz_cache_hit.t,
# t/authz_red12.t): one configuration run with and without authz_cache,
# its revocation list, and a request's answer as one line.
#
#     $t->write_file_expand('nginx.conf',
#         cache_hit_conf('authz_cache zone=hits:1m;', $idp_port, $more));
#     cache_hit_list($t, $now, ['tok-later'], sub => { bob => $now });
#     my ($line, $cache) = cache_hit_answer($t, '/a/x', $token);

use strict;
use warnings;

use Exporter qw(import);
use JSON::PP qw(encode_json);

use AuthzTest qw(parse_echo);

our @EXPORT_OK = qw(cache_hit_conf cache_hit_list cache_hit_answer);

# what a client and an upstream see, as one line; and $authz_cache

sub cache_hit_answer {
    my ($t, $path, $tok) = @_;

    my $r = $t->get($path, token => $tok,
        headers => ['X-Tenant' => 'acme']);
    my $e = parse_echo($r);
    my $h = $r->{headers};

    return (join('|', $r->{status}, map { $_ // '-' }
        @{$h}{qw(www-authenticate x-error x-reason x-claim x-jti x-iss
            x-exp x-kid x-roles x-sub x-perms x-alg x-typ x-iat
            x-key-source x-ptr)},
        @{$e}{qw(x-user-id x-tenant-id x-user-permissions x-user-services
            x-custom x-org uri)}), $h->{'x-cache'} // '');
}

# the revocation list: "tok-revoked" and the jti of @$jti listed for an
# hour, and the other members given (sub, tenant)

sub cache_hit_list {
    my ($t, $now, $jti, %more) = @_;
    my $list = { generated_at => $now, iat_before => 0, %more,
        jti => { 'tok-revoked' => $now + 3600,
            map { $_ => $now + 3600 } @$jti } };
    $t->write_file('revoked.json.tmp', encode_json($list));
    rename $t->testdir . '/revoked.json.tmp', $t->testdir . '/revoked.json'
        or die "rename: $!";
}

# the configuration; $more: more locations of the first server

sub cache_hit_conf {
    my ($cache, $idp, $more) = @_;

    $more //= '';

    return <<"EOF";

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    $cache
    authz_key_cache zone=keys:1m;
    authz_revocation_file %%TESTDIR%%/revoked.json check=100ms;

    authz_role role_editor blog:posts.update blog:posts.read;
    authz_role role_viewer blog:posts.read;

    map \$authz_claim_flag \$flag_ok {
        1        1;
        default  0;
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        authz on;
        authz_key_file %%KEYDIR%%/k1.pub kid=k1;
        authz_issuer https://issuer.test;
        authz_audience api.test;
        authz_leeway 60s;

        add_header X-Cache \$authz_cache always;
        add_header X-Error \$authz_error always;
        add_header X-Reason \$authz_reason always;
        add_header X-Claim \$authz_claim_custom always;
        add_header X-Jti \$authz_jti always;
        add_header X-Iss \$authz_iss always;
        add_header X-Exp \$authz_exp always;
        add_header X-Kid \$authz_kid always;
        add_header X-Roles \$authz_roles always;
        add_header X-Sub \$authz_sub always;
        add_header X-Perms \$authz_permissions always;
        add_header X-Alg \$authz_alg always;
        add_header X-Typ \$authz_typ always;
        add_header X-Iat \$authz_iat always;
        add_header X-Key-Source \$authz_key_source always;
        add_header X-Ptr \$authz_claim_custom always;

        location /a/ {
            authz_require blog:posts.read;
            proxy_pass http://%%ECHO%%;
        }

        location /claims/ {
            authz_permissions_claim scope;
            authz_tenant_claim org;
            authz_services_claim svc;
            authz_roles_claim groups;
            proxy_pass http://%%ECHO%%;
        }

        location /roles/ {
            authz_roles_claim groups;
            authz_require blog:posts.update;
            proxy_pass http://%%ECHO%%;
        }

        location /levels/ {
            authz_scope_levels own team org all;
            authz_require orders:read:team;
            proxy_pass http://%%ECHO%%;
        }

        location /leeway0/ {
            authz_leeway 0s;
            proxy_pass http://%%ECHO%%;
        }

        location /iss/ {
            authz_issuer https://other.test;
            proxy_pass http://%%ECHO%%;
        }

        location /aud/ {
            authz_audience x.test;
            proxy_pass http://%%ECHO%%;
        }

        location /tenant/ {
            authz_tenant \$http_x_tenant;
            proxy_pass http://%%ECHO%%;
        }

        location /svc/ {
            authz_service chatbot;
            proxy_pass http://%%ECHO%%;
        }

        location /svcblog/ {
            authz_service blog;
            proxy_pass http://%%ECHO%%;
        }

        location /rules/ {
            authz_rule GET /rules/own/** blog:posts.update;
            authz_rule GET "/rules/t/{tenant}/**" blog:posts.read;
            proxy_pass http://%%ECHO%%;
        }

        location /k2/ {
            authz_key_file %%KEYDIR%%/k2.pub kid=k2;
            proxy_pass http://%%ECHO%%;
        }

        location /size/ {
            authz_max_token_size 700;
            proxy_pass http://%%ECHO%%;
        }

        location /alg/ {
            authz_algorithms PS256;
            proxy_pass http://%%ECHO%%;
        }

        location /optexp/ {
            authz_require_exp off;
            proxy_pass http://%%ECHO%%;
        }

        location /cond/ {
            authz_condition \$flag_ok;
            proxy_pass http://%%ECHO%%;
        }

        location /vars/ {
            authz optional;
            proxy_pass http://%%ECHO%%;
        }

        # internal redirects into other claim settings

        location /redir/ {
            try_files /nonexistent \@claims;
        }

        location \@claims {
            authz_permissions_claim scope;
            authz_tenant_claim org;
            authz_roles_claim groups;
            authz_scope_levels own team org all;
            authz_require orders:read:team;
            proxy_pass http://%%ECHO%%;
        }

        location /err/ {
            authz_require blog:posts.delete;
            error_page 403 = \@levels;
            proxy_pass http://%%ECHO%%;
        }

        location \@levels {
            authz_scope_levels own team org all;
            authz_require orders:read:team;
            proxy_pass http://%%ECHO%%;
        }

        location /accel/ {
            authz_leeway 0s;
            proxy_pass http://127.0.0.1:%%PORT_8082%%;
        }

        # the claims and keys work

        location /typ/ {
            authz_token_type at+jwt;
            proxy_pass http://%%ECHO%%;
        }

        location /bindignore/ {
            authz_token_binding ignore;
            proxy_pass http://%%ECHO%%;
        }

        location /bindmtls/ {
            authz_token_binding mtls;
            proxy_pass http://%%ECHO%%;
        }

        location /ec/ {
            authz_key_file %%KEYDIR%%/ec.pub kid=ec;
            authz_algorithms ES256;
            proxy_pass http://%%ECHO%%;
        }

        location /ecrs/ {
            authz_key_file %%KEYDIR%%/k1.pub kid=k1;
            authz_key_file %%KEYDIR%%/ec.pub kid=ec;
            authz_algorithms RS256 ES256;
            authz_token_binding ignore;
            proxy_pass http://%%ECHO%%;
        }

        location /issok/ {
            authz_key_file %%KEYDIR%%/k1.pub kid=k1 issuer=https://issuer.test;
            proxy_pass http://%%ECHO%%;
        }

        location /issbound/ {
            authz_issuer https://issuer.test https://other.test;
            authz_key_file %%KEYDIR%%/k1.pub kid=k1 issuer=https://other.test;
            proxy_pass http://%%ECHO%%;
        }

        location /perms2/ {
            authz_permissions_claim permissions /ext/perms;
            authz_require blog:posts.delete;
            authz_token_binding ignore;
            proxy_pass http://%%ECHO%%;
        }

        location /wild/ {
            authz_wildcards off;
            authz_require blog:posts.read;
            proxy_pass http://%%ECHO%%;
        }

        location /fwd/ {
            authz_service blog;
            authz_forward_permissions service;
            proxy_pass http://%%ECHO%%;
        }

        location /hdr/ {
            authz_claim_header X-Custom custom;
            authz_claim_header X-Org /org;
            proxy_pass http://%%ECHO%%;
        }

        location /remote/ {
            authz_key_request /_jwks refresh=1s kid_refresh=1s;
            authz_token_binding ignore;
            proxy_pass http://%%ECHO%%;
        }

        location = /_jwks {
            internal;
            authz off;
            proxy_pass_request_headers off;
            proxy_pass_request_body off;
            proxy_method GET;
            proxy_set_header Accept-Encoding "";
            client_max_body_size 0;
            proxy_pass http://127.0.0.1:$idp/jwks;
        }

        location /errtyp/ {
            authz_token_type at+jwt;
            error_page 401 = \@bindignore;
            proxy_pass http://%%ECHO%%;
        }

        location \@bindignore {
            authz_token_binding ignore;
            authz_claim_header X-Custom custom;
            proxy_pass http://%%ECHO%%;
        }

        location /redirbind/ {
            authz_token_binding ignore;
            try_files /nonexistent \@typ;
        }

        location \@typ {
            authz_token_type at+jwt;
            authz_key_file %%KEYDIR%%/k1.pub kid=k1 issuer=https://issuer.test;
            proxy_pass http://%%ECHO%%;
        }

        location /internal/ {
            internal;
            authz_roles_claim groups;
            authz_require blog:posts.update;
            proxy_pass http://%%ECHO%%;
        }
$more
    }

    server {
        listen       127.0.0.1:%%PORT_8082%%;

        location / {
            add_header X-Accel-Redirect /internal/x;
            return 200 "";
        }
    }
}

EOF
}

1;
