package AuthzRedirect;

# Copyright (C) ngx_http_authz_module authors
#
# The generator and the model of t/authz_redirect_random.t.
#
# A configuration is one nginx "server" of 3 to 6 locations chained by
# try_files, error_page (401, 403, with "=" and without, to named and
# to normal locations) and X-Accel-Redirect from a helper upstream,
# each location with its own mode, token source and key set (or the
# server's), plus variable reads before and after the access phase.
# The model follows a request through the chain the way nginx does
# (error_page, recursive_error_pages, err_status) and says which status
# the client sees, which location forwards, and which identity that
# location may forward.  Everything random comes from a PRNG seeded by
# (seed, configuration index), so that one configuration can be
# generated again alone.

use strict;
use warnings;

use Digest::SHA qw(sha256);
use Exporter qw(import);

our @EXPORT_OK = qw(rng generate pinned render_server render_http
    requests simulate check check_memory eff ident_str);

my @SOURCES = qw(bearer xtok cookie);
my @KINDS = qw(absent v1 v2 exp forged);

my %SOURCE_VAR = (xtok => '$http_x_token', cookie => '$cookie_at');

our $MAX_RATE = '1000000r/s';


############################################################################
# xorshift128 on 32-bit words: the same numbers on every platform

sub rng {
    my (@what) = @_;
    my @s = unpack 'N4', sha256(join ':', 'authz-redirect', @what);
    $s[0] ||= 1;
    return bless { s => \@s }, 'AuthzRedirect::Rng';
}

sub AuthzRedirect::Rng::u32 {
    my ($self) = @_;
    my $s = $self->{s};
    my $t = $s->[0];
    $t ^= ($t << 11) & 0xffffffff;
    $t ^= $t >> 8;
    @$s[0 .. 2] = @$s[1 .. 3];
    $s->[3] = ($s->[3] ^ ($s->[3] >> 19) ^ $t) & 0xffffffff;
    return $s->[3];
}

sub AuthzRedirect::Rng::int { my ($r, $n) = @_; return $r->u32 % $n }
sub AuthzRedirect::Rng::chance { my ($r, $p) = @_; return $r->u32 < $p * 2**32 }
sub AuthzRedirect::Rng::pick { my $r = shift; return $_[$r->int(scalar @_)] }

sub AuthzRedirect::Rng::shuffle {
    my ($r, @a) = @_;
    for (my $i = $#a; $i > 0; $i--) {
        my $j = $r->int($i + 1);
        @a[$i, $j] = @a[$j, $i];
    }
    return @a;
}


############################################################################
# configurations

# one random configuration; index 0 is pinned() instead
sub generate {
    my ($seed, $index) = @_;

    my $r = rng($seed, 'config', $index);
    my $n = 3 + $r->int(4);
    my %srv;

    $srv{keys} = $r->pick(['k1'], ['k2'], ['k1', 'k2'], ['k2', 'k1'])
        if $r->chance(0.8);
    $srv{source} = $r->pick('xtok', 'cookie') if $r->chance(0.35);
    $srv{mode} = $r->pick('on', 'optional')
        if $srv{keys} && $r->chance(0.4);
    $srv{recursive} = $r->chance(0.3);

    # variable reads outside the access phase of any one location
    for my $read (qw(set map add_header limit_req echo_header)) {
        push @{ $srv{reads} }, $read if $r->chance(0.25);
    }

    my @locs;
    for my $i (0 .. $n - 1) {
        my %l = (id => $i, named => $i > 0 && $r->chance(0.5));

        my $m = $r->int(10);
        $l{mode} = $m < 4 ? 'on' : $m < 6 ? 'optional' : $m < 8 ? 'off'
            : undef;
        $l{source} = $r->pick(@SOURCES) if $r->chance(0.6);
        $l{keys} = $r->pick(['k1'], ['k2'], ['k1', 'k2'])
            if !$srv{keys} || $r->chance(0.5);

        $l{require} = $r->chance(0.25);
        $l{lread} = $r->chance(0.2);
        $l{limit} = $r->chance(0.15);
        $l{fwd_token_off} = $r->chance(0.08);

        if ($i == $n - 1 || $r->chance(0.25)) {
            $l{action} = 'forward';
        } else {
            $l{action} = $r->pick('try_files', 'accel');
            $l{to} = $i + 1 + $r->int($n - $i - 1);
        }

        if ($i < $n - 1) {
            my @ep;
            for my $code (401, 403) {
                next unless $r->chance($code == 401 ? 0.45 : 0.35);
                push @ep, { codes => [$code], eq => $r->chance(0.5),
                    to => $i + 1 + $r->int($n - $i - 1) };
            }
            if (@ep == 2 && $ep[0]{to} == $ep[1]{to}
                && $ep[0]{eq} == $ep[1]{eq})
            {
                @ep = ({ %{ $ep[0] }, codes => [401, 403] });
            }
            $l{error_pages} = \@ep;
        }

        push @locs, \%l;
    }

    return _finish({ index => $index, srv => \%srv, locs => \@locs });
}

