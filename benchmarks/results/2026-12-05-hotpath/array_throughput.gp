set terminal pngcairo size 1100,650 noenhanced font ',10'
set output "benchmarks/results/2026-12-05-hotpath/array_throughput.png"
set title "uint32 array monitor throughput (median MB/s of the value payload; server/client)"
set logscale x 2
set logscale y 10
set xtics ("4MiB" 4194304)
set xlabel 'array payload per update'
set ylabel 'MB/s'
set offsets graph 0.04, graph 0.04, 0, 0
set grid
set key outside right top
plot "benchmarks/results/2026-12-05-hotpath/array_pvwire_pvwire.dat" using 1:2 with linespoints lw 2 pt 7 title "pvwire/pvwire", "benchmarks/results/2026-12-05-hotpath/array_pvwire_old.dat" using 1:2 with linespoints lw 2 pt 7 title "pvwire/old", "benchmarks/results/2026-12-05-hotpath/array_old_pvwire.dat" using 1:2 with linespoints lw 2 pt 7 title "old/pvwire", "benchmarks/results/2026-12-05-hotpath/array_old_old.dat" using 1:2 with linespoints lw 2 pt 7 title "old/old"
