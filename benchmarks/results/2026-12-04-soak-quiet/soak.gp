# cd to this directory, then: gnuplot soak.gp (draws soak.csv into soak.png)
set terminal pngcairo size 1000,560 noenhanced
set output 'soak.png'
set datafile separator ','
set key below
set title 'pvwire soak: 1000 clients x 10 monitors, 1000 PVs at 2 Hz'
set xlabel 'seconds'
set ylabel 'RSS (MiB)'
set y2label 'delay p99 per interval (ms)'
set yrange [0:*]
set y2range [0:*]
set ytics nomirror
set y2tics
set grid
plot 'soak.csv' skip 1 using 1:2 with lines lw 2 title 'server RSS', \
     '' skip 1 using 1:3 with lines lw 2 title 'clients RSS', \
     '' skip 1 using 1:($4 > 0 ? $7 : NaN) axes x1y2 with linespoints pt 7 ps 0.5 title 'delay p99 per interval (right)'
