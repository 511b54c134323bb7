set terminal pngcairo size 1100,650 noenhanced font ',10'
set output "benchmarks/results/2026-12-05-fanout-step5/fanout_cpu_P1.png"
set title "fixed-rate fan-out, 1 PV(s): server CPU per delivered update (median; wire = one send() per client per tick)"
set logscale x 10
set logscale y 10
set xlabel 'clients'
set ylabel 'server CPU-us per delivered update (log)'
set offsets graph 0.05, graph 0.05, 0, 0
set grid
set key outside right top
plot "benchmarks/results/2026-12-05-fanout-step5/fanout_pvwire_100Hz_P1.dat" using 1:2 with linespoints lw 2 dt 1 pt 7 lc rgb "#1f77b4" title "pvwire 100 Hz", "benchmarks/results/2026-12-05-fanout-step5/fanout_pvwire_1000Hz_P1.dat" using 1:2 with linespoints lw 2 dt 2 pt 8 lc rgb "#1f77b4" title "pvwire 1000 Hz", "benchmarks/results/2026-12-05-fanout-step5/fanout_pvxs_100Hz_P1.dat" using 1:2 with linespoints lw 2 dt 1 pt 7 lc rgb "#d62728" title "pvxs 100 Hz", "benchmarks/results/2026-12-05-fanout-step5/fanout_pvxs_1000Hz_P1.dat" using 1:2 with linespoints lw 2 dt 2 pt 8 lc rgb "#d62728" title "pvxs 1000 Hz", "benchmarks/results/2026-12-05-fanout-step5/fanout_wire_100Hz_P1.dat" using 1:2 with linespoints lw 2 dt 1 pt 7 lc rgb "#2ca02c" title "wire 100 Hz", "benchmarks/results/2026-12-05-fanout-step5/fanout_wire_1000Hz_P1.dat" using 1:2 with linespoints lw 2 dt 2 pt 8 lc rgb "#2ca02c" title "wire 1000 Hz", "benchmarks/results/2026-12-05-fanout-step5/fanout_wire-each_100Hz_P1.dat" using 1:2 with linespoints lw 2 dt 1 pt 7 lc rgb "#9467bd" title "wire-each 100 Hz", "benchmarks/results/2026-12-05-fanout-step5/fanout_wire-each_1000Hz_P1.dat" using 1:2 with linespoints lw 2 dt 2 pt 8 lc rgb "#9467bd" title "wire-each 1000 Hz"
