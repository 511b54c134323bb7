set terminal pngcairo size 1100,650 noenhanced font ',10'
set output "benchmarks/results/2026-12-05-hotpath/latency.png"
set title 'get/put round-trip latency percentiles (median of runs; seq = inflight 1, pip = pipelined)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y 10
set yrange [1:*]
set ylabel 'microseconds (log)'
set xtics rotate by 30 right
set grid ytics
set key outside right top
set bmargin 10
set lmargin 16
plot "benchmarks/results/2026-12-05-hotpath/latency.dat" using 2:xtic(1) title 'p50', '' using 3 title 'p99', '' using 4 title 'p99.9'
