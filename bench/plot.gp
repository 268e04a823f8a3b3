# SPDX-License-Identifier: GPL-2.0
# gnuplot -e "dir='bench/results/RUN'; kernel='VER'" bench/plot.gp
# New connections/s against rule count, as ratios to no module: one panel
# for local and one for inbound connections, a line per backend or anchor,
# median with the min-max of the rounds.
set terminal pngcairo size 1400,560 font ",10"
set output dir."/rates.png"
set multiplot layout 1,2 title "portredir: new TCP connections/s, ratio to no module (kernel ".kernel.", QEMU TCG)"
set logscale x
set xrange [0.7:200000]
set yrange [0:*]
set xlabel "rules"
set ylabel "ratio to no module"
set grid
set key bottom left
set style data yerrorlines
do for [d in "local inbound"] {
	set title d
	f = dir."/rates-".d.".dat"
	stats f nooutput
	plot for [i=0:STATS_blocks-1] f index i using 1:2:3:4 title columnheader(1) pointsize 1.2, \
		1 notitle lt 0
}
unset multiplot