# the reproduction of issue 9: a valid Bearer token in /a/, a forged one
# in X-Token for @b and @c
sub pinned {
    my ($index) = @_;

    return _finish({ index => $index, pinned => 1,
        srv => { keys => ['k1'], reads => [] },
        locs => [
            { id => 0, mode => 'on', action => 'try_files', to => 1 },
            { id => 1, named => 1, mode => 'on', source => 'xtok',
              action => 'forward',
              error_pages => [{ codes => [401], eq => 1, to => 2 }] },
            { id => 2, named => 1, mode => 'on', source => 'xtok',
              action => 'forward' },
        ] });
}

# the effective settings; every protected location needs keys
sub _finish {
    my ($cfg) = @_;

    for my $l (@{ $cfg->{locs} }) {
        $l->{error_pages} //= [];
        $l->{keys} //= ['k1'] if !$cfg->{srv}{keys};
        $l->{$_} //= 0 for qw(require lread limit fwd_token_off named);
        $l->{fwd_token_off} = 0 if eff($cfg, $l, 'mode') eq 'off'
            || eff($cfg, $l, 'source') ne 'bearer';
        $l->{require} = 0 if eff($cfg, $l, 'mode') eq 'off';
    }
    $cfg->{srv}{recursive} //= 0;

    return $cfg;
}

# a location's setting, or the server's, or the default
sub eff {
    my ($cfg, $l, $what) = @_;
    my $v = defined $l ? $l->{$what} : undef;
    $v //= $cfg->{srv}{$what};
    return $v // { mode => 'off', source => 'bearer', keys => [] }->{$what};
}

sub _loc_name {
    my ($cfg, $j) = @_;
    my $l = $cfg->{locs}[$j];
    return $l->{named} ? "\@c$cfg->{index}_l$j" : "/c$cfg->{index}/l$j/";
}

# the URI or name a redirect goes to
sub _target {
    my ($cfg, $j) = @_;
    my $name = _loc_name($cfg, $j);
    return $name =~ /^@/ ? $name : "${name}x";
}


############################################################################
# nginx.conf

# the http-level lines the servers rely on
sub render_http {
    return <<"EOF";
    log_format authz_vars '\$http_x_authz_req|\$authz_sub|\$authz_tenant|'
        '\$authz_claim_sub|\$authz_iss|\$authz_kid|\$http_x_user_id|'
        '\$http_x_tenant_id|\$http_x_user_permissions|\$authz_map_tenant|';
    limit_req_zone \$authz_sub zone=authz_sub:1m rate=$MAX_RATE;
    map \$authz_tenant \$authz_map_tenant {
        default  "m:\$authz_tenant";
    }
EOF
}

