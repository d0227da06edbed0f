# Copyright (C) ngx_http_authz_module authors
#
# The growth curves of docs/performance.md from bench/growth.csv:
#     gnuplot -e "csv='bench/growth.csv'; png='docs/performance-growth.png'" bench/growth.gp
# (make bench-plot)

set terminal pngcairo size 1200,900 font ",10" noenhanced
set output png
set datafile separator ","
set datafile commentschars "#"
set key top left
set grid
set multiplot layout 2,2 title "ngx_http_authz_module: access handler instructions per request (callgrind)"

set title "permissions in the token"
set logscale x 2
set logscale y 10
set xlabel "permissions"
set ylabel "instructions"
plot csv using (strcol(1) eq "permissions" ? $2 : NaN):4 with linespoints title "cache hit", \
     csv using (strcol(1) eq "permissions" ? $2 : NaN):5 with linespoints title "no cache"

set title "rules in the location (the matching one last)"
unset logscale x
set xlabel "rules"
plot csv using (strcol(1) eq "rules" ? $2 : NaN):4 with linespoints title "cache hit", \
     csv using (strcol(1) eq "rules" ? $2 : NaN):5 with linespoints title "no cache"

set title "token size"
set logscale x 2
set xlabel "token bytes"
plot csv using (strcol(1) eq "token_bytes" ? $2 : NaN):4 with linespoints title "cache hit", \
     csv using (strcol(1) eq "token_bytes" ? $2 : NaN):5 with linespoints title "no cache"

set title "authz_cache zone=z:1m, a working set sent round after round"
unset logscale y
set logscale x 2
set xlabel "distinct live tokens"
set ylabel "hit ratio, second round"
set yrange [0:1.05]
plot csv using (strcol(1) eq "zone_hit_ratio" ? $2 : NaN):4 with linespoints title "hit ratio"

unset multiplot
