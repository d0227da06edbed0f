package AuthzMetrics;

# Copyright (C) ngx_http_authz_module authors
#
# A strict reader of the Prometheus text format 0.0.4, as authz_status
# writes it, for the tests: every line is checked, and a scrape becomes
# a hash of series.  Stricter than Prometheus itself where our own
# output must be cleaner than the format allows (no blank lines, no
# free comments, HELP and TYPE for every family, counters in _total).
#
#     my $s = parse_prometheus($body);
#     is_deeply($s->{errors}, [], 'valid');
#     $s->{samples}{series('authz_requests_total', zone => 'default',
#         result => 'allow')};
#
# The JSON form ({"family":{"type","help","samples":[{"labels","value"}]}})
# is flattened to the same series keys by parse_json_metrics().
# promtool() runs "promtool check metrics" when promtool is installed.

use strict;
use warnings;

use Exporter qw(import);
use JSON::PP ();

our @EXPORT_OK = qw(parse_prometheus parse_json_metrics series promtool
    family_sum);

my $NAME = qr/[a-zA-Z_:][a-zA-Z0-9_:]*/;
my $LABEL = qr/[a-zA-Z_][a-zA-Z0-9_]*/;
my $VALUE = qr/[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?
    |[+-]?Inf|NaN/x;
my %TYPES = map { $_ => 1 } qw(counter gauge histogram summary untyped);

# the key of one series: the name and its labels sorted, values raw
sub series {
    my ($name, %labels) = @_;
    return join "\0", $name,
        map { "$_=$labels{$_}" } sort keys %labels;
}

# { errors => [...], families => { name => { type, help } },
#   samples => { series => value }, order => [ family names ] }
sub parse_prometheus {
    my ($text) = @_;

    my (@err, %fam, %samples, @order, $current, %closed);
    my $e = sub { push @err, "line $_[0]: $_[1]" };

    return { errors => ['empty answer'], families => {}, samples => {},
        order => [] } unless defined $text && length $text;

    push @err, 'no newline at the end' unless $text =~ /\n\z/;

    my @lines = split /\n/, $text, -1;
    pop @lines if @lines && $lines[-1] eq '';

    for my $i (0 .. $#lines) {
        my ($n, $l) = ($i + 1, $lines[$i]);

        if ($l eq '') {
            $e->($n, 'blank line');
            next;
        }

        if ($l =~ /^#/) {
            my ($kind, $name, $rest) = $l =~ /^# (HELP|TYPE) ($NAME)(?: (.*))?$/
                or do { $e->($n, "comment other than HELP or TYPE: $l"); next };
            $rest //= '';

            if ($closed{$name}) {
                $e->($n, "$kind of $name after its samples ended");
            }

            if (exists $fam{$name}{lc $kind}) {
                $e->($n, "second $kind for $name");
            }

            if (defined $current && $current ne $name) {
                $closed{$current} = 1;
            }

            if (!defined $current || $current ne $name) {
                push @order, $name;
                $current = $name;
            }

            if ($kind eq 'TYPE') {
                $e->($n, "unknown type \"$rest\"") unless $TYPES{$rest};
                $e->($n, "TYPE of $name after its samples")
                    if $fam{$name}{nsamples};
                $fam{$name}{type} = $rest;

            } else {
                $e->($n, "bad escape in HELP of $name")
                    if $rest =~ /\\(?![\\n])/;
                ($fam{$name}{help} = $rest) =~ s/\\(.)/$1 eq 'n' ? "\n" : $1/ge;
            }

            next;
        }

        my ($name, $labels, $value, $err) = _sample($l);
        if ($err) {
            $e->($n, "$err: $l");
            next;
        }

        if (defined $current && $current ne $name) {
            $closed{$current} = 1;
        }

        if ($closed{$name}) {
            $e->($n, "samples of $name are not together");
        }

        $current = $name;
        push @order, $name unless exists $fam{$name};
        $fam{$name}{nsamples}++;

        my $key = series($name, %$labels);
        $e->($n, "duplicate series") if exists $samples{$key};
        $samples{$key} = $value;

        if (($fam{$name}{type} // '') eq 'counter') {
            $e->($n, "negative or NaN counter")
                if $value eq 'NaN' || $value < 0;
        }
    }

    for my $name (@order) {
        my $f = $fam{$name};
        push @err, "$name: no TYPE" unless defined $f->{type};
        push @err, "$name: no HELP" unless defined $f->{help};
        push @err, "$name: no samples" unless $f->{nsamples};
        push @err, "$name: counter not named *_total"
            if ($f->{type} // '') eq 'counter' && $name !~ /_total$/;
        push @err, "$name: *_total not a counter"
            if $name =~ /_total$/ && ($f->{type} // '') ne 'counter';
    }

    return { errors => \@err, families => \%fam, samples => \%samples,
        order => \@order };
}

# name{label="value",...} value [timestamp]
sub _sample {
    my ($l) = @_;

    $l =~ /\G($NAME)/gc or return (undef, undef, undef, 'bad metric name');
    my $name = $1;
    my %labels;

    if ($l =~ /\G\{/gc) {
        my $first = 1;
        until ($l =~ /\G\}/gc) {
            unless ($first) {
                $l =~ /\G,/gc or return (undef, undef, undef, 'expected ,');
            }
            $first = 0;

            $l =~ /\G($LABEL)="/gc
                or return (undef, undef, undef, 'bad label name');
            my $k = $1;
            return (undef, undef, undef, "reserved label name $k")
                if $k =~ /^__/;
            return (undef, undef, undef, "duplicate label $k")
                if exists $labels{$k};

            my $v = '';
            while (1) {
                if ($l =~ /\G([^"\\]+)/gc) {
                    $v .= $1;
                } elsif ($l =~ /\G\\([\\"n])/gc) {
                    $v .= $1 eq 'n' ? "\n" : $1;
                } elsif ($l =~ /\G"/gc) {
                    last;
                } else {
                    return (undef, undef, undef, 'bad label value');
                }
            }

            $labels{$k} = $v;
        }
    }

    $l =~ /\G ($VALUE)(?: (-?[0-9]+))?$/gc
        or return (undef, undef, undef, 'bad value');

    return ($name, \%labels, $1, undef);
}

# the JSON answer, as parse_prometheus() gives it
sub parse_json_metrics {
    my ($text) = @_;

    my $j = eval { JSON::PP->new->decode($text) };
    return { errors => ["not JSON: $@"], families => {}, samples => {} }
        unless ref $j eq 'HASH';

    my (@err, %fam, %samples);

    for my $name (sort keys %$j) {
        my $f = $j->{$name};
        unless (ref $f eq 'HASH' && ref $f->{samples} eq 'ARRAY') {
            push @err, "$name: not a family";
            next;
        }
        $fam{$name} = { type => $f->{type}, help => $f->{help},
            nsamples => scalar @{ $f->{samples} } };

        for my $s (@{ $f->{samples} }) {
            my $key = series($name, %{ $s->{labels} // {} });
            push @err, "$name: duplicate series" if exists $samples{$key};
            $samples{$key} = $s->{value};
        }
    }

    return { errors => \@err, families => \%fam, samples => \%samples };
}

# the sum of a family's samples whose labels include %match
sub family_sum {
    my ($parsed, $name, %match) = @_;

    my $sum = 0;

    SERIES: for my $key (keys %{ $parsed->{samples} }) {
        my ($n, @kv) = split /\0/, $key;
        next unless $n eq $name;
        my %l = map { split /=/, $_, 2 } @kv;
        for (keys %match) {
            next SERIES unless defined $l{$_} && $l{$_} eq $match{$_};
        }
        $sum += $parsed->{samples}{$key};
    }

    return $sum;
}

# (exit code, output) of "promtool check metrics" on $text, or of
# "promtool check rules $file"; () without promtool
sub promtool {
    my ($text, $rules) = @_;

    my ($bin) = grep { -x } map { "$_/promtool" } split /:/, $ENV{PATH} // '';
    return () unless $bin;

    if (defined $rules) {
        my $out = `$bin check rules '$rules' 2>&1`;
        return ($? >> 8, $out);
    }

    require File::Temp;
    my ($fh, $in) = File::Temp::tempfile(UNLINK => 1);
    print $fh $text;
    close $fh;

    my $out = `$bin check metrics < $in 2>&1`;
    return ($? >> 8, $out);
}

1;