# %o: port (gateway), echo, accel (helper upstream), keydir, testdir
sub render_server {
    my ($cfg, %o) = @_;

    my $s = $cfg->{srv};
    my $i = $cfg->{index};
    my @c = ("server {",
        "    listen 127.0.0.1:$o{port};",
        "    server_name c$i.test;",
        "    root $o{testdir};",
        "    access_log $o{testdir}/vars.log authz_vars;");

    push @c, "    recursive_error_pages on;" if $s->{recursive};
    push @c, _keys($s->{keys}, \%o, '    ') if $s->{keys};
    push @c, "    authz_token $SOURCE_VAR{$s->{source}};" if $s->{source};
    push @c, "    authz $s->{mode};" if $s->{mode};

    my %read = map { $_ => 1 } @{ $s->{reads} // [] };
    push @c, '    set $srv_sub $authz_sub;' if $read{set};
    push @c, '    set $srv_map $authz_map_tenant;' if $read{map};
    push @c, '    add_header X-Srv-Tenant "$authz_tenant" always;'
        if $read{add_header};
    push @c, "    limit_req zone=authz_sub burst=1000000 nodelay;"
        if $read{limit_req};

    # request headers read after the last location: a denial after an
    # allow must not leave them pointing at freed memory
    push @c, '    add_header X-Srv-User "$http_x_user_id" always;'
        if $read{echo_header};

    push @c, _location($cfg, $_, \%o) for @{ $cfg->{locs} };
    push @c, "}";

    return join("\n", @c) . "\n";
}

sub _keys {
    my ($keys, $o, $ind) = @_;
    return map { "${ind}authz_key_file $o->{keydir}/$_.pub kid=$_;" } @$keys;
}

sub _location {
    my ($cfg, $l, $o) = @_;

    my $ind = '        ';
    my @c = ('', "    location " . _loc_name($cfg, $l->{id}) . " {");

    push @c, "${ind}authz $l->{mode};" if defined $l->{mode};
    push @c, "${ind}authz_token "
        . ($l->{source} eq 'bearer' ? 'off' : $SOURCE_VAR{$l->{source}})
        . ';' if defined $l->{source};
    push @c, _keys($l->{keys}, $o, $ind) if defined $l->{keys};
    push @c, "${ind}authz_require app:admin;" if $l->{require};
    push @c, "${ind}authz_forward_token off;" if $l->{fwd_token_off};
    push @c, "${ind}set \$loc_sub \$authz_sub;" if $l->{lread};
    push @c, "${ind}limit_req zone=authz_sub burst=1000000 nodelay;"
        if $l->{limit};

    for my $ep (@{ $l->{error_pages} }) {
        push @c, "${ind}error_page @{ $ep->{codes} } "
            . ($ep->{eq} ? '= ' : '') . _target($cfg, $ep->{to}) . ';';
    }

    if ($l->{action} eq 'forward') {
        push @c, "${ind}proxy_set_header X-Authz-Loc l$l->{id};",
            "${ind}proxy_set_header X-Authz-Sub \$authz_sub;",
            "${ind}proxy_pass http://127.0.0.1:$o->{echo};";

    } elsif ($l->{action} eq 'try_files') {
        push @c, "${ind}try_files /nonexistent " . _target($cfg, $l->{to}) . ';';

    } else {
        push @c, "${ind}proxy_set_header X-Next " . _target($cfg, $l->{to})
            . ';', "${ind}proxy_pass http://127.0.0.1:$o->{accel};";
    }

    push @c, "    }";

    return @c;
}


############################################################################
# requests: a token kind per source

# the sources a protected configuration reads
sub _relevant {
    my ($cfg) = @_;
    my %src;
    for my $l (undef, @{ $cfg->{locs} }) {
        $src{ eff($cfg, $l, 'source') } = 1 if eff($cfg, $l, 'mode') ne 'off';
    }
    my @s = grep { $src{$_} } @SOURCES;
    return @s ? @s : ('bearer');
}

# every combination of kinds over the sources the configuration reads
# when there are one or two (5 or 25), an orthogonal array of strength
# 2 when there are three (25 rows: every pair of kinds in every pair of
# sources), or all 125 with $full; the other sources get random kinds;
# then a fifth more requests with the same token in two sources
sub requests {
    my ($cfg, $seed, $full) = @_;

    my $r = rng($seed, 'requests', $cfg->{index});
    my @rel = _relevant($cfg);
    my @rows;

    if (@rel == 1) {
        @rows = map { [$_] } 0 .. 4;
    } elsif (@rel == 2 || $full) {
        @rows = ([]);
        for (@rel) {
            @rows = map { my $row = $_; map { [@$row, $_] } 0 .. 4 } @rows;
        }
    } else {
        for my $a (0 .. 4) {
            push @rows, [$a, $_, ($a + $_) % 5] for 0 .. 4;
        }
    }

    # a random meaning of the levels per column
    my @perm = map { [$r->shuffle(0 .. 4)] } @rel;

    # and a fifth more rows, random, with the same bytes in two sources
    my @extra = @rel > 1 ? map { [map { $r->int(5) } @rel] }
        1 .. int((@rows + 4) / 5) : ();

    my @reqs;
    for my $row ($r->shuffle(@rows), @extra) {
        my %kind = map { $_ => $r->pick(@KINDS) } @SOURCES;
        @kind{@rel} = map { $KINDS[ $perm[$_][ $row->[$_] ] ] } 0 .. $#rel;

        my %q = (kind => \%kind, variant => {},
            spoof_case => $r->int(3));
        $q{variant}{$_} = $r->int(3) for @SOURCES;

        push @reqs, \%q;
    }

    for my $q (@reqs[@reqs - @extra .. $#reqs]) {
        my ($from, $to) = ($r->shuffle(@rel))[0, 1];
        $q->{kind}{$from} = $r->pick(@KINDS[1 .. 4])
            if $q->{kind}{$from} eq 'absent';
        $q->{same} = [$from, $to];
    }

    return @reqs;
}


############################################################################
# the model

# identity as forwarded: "sub|tenant|permissions|services", or "" for none
sub ident_str {
    my ($id) = @_;
    return '' unless defined $id;
    return join '|', @$id{qw(sub tid perms svc)};
}

# a token (from the .t file's pool) verifies under a set of keys
sub _valid {
    my ($tok, $keys) = @_;
    return $tok && $tok->{signer} && !$tok->{expired}
        && grep { $_ eq $tok->{signer} } @$keys;
}

# the access phase of one location: (decision, token)
# decision: off, allow, anon, 401, 403
sub _access {
    my ($cfg, $l, $toks) = @_;

    my $mode = eff($cfg, $l, 'mode');
    return ('off') if $mode eq 'off';

    my $tok = $toks->{ eff($cfg, $l, 'source') };

    unless ($tok) {
        return $mode eq 'on' || $l->{require} ? ('401') : ('anon');
    }

    return ('401', $tok) unless _valid($tok, eff($cfg, $l, 'keys'));
    return ('403', $tok) if $l->{require} && !$tok->{admin};
    return ('allow', $tok);
}

# follows a request through the chain; $toks: source => token or undef
sub simulate {
    my ($cfg, $toks) = @_;

    my ($i, $err, $ep_flag, $carried) = (0, 0, 0, undef);
    my @trace;

    for (1 .. 20) {
        my $l = $cfg->{locs}[$i];
        my ($d, $tok) = _access($cfg, $l, $toks);
        my $step = "l$i($d)";

        # what an "authz off" location may still forward: the identity
        # of an allow with no refusal after it
        $carried = $tok->{id} if $d eq 'allow';
        $carried = undef if $d =~ /^4/;

        if ($d =~ /^4/) {
            my @ep = @{ $l->{error_pages} };
            if (!$ep_flag && @ep) {
                $ep_flag = 1 unless $cfg->{srv}{recursive};
                my ($ep) = grep { grep { $_ == $d } @{ $_->{codes} } } @ep;
                if ($ep) {
                    $err = $ep->{eq} ? 0 : $d;
                    push @trace, "$step error_page" . ($ep->{eq} ? '=' : '');
                    $i = $ep->{to};
                    next;
                }
            }
            push @trace, $step;
            return { status => $d + 0, trace => \@trace };
        }

        if ($l->{action} eq 'forward') {
            push @trace, "$step forward";
            return { status => $err || 200, fwd => $i, trace => \@trace,
                mode => eff($cfg, $l, 'mode'),
                ident => $d eq 'allow' ? $tok->{id} : undef,
                carried => $carried };
        }

        push @trace, "$step $l->{action}";
        $i = $l->{to};
    }

    die "redirect loop in the model";
}

# the identities a protected location of this configuration could
# legitimately have verified (for $authz_sub read where authz is off)
sub _legit {
    my ($cfg, $toks) = @_;
    my %ok;
    for my $l (undef, @{ $cfg->{locs} }) {
        next if eff($cfg, $l, 'mode') eq 'off';
        my $tok = $toks->{ eff($cfg, $l, 'source') };
        $ok{ $tok->{id}{sub} } = 1 if _valid($tok, eff($cfg, $l, 'keys'));
    }
    return \%ok;
}

# what the forwarded identity is, for the failure classes
sub _whose {
    my ($mode, $own, $keys, $got, $toks, $strict_off) = @_;

    my ($sub) = split /\|/, $got;
    return 'none where one was due' if $got eq '';
    return 'client-spoofed header' if ($sub // '') =~ /^spoof/;

    my ($tok) = grep { $_ && $_->{id}{sub} eq $sub } values %$toks;
    return 'unknown' unless $tok;
    return 'forged token' if $tok->{forged};
    return 'expired token' if $tok->{expired};
    return $strict_off ? 'authz off location forwarded an identity'
        : 'authz off location, identity no allow carried there'
        if $mode eq 'off';
    return 'token signed by a key the location does not trust'
        unless grep { $_ eq $tok->{signer} } @$keys;
    return 'token of another source'
        unless $own && $own->{jwt} eq $tok->{jwt};
    return 'partial or garbled identity' if $got ne ident_str($tok->{id});
    return 'unexpected';
}

# what went wrong, as [class, text] pairs; $e: the echo lines or undef;
# $strict_off: an "authz off" location forwards no identity at all
sub check {
    my ($cfg, $toks, $m, $status, $e, $strict_off) = @_;

    my @p;
    my $got_loc = defined $e ? $e->{loc} : undef;

    return (['no response', 'no response (crash?)']) unless defined $status;

    push @p, ['5xx', "status $status"] if $status >= 500;

    if (defined $e && !(defined $got_loc && $got_loc =~ /^l(\d+)$/
        && $1 < @{ $cfg->{locs} }))
    {
        push @p, ['route', 'upstream reply from no known location'];
        return @p;
    }

    my $want = defined $m->{fwd} ? "l$m->{fwd}" : 'none';
    push @p, ['route', "expected $m->{status} from $want, got $status from "
        . ($got_loc // 'none')]
        if $status != $m->{status} || ($got_loc // 'none') ne $want;

    return @p unless defined $e;

    # the invariant, at the location that did forward
    my $j = substr $got_loc, 1;
    my $l = $cfg->{locs}[$j];
    my $mode = eff($cfg, $l, 'mode');
    my $got = join '|', map { $e->{$_} // '' } qw(uid tid perms svc);
    $got = '' if $got eq '|||';

    my $tok = $toks->{ eff($cfg, $l, 'source') };
    my $keys = eff($cfg, $l, 'keys');
    my @allowed = ('');

    if ($mode ne 'off') {
        @allowed = (ident_str($tok->{id})) if _valid($tok, $keys);
        push @p, ['route', "l$j ($mode) forwarded, but its token source "
            . "holds " . ($tok ? 'a token that does not verify there'
                : 'no token')]
            if ($tok || $mode eq 'on') && !_valid($tok, $keys);
        push @p, ['route', "l$j forwarded despite authz_require"]
            if $l->{require} && !($tok && $tok->{admin});

    } elsif (!$strict_off && ($m->{fwd} // -1) == $j && $m->{carried}) {
        push @allowed, ident_str($m->{carried});
    }

    unless (grep { $_ eq $got } @allowed) {
        push @p, ['identity: ' . _whose($mode, $tok, $keys, $got, $toks,
            $strict_off),
            "l$j ($mode) forwarded \"$got\", allowed: "
            . join(' or ', map { "\"$_\"" } @allowed)];
    }

    my $vsub = $e->{vsub} // '';
    if ($vsub ne '') {
        my $ok = $mode ne 'off' ? (split /\|/, $allowed[0])[0] // ''
            : _legit($cfg, $toks)->{$vsub} ? $vsub : '';
        push @p, ['identity: $authz_sub', "l$j ($mode) forwarded "
            . "\$authz_sub \"$vsub\""] if $vsub ne $ok;
    }

    return @p;
}

# values read from request state after the chain (the access log line,
# a response header from "$http_x_user_id"): each must be one a token
# of this request or the client's spoofed headers could have put there,
# anything else is memory that was freed or overwritten
sub check_memory {
    my ($toks, $vals) = @_;

    my %ok = (sub => ['spoof-uid'], tid => ['spoof-tid'],
        perms => ['*,app:admin'], iss => ['https://issuer.test'],
        kid => ['k1', 'k2'], map => ['m:']);
    for my $tok (grep { defined } values %$toks) {
        push @{ $ok{$_} }, $tok->{id}{$_} for qw(sub tid perms);
        push @{ $ok{map} }, "m:$tok->{id}{tid}";
    }

    my @p;
    for my $v (@$vals) {
        my ($what, $kind, $value) = @$v;
        next if !defined $value || $value eq '' || $value eq '-';
        next if grep { $_ eq $value } @{ $ok{$kind} // [] };
        push @p, ['memory', "$what is \"$value\": no token of this "
            . "request carries it (freed or overwritten memory?)"];
    }

    return @p;
}

1;

